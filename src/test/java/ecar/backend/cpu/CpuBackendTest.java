package ecar.backend.cpu;

import ecar.backend.Backend;

import ecar.backend.KvCache;

import ecar.backend.Activation;
import ecar.backend.Noise;
import ecar.backend.Norm;

import ecar.tensor.FloatTensor;
import ecar.tensor.Shape;
import ecar.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The CPU backend's ops against straightforward double-precision references, on ragged shapes. */
class CpuBackendTest {
    private final CpuBackend b = new CpuBackend();
    private final SplittableRandom rnd = new SplittableRandom(42);

    private FloatTensor random(int... dims) {
        FloatTensor t = FloatTensor.zeros(Shape.of(dims));
        for (int i = 0; i < t.data().length; i++) t.data()[i] = (float) rnd.nextGaussian();
        return t;
    }

    private static float[] d(Tensor t) {
        return ((FloatTensor) t).data();
    }

    private static void close(double[] expected, float[] actual, double relTol, String what) {
        assertEquals(expected.length, actual.length, what + " length");
        double num = 0, den = 0, worst = 0;
        for (int i = 0; i < expected.length; i++) {
            double e = expected[i] - actual[i];
            num += e * e;
            den += expected[i] * expected[i];
            worst = Math.max(worst, Math.abs(e));
        }
        double rel = Math.sqrt(num / Math.max(den, 1e-30));
        assertTrue(rel <= relTol, what + ": relative L2 " + rel + " (worst abs " + worst + ") above " + relTol);
    }

