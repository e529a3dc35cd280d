package ecar.backend;

/**
 * Counter-based normal noise: Philox4x32-10 (Salmon et al., SC'11) keyed by the seed, counting over
 * (element index, stream), then Box-Muller. Element i of stream s is the same number on every backend
 * and every thread order: kernels/common.cuh holds the CUDA twin of this class.
 *
 * <p>The 64-bit element index also numbers images: image k's noise is the stretch of indices k·2³² + j
 * ({@link #imageIndex}), so an image's draws depend on its index in a set and on nothing about the batch it is
 * generated in. Image 0 is indices 0, 1, 2, …: one image drawn alone from a flat stream is image 0.
 */
public final class Philox {
    private Philox() {}

    private static final int M0 = 0xD2511F53, M1 = 0xCD9E8D57;
    private static final int W0 = 0x9E3779B9, W1 = 0xBB67AE85;

    /** The four 32-bit words of Philox4x32-10 at counter (c0, c1, c2, c3) under key (k0, k1). */
    static int[] block(int c0, int c1, int c2, int c3, int k0, int k1) {
        for (int round = 0; round < 10; round++) {
            long p0 = (M0 & 0xffffffffL) * (c0 & 0xffffffffL);
            long p1 = (M1 & 0xffffffffL) * (c2 & 0xffffffffL);
            int hi0 = (int) (p0 >>> 32), lo0 = (int) p0;
            int hi1 = (int) (p1 >>> 32), lo1 = (int) p1;
            c0 = hi1 ^ c1 ^ k0;
            c1 = lo1;
            c2 = hi0 ^ c3 ^ k1;
            c3 = lo0;
            k0 += W0;
            k1 += W1;
        }
        return new int[]{c0, c1, c2, c3};
    }

    /** A standard normal float: element {@code index} of stream {@code stream} under {@code seed}. */
    public static float normal(long seed, int stream, long index) {
        int[] r = block((int) index, (int) (index >>> 32), stream, 0, (int) seed, (int) (seed >>> 32));
        // u1 in (0, 1] so the log is finite; u2 in [0, 1)
        float u1 = ((r[0] >>> 8) + 1) * 0x1p-24f;
        float u2 = (r[1] >>> 8) * 0x1p-24f;
        return (float) (Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2.0 * Math.PI * u2));
    }

    /**
     * A uniform float in [0, 1) on a grid of 2⁻²⁴: element {@code index} of stream {@code stream} under {@code seed}, from
     * the first word of the same block {@link #normal} starts from (a stream serves one kind of draw). Token draws and
     * generation orders use it; kernels/common.cuh's philox_uniform is its twin.
     */
    public static float uniform(long seed, int stream, long index) {
        int[] r = block((int) index, (int) (index >>> 32), stream, 0, (int) seed, (int) (seed >>> 32));
        return (r[0] >>> 8) * 0x1p-24f;
    }

    /** The element index of element {@code element} (below 2³²) of image {@code image}: image·2³² + element. */
    public static long imageIndex(int image, long element) {
        if (image < 0) throw new IllegalArgumentException("image index " + image + " is negative");
        if (element < 0 || element >= 1L << 32) throw new IllegalArgumentException("element " + element + " of an image outside [0, 2^32)");
        return (long) image << 32 | element;
    }

    /** Fills out[i] = normal(seed, stream, offset + i). */
    public static void fill(float[] out, long seed, int stream, long offset) {
        for (int i = 0; i < out.length; i++) out[i] = normal(seed, stream, offset + i);
    }
}
