package ecar.io;

/**
 * The CRC-32 of a concatenation from the CRC-32s and lengths of its parts (zlib's crc32_combine): appending n zero
 * bytes is a linear map on the 32-bit register, applied by squaring its matrix over GF(2). It lets a writer that must
 * give an entry's CRC before its bytes (a stored zip entry) take it from parts checksummed when they were made.
 */
public final class Crc32Combine {
    private Crc32Combine() {}

    private static final int POLY = 0xEDB88320;   // CRC-32 (IEEE 802.3), reflected

    /** CRC-32 of A then B, given crc(A), crc(B) and B's length in bytes. */
    public static int combine(int crcA, int crcB, long lengthB) {
        if (lengthB < 0) throw new IllegalArgumentException("length " + lengthB + " of the second part is negative");
        if (lengthB == 0) return crcA;
        int[] odd = new int[32], even = new int[32];
        odd[0] = POLY;   // the operator for one zero bit
        int row = 1;
        for (int n = 1; n < 32; n++) {
            odd[n] = row;
            row <<= 1;
        }
        square(even, odd);   // two zero bits
        square(odd, even);   // four zero bits
        int crc = crcA;
        long len = lengthB;
        do {   // apply len zero bytes: the first pass squares four bits into one byte
            square(even, odd);
            if ((len & 1) != 0) crc = times(even, crc);
            len >>>= 1;
            if (len == 0) break;
            square(odd, even);
            if ((len & 1) != 0) crc = times(odd, crc);
            len >>>= 1;
        } while (len != 0);
        return crc ^ crcB;
    }

    private static int times(int[] mat, int vec) {
        int sum = 0;
        for (int i = 0; vec != 0; i++, vec >>>= 1) if ((vec & 1) != 0) sum ^= mat[i];
        return sum;
    }

    private static void square(int[] square, int[] mat) {
        for (int n = 0; n < 32; n++) square[n] = times(mat, mat[n]);
    }
}
