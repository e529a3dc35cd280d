package ecar.io;

import ecar.tensor.DType;
import ecar.tensor.FloatTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafeTensorsTest {
    @TempDir
    Path dir;

    @Test
    void roundTripsEveryDtypeAndTheMetadata() throws IOException {
        float[] v = {1.5f, -2.25f, 3e-3f, 65504f, -0f, 7f};
        Path p = dir.resolve("a.safetensors");
        new SafeTensorsWriter().metadata("kind", "test").metadata("note", "é ü \"quoted\"")
                .add("f32", FloatTensor.of(v, 2, 3))
                .add("f16", FloatTensor.of(v, 3, 2), DType.F16)
                .add("bf16", FloatTensor.of(v, 6), DType.BF16)
                .addLongs("ids", new long[]{1, -2, 1L << 40}, 3)
                .write(p);
        try (SafeTensors st = SafeTensors.open(p)) {
            assertEquals("test", st.metadata().get("kind"));
            assertEquals("é ü \"quoted\"", st.metadata().get("note"));
            assertEquals(java.util.List.of("f32", "f16", "bf16", "ids"), st.names());
            assertArrayEquals(v, st.get("f32").toFloats());
            assertArrayEquals(new int[]{2, 3}, st.get("f32").shape().toArray());
            float[] h = st.get("f16").toFloats();
            for (int i = 0; i < v.length; i++) assertEquals(v[i], h[i], Math.abs(v[i]) * 1e-3 + 1e-6);
            float[] b = st.get("bf16").toFloats();
            for (int i = 0; i < v.length; i++) assertEquals(Bf16.round(v[i]), b[i]);
            assertArrayEquals(new long[]{1, -2, 1L << 40}, st.get("ids").toLongs());
            var e = assertThrows(SafeTensorsException.class, () -> st.get("ids").toFloats());
            assertTrue(e.getMessage().contains("'ids'") && e.getMessage().contains("I64"), e.getMessage());
        }
        assertEquals(0, (Files.size(p) - 8 - 4 * 6 - 2 * 6 - 2 * 6 - 8 * 3) % 8, "header padded to 8 bytes");
    }

    /** A file with the given header text and data bytes. */
    private Path file(String name, String header, int dataBytes) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        Path p = dir.resolve(name);
        Files.write(p, b.array());
        return p;
    }

    /** A file whose header is the given bytes (not necessarily UTF-8), followed by {@code dataBytes} zero bytes. */
    private Path file(String name, byte[] header, int dataBytes) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(header.length).put(header);
        Path p = dir.resolve(name);
        Files.write(p, b.array());
        return p;
    }

    private String error(Path p) {
        String m = assertThrows(SafeTensorsException.class, () -> SafeTensors.open(p).close()).getMessage();
        JsonTest.assertClean(m);
        return m;
    }

    /** The error for a header of one four-byte F32 tensor 'w' whose entry is {@code tensor}, after {@code before}. */
    private String headerError(String before, String tensor, String after) throws IOException {
        return error(file("h.safetensors", "{" + before + "\"w\":" + tensor + after + "}", 4));
    }

    private static final String W = "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}";

    private static void assertHas(String message, String... parts) {
        for (String part : parts) assertTrue(message.contains(part), "expected '" + part + "' in: " + message);
    }

    @Test
    void namesTheFileAndTensorOfEveryProblem() throws IOException {
        String m;
        m = error(file("offsets.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}", 8));
        assertTrue(m.contains("offsets.safetensors") && m.contains("'w'") && m.contains("run past the data section of 8 bytes"), m);
        m = error(file("count.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,16]}}", 16));
        assertTrue(m.contains("'w'") && m.contains("16 bytes stored for shape [2, 3] of F32, expected 24"), m);
        m = error(file("overlap.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12));
        assertTrue(m.contains("'a'") && m.contains("'b'") && m.contains("overlap"), m);
        m = error(file("hole.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8));
        assertTrue(m.contains("bytes [0, 4)") && m.contains("belong to no tensor"), m);
        m = error(file("dtype.safetensors", "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1));
        assertTrue(m.contains("'a'") && m.contains("dtype U8 is not supported"), m);
        m = error(file("json.safetensors", "{\"a\":{\"dtype\":\"F32\",", 0));
        assertTrue(m.contains("json.safetensors") && m.contains("not a valid JSON object"), m);
        m = error(file("meta.safetensors", "{\"__metadata__\":{\"k\":3}}", 0));
        assertTrue(m.contains("__metadata__ entry 'k' must be a string"), m);
        m = error(file("neg.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,0]}}", 0));
        assertTrue(m.contains("negative dimension"), m);
    }

    @Test
    void rejectsTruncatedFilesAndBadHeaderLengths() throws IOException {
        Path tiny = dir.resolve("tiny.safetensors");
        Files.write(tiny, new byte[5]);
        assertTrue(error(tiny).contains("5 bytes is too short"));
        Path p = dir.resolve("trunc.safetensors");
        new SafeTensorsWriter().add("w", FloatTensor.of(new float[64], 8, 8)).write(p);
        byte[] all = Files.readAllBytes(p);
        Files.write(p, java.util.Arrays.copyOf(all, all.length - 10));
        assertTrue(error(p).contains("run past the data section"), error(p));
        ByteBuffer bad = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 40).putLong(0);
        Path huge = dir.resolve("len.safetensors");
        Files.write(huge, bad.array());
        assertTrue(error(huge).contains("header length 1099511627776 does not fit the file of 16 bytes"), error(huge));
        assertTrue(assertThrows(SafeTensorsException.class, () -> SafeTensors.open(dir.resolve("none.safetensors")))
                .getMessage().contains("no such file"));
    }

    @Test
    void mapsFilesLargerThanTwoGigabytesWithoutReadingThem() throws IOException {
        // 600 M floats = 2.4 GB: a sparse file, mapped not copied; only the last 4 values are written and read
        long n = 600_000_000L;
        String header = "{\"big\":{\"dtype\":\"F32\",\"shape\":[" + n + "],\"data_offsets\":[0," + (4 * n) + "]}}";
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        Path p = dir.resolve("big.safetensors");
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            ByteBuffer b = ByteBuffer.allocate(8 + h.length).order(ByteOrder.LITTLE_ENDIAN);
            b.putLong(h.length).put(h);
            f.write(b.array());
            f.setLength(8 + h.length + 4 * n);
            ByteBuffer tail = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
            tail.putFloat(1f).putFloat(2f).putFloat(3f).putFloat(4f);
            f.seek(8 + h.length + 4 * n - 16);
            f.write(tail.array());
        }
        try (SafeTensors st = SafeTensors.open(p)) {
            var e = st.get("big");
            assertEquals(4 * n, e.bytes().byteSize());
            var layout = java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
            assertEquals(4f, e.bytes().get(layout, 4 * n - 4));
            assertEquals(1f, e.bytes().get(layout, 4 * n - 16));
            assertEquals(0f, e.bytes().get(layout, 0));
        }
    }

    @Test
    void headerJsonIsStrict() throws IOException {
        String json = "h.safetensors: header is not a valid JSON object: ";
        assertHas(headerError("", "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,04]}", ""), json, "a number cannot have a leading zero", "line 1");
        assertHas(headerError("", W, ",\"w\":" + W), json, "duplicate key \"w\"");
        assertHas(headerError("", "{\"dtype\":\"F32\",\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,4]}", ""),
                json, "duplicate key \"dtype\" in tensor 'w'");
        assertHas(headerError("\"__metadata__\":{},", W, ",\"__metadata__\":{}"), json, "duplicate key \"__metadata__\"");
        assertHas(headerError("\"__metadata__\":{\"k\":\"a\",\"k\":\"b\"},", W, ""), json, "duplicate key \"k\" in __metadata__");
        assertHas(headerError("", W, "} x"), json, "unexpected text 'x'");
        assertHas(headerError("", W, "}{"), json, "unexpected text after the JSON value");
        assertHas(headerError("/* weights */", W, ""), json, "comments are not allowed in JSON");
        assertHas(headerError("", "{\"dtype\":\"F32\",\"shape\":[1e999],\"data_offsets\":[0,4]}", ""), json, "number 1e999 is beyond the range of a double");
        assertHas(headerError("", "{\"dtype\":\"F32\",\"shape\":[NaN],\"data_offsets\":[0,4]}", ""), json, "'NaN' is not a JSON number");
        assertHas(headerError("", "{\"dtype\":\"F\\u+032\",\"shape\":[1],\"data_offsets\":[0,4]}", ""), json, "a \\u escape needs 4 hex digits");
        assertHas(error(file("array.safetensors", "[1]", 0)), "array.safetensors: header is not a valid JSON object: expected a JSON object, found an array");
    }

    @Test
    void headerFieldsMustBeWholeNumbersOfTheRightCount() throws IOException {
        assertHas(headerError("", "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4.5]}", ""),
                "h.safetensors: tensor 'w': \"data_offsets\" must hold whole numbers (64-bit), found 4.5");
        assertHas(headerError("", "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,9223372036854775808]}", ""),
                "tensor 'w': \"data_offsets\" must hold whole numbers (64-bit), found 9223372036854775808");
        assertHas(headerError("", "{\"dtype\":\"F32\",\"shape\":[\"1\"],\"data_offsets\":[0,4]}", ""), "\"shape\" must hold whole numbers (64-bit), found a string");
        assertHas(headerError("", "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}", ""), "tensor 'w': \"data_offsets\" must have 2 entries, found more");
        assertHas(headerError("", "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4]}", ""), "tensor 'w': \"data_offsets\" must have 2 entries, found 1");
        assertHas(headerError("", "{\"dtype\":\"F32\",\"shape\":[1]}", ""), "tensor 'w': missing or non-list \"data_offsets\"");
        assertHas(headerError("", "{\"dtype\":3,\"shape\":[1],\"data_offsets\":[0,4]}", ""), "tensor 'w': missing or non-string \"dtype\"");
        assertHas(headerError("", "[1]", ""), "tensor 'w': expected an object with dtype, shape and data_offsets, found an array");
        // keys other than the three are allowed and skipped, whatever they hold
        try (SafeTensors st = SafeTensors.open(file("extra.safetensors",
                "{\"w\":{\"note\":{\"a\":[1,{\"b\":null}]},\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4))) {
            assertEquals(java.util.List.of("w"), st.names());
        }
    }

    @Test
    void headerLimitsNameTheLimit() throws IOException {
        String deep = "\"note\":" + "[".repeat(65) + "]".repeat(65) + ",";
        assertHas(headerError("", "{" + deep + "\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}", ""),
                "header is not a valid JSON object: nested deeper than the limit of 64 levels");
        // the old recursive reader ended in StackOverflowError on a 6 KB header like this one
        assertHas(error(file("deep.safetensors", "{\"w\":{\"note\":" + "[".repeat(3000), 0)), "nested deeper than the limit of 64 levels");

        String rank65 = "[" + "1,".repeat(64) + "1]";
        assertHas(headerError("", "{\"dtype\":\"F32\",\"shape\":" + rank65 + ",\"data_offsets\":[0,4]}", ""),
                "tensor 'w': shape has more than 64 dimensions, the limit");

        StringBuilder meta = new StringBuilder("\"__metadata__\":{");
        for (int k = 0; k <= SafeTensorsHeader.MAX_METADATA_ENTRIES; k++) meta.append(k > 0 ? "," : "").append("\"k").append(k).append("\":\"\"");
        assertHas(headerError(meta.append("},").toString(), W, ""), "h.safetensors: __metadata__ has more than 10000 entries, the limit");

        assertHas(headerError("", "{\"dtype\":\"F32\",\"shape\":[" + "1".repeat(101) + "],\"data_offsets\":[0,4]}", ""),
                "a number is longer than the limit of 100 characters");
        assertHas(headerError("\"__metadata__\":{\"big\":\"" + "x".repeat(SafeTensorsHeader.MAX_STRING_CHARS + 1) + "\"},", W, ""),
                "a string is longer than the limit of 16777216 characters");

        // the header cap: a sparse file, so nothing of the 100 MB is written
        Path big = dir.resolve("big-header.safetensors");
        try (RandomAccessFile f = new RandomAccessFile(big.toFile(), "rw")) {
            f.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(SafeTensors.MAX_HEADER_BYTES + 1).array());
            f.setLength(8 + SafeTensors.MAX_HEADER_BYTES + 16);
        }
        assertHas(error(big), "header length 104857601 exceeds the 104857600-byte limit");
    }

    /** A header of n empty tensors named t0, t1, ... (empty tensors need no data bytes). */
    private static String emptyTensors(int n) {
        StringBuilder b = new StringBuilder("{");
        for (int k = 0; k < n; k++) b.append(k > 0 ? "," : "").append("\"t").append(k).append("\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}");
        return b.append('}').toString();
    }

    @Test
    void capsTheNumberOfTensors() {
        byte[] header = emptyTensors(101).getBytes(StandardCharsets.UTF_8);
        var e = assertThrows(SafeTensorsException.class, () -> SafeTensorsHeader.read("many.safetensors",
                java.lang.foreign.MemorySegment.ofArray(header), java.lang.foreign.MemorySegment.ofArray(new byte[0]), 100));
        assertEquals("many.safetensors: header lists more than 100 tensors, the limit for one file", e.getMessage());
        assertEquals(100, SafeTensorsHeader.read("ok.safetensors", java.lang.foreign.MemorySegment.ofArray(emptyTensors(100).getBytes(StandardCharsets.UTF_8)),
                java.lang.foreign.MemorySegment.ofArray(new byte[0]), 100).tensors().size());
    }

    @Test
    void readsALargeHeaderInTimeProportionalToItsSize() throws IOException {
        // 50,000 entries (3 MB): the whole-header tree and its copies are gone, so this takes a fraction of a second
        Path p = file("wide.safetensors", emptyTensors(50_000), 0);
        try (SafeTensors st = assertTimeoutPreemptively(java.time.Duration.ofSeconds(10), () -> SafeTensors.open(p))) {
            assertEquals(50_000, st.names().size());
            assertEquals("t49999", st.names().getLast());
        }
    }

    @Test
    void headerMustBeValidUtf8() throws IOException {
        byte[] ok = "{\"\u00e9\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}".getBytes(StandardCharsets.UTF_8);
        try (SafeTensors st = SafeTensors.open(file("utf8.safetensors", ok, 4))) {
            assertTrue(st.has("\u00e9"));
        }
        byte[] stray = ok.clone();
        stray[2] = (byte) 0xff;   // the first byte of 'é'
        assertTrue(error(file("bad.safetensors", stray, 4))
                .endsWith("bad.safetensors: header is not valid UTF-8: bad byte sequence at byte 10 of the file (byte 2 of the header)"));
        byte[] overlong = ok.clone();
        overlong[2] = (byte) 0xc0;   // C0 A9: an overlong form of ')', which a lenient decoder would accept
        overlong[3] = (byte) 0xa9;
        assertHas(error(file("overlong.safetensors", overlong, 4)), "header is not valid UTF-8");
        byte[] cut = java.util.Arrays.copyOf(ok, 3);   // ends inside 'é'
        assertHas(error(file("cut.safetensors", cut, 0)), "header is not valid UTF-8");
    }

    /** A FIFO is refused before it is opened (opening one for reading waits for a writer: forever); a directory too. */
    @Test
    void onlyRegularFilesAreOpened() throws Exception {
        Path folder = Files.createDirectory(dir.resolve("folder.safetensors"));
        var e = assertThrows(SafeTensorsException.class, () -> SafeTensors.open(folder));
        assertEquals(folder + ": is a directory, expected a safetensors file", e.getMessage());
        Path fifo = dir.resolve("fifo.safetensors");
        org.junit.jupiter.api.Assumptions.assumeTrue(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor() == 0, "mkfifo is not available");
        var f = assertTimeoutPreemptively(java.time.Duration.ofSeconds(10), () -> assertThrows(SafeTensorsException.class, () -> SafeTensors.open(fifo)));
        assertEquals(fifo + ": is not a regular file (a FIFO, socket or device), expected a safetensors file", f.getMessage());
    }
}