    @ParameterizedTest(name = "linear M={0} K={1} N={2}")
    @CsvSource({"1,7,5", "5,64,33", "6,16,32", "13,100,77", "97,384,1152", "130,1024,2730", "7,4200,40"})
    void linearMatchesNaiveProductForEveryActivation(int m, int k, int n) {
        FloatTensor x = random(m, k), w = random(n, k), bias = random(n);
        for (Activation act : Activation.values()) {
            double[] ref = new double[m * n];
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++) {
                    double s = bias.data()[j];
                    for (int q = 0; q < k; q++) s += (double) x.data()[i * k + q] * w.data()[j * k + q];
                    ref[i * n + j] = switch (act) {
                        case NONE -> s;
                        case SILU -> s / (1 + Math.exp(-s));
                        case GELU_TANH -> 0.5 * s * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (s + 0.044715 * s * s * s)));
                        case GELU_ERF -> 0.5 * s * (1 + erf(s / Math.sqrt(2)));
                    };
                }
            close(ref, d(b.linear(x, w, bias, act)), 1e-5, "linear " + act);
        }
    }

    /** erf by its Taylor series: exact to double precision for the |x| this test meets. */
    private static double erf(double x) {
        if (Math.abs(x) > 5) return Math.signum(x);
        double sum = 0, term = x;
        for (int n = 0; n < 200; n++) {
            sum += term / (2 * n + 1);
            term *= -x * x / (n + 1);
        }
        return 2 / Math.sqrt(Math.PI) * sum;
    }

    @Test
    void erfApproximationIsWithinFloatResolution() {
        for (double x = -4; x <= 4; x += 0.01) assertEquals(erf(x), Activations.erf(x), 3e-7, "erf(" + x + ")");
    }

    @ParameterizedTest(name = "attention B={0} Lq={1} Lk={2} H={3} d={4}")
    @CsvSource({"2,1,1,4,16", "2,4,5,4,16", "3,16,21,2,64", "1,37,53,3,72"})
    void attentionMatchesSoftmaxReference(int batch, int lq, int lk, int heads, int hd) {
        int w = heads * hd;
        FloatTensor q = random(batch, lq, w), k = random(batch, lk, w), v = random(batch, lk, w);
        double[] ref = new double[batch * lq * w];
        for (int bb = 0; bb < batch; bb++)
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < lq; i++) {
                    double[] s = new double[lk];
                    double max = Double.NEGATIVE_INFINITY, sum = 0;
                    for (int j = 0; j < lk; j++) {
                        for (int c = 0; c < hd; c++) s[j] += (double) q.data()[(bb * lq + i) * w + h * hd + c] * k.data()[(bb * lk + j) * w + h * hd + c];
                        s[j] /= Math.sqrt(hd);
                        max = Math.max(max, s[j]);
                    }
                    for (int j = 0; j < lk; j++) sum += s[j] = Math.exp(s[j] - max);
                    for (int c = 0; c < hd; c++) {
                        double o = 0;
                        for (int j = 0; j < lk; j++) o += s[j] / sum * v.data()[(bb * lk + j) * w + h * hd + c];
                        ref[(bb * lq + i) * w + h * hd + c] = o;
                    }
                }
        close(ref, d(b.attention(q, k, v, heads)), 1e-5, "attention");
    }

    @Test
    void aScopeGivesItsArraysToTheNextScopeAndNothingOutsideScopesIsReused() {
        FloatTensor x = random(4, 8), y = random(4, 8);
        float[] first;
        try (Backend.Scope s = b.scope()) {
            first = d(b.add(x, y));
        }
        try (Backend.Scope s = b.scope()) {
            Tensor again = b.mul(x, y);
            assertTrue(first == d(again), "the closed scope's array is handed out again");
            assertArrayEquals(d(b.mul(x, y)), d(again));   // fully overwritten: no stale sums
        }
        float[] outside = d(b.add(x, y));
        try (Backend.Scope s = b.scope()) {
            assertTrue(outside != d(b.add(x, y)), "a tensor made outside every scope is never recycled");
        }
    }

    @Test
    void attentionOverAKvCacheEqualsAttentionOverTheConcatenatedTokens() {
        int batch = 2, heads = 2, width = 16;
        KvCache cache = b.kvCache(batch, 30, width);
        Tensor keys = null, values = null;
        for (int l : new int[]{1, 4, 16}) {
            FloatTensor k = random(batch, l, width), v = random(batch, l, width), q = random(batch, l, width);
            b.kvAppend(cache, k, v);
            keys = keys == null ? k : b.concatTokens(keys, k);
            values = values == null ? v : b.concatTokens(values, v);
            assertEquals(keys.shape().dim(1), cache.length());
            assertArrayEquals(d(b.attention(q, keys, values, heads)), d(b.attention(q, cache, heads)), "after " + cache.length() + " tokens");
        }
        var full = assertThrows(IllegalArgumentException.class, () -> b.kvAppend(cache, random(batch, 10, width), random(batch, 10, width)));
        assertTrue(full.getMessage().contains("10 tokens after 21 do not fit a cache of 30"), full.getMessage());
    }

    @Test
    void ropeRotatesPairsByRowThenColumnPositions() {
        int side = 4, heads = 2, hd = 16, span = 16;
        FloatTensor x = random(2, side * side, heads * hd);
        float[] y = d(b.rope2d(x, heads, side, span));
        int half = hd / 2, pairs = half / 2;
        double[] ref = new double[x.data().length];
        for (int r = 0; r < 2 * side * side; r++) {
            int t = r % (side * side), row = t / side, col = t % side;
            for (int h = 0; h < heads; h++)
                for (int p = 0; p < half; p++) {
                    int j = p % pairs;
                    double pos = (p < pairs ? row : col) * (double) span / side;
                    double theta = pos / Math.pow(10000, 2.0 * j / half);
                    int o = r * heads * hd + h * hd + 2 * p;
                    double x0 = x.data()[o], x1 = x.data()[o + 1];
                    ref[o] = x0 * Math.cos(theta) - x1 * Math.sin(theta);
                    ref[o + 1] = x1 * Math.cos(theta) + x0 * Math.sin(theta);
                }
        }
        close(ref, y, 1e-6, "rope2d");
        // the first token sits at (0, 0): no rotation
        for (int i = 0; i < heads * hd; i++) assertEquals(x.data()[i], y[i], 0f);
    }

    @Test
    void normsAndModulationPerSampleAndPerToken() {
        FloatTensor x = random(2, 3, 10), shift = random(2, 10), scale = random(2, 10), tokenShift = random(2, 3, 10);
        float[] ln = d(b.normModulate(x, Norm.LAYER, 1e-6f, shift, scale));
        float[] rms = d(b.normModulate(x, Norm.RMS, 1e-6f, tokenShift, tokenShift));
        double[] refLn = new double[60], refRms = new double[60];
        for (int r = 0; r < 6; r++) {
            double mean = 0, sq = 0, ms = 0;
            for (int i = 0; i < 10; i++) mean += x.data()[r * 10 + i] / 10.0;
            for (int i = 0; i < 10; i++) {
                double v = x.data()[r * 10 + i];
                sq += (v - mean) * (v - mean) / 10;
                ms += v * v / 10;
            }
            for (int i = 0; i < 10; i++) {
                double v = x.data()[r * 10 + i];
                int s = r / 3;
                refLn[r * 10 + i] = (v - mean) / Math.sqrt(sq + 1e-6) * (1 + scale.data()[s * 10 + i]) + shift.data()[s * 10 + i];
                double t = tokenShift.data()[r * 10 + i];
                refRms[r * 10 + i] = v / Math.sqrt(ms + 1e-6) * (1 + t) + t;
            }
        }
        close(refLn, ln, 1e-6, "layer norm per sample");
        close(refRms, rms, 1e-6, "rms norm per token");
    }

    @Test
    void conv3x3MatchesDirectConvolutionWithZeroPadding() {
        int n = 2, h = 5, w = 7, ci = 3, co = 4;
        FloatTensor x = random(n, h, w, ci), wt = random(co, 3, 3, ci), bias = random(co);
        double[] ref = new double[n * h * w * co];
        for (int s = 0; s < n; s++)
            for (int y = 0; y < h; y++)
                for (int xx = 0; xx < w; xx++)
                    for (int o = 0; o < co; o++) {
                        double acc = bias.data()[o];
                        for (int ky = 0; ky < 3; ky++)
                            for (int kx = 0; kx < 3; kx++) {
                                int sy = y + ky - 1, sx = xx + kx - 1;
                                if (sy < 0 || sy >= h || sx < 0 || sx >= w) continue;
                                for (int c = 0; c < ci; c++) acc += (double) x.data()[((s * h + sy) * w + sx) * ci + c] * wt.data()[((o * 3 + ky) * 3 + kx) * ci + c];
                            }
                        ref[((s * h + y) * w + xx) * co + o] = acc;
                    }
        close(ref, d(b.conv3x3(x, wt, bias)), 1e-5, "conv3x3");
    }

    @Test
    void groupNormNormalisesEachGroup() {
        FloatTensor x = random(2, 4, 4, 8), w = random(8), bias = random(8);
        float[] y = d(b.groupNorm(x, 2, w, bias, 1e-6f, false));
        for (int s = 0; s < 2; s++)
            for (int g = 0; g < 2; g++) {
                double mean = 0, var = 0;
                for (int p = 0; p < 16; p++)
                    for (int c = g * 4; c < g * 4 + 4; c++) mean += x.data()[(s * 16 + p) * 8 + c] / 64.0;
                for (int p = 0; p < 16; p++)
                    for (int c = g * 4; c < g * 4 + 4; c++) var += Math.pow(x.data()[(s * 16 + p) * 8 + c] - mean, 2) / 64.0;
                for (int p = 0; p < 16; p++)
                    for (int c = g * 4; c < g * 4 + 4; c++) {
                        int i = (s * 16 + p) * 8 + c;
                        assertEquals((x.data()[i] - mean) / Math.sqrt(var + 1e-6) * w.data()[c] + bias.data()[c], y[i], 1e-4);
                    }
            }
    }

    @Test
    void layoutOpsAreInversesAndPatchesFollowTheConvOrder() {
        FloatTensor x = random(2, 3, 4, 6);
        assertEquals(java.util.Arrays.toString(x.data()), java.util.Arrays.toString(d(b.nhwcToNchw(b.nchwToNhwc(x)))));
        Tensor p = b.patchify(x, 2);
        assertEquals(Shape.of(2, 6, 12), p.shape());
        // token (0, 1), feature (c=2, kh=1, kw=0) is pixel (c=2, y=1, x=2)
        assertEquals(x.data()[((0 * 3 + 2) * 4 + 1) * 6 + 2], d(p)[(1) * 12 + 2 * 4 + 1 * 2]);
        // unpatchify expects (kh, kw, c) order: build it from the NHWC view of each patch and come back
        float[] tokens = new float[2 * 6 * 12];
        for (int s = 0; s < 2; s++)
            for (int ty = 0; ty < 2; ty++)
                for (int tx = 0; tx < 3; tx++)
                    for (int ky = 0; ky < 2; ky++)
                        for (int kx = 0; kx < 2; kx++)
                            for (int c = 0; c < 3; c++)
                                tokens[(s * 6 + ty * 3 + tx) * 12 + (ky * 2 + kx) * 3 + c] = x.data()[((s * 3 + c) * 4 + ty * 2 + ky) * 6 + tx * 2 + kx];
        assertEquals(java.util.Arrays.toString(x.data()), java.util.Arrays.toString(d(b.unpatchify(FloatTensor.of(tokens, 2, 6, 12), 2, 3, 2, 3))));
    }

    @Test
    void resizesKeepConstantsAndAreaAveragesBlocks() {
        FloatTensor c = FloatTensor.zeros(Shape.of(1, 2, 2, 3));
        java.util.Arrays.fill(c.data(), 2.5f);
        for (float v : d(b.resizeBicubic(c, 16, 16))) assertEquals(2.5f, v, 1e-5f);
        FloatTensor x = random(1, 16, 16, 2);
        float[] a = d(b.resizeArea(x, 2, 2));
        double s = 0;
        for (int y = 8; y < 16; y++) for (int xx = 0; xx < 8; xx++) s += x.data()[(y * 16 + xx) * 2 + 1];
        assertEquals(s / 64, a[(2 + 0) * 2 + 1], 1e-5);
    }

    @Test
    void blockNoiseAtGammaOneThirdSumsToZeroInEveryBlock() {
        FloatTensor x = FloatTensor.zeros(Shape.of(1, 4, 2));
        float[] out = d(b.stageJump(x, 2, 0f, 1f, 1f / 3, Noise.philox(5, 1)));
        for (int by = 0; by < 2; by++)
            for (int bx = 0; bx < 2; bx++)
                for (int ch = 0; ch < 2; ch++) {
                    double sum = 0;
                    for (int dy = 0; dy < 2; dy++) for (int dx = 0; dx < 2; dx++) sum += out[((2 * by + dy) * 4 + 2 * bx + dx) * 2 + ch];
                    assertEquals(0, sum, 1e-5);
                }
    }

    @Test
    void guidedEulerStepMovesBothHalvesByTheCombinedVelocity() {
        FloatTensor x = FloatTensor.of(new float[]{1, 2, 3, 4}, 2, 1, 2), v = FloatTensor.of(new float[]{10, 20, 2, 4}, 2, 1, 2);
        b.flowEulerStep(x, v, -0.5f, 3f, true);
        // v_u + 3 (v_c - v_u) = (26, 52)
        assertEquals(java.util.Arrays.toString(new float[]{-12, -24, -10, -22}), java.util.Arrays.toString(x.data()));
    }

    @Test
    void embeddingByIdsInATensorGivesTheSameRowsAndNaNRowsForIdsOutsideTheTable() {
        FloatTensor table = random(4, 3);
        float[] byInts = b.download(b.embedding(table, new int[]{2, 0, 3})).data();
        assertArrayEquals(byInts, b.download(b.embedding(table, FloatTensor.of(new float[]{2, 0, 3}, 3, 1))).data());
        float[] bad = b.download(b.embedding(table, FloatTensor.of(new float[]{-1, 1.5f, 4, 1}, 4))).data();
        assertEquals(12, bad.length);
        for (int i = 0; i < 9; i++) assertTrue(Float.isNaN(bad[i]), "element " + i + " of the rows of ids −1, 1.5 and 4 (a draw's −1, no integer, past the table)");
        assertArrayEquals(java.util.Arrays.copyOfRange(b.download(b.embedding(table, new int[]{1})).data(), 0, 3), java.util.Arrays.copyOfRange(bad, 9, 12));
    }

    @Test
    void shapeErrorsNameTheOpAndTheShapes() {
        var e = assertThrows(IllegalArgumentException.class, () -> b.linear(random(2, 5), random(3, 4), null, Activation.NONE));
        assertEquals("linear: input [2, 5] has 5 features but the weight [3, 4] expects 4", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> b.embedding(random(3, 2), new int[]{3}));
        assertEquals("embedding: id 3 outside the table's 3 rows", e.getMessage());
        var cache = b.kvCache(2, 8, 16);
        e = assertThrows(IllegalArgumentException.class, () -> b.selfAttention(random(2, 4, 47), cache, 2, 2, 16));
        assertEquals("selfAttention: [2, 4, 47], expected [2, 4 (2×2 tokens), 48] for a cache of width 16", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> b.kvAppendRope(cache, random(2, 4, 32), 8, 2, 16));
        assertEquals("kvAppendRope: 8 heads over width 16: the 2D RoPE needs a head size that is a multiple of 4", e.getMessage());
    }
}
