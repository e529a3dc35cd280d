package ecar.io;

import ecar.tensor.DType;
import ecar.tensor.FloatTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Corrupts a valid safetensors file and a valid config in many seeded ways and checks that each one either
 * fails with a clean error (the expected exception type, a one-line message in our words) or parses into a
 * consistent result, promptly: never StackOverflowError, OutOfMemoryError, another exception, or a hang.
 * The seed is fixed, so a failing case reproduces; its number and mutation are in the failure message.
 */
class SafeTensorsFuzzTest {
    private static final long SEED = 0x5afe_7e45L;
    /** 300 of each mutation: each case writes, maps and unmaps a file, the costly part on a busy machine. */
    private static final int FILE_CASES = 1500;
    private static final int CONFIG_CASES = 2500;
    /** Far above the milliseconds a case takes, far below a hang. */
    private static final Duration EACH = Duration.ofSeconds(5);
    /**
     * All cases of a test run under one preemptive timeout (a thread per case would cost more than the cases): a
     * hang is cut off there and named through {@link #current}, and each case's own time is checked against {@link #EACH}.
     */
    private static final Duration ALL = Duration.ofSeconds(60);

    /** The case being run, for the timeout's message. */
    private volatile String current = "before the first case";

    @TempDir
    Path dir;

    /** What the test does to the file, in turn. */
    private enum Mutation { FLIP_BYTES, TRUNCATE, SHUFFLE_NUMBERS, INSERT, HEADER_LENGTH }

    /** Text that parsers trip over, inserted at random places (a deep run of brackets among them). */
    private static final List<String> INSERTS = List.of("[", "]", "{", "}", "\"", "\\", ",", ":", "0", "-", "01", "1.", "1e999",
            "NaN", "-Infinity", "/*", "//", "\u0000", "\t", "\"__metadata__\":{}", "\"x\":", "\\u", "\\u12", "\\ud800", "é", "null",
            "true", "9223372036854775808", "1".repeat(150), "\"dtype\":\"F32\",", "[0,0]");

    private byte[] validFile() throws IOException {
        Path p = dir.resolve("valid.safetensors");
        new SafeTensorsWriter().metadata("kind", "fuzz").metadata("config", "{\"ch\": 4, \"ch_mult\": [1, 2]}")
                .add("w", FloatTensor.of(new float[]{1, 2, 3, 4, 5, 6}, 2, 3))
                .add("h", FloatTensor.of(new float[]{0.5f, -1, 2, 8}, 4), DType.F16)
                .add("b", FloatTensor.of(new float[]{1, 2, 3, 4}, 2, 2), DType.BF16)
                .addLongs("ids", new long[]{7, 8, 9}, 3)
                .add("empty", FloatTensor.of(new float[0], 0, 5))
                .write(p);
        return Files.readAllBytes(p);
    }

    private record Case(byte[] bytes, String what) {}

    @Test
    void corruptedFilesFailCleanlyOrParseConsistently() throws IOException {
        byte[] valid = validFile();
        int headerLen = (int) ByteBuffer.wrap(valid).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        byte[] header = java.util.Arrays.copyOfRange(valid, 8, 8 + headerLen);
        byte[] data = java.util.Arrays.copyOfRange(valid, 8 + headerLen, valid.length);
        Random r = new Random(SEED);
        Path p = dir.resolve("fuzz.safetensors");
        int parsed = assertTimeoutPreemptively(ALL, () -> {
            int opened = 0;
            for (int k = 0; k < FILE_CASES; k++) {
                Mutation m = Mutation.values()[k % Mutation.values().length];
                Case c = mutate(m, valid, header, data, r);
                Files.write(p, c.bytes);
                String label = "case " + k + ", " + c.what;
                if (timed(label, () -> openOrRefuse(p, c.bytes, label))) opened++;
            }
            return opened;
        }, () -> "timed out in " + current);
        // both outcomes must occur, or the mutations are not reaching the reader's checks
        assertTrue(parsed > 0 && parsed < FILE_CASES / 2, "parsed " + parsed + " of " + FILE_CASES);
    }

