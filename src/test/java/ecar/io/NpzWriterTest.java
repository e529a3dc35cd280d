package ecar.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.zip.CRC32;
import java.util.zip.ZipException;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** .npy headers, CRC-32 of concatenations, and .npz archives that numpy reads back. */
class NpzWriterTest {
    @TempDir
    Path dir;

    private static int crc(byte[] b, int from, int to) {
        CRC32 c = new CRC32();
        c.update(b, from, to - from);
        return (int) c.getValue();
    }

    @Test
    void combinedCrcsEqualTheCrcOfTheWhole() {
        Random r = new Random(3);
        for (int trial = 0; trial < 50; trial++) {
            byte[] b = new byte[r.nextInt(5000)];
            r.nextBytes(b);
            int cut = b.length == 0 ? 0 : r.nextInt(b.length + 1);
            assertEquals(crc(b, 0, b.length), Crc32Combine.combine(crc(b, 0, cut), crc(b, cut, b.length), b.length - cut), "cut at " + cut + " of " + b.length);
        }
        assertEquals(crc(new byte[0], 0, 0), Crc32Combine.combine(0, 0, 0));
    }

    @Test
    void headersAreNumpysVersion10LayoutAlignedTo64Bytes() {
        byte[] h = Npy.header(Npy.DType.U1, 50000, 256, 256, 3);
        assertEquals(0, h.length % 64);
        assertEquals((byte) 0x93, h[0]);
        assertEquals("NUMPY", new String(h, 1, 5, StandardCharsets.US_ASCII));
        assertEquals(h.length - 10, (h[8] & 0xFF) | (h[9] & 0xFF) << 8);
        String text = new String(h, 10, h.length - 10, StandardCharsets.US_ASCII);
        assertTrue(text.startsWith("{'descr': '|u1', 'fortran_order': False, 'shape': (50000, 256, 256, 3), }"), text);
        assertTrue(text.endsWith(" \n"), text);
        assertTrue(new String(Npy.header(Npy.DType.I8, 7), StandardCharsets.US_ASCII).contains("'shape': (7,), }"));
        assertEquals(Npy.header(Npy.DType.U1, 2, 3).length + 6, Npy.fileBytes(Npy.DType.U1, 2, 3));
    }

    /** uint8 pixels written in two parts (their CRCs combined) and int64 labels, read back by numpy. */
    @Test
    void numpyReadsWhatWasWritten() throws Exception {
        byte[] pixels = new byte[3 * 2 * 4 * 3];
        for (int i = 0; i < pixels.length; i++) pixels[i] = (byte) (i * 37 + 5);
        long[] labels = {207, -1, 1L << 40};
        ByteBuffer lb = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
        for (long l : labels) lb.putLong(l);
        int half = pixels.length / 2;
        int pixelCrc = Crc32Combine.combine(crc(pixels, 0, half), crc(pixels, half, pixels.length), pixels.length - half);
        Path npz = dir.resolve("samples.npz");
        try (NpzWriter w = new NpzWriter(Files.newOutputStream(npz))) {
            OutputStream a = w.array("arr_0", Npy.DType.U1, pixelCrc, 3, 2, 4, 3);
            a.write(pixels, 0, half);
            a.write(pixels, half, pixels.length - half);
            w.array("arr_1", Npy.DType.I8, crc(lb.array(), 0, 24), 3).write(lb.array());
        }
        try (var zip = new java.util.zip.ZipFile(npz.toFile())) {
            assertEquals(2, zip.size());
            assertEquals(java.util.zip.ZipEntry.STORED, zip.getEntry("arr_0.npy").getMethod());
        }
        String script = String.join("\n",
                "import sys, numpy as np",
                "d = np.load(sys.argv[1])",
                "a, l = d['arr_0'], d['arr_1']",
                "print(sorted(d.files), a.dtype, a.shape, l.dtype, l.tolist())",
                "print(','.join(str(v) for v in a.reshape(-1).tolist()))");
        String out = Numpy.run(script, npz);
        String[] lines = out.strip().split("\n");
        assertEquals("['arr_0', 'arr_1'] uint8 (3, 2, 4, 3) int64 [207, -1, 1099511627776]", lines[0]);
        StringBuilder expected = new StringBuilder();
        for (int i = 0; i < pixels.length; i++) expected.append(i > 0 ? "," : "").append(pixels[i] & 0xFF);
        assertEquals(expected.toString(), lines[1]);
    }

    @Test
    void theSameArraysGiveTheSameBytes() throws IOException {
        assertArrayEquals(npzOf(new byte[]{1, 2, 3}), npzOf(new byte[]{1, 2, 3}));
    }

    @Test
    void wrongCrcsAndByteCountsFailTheArchive() {
        byte[] data = {1, 2, 3, 4};
        var e = assertThrows(ZipException.class, () -> {
            try (NpzWriter w = new NpzWriter(new ByteArrayOutputStream())) {
                w.array("arr_0", Npy.DType.U1, crc(data, 0, 4) ^ 1, 4).write(data);
            }
        });
        assertTrue(e.getMessage().contains("crc"), e.getMessage());
        var short_ = assertThrows(IOException.class, () -> {
            try (NpzWriter w = new NpzWriter(new ByteArrayOutputStream())) {
                w.array("arr_0", Npy.DType.U1, crc(data, 0, 3), 4).write(data, 0, 3);
            }
        });
        assertTrue(short_.getMessage().contains("3 data bytes written, its shape needs 4"), short_.getMessage());
        var more = assertThrows(IOException.class, () -> {
            try (NpzWriter w = new NpzWriter(new ByteArrayOutputStream())) {
                w.array("arr_0", Npy.DType.U1, 0, 2).write(data);
            }
        });
        assertTrue(more.getMessage().contains("more than the 2 data bytes"), more.getMessage());
    }

    private static byte[] npzOf(byte[] data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (NpzWriter w = new NpzWriter(out)) {
            w.array("arr_0", Npy.DType.U1, crc(data, 0, data.length), data.length).write(data);
        }
        return out.toByteArray();
    }
}
