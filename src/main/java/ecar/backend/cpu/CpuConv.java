package ecar.backend.cpu;

import ecar.backend.Activation;

/**
 * CPU twin of kernels/conv.cu: a 3×3 convolution on channels-last images as a GEMM over patches (im2col),
 * built a block of output pixels at a time so the patch matrix stays small; nearest ×2 upsampling.
 */
final class CpuConv {
    private CpuConv() {}

    /** Output pixels per im2col block: a multiple of the GEMM's 6-row micro-tile. */
    private static final int BLOCK = 96;
    private static final ThreadLocal<float[]> COLS = ThreadLocal.withInitial(() -> new float[0]);

    /** out [N, H, W, Co] ← x [N, H, W, Ci] convolved with w [Co, 3, 3, Ci], plus bias [Co]. */
    static void conv3x3(float[] out, float[] x, int n, int h, int w, int ci, float[] wt, int co, float[] bias) {
        int pixels = n * h * w, k = 9 * ci;
        int blocks = (pixels + BLOCK - 1) / BLOCK;
        Parallel.forEach(blocks, blk -> {
            int p0 = blk * BLOCK, rows = Math.min(BLOCK, pixels - p0);
            float[] cols = COLS.get();
            if (cols.length < BLOCK * k) {
                cols = new float[BLOCK * k];
                COLS.set(cols);
            }
            for (int r = 0; r < rows; r++) {
                int p = p0 + r, s = p / (h * w), y = (p / w) % h, xx = p % w;
                for (int ky = 0; ky < 3; ky++) {
                    int sy = y + ky - 1;
                    for (int kx = 0; kx < 3; kx++) {
                        int sx = xx + kx - 1, dst = r * k + (ky * 3 + kx) * ci;
                        if (sy < 0 || sy >= h || sx < 0 || sx >= w) {
                            java.util.Arrays.fill(cols, dst, dst + ci, 0f);
                        } else {
                            System.arraycopy(x, ((s * h + sy) * w + sx) * ci, cols, dst, ci);
                        }
                    }
                }
            }
            CpuGemm.gemm(rows, co, k, cols, 0, k, wt, 0, k, CpuGemm.BLayout.NK, out, p0 * co, co, bias, Activation.NONE, false);
        });
    }

    /** out [N, 2H, 2W, C] ← nearest ×2 of x [N, H, W, C]. */
    static void upsample2x(float[] out, float[] x, int n, int h, int w, int c) {
        Parallel.forEach(n * 2 * h, r -> {
            int s = r / (2 * h), oy = r % (2 * h);
            for (int ox = 0; ox < 2 * w; ox++) {
                System.arraycopy(x, ((s * h + oy / 2) * w + ox / 2) * c, out, ((s * 2 * h + oy) * 2 * w + ox) * c, c);
            }
        });
    }
}
