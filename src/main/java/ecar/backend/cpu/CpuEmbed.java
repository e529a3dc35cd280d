package ecar.backend.cpu;

/** CPU twin of kernels/embed.cu: timestep sinusoids, patchify/unpatchify, layout changes, resizes. */
final class CpuEmbed {
    private CpuEmbed() {}

    /** The table row an id held as a float names, or −1 where it is not an integer in [0, rows) (kernels/embed.cu's row_of). */
    static int row(float id, int rows) {
        return id >= 0f && id < rows && id == (float) Math.floor(id) ? (int) id : -1;
    }

    /** [cos(t·f), sin(t·f)] with f_i = exp(−ln(10⁴)·i/half), every product rounded to float32 as PyTorch does. */
    static void timestep(float[] out, float[] t, int dim) {
        int half = dim / 2;
        float[] freq = new float[half];
        float negLog = (float) -Math.log(10000.0);
        for (int i = 0; i < half; i++) freq[i] = (float) Math.exp((negLog * (float) i) / (float) half);
        for (int n = 0; n < t.length; n++) {
            for (int i = 0; i < half; i++) {
                float arg = t[n] * freq[i];
                out[n * dim + i] = (float) Math.cos(arg);
                out[n * dim + half + i] = (float) Math.sin(arg);
            }
        }
    }

    /** [N, C, H, W] → [N, (H/p)(W/p), C·p·p], patch elements in (c, kh, kw) order. */
    static void patchify(float[] out, float[] x, int n, int c, int h, int w, int p) {
        int hp = h / p, wp = w / p, dIn = c * p * p;
        for (int s = 0; s < n; s++)
            for (int ch = 0; ch < c; ch++)
                for (int y = 0; y < h; y++)
                    for (int xx = 0; xx < w; xx++) {
                        int token = (y / p) * wp + xx / p;
                        int feat = ch * p * p + (y % p) * p + xx % p;
                        out[(s * hp * wp + token) * dIn + feat] = x[((s * c + ch) * h + y) * w + xx];
                    }
    }

    /** [N, h·w, p·p·C] in (kh, kw, c) order → [N, C, h·p, w·p]. */
    static void unpatchify(float[] out, float[] x, int n, int p, int c, int h, int w) {
        int hh = h * p, ww = w * p, dIn = p * p * c;
        for (int s = 0; s < n; s++)
            for (int ty = 0; ty < h; ty++)
                for (int tx = 0; tx < w; tx++)
                    for (int ky = 0; ky < p; ky++)
                        for (int kx = 0; kx < p; kx++)
                            for (int ch = 0; ch < c; ch++) {
                                float v = x[(s * h * w + ty * w + tx) * dIn + (ky * p + kx) * c + ch];
                                out[((s * c + ch) * hh + ty * p + ky) * ww + tx * p + kx] = v;
                            }
    }

    /** [N, A, B] → [N, B, A]: NCHW↔NHWC with (A, B) = (C, HW) or (HW, C). */
    static void transpose(float[] out, float[] x, int n, int a, int b) {
        Parallel.forEach(n, s -> {
            int o = s * a * b;
            for (int i = 0; i < a; i++)
                for (int j = 0; j < b; j++) out[o + j * a + i] = x[o + i * b + j];
        });
    }

    // ------------------------------------------------------------------ resize, as PyTorch's interpolate

    private static final float A = -0.75f;

    private static float cubic1(float x) {  // |x| <= 1
        return ((A + 2) * x - (A + 3)) * x * x + 1;
    }

    private static float cubic2(float x) {  // 1 < |x| < 2
        return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
    }

    /** Source index and the four cubic weights for each output position (align_corners=False). */
    private static void cubicTaps(int in, int out, int[] idx, float[] wts) {
        float scale = (float) in / (float) out;
        for (int o = 0; o < out; o++) {
            float real = scale * (o + 0.5f) - 0.5f;
            int i0 = (int) Math.floor(real);
            float t = real - i0;
            idx[o] = i0;
            wts[4 * o] = cubic2(t + 1f);
            wts[4 * o + 1] = cubic1(t);
            wts[4 * o + 2] = cubic1(1f - t);
            wts[4 * o + 3] = cubic2(2f - t);
        }
    }

    static void bicubic(float[] out, float[] x, int n, int h, int w, int c, int oh, int ow) {
        int[] iy = new int[oh], ix = new int[ow];
        float[] wy = new float[4 * oh], wx = new float[4 * ow];
        cubicTaps(h, oh, iy, wy);
        cubicTaps(w, ow, ix, wx);
        Parallel.forEach(n * oh, r -> {
            int s = r / oh, y = r % oh;
            float[] rowsAcc = new float[4];
            for (int xo = 0; xo < ow; xo++) {
                for (int ch = 0; ch < c; ch++) {
                    for (int k = 0; k < 4; k++) {
                        int yy = clamp(iy[y] - 1 + k, h);
                        float acc = 0;
                        for (int m = 0; m < 4; m++) {
                            int xx = clamp(ix[xo] - 1 + m, w);
                            acc += x[((s * h + yy) * w + xx) * c + ch] * wx[4 * xo + m];
                        }
                        rowsAcc[k] = acc;
                    }
                    float v = rowsAcc[0] * wy[4 * y] + rowsAcc[1] * wy[4 * y + 1] + rowsAcc[2] * wy[4 * y + 2] + rowsAcc[3] * wy[4 * y + 3];
                    out[((s * oh + y) * ow + xo) * c + ch] = v;
                }
            }
        });
    }

    private static int clamp(int i, int size) {
        return Math.max(0, Math.min(size - 1, i));
    }

    /** Adaptive average pooling: window [⌊o·in/out⌋, ⌈(o+1)·in/out⌉) on each axis. */
    static void area(float[] out, float[] x, int n, int h, int w, int c, int oh, int ow) {
        for (int s = 0; s < n; s++)
            for (int y = 0; y < oh; y++) {
                int y0 = (y * h) / oh, y1 = ((y + 1) * h + oh - 1) / oh;
                for (int xo = 0; xo < ow; xo++) {
                    int x0 = (xo * w) / ow, x1 = ((xo + 1) * w + ow - 1) / ow;
                    float count = (y1 - y0) * (x1 - x0);
                    for (int ch = 0; ch < c; ch++) {
                        float sum = 0;
                        for (int yy = y0; yy < y1; yy++)
                            for (int xx = x0; xx < x1; xx++) sum += x[((s * h + yy) * w + xx) * c + ch];
                        out[((s * oh + y) * ow + xo) * c + ch] = sum / count;
                    }
                }
            }
    }
}
