package ecar.io;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The header of a NumPy .npy file, format version 1.0: the magic string, the version, the little-endian length of
 * the header text, then the text — a Python dict literal giving the dtype, the memory order and the shape — padded
 * with spaces and ended by a newline so that the data starts on a multiple of 64 bytes, as numpy writes it.
 * The array's raw bytes (C order) follow the header.
 */
public final class Npy {
    private Npy() {}

    /** NumPy's element types the sample sets write: uint8 pixels and little-endian int64 labels. */
    public enum DType {
        U1("|u1", 1), I8("<i8", 8);

        final String descr;
        public final int bytes;

        DType(String descr, int bytes) {
            this.descr = descr;
            this.bytes = bytes;
        }
    }

    private static final int ALIGN = 64;

    /** The header of an array of {@code dtype} with {@code shape}, C order. */
    public static byte[] header(DType dtype, long... shape) {
        for (long d : shape) if (d < 0) throw new IllegalArgumentException("npy shape " + Arrays.toString(shape) + " has a negative dimension");
        StringBuilder dims = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) dims.append(i > 0 ? ", " : "").append(shape[i]);
        if (shape.length == 1) dims.append(',');   // a Python 1-tuple
        dims.append(')');
        String dict = "{'descr': '" + dtype.descr + "', 'fortran_order': False, 'shape': " + dims + ", }";
        int prefix = 10;   // magic (6) + version (2) + header length (2)
        int total = (prefix + dict.length() + 1 + ALIGN - 1) / ALIGN * ALIGN;
        int textLength = total - prefix;
        if (textLength > 0xFFFF) throw new IllegalArgumentException("npy header of " + textLength + " bytes does not fit format 1.0's 65535");
        byte[] h = new byte[total];
        h[0] = (byte) 0x93;
        byte[] magic = "NUMPY".getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(magic, 0, h, 1, magic.length);
        h[6] = 1;
        h[7] = 0;
        h[8] = (byte) textLength;
        h[9] = (byte) (textLength >>> 8);
        Arrays.fill(h, prefix, total - 1, (byte) ' ');
        byte[] text = dict.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(text, 0, h, prefix, text.length);
        h[total - 1] = '\n';
        return h;
    }

    /** The bytes of the whole array: header plus data. */
    public static long fileBytes(DType dtype, long... shape) {
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        return header(dtype, shape).length + Math.multiplyExact(n, dtype.bytes);
    }
}
