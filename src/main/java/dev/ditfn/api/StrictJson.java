package dev.ditfn.api;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.exc.InputCoercionException;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.deser.DeserializationProblemHandler;
import com.fasterxml.jackson.databind.exc.InvalidDefinitionException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.type.LogicalType;
import io.quarkus.jackson.ObjectMapperCustomizer;
import jakarta.inject.Singleton;

import java.io.IOException;

/**
 * Makes the application's ObjectMapper (which Funqy copies to read function input, plain HTTP and CloudEvents
 * alike) refuse what Jackson otherwise guesses at: unknown fields, duplicate keys, trailing data, strings for
 * numbers ({@code ""} included), fractions for integers, numbers for strings. A misspelled field must not silently
 * fall back to a default. Serialisation is unaffected.
 */
@Singleton
public class StrictJson implements ObjectMapperCustomizer {

    @Override
    public void customize(ObjectMapper mapper) {
        mapper.enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
        // Not FAIL_ON_UNKNOWN_PROPERTIES: Funqy turns it off again in its copy; a problem handler survives the copy.
        mapper.addHandler(new DeserializationProblemHandler() {
            @Override
            public boolean handleUnknownProperty(DeserializationContext ctxt, JsonParser p,
                    JsonDeserializer<?> deserializer, Object beanOrClass, String propertyName) throws IOException {
                throw UnrecognizedPropertyException.from(p, beanOrClass, propertyName,
                        deserializer.getKnownPropertyNames());
            }
        });
        mapper.disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT);
        mapper.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
        mapper.configure(MapperFeature.ALLOW_COERCION_OF_SCALARS, false);
        for (LogicalType numeric : new LogicalType[] {LogicalType.Integer, LogicalType.Float}) {
            mapper.coercionConfigFor(numeric).setCoercion(CoercionInputShape.String, CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.EmptyString, CoercionAction.Fail);
        }
        mapper.coercionConfigFor(LogicalType.Integer).setCoercion(CoercionInputShape.Float, CoercionAction.Fail);
        mapper.coercionConfigFor(LogicalType.Textual).setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail);
    }

    /** Whether Jackson refused the client's input (as opposed to failing to write a response, a server fault). */
    static boolean isInputError(JsonProcessingException e) {
        return e.getProcessor() instanceof JsonParser && !(e instanceof InvalidDefinitionException);
    }

    /** The client's mistake as a 400 naming the field from Jackson's path. */
    static InvalidRequestException toInvalidRequest(JsonProcessingException e) {
        String field = e instanceof JsonMappingException m ? path(m)
                : e.getProcessor() instanceof JsonParser p ? path(p.getParsingContext()) : null;
        // Databind wraps the parser's own refusals (a number out of range) with the path.
        JsonProcessingException cause = e.getCause() instanceof JsonProcessingException c ? c : e;
        if (e instanceof UnrecognizedPropertyException u) {
            return new InvalidRequestException(field, "unknown_parameter", "unknown field; the fields are "
                    + u.getKnownPropertyIds().stream().map(String::valueOf).sorted().toList());
        }
        if (cause instanceof InputCoercionException) {
            return new InvalidRequestException(field, "invalid_type", firstLine(cause.getOriginalMessage()));
        }
        if (e instanceof MismatchedInputException m && !isTrailingData(m)) {
            // In JSON's words: Jackson's own message names Java classes.
            String expected = m.getTargetType() == null ? "another type" : typeName(m.getTargetType());
            return new InvalidRequestException(field, "invalid_type", "must be " + expected + found(m));
        }
        return new InvalidRequestException(field, "invalid_json", "the body is not valid JSON: "
                + firstLine(e.getOriginalMessage()) + (e.getLocation() == null ? "" : " (line "
                + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")"));
    }

    /** FAIL_ON_TRAILING_TOKENS reports data after the JSON value as a mismatch; it is a syntax matter. */
    private static boolean isTrailingData(MismatchedInputException e) {
        return e.getOriginalMessage() != null && e.getOriginalMessage().startsWith("Trailing token");
    }

    private static String path(JsonMappingException e) {
        StringBuilder b = new StringBuilder();
        for (JsonMappingException.Reference r : e.getPath()) {
            if (r.getFieldName() != null) {
                b.append(b.length() == 0 ? "" : ".").append(r.getFieldName());
            } else if (r.getIndex() >= 0) {
                b.append('[').append(r.getIndex()).append(']');
            }
        }
        return b.length() == 0 ? null : b.toString();
    }

    /** The parser's position as a field path: where a syntax error, duplicate key or overflow was found. */
    private static String path(JsonStreamContext context) {
        java.util.ArrayDeque<String> segments = new java.util.ArrayDeque<>();
        for (JsonStreamContext c = context; c != null && !c.inRoot(); c = c.getParent()) {
            if (c.inObject() && c.getCurrentName() != null) {
                segments.push("." + c.getCurrentName());
            } else if (c.inArray() && c.getCurrentIndex() >= 0) {
                segments.push("[" + c.getCurrentIndex() + "]");
            }
        }
        String path = String.join("", segments);
        return path.isEmpty() ? null : path.startsWith(".") ? path.substring(1) : path;
    }

    /** What the client sent where the parser stopped, in JSON's words (empty when unknown). */
    private static String found(MismatchedInputException e) {
        JsonToken t = e.getProcessor() instanceof JsonParser p ? p.currentToken() : null;
        if (t == null) {
            return "";
        }
        return switch (t) {
            case VALUE_STRING -> ", was a string";
            case VALUE_NUMBER_INT -> ", was an integer";
            case VALUE_NUMBER_FLOAT -> ", was a number with a fraction";
            case VALUE_TRUE, VALUE_FALSE -> ", was a boolean";
            case VALUE_NULL -> ", was null";
            case START_ARRAY, END_ARRAY -> ", was an array";
            case START_OBJECT, END_OBJECT, FIELD_NAME -> ", was an object";
            default -> "";
        };
    }

    private static String typeName(Class<?> type) {
        if (type == Integer.class || type == int.class || type == Long.class || type == long.class) {
            return "an integer" + (type == Integer.class || type == int.class ? " (32-bit)" : " (64-bit)");
        }
        if (type == Double.class || type == double.class || type == Float.class || type == float.class) {
            return "a number";
        }
        if (type == String.class) {
            return "a string";
        }
        if (type == Boolean.class || type == boolean.class) {
            return "true or false";
        }
        if (java.util.Map.class.isAssignableFrom(type) || type.isRecord()) {
            return "a JSON object";
        }
        if (java.util.Collection.class.isAssignableFrom(type) || type.isArray()) {
            return "a JSON array";
        }
        return "a " + type.getSimpleName();
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