    /** Runs one case, which must end within {@link #EACH}. */
    private boolean timed(String label, java.util.function.BooleanSupplier run) {
        current = label;
        long t0 = System.nanoTime();
        boolean ok = run.getAsBoolean();
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        assertTrue(took.compareTo(EACH) < 0, label + " took " + took.toMillis() + " ms");
        return ok;
    }

    private Case mutate(Mutation m, byte[] valid, byte[] header, byte[] data, Random r) {
        switch (m) {
            case FLIP_BYTES -> {
                byte[] h = header.clone();
                int n = 1 + r.nextInt(4);
                StringBuilder what = new StringBuilder("header bytes changed at");
                for (int i = 0; i < n; i++) {
                    int at = r.nextInt(h.length);
                    h[at] = r.nextBoolean() ? (byte) r.nextInt(256) : (byte) (h[at] ^ (1 << r.nextInt(8)));
                    what.append(' ').append(at);
                }
                return new Case(file(h, h.length, data), what.toString());
            }
            case TRUNCATE -> {
                int len = r.nextInt(valid.length);
                return new Case(java.util.Arrays.copyOf(valid, len), "file cut to " + len + " bytes");
            }
            case SHUFFLE_NUMBERS -> {
                String text = new String(header, StandardCharsets.UTF_8);
                List<String> numbers = new ArrayList<>();
                Matcher g = Pattern.compile("\\d+").matcher(text);
                while (g.find()) numbers.add(g.group());
                Collections.shuffle(numbers, r);
                if (r.nextBoolean()) numbers.set(r.nextInt(numbers.size()), Long.toString(r.nextLong() >>> r.nextInt(64)));
                StringBuilder b = new StringBuilder();
                g.reset();
                int i = 0;
                while (g.find()) g.appendReplacement(b, numbers.get(i++));
                g.appendTail(b);
                byte[] h = b.toString().getBytes(StandardCharsets.UTF_8);
                return new Case(file(h, h.length, data), "numbers shuffled: " + numbers);
            }
            case INSERT -> {
                String piece = r.nextInt(8) == 0 ? "[".repeat(1 + r.nextInt(10_000)) : INSERTS.get(r.nextInt(INSERTS.size()));
                byte[] ins = r.nextInt(6) == 0 ? randomBytes(r) : piece.getBytes(StandardCharsets.UTF_8);
                int at = r.nextInt(header.length + 1);
                ByteArrayOutputStream h = new ByteArrayOutputStream();
                h.write(header, 0, at);
                h.write(ins, 0, ins.length);
                h.write(header, at, header.length - at);
                byte[] hb = h.toByteArray();
                // now and then the length field keeps the old value, so that header and data shift against each other
                boolean stale = r.nextInt(4) == 0;
                return new Case(file(hb, stale ? header.length : hb.length, data),
                        ins.length + " bytes inserted at " + at + (stale ? " (old header length kept)" : "") + ": " + preview(ins));
            }
            case HEADER_LENGTH -> {
                long len = switch (r.nextInt(4)) {
                    case 0 -> header.length + r.nextInt(33) - 16;
                    case 1 -> r.nextInt(16);
                    case 2 -> -1 - r.nextInt(1000);
                    default -> r.nextLong();
                };
                byte[] b = valid.clone();
                ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, len);
                return new Case(b, "header length field set to " + len);
            }
        }
        throw new AssertionError(m);
    }

    private static byte[] randomBytes(Random r) {
        byte[] b = new byte[1 + r.nextInt(8)];
        r.nextBytes(b);
        return b;
    }

    private static String preview(byte[] b) {
        String s = new String(b, 0, Math.min(b.length, 24), StandardCharsets.ISO_8859_1);
        return JsonErrors.shown(s) + (b.length > 24 ? "..." : "");
    }

    /** The 8-byte length field, the header and the data section. */
    private static byte[] file(byte[] header, long lengthField, byte[] data) {
        return ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(lengthField).put(header).put(data).array();
    }

    /** True when the file opened and holds a consistent set of tensors, false when refused with a clean error. */
    private static boolean openOrRefuse(Path p, byte[] bytes, String label) {
        try (SafeTensors st = SafeTensors.open(p)) {
            assertConsistent(st, bytes, label);
            return true;
        } catch (SafeTensorsException e) {
            assertOneCleanLine(e.getMessage(), label);
            return false;
        } catch (Throwable t) {
            throw new AssertionError(label + ": ended in " + t, t);
        }
    }

    /** A file that opened must tile its data section with tensors whose sizes match their shapes, each readable. */
    private static void assertConsistent(SafeTensors st, byte[] file, String label) {
        long headerLen = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        long stored = 0;
        for (SafeTensors.Entry e : st.tensors().values()) {
            assertEquals(e.shape().numel() * e.dtype().bytes, e.bytes().byteSize(), label + ": tensor " + e.name());
            stored += e.bytes().byteSize();
            if (e.dtype() == DType.I64) assertEquals(e.shape().numel(), e.toLongs().length, label);
            else assertEquals(e.shape().numel(), e.toFloats().length, label);
        }
        assertEquals(file.length - 8 - headerLen, stored, label + ": the tensors cover the data section");
        st.metadata().forEach((k, v) -> assertTrue(k != null && v != null, label));
    }

    private static void assertOneCleanLine(String message, String label) {
        assertTrue(message != null && !message.isBlank(), label + ": an empty message");
        // the catch-all for parser messages that have no wording of ours yet
        assertTrue(!message.contains("malformed JSON: "), label + ": a parser message without our wording: " + message);
        try {
            JsonTest.assertClean(message);
        } catch (AssertionError e) {
            throw new AssertionError(label + ": " + e.getMessage(), e);
        }
    }

    @Test
    void corruptedConfigsFailCleanlyOrParse() {
        String valid = "{\"model\": \"ecar-l\", \"image_size\": 256, \"vae\": {\"ch\": 128, \"ch_mult\": [1, 1, 2, 2, 4],"
                + " \"scale\": 0.18215, \"name\": \"kl\\u0031\\u0036\"}, \"weights\": \"model.safetensors\", \"flags\": [true, false, null]}";
        Random r = new Random(SEED + 1);
        List<String> texts = new ArrayList<>(), whats = new ArrayList<>();
        for (int k = 0; k < CONFIG_CASES; k++) {
            StringBuilder b = new StringBuilder(valid);
            String what;
            switch (k % 3) {
                case 0 -> {
                    int at = r.nextInt(b.length());
                    char c = (char) r.nextInt(128);
                    b.setCharAt(at, c);
                    what = "character " + at + " set to U+" + Integer.toHexString(c);
                }
                case 1 -> {
                    int len = r.nextInt(b.length());
                    b.setLength(len);
                    what = "cut to " + len + " characters";
                }
                default -> {
                    String piece = r.nextInt(8) == 0 ? "{\"a\":".repeat(1 + r.nextInt(10_000)) : INSERTS.get(r.nextInt(INSERTS.size()));
                    int at = r.nextInt(b.length() + 1);
                    b.insert(at, piece);
                    what = "inserted at " + at + ": " + JsonErrors.shown(piece);
                }
            }
            texts.add(b.toString());
            whats.add(what);
        }
        int parsed = assertTimeoutPreemptively(ALL, () -> {
            int ok = 0;
            for (int k = 0; k < CONFIG_CASES; k++) {
                String text = texts.get(k), label = "config case " + k + ", " + whats.get(k);
                if (timed(label, () -> parseOrRefuse(text, label))) ok++;
            }
            return ok;
        }, () -> "timed out in " + current);
        assertTrue(parsed > 0 && parsed < CONFIG_CASES / 2, "parsed " + parsed + " of " + CONFIG_CASES);
    }

    /** True when the text parsed (and writes back to the same values), false when refused with a clean error. */
    private static boolean parseOrRefuse(String text, String label) {
        try {
            Json.Obj o = Json.Obj.parse(text, "config.json");
            assertEquals(o.map(), Json.parseObject(Json.write(o.map())), label + ": writes back to the same values");
            return true;
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage().startsWith("config.json: "), label + ": " + e.getMessage());
            assertOneCleanLine(e.getMessage(), label);
            return false;
        } catch (Throwable t) {
            throw new AssertionError(label + ": ended in " + t, t);
        }
    }
}
