package ecar.backend.cpu;

import ecar.backend.RopeTables;

import ecar.backend.Activation;

import jdk.incubator.vector.FloatVector;

/**
 * CPU twin of kernels/attention.cu: softmax(q·kᵀ/√d)·v per (batch, head), the score matrix of one head at a
 * time in a per-thread buffer; and FlowAR's 2D RoPE.
 */
final class CpuAttention {
    private CpuAttention() {}

    private static final ThreadLocal<float[]> SCORES = ThreadLocal.withInitial(() -> new float[0]);

    static void attention(float[] q, float[] k, float[] v, float[] out, int batch, int lq, int lk, int heads, int d) {
        attention(q, k, v, out, batch, lq, lk, lk, heads, d);
    }

    /** As above with keys and values held in rows of kvRows tokens per sample, of which the first lk are used (a KV cache). */
    static void attention(float[] q, float[] k, float[] v, float[] out, int batch, int lq, int lk, int kvRows, int heads, int d) {
        int width = heads * d;
        float scale = (float) (1.0 / Math.sqrt(d));
        Parallel.forEach(batch * heads, bh -> {
            int b = bh / heads, h = bh % heads;
            float[] s = SCORES.get();
            if (s.length < lq * lk) {
                s = new float[lq * lk];
                SCORES.set(s);
            }
            int qOff = b * lq * width + h * d, kOff = b * kvRows * width + h * d;
            CpuGemm.gemm(lq, lk, d, q, qOff, width, k, kOff, width, CpuGemm.BLayout.NK, s, 0, lk, null, Activation.NONE, false);
            for (int i = 0; i < lq; i++) softmaxRow(s, i * lk, lk, scale);
            CpuGemm.gemm(lq, d, lk, s, 0, lk, v, kOff, width, CpuGemm.BLayout.KN, out, qOff, width, null, Activation.NONE, false);
        });
    }

    /** s[o..o+n) ← softmax(scale·s[o..o+n)), vectorized, with lane-wise sums added in a fixed order. */
    static void softmaxRow(float[] s, int o, int n, float scale) {
        jdk.incubator.vector.VectorSpecies<Float> sp = VecMath.S;
        int v = sp.length(), j = 0;
        float max = Float.NEGATIVE_INFINITY;
        for (; j <= n - v; j += v) max = Math.max(max, FloatVector.fromArray(sp, s, o + j).reduceLanes(jdk.incubator.vector.VectorOperators.MAX));
        for (; j < n; j++) max = Math.max(max, s[o + j]);
        FloatVector acc = FloatVector.zero(sp);
        float tail = 0f;
        j = 0;
        for (; j <= n - v; j += v) {
            FloatVector e = VecMath.exp(FloatVector.fromArray(sp, s, o + j).sub(max).mul(scale));
            e.intoArray(s, o + j);
            acc = acc.add(e);
        }
        for (; j < n; j++) {
            float e = VecMath.exp((s[o + j] - max) * scale);
            s[o + j] = e;
            tail += e;
        }
        float inv = 1f / (VecMath.sumLanes(acc) + tail);
        j = 0;
        for (; j <= n - v; j += v) FloatVector.fromArray(sp, s, o + j).mul(inv).intoArray(s, o + j);
        for (; j < n; j++) s[o + j] *= inv;
    }


    static void rope2d(float[] x, float[] out, int batch, int side, int heads, int d, int span) {
        rope2d(x, out, batch, side, heads, d, span, heads * d, 0);
    }

    /**
     * As above on rows {@code ld} floats apart, the heads·d rotated values of each starting {@code offset} floats into
     * its row (q or k of a fused qkv: ld 3·W, offset 0 or W); out has the same layout, and may be x.
     */
    static void rope2d(float[] x, float[] out, int batch, int side, int heads, int d, int span, int ld, int offset) {
        float[][] cs = RopeTables.flowAr(side, span, d);
        float[] cos = cs[0], sin = cs[1];
        int l = side * side, half = d / 2;
        Parallel.forRange(batch * l, 16, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int t = r % l;
                for (int h = 0; h < heads; h++) {
                    int o = r * ld + offset + h * d;
                    for (int p = 0; p < half; p++) {
                        float c = cos[t * half + p], s = sin[t * half + p];
                        float x0 = x[o + 2 * p], x1 = x[o + 2 * p + 1];
                        out[o + 2 * p] = x0 * c - x1 * s;
                        out[o + 2 * p + 1] = x1 * c + x0 * s;
                    }
                }
            }
        });
    }

    /** RoPE by table rows: token l of every sample rotates pair p of each head by (cos, sin)[rows[l], p]. */
    static void ropeRows(float[] x, float[] out, int batch, int l, int heads, int d, float[] cos, float[] sin, int[] rows) {
        int half = d / 2, width = heads * d;
        Parallel.forRange(batch * l, 16, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int t = rows[r % l] * half;
                for (int h = 0; h < heads; h++) {
                    int o = r * width + h * d;
                    for (int p = 0; p < half; p++) {
                        float c = cos[t + p], s = sin[t + p];
                        float x0 = x[o + 2 * p], x1 = x[o + 2 * p + 1];
                        out[o + 2 * p] = x0 * c - x1 * s;
                        out[o + 2 * p + 1] = x1 * c + x0 * s;
                    }
                }
            }
        });
    }
}
