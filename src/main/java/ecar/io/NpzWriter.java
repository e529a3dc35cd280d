package ecar.io;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.time.LocalDateTime;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * A NumPy .npz archive as numpy.savez writes one: a zip of uncompressed ("stored") NAME.npy entries, ZIP64 where an
 * entry passes 4 GiB, so that numpy.load and the ADM evaluator read it. An array's data is streamed in, never held:
 * the caller gives its CRC-32 up front (a stored entry's header carries it), typically combined from parts checksummed
 * as they were made ({@link Crc32Combine}), and the zip stream fails the entry if the bytes written do not match it.
 * The same arrays give the same bytes on any machine: every entry has the fixed time 1980-01-01 00:00 and no extras.
 */
public final class NpzWriter implements AutoCloseable {
    private static final LocalDateTime FIXED_TIME = LocalDateTime.of(1980, 1, 1, 0, 0);

    private final ZipOutputStream zip;
    private Entry open;

    public NpzWriter(OutputStream out) {
        this.zip = new ZipOutputStream(out);
    }

    /**
     * Starts array {@code name} (the entry NAME.npy) of the dtype and shape, whose data bytes (C order) have CRC-32
     * {@code dataCrc}; returns the stream to write exactly those bytes to. The previous array must be complete.
     */
    public OutputStream array(String name, Npy.DType dtype, int dataCrc, long... shape) throws IOException {
        closeOpen();
        if (!name.matches("[A-Za-z_][A-Za-z0-9_]*")) throw new IllegalArgumentException("npz array name '" + name + "': expected a Python identifier");
        byte[] header = Npy.header(dtype, shape);
        long dataBytes = Npy.fileBytes(dtype, shape) - header.length;
        CRC32 headerCrc = new CRC32();
        headerCrc.update(header);
        ZipEntry e = new ZipEntry(name + ".npy");
        e.setMethod(ZipEntry.STORED);
        e.setSize(header.length + dataBytes);
        e.setCompressedSize(header.length + dataBytes);
        e.setCrc(Crc32Combine.combine((int) headerCrc.getValue(), dataCrc, dataBytes) & 0xFFFFFFFFL);
        e.setTimeLocal(FIXED_TIME);
        zip.putNextEntry(e);
        zip.write(header);
        open = new Entry(name, dataBytes);
        return open;
    }

    /** Finishes the last array and the archive (the zip stream checks that array's size and CRC). Closes the output. */
    @Override
    public void close() throws IOException {
        IOException failure = null;
        try {
            closeOpen();
        } catch (IOException e) {
            failure = e;
        }
        try {
            zip.close();
        } catch (IOException e) {   // after a failed array the zip stream fails too: keep the first reason
            if (failure == null) failure = e;
            else failure.addSuppressed(e);
        }
        if (failure != null) throw failure;
    }

    private void closeOpen() throws IOException {
        if (open == null) return;
        Entry e = open;
        open = null;
        if (e.written != e.expected) {
            throw new IOException("npz array " + e.name + ": " + e.written + " data bytes written, its shape needs " + e.expected);
        }
        zip.closeEntry();   // a ZipException here: the bytes do not have the CRC-32 the caller announced
    }

    /** The stream of one array's data: counts the bytes and refuses more than the shape holds; closing it does nothing. */
    private final class Entry extends FilterOutputStream {
        final String name;
        final long expected;
        long written;

        Entry(String name, long expected) {
            super(zip);
            this.name = name;
            this.expected = expected;
        }

        @Override
        public void write(int b) throws IOException {
            room(1);
            zip.write(b);
            written++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            room(len);
            zip.write(b, off, len);
            written += len;
        }

        private void room(long n) throws IOException {
            if (open != this) throw new IOException("npz array " + name + " is finished; no more bytes can be written to it");
            if (written + n > expected) throw new IOException("npz array " + name + ": more than the " + expected + " data bytes its shape holds");
        }

        @Override
        public void close() {}
    }
}
