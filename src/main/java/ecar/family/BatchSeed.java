package ecar.family;

/**
 * The seed a batch runs under in a family whose draws are shared by the batch (not keyed by image): the set's seed
 * for a batch of images 0, 1, …, N-1 (what a plain generation is), else a mix of the seed and the batch's images, so
 * that the batches of a set draw different numbers and the same batch draws the same numbers on any machine.
 */
public final class BatchSeed {
    private BatchSeed() {}

    public static long of(long seed, int[] images) {
        boolean first = true;
        for (int i = 0; i < images.length; i++) first &= images[i] == i;
        if (first) return seed;
        long h = seed;
        for (int k : images) h = mix(h ^ (k + 0x9E3779B97F4A7C15L));
        return h;
    }

    /** SplitMix64's finaliser: a bijection of 64-bit values that spreads every input bit over the output. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
