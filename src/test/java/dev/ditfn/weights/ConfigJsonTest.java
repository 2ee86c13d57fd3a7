package dev.ditfn.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.util.function.Consumer;

class ConfigJsonTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String FILE = "unit config.json";

    private static ConfigJson config(String json) throws Exception {
        return new ConfigJson(JSON.readTree(json), FILE);
    }

    /** The message with which {@code read} refuses {@code json}. */
    private static String refusalOf(String json, Consumer<ConfigJson> read) throws Exception {
        ConfigJson c = config(json);
        return assertThrows(IllegalArgumentException.class, () -> read.accept(c)).getMessage();
    }

    /** The message with which {@code read} refuses {@code {"k": value}}. */
    private static String refusal(String value, Consumer<ConfigJson> read) throws Exception {
        return refusalOf("{\"k\": " + value + "}", read);
    }

    @Test
    void readsEachTypeAsWritten() throws Exception {
        ConfigJson c = config("""
                {"i": -7, "x": 2.5, "n": 4, "b": true, "s": "text", "ints": [1, 2, 3], "doubles": [0.5, 1],
                 "floats": [0.1, 3], "bools": [true, false], "empty": []}""");
        assertEquals(-7, c.integer("i", 0));
        assertEquals(-7, c.integer("i"));
        assertEquals(2.5, c.number("x", 0));
        assertEquals(2.5, c.number("x"));
        assertEquals(4.0, c.number("n", 0), "an integer is a number");
        assertTrue(c.bool("b", false));
        assertEquals("text", c.string("s", "other"));
        assertArrayEquals(new int[] {1, 2, 3}, c.intArray("ints", ConfigJson.ANY_LENGTH, null));
        assertArrayEquals(new int[] {1, 2, 3}, c.intArray("ints", 3, null));
        assertArrayEquals(new double[] {0.5, 1.0}, c.doubleArray("doubles", 2, null));
        assertArrayEquals(new float[] {0.1f, 3f}, c.floatArray("floats", ConfigJson.ANY_LENGTH, null));
        assertArrayEquals(new boolean[] {true, false}, c.boolArray("bools", ConfigJson.ANY_LENGTH, null));
        assertArrayEquals(new int[0], c.intArray("empty", ConfigJson.ANY_LENGTH, new int[] {9}));
    }

    @Test
    void absentAndNullTakeTheDefault() throws Exception {
        ConfigJson c = config("{\"nil\": null}");
        int[] ints = {4};
        double[] doubles = {0.5};
        float[] floats = {1.5f};
        boolean[] bools = {true};
        for (String key : new String[] {"nil", "absent"}) {
            assertFalse(c.has(key), key);
            assertEquals(7, c.integer(key, 7), key);
            assertEquals(1.25, c.number(key, 1.25), key);
            assertTrue(c.bool(key, true), key);
            assertEquals("dflt", c.string(key, "dflt"), key);
            assertSame(ints, c.intArray(key, 1, ints), key);
            assertSame(doubles, c.doubleArray(key, ConfigJson.ANY_LENGTH, doubles), key);
            assertSame(floats, c.floatArray(key, ConfigJson.ANY_LENGTH, floats), key);
            assertSame(bools, c.boolArray(key, ConfigJson.ANY_LENGTH, bools), key);
            assertNull(c.object(key), key);
        }
        assertTrue(c.isNull("nil"));
        assertFalse(c.isNull("absent"));
        assertTrue(config("{\"zero\": 0}").has("zero"));
        assertFalse(config("{\"zero\": 0}").isNull("zero"));
    }

    @Test
    void requiredReadsRefuseAbsentAndNull() throws Exception {
        ConfigJson c = config("{\"nil\": null}");
        assertEquals("invalid unit config.json: missing nil",
                assertThrows(IllegalArgumentException.class, () -> c.integer("nil")).getMessage());
        assertEquals("invalid unit config.json: missing absent",
                assertThrows(IllegalArgumentException.class, () -> c.number("absent")).getMessage());
    }

    @Test
    void scalarsOfTheWrongTypeAreRefusedNamingFileKeyAndValue() throws Exception {
        assertEquals("invalid unit config.json: k = 2.5 must be an integer", refusal("2.5", c -> c.integer("k", 0)));
        assertEquals("invalid unit config.json: k = 2.0 must be an integer", refusal("2.0", c -> c.integer("k")));
        assertEquals("invalid unit config.json: k = 1000.0 must be an integer", refusal("1e3", c -> c.integer("k", 0)));
        assertEquals("invalid unit config.json: k = \"3\" must be an integer", refusal("\"3\"", c -> c.integer("k", 0)));
        assertEquals("invalid unit config.json: k = 3000000000 must be an integer",
                refusal("3000000000", c -> c.integer("k", 0)));
        assertEquals("invalid unit config.json: k = \"abc\" must be a number", refusal("\"abc\"", c -> c.number("k", 0)));
        assertEquals("invalid unit config.json: k = true must be a number", refusal("true", c -> c.number("k")));
        assertEquals("invalid unit config.json: k = 1 must be a boolean", refusal("1", c -> c.bool("k", false)));
        assertEquals("invalid unit config.json: k = \"true\" must be a boolean",
                refusal("\"true\"", c -> c.bool("k", false)));
        assertEquals("invalid unit config.json: k = 5 must be a string", refusal("5", c -> c.string("k", "")));
        assertEquals("invalid unit config.json: k = [1] must be an object", refusal("[1]", c -> c.object("k")));
    }

    @Test
    void arraysOfTheWrongShapeOrElementTypeAreRefused() throws Exception {
        assertEquals("invalid unit config.json: k = [1,2.5] must be a list of integers",
                refusal("[1, 2.5]", c -> c.intArray("k", ConfigJson.ANY_LENGTH, null)));
        assertEquals("invalid unit config.json: k = [1,null] must be a list of integers",
                refusal("[1, null]", c -> c.intArray("k", ConfigJson.ANY_LENGTH, null)));
        assertEquals("invalid unit config.json: k = [1,2] must be a list of 3 integers",
                refusal("[1, 2]", c -> c.intArray("k", 3, null)));
        assertEquals("invalid unit config.json: k = [1,2,3,4] must be a list of 3 integers",
                refusal("[1, 2, 3, 4]", c -> c.intArray("k", 3, null)));
        assertEquals("invalid unit config.json: k = \"1,2\" must be a list of integers",
                refusal("\"1,2\"", c -> c.intArray("k", ConfigJson.ANY_LENGTH, null)));
        assertEquals("invalid unit config.json: k = [1,\"2\"] must be a list of numbers",
                refusal("[1, \"2\"]", c -> c.doubleArray("k", ConfigJson.ANY_LENGTH, null)));
        assertEquals("invalid unit config.json: k = {} must be a list of 2 numbers",
                refusal("{}", c -> c.floatArray("k", 2, null)));
        assertEquals("invalid unit config.json: k = [0,1] must be a list of booleans",
                refusal("[0, 1]", c -> c.boolArray("k", ConfigJson.ANY_LENGTH, null)));
    }

    @Test
    void nestedObjectsNameTheirKeysByPath() throws Exception {
        ConfigJson c = config("{\"outer\": {\"k\": 9, \"bad\": \"nine\", \"inner\": {\"z\": 1.5}}}");
        ConfigJson outer = c.object("outer");
        assertEquals(9, outer.integer("k", 0));
        assertFalse(c.has("k"), "nested keys are not top-level keys");
        assertEquals("invalid unit config.json: outer.bad = \"nine\" must be an integer",
                assertThrows(IllegalArgumentException.class, () -> outer.integer("bad", 0)).getMessage());
        assertEquals("invalid unit config.json: outer.inner.z = 1.5 must be an integer",
                assertThrows(IllegalArgumentException.class, () -> outer.object("inner").integer("z", 0))
                        .getMessage());
        assertEquals("invalid unit config.json: missing outer.absent",
                assertThrows(IllegalArgumentException.class, () -> outer.integer("absent")).getMessage());
    }

    @Test
    void classNameIsCheckedWhenWritten() throws Exception {
        config("{}").requireClassName("Mine");
        config("{\"_class_name\": null}").requireClassName("Mine");
        config("{\"_class_name\": \"Mine\"}").requireClassName("Mine");
        assertEquals("invalid unit config.json: _class_name = \"Other\" must be \"Mine\"",
                refusalOf("{\"_class_name\": \"Other\"}", c -> c.requireClassName("Mine")));
        assertEquals("invalid unit config.json: _class_name = 5 must be a string",
                refusalOf("{\"_class_name\": 5}", c -> c.requireClassName("Mine")));
    }

    @Test
    void onlyAnObjectIsAConfig() throws Exception {
        assertEquals("invalid unit config.json: expected a JSON object, got [1]",
                assertThrows(IllegalArgumentException.class, () -> new ConfigJson(JSON.readTree("[1]"), FILE))
                        .getMessage());
        assertEquals("invalid unit config.json: expected a JSON object, got null",
                assertThrows(IllegalArgumentException.class, () -> new ConfigJson(null, FILE)).getMessage());
    }

    @Test
    void badNamesTheFile() throws Exception {
        assertEquals("invalid unit config.json: a and b disagree", config("{}").bad("a and b disagree").getMessage());
        assertEquals("invalid other config.json: why", ConfigJson.invalid("other config.json", "why").getMessage());
    }
}
