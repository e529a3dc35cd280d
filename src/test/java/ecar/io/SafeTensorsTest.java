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

    private String error(Path p) {
        return assertThrows(SafeTensorsException.class, () -> SafeTensors.open(p).close()).getMessage();
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
}
