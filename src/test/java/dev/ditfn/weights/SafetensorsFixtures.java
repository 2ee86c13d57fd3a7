package dev.ditfn.weights;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.function.Executable;

/** Shared helpers for the weights tests: hand-built safetensors files and error-message checks. */
final class SafetensorsFixtures {

    private SafetensorsFixtures() {
    }

    /**
     * Writes a safetensors file by hand: the 8-byte little-endian {@code headerLength}, the UTF-8 bytes of
     * {@code headerJson}, then {@code payload}. The declared length need not match the JSON (for corrupt files).
     */
    static Path rawFile(Path file, long headerLength, String headerJson, byte[] payload) {
        byte[] header = headerJson.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate(8 + header.length + payload.length).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(headerLength).put(header).put(payload);
        try {
            Files.write(file, buf.array());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    /** As {@link #rawFile(Path, long, String, byte[])} with the true header length. */
    static Path rawFile(Path file, String headerJson, byte[] payload) {
        return rawFile(file, headerJson.getBytes(StandardCharsets.UTF_8).length, headerJson, payload);
    }

    /** Little-endian bytes of the given floats (an F32 payload). */
    static byte[] f32(float... values) {
        ByteBuffer buf = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            buf.putFloat(v);
        }
        return buf.array();
    }

    /**
     * Asserts that {@code action} throws a {@link WeightsException} whose message contains every one of
     * {@code fragments}; returns it for further checks.
     */
    static WeightsException assertWeightsError(Executable action, String... fragments) {
        WeightsException e = assertThrows(WeightsException.class, action);
        String msg = e.getMessage();
        for (String f : fragments) {
            assertTrue(msg != null && msg.contains(f), () -> "message should mention <" + f + "> but was: " + msg);
        }
        return e;
    }

    /** Opens a file and, if that unexpectedly succeeds, closes it (so a failing test leaks nothing). */
    static void openAndClose(Path file) {
        SafetensorsFile.open(file).close();
    }
}
