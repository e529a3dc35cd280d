package ecar.backend.cpu;

import ecar.backend.Norm;

/** CPU twin of kernels/norm.cu: LayerNorm and RMSNorm over rows, fused with adaLN modulation; GroupNorm. */
final class CpuNorm {
    private CpuNorm() {}

    /** out[r] = norm(x[r])·(1 + scale[r/ratio]) + shift[r/ratio], or ·weight when shift/scale are null. */
    static void rows(float[] x, float[] out, int rows, int d, Norm kind, float eps,
                     float[] weight, float[] shift, float[] scale, int ratio) {
        Parallel.forRange(rows, Math.max(1, 4096 / Math.max(1, d)), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int o = r * d;
                double mean = 0;
                if (kind == Norm.LAYER) {
                    for (int i = 0; i < d; i++) mean += x[o + i];
                    mean /= d;
                }
                double ss = 0;
                for (int i = 0; i < d; i++) {
                    double c = x[o + i] - mean;
                    ss += c * c;
                }
                float inv = (float) (1.0 / Math.sqrt(ss / d + eps));
                float m = (float) mean;
                int mo = (r / ratio) * d;
                for (int i = 0; i < d; i++) {
                    float v = (x[o + i] - m) * inv;
                    if (weight != null) v *= weight[i];
                    if (scale != null) v = v * (1f + scale[mo + i]) + shift[mo + i];
                    out[o + i] = v;
                }
            }
        });
    }

    /** GroupNorm over [N, HW, C] (channels-last), statistics per (sample, group) in double. */
    static void group(float[] x, float[] out, int n, int hw, int c, int groups, float[] w, float[] b, float eps, boolean silu) {
        int cg = c / groups;
        for (int s = 0; s < n; s++) {
            final int base = s * hw * c;
            int chunks = Math.max(1, Math.min(Parallel.threads() * 4, hw / 64));
            double[][] sums = new double[chunks][2 * c];
            int per = (hw + chunks - 1) / chunks;
            Parallel.forEach(chunks, k -> {
                double[] acc = sums[k];
                for (int p = k * per; p < Math.min(hw, (k + 1) * per); p++) {
                    int o = base + p * c;
                    for (int ch = 0; ch < c; ch++) {
                        double v = x[o + ch];
                        acc[ch] += v;
                        acc[c + ch] += v * v;
                    }
                }
            });
            float[] mul = new float[c], add = new float[c];
            for (int g = 0; g < groups; g++) {
                double sum = 0, sq = 0;
                for (double[] acc : sums) {
                    for (int ch = g * cg; ch < (g + 1) * cg; ch++) {
                        sum += acc[ch];
                        sq += acc[c + ch];
                    }
                }
                double count = (double) hw * cg;
                double mean = sum / count;
                double var = Math.max(0, sq / count - mean * mean);
                double inv = 1.0 / Math.sqrt(var + eps);
                for (int ch = g * cg; ch < (g + 1) * cg; ch++) {
                    mul[ch] = (float) (inv * w[ch]);
                    add[ch] = (float) (b[ch] - mean * inv * w[ch]);
                }
            }
            Parallel.forRange(hw, 64, (p0, p1) -> {
                for (int p = p0; p < p1; p++) {
                    int o = base + p * c;
                    for (int ch = 0; ch < c; ch++) {
                        float v = x[o + ch] * mul[ch] + add[ch];
                        out[o + ch] = silu ? Activations.silu(v) : v;
                    }
                }
            });
        }
    }
}
