package ecar.backend;

/**
 * CPU twin of kernels/conv.cu: a 3×3 convolution on channels-last images as nine GEMMs, one per tap, over a
 * zero-padded copy of the input; nearest ×2 upsampling.
 * <p>Why nine GEMMs: in the padded image [N, H+2, W+2, Ci] read as rows of Ci, the input of tap (ky, kx) for
 * output pixel q = (s·(H+2) + y)·(W+2) + x is row q + ky·(W+2) + kx. So each tap is one GEMM over every
 * pixel at once (A = the padded image shifted by the tap, lda = Ci; B = that tap's [Co, Ci] slice of the
 * weights), accumulated into an output laid out on the padded grid whose two extra columns and rows are
 * then dropped. Large GEMMs keep the weights packed once per tap instead of once per block of pixels.
 */
final class CpuConv {
    private CpuConv() {}

    /** x [N, H, W, Ci], w [Co, 3, 3, Ci], bias [Co] → [N, H, W, Co]. */
    static float[] conv3x3(float[] x, int n, int h, int w, int ci, float[] wt, int co, float[] bias) {
        int hp = h + 2, wp = w + 2;
        long rowsLong = (long) n * hp * wp;
        if ((rowsLong + 2L * wp + 2) * Math.max(ci, co) > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("conv3x3: [" + n + ", " + h + ", " + w + ", " + Math.max(ci, co) + "] is too large for one call; split the batch");
        }
        int rows = (int) rowsLong;
        float[] padded = new float[(rows + 2 * wp + 2) * ci];   // tail rows: the last taps of the last rows read there
        Parallel.forEach(n * h, r -> {
            int s = r / h, y = r % h;
            for (int xx = 0; xx < w; xx++) {
                System.arraycopy(x, ((s * h + y) * w + xx) * ci, padded, ((s * hp + y + 1) * wp + xx + 1) * ci, ci);
            }
        });
        float[] acc = new float[rows * co];
        for (int tap = 0; tap < 9; tap++) {
            int shift = (tap / 3) * wp + tap % 3;
            CpuGemm.gemm(rows, co, ci, padded, shift * ci, ci, wt, tap * ci, 9 * ci, CpuGemm.BLayout.NK,
                    acc, 0, co, tap == 8 ? bias : null, Activation.NONE, true, tap > 0);
        }
        float[] out = new float[n * h * w * co];
        Parallel.forEach(n * h, r -> {
            int s = r / h, y = r % h;
            System.arraycopy(acc, (s * hp + y) * wp * co, out, r * w * co, w * co);
        });
        return out;
    }

    static float[] upsample2x(float[] x, int n, int h, int w, int c) {
        float[] out = new float[x.length * 4];
        Parallel.forEach(n * 2 * h, r -> {
            int s = r / (2 * h), oy = r % (2 * h);
            for (int ox = 0; ox < 2 * w; ox++) {
                System.arraycopy(x, ((s * h + oy / 2) * w + ox / 2) * c, out, ((s * 2 * h + oy) * 2 * w + ox) * c, c);
            }
        });
        return out;
    }
}
