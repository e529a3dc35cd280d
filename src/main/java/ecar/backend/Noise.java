package ecar.backend;

import ecar.tensor.Tensor;

/**
 * Where standard normal noise comes from: a tensor given by the caller (a fixture's draws), the counter-based
 * Philox stream (seed, stream) whose element i is {@link Philox#normal(long, int, long)}, or the same stream drawn
 * per image; a GPU backend can generate the latter two inside the kernel that consumes them, and every backend draws
 * the same numbers.
 */
public sealed interface Noise {
    record Given(Tensor eps) implements Noise {}

    /** One stream over the whole tensor: element i (flat index) is Philox.normal(seed, stream, i). */
    record Philox(long seed, int stream) implements Noise {}

    /**
     * Per image: row r of the tensor's first dimension is image {@code images[r]}, and its element j is
     * Philox.normal(seed, stream, Philox.imageIndex(images[r], j)). A row draws the same numbers in any batch, so an
     * image is a function of its index whatever batch or shard it is generated in. Rows may repeat an image (the
     * unconditional half of a guided batch draws its conditional row's noise).
     */
    record PerImage(long seed, int stream, int[] images) implements Noise {
        public PerImage {
            images = images.clone();
            for (int k : images) if (k < 0) throw new IllegalArgumentException("image index " + k + " is negative");
        }

        @Override
        public int[] images() {
            return images.clone();
        }

        /** The image of row r (no copy). */
        public int image(int r) {
            return images[r];
        }

        public int rows() {
            return images.length;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof PerImage p && p.seed == seed && p.stream == stream && java.util.Arrays.equals(p.images, images);
        }

        @Override
        public int hashCode() {
            return java.util.Arrays.hashCode(images) * 31 + Long.hashCode(seed) * 17 + stream;
        }

        @Override
        public String toString() {
            return "PerImage[seed " + seed + ", stream " + stream + ", images " + java.util.Arrays.toString(images) + "]";
        }

        /**
         * The rows as runs of consecutive images: {rowStart, rows, firstImage} each, so a kernel can draw a run in one
         * launch (a guided batch of consecutive images is two runs: its halves).
         */
        public java.util.List<int[]> runs() {
            java.util.List<int[]> runs = new java.util.ArrayList<>();
            int start = 0;
            for (int r = 1; r <= images.length; r++) {
                if (r == images.length || images[r] != images[r - 1] + 1) {
                    runs.add(new int[]{start, r - start, images[start]});
                    start = r;
                }
            }
            return runs;
        }
    }

    static Noise of(Tensor eps) {
        return new Given(eps);
    }

    static Noise philox(long seed, int stream) {
        return new Philox(seed, stream);
    }

    /** Per-image Philox noise: row r draws image images[r]'s numbers. */
    static Noise perImage(long seed, int stream, int[] images) {
        return new PerImage(seed, stream, images);
    }

    /** c of the block-noise draw: n = √(1+γ)(ε − c·mean₂ₓ₂ ε) has covariance (1+γ)I − γ·11ᵀ per 2×2 block. */
    static float blockNoiseC(float gamma) {
        return (float) (1.0 - Math.sqrt(Math.max(0.0, (1.0 - 3.0 * gamma) / (1.0 + gamma))));
    }
}
