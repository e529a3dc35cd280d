package ecar.cuda;

import ecar.backend.Activation;
import ecar.backend.Backend;
import ecar.backend.cpu.CpuBackend;
import ecar.cuda.backend.CudaBackend;
import ecar.backend.DiffusionCoefficients;
import ecar.backend.Noise;
import ecar.backend.PosteriorVariance;
import ecar.backend.Norm;
import ecar.tensor.FloatTensor;
import ecar.tensor.Shape;
import ecar.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every op issue 6 wired into CudaBackend, through the Backend interface, against CpuBackend on random data. Inputs a
 * GPU op reads in bf16 (GEMM and convolution operands, weights) are rounded to bf16 before both backends see them, so
 * the comparison measures the kernels, not the rounding: float32 ops within 1e-5, GEMM-based ones within 1e-3 (f32
 * accumulation in another order), attention's GEMM fallback within 2e-2 (its probabilities are bf16). Outputs are
 * NaN-poisoned, so an element a kernel skips fails.
 */
@GpuTest(arenaMiB = 256)
class CudaBackendOpsGpuTest {
    static CudaBackend gpu;   // set by @GpuTest
    static final CpuBackend cpu = new CpuBackend();
    private static final double EXACTISH = 1e-5, GEMM = 1e-3, BF16 = 2e-2;
    /** One bf16 rounding of the result (relative 2⁻⁸ at worst): normModulate and normForMatmul return matmul operands in bf16. */
    private static final double ROUNDED_ONCE = 4e-3;

    private static FloatTensor bf16Random(long seed, float scale, int... dims) {
        return Compare.bf16Random(seed, scale, dims);
    }

    /** op on both backends (inputs uploaded as activations), compared within tol. */
    private static void same(String what, double tol, Function<Backend, Tensor> op) {
        FloatTensor expected = cpu.download(op.apply(cpu));
        FloatTensor actual = gpu.download(op.apply(gpu));
        Compare.close(what, expected, actual, tol, tol * 10);
    }

    // ------------------------------------------------------------------ linear, conv

    @ParameterizedTest(name = "[{0}, {1}] · [{2}, {1}]ᵀ {3}")
    @CsvSource({"12, 24, 40, NONE", "12, 24, 40, GELU_TANH", "6, 30, 16, GELU_ERF", "6, 2730, 32, SILU", "130, 64, 200, NONE", "1, 4, 8, NONE"})
    void linearMatchesTheCpu(int m, int k, int n, Activation act) {
        FloatTensor x = bf16Random(m * 31L + k, 1f, m, k), w = bf16Random(n * 17L + k, 0.2f, n, k), bias = Compare.random(n, 0.5f, n);
        for (int rep = 0; rep < 2; rep++) {   // the second call finds the padded weight cached (K % 8 != 0)
            same("linear " + m + "×" + k + "×" + n + " " + act + " call " + rep, GEMM, b -> b.linear(b.upload(x), weightOf(b, w), b.weight(bias), act));
        }
        same("linear without bias, f32 weight", GEMM, b -> b.linear(b.upload(x), b.upload(w), null, act));
    }

    /**
     * DiT's qkv as a matmul operand: the GEMM rounds it to bf16, and self-attention without RoPE reads it without the
     * qkv_to_bf16 pass. The same rounding of the same float32 value, so the attention is bit-identical to the one
     * over linear's float32 qkv; both against the CPU too (heads of 72 and 64, 256 tokens: attention_sm90 on Hopper).
     */
    @ParameterizedTest(name = "head {0}")
    @CsvSource({"72", "64"})
    void selfAttentionReadsALinearOperandAsItIs(int d) {
        int heads = 2, width = heads * d;
        FloatTensor x = bf16Random(d + 91L, 1f, 2, 256, width), w = bf16Random(d + 92L, 0.1f, 3 * width, width), bias = Compare.random(d + 93, 0.2f, 3 * width);
        same("selfAttention of linearOperand, head " + d, BF16, b -> b.selfAttention(b.linearOperand(b.upload(x), weightOf(b, w), b.weight(bias)), heads, 0, 0, false));
        try (Backend.Scope s = gpu.scope()) {
            Tensor operand = gpu.linearOperand(gpu.upload(x), weightOf(gpu, w), weightOf(gpu, bias));
            Tensor full = gpu.linear(gpu.upload(x), weightOf(gpu, w), weightOf(gpu, bias));
            assertEquals(ecar.tensor.DType.BF16, ((ecar.cuda.CudaTensor) operand).dtype(), "a matmul operand is bf16 on the GPU");
            float[] a = gpu.download(gpu.selfAttention(operand, heads, 0, 0, false)).data(), e = gpu.download(gpu.selfAttention(full, heads, 0, 0, false)).data();
            for (int i = 0; i < a.length; i++) {
                if (Float.floatToRawIntBits(a[i]) != Float.floatToRawIntBits(e[i])) {
                    throw new AssertionError("head " + d + ", element " + i + ": " + a[i] + " from the bf16 operand, " + e[i] + " from the float32 qkv");
                }
            }
        }
    }

    /**
     * The flow head's qkv with the 2D RoPE in the GEMM's epilogue (Backend.linearRope), on the skinny kernel (8 rows),
     * gemm.cu's tiles (128 rows) and, on Hopper, gemm_sm90 with row stores (2048 rows): against the CPU's linear then
     * rope2dQk, and bit for bit against the same on the GPU with the RoPE as a pass of its own (ECAR_GEMM_ROPE=pass: a
     * float32 product, then qkv_to_bf16), whose float operations the epilogue repeats; and the cross-attention's
     * queries (linearRopeQueries: every column rotated) against the pass's rope2d rounded to bf16.
     */
    @ParameterizedTest(name = "{0} samples of {1}×{1} tokens")
    @CsvSource({"2, 2", "2, 8", "8, 16"})
    void linearRopeAndItsQueriesMatchTheCpuAndTheRopePass(int samples, int side) {
        int heads = 8, d = 64, w = heads * d, k = 512, tokens = side * side;
        FloatTensor x = bf16Random(side * 7L + samples, 1f, samples, tokens, k), wt = bf16Random(side * 7L + samples + 1, 0.05f, 3 * w, k);
        FloatTensor bias = Compare.random(side * 7 + samples + 2, 0.2f, 3 * w);
        same("linearRope, " + samples + " × " + side + "×" + side, ROUNDED_ONCE, b -> b.linearRope(b.upload(x), weightOf(b, wt), b.weight(bias), heads, side, 16));
        try (Backend.Scope s = gpu.scope()) {
            float[] epilogue = gpu.download(gpu.linearRope(gpu.upload(x), weightOf(gpu, wt), weightOf(gpu, bias), heads, side, 16)).data();
            float[] pass;
            System.setProperty(ecar.cuda.ops.GemmKernels.ROPE_PROPERTY, "pass");
            try {
                pass = gpu.download(gpu.linearRope(gpu.upload(x), weightOf(gpu, wt), weightOf(gpu, bias), heads, side, 16)).data();
            } finally {
                System.clearProperty(ecar.cuda.ops.GemmKernels.ROPE_PROPERTY);
            }
            for (int i = 0; i < pass.length; i++) {
                if (Float.floatToRawIntBits(epilogue[i]) != Float.floatToRawIntBits(pass[i])) {
                    throw new AssertionError(samples + " × " + side + "×" + side + ", element " + i + " (column " + i % (3 * w) + "): " + epilogue[i]
                            + " from the epilogue, " + pass[i] + " from the pass");
                }
            }
        }
        // the cross-attention's queries: every column rotated; the pass (rope2d) is float32, the epilogue its bf16 rounding
        FloatTensor wq = bf16Random(side * 7L + samples + 3, 0.05f, w, k), biasQ = Compare.random(side * 7 + samples + 4, 0.2f, w);
        same("linearRopeQueries, " + samples + " × " + side + "×" + side, ROUNDED_ONCE,
                b -> b.linearRopeQueries(b.upload(x), weightOf(b, wq), b.weight(biasQ), heads, side, 16));
        try (Backend.Scope s = gpu.scope()) {
            Tensor bq = weightOf(gpu, biasQ);
            float[] epilogue = gpu.download(gpu.linearRopeQueries(gpu.upload(x), weightOf(gpu, wq), bq, heads, side, 16)).data();
            float[] pass;
            System.setProperty(ecar.cuda.ops.GemmKernels.ROPE_PROPERTY, "pass");
            try {
                pass = gpu.download(gpu.linearRopeQueries(gpu.upload(x), weightOf(gpu, wq), bq, heads, side, 16)).data();
            } finally {
                System.clearProperty(ecar.cuda.ops.GemmKernels.ROPE_PROPERTY);
            }
            for (int i = 0; i < pass.length; i++) {
                if (Float.floatToRawIntBits(epilogue[i]) != Float.floatToRawIntBits(ecar.io.Bf16.round(pass[i]))) {
                    throw new AssertionError("queries, " + samples + " × " + side + "×" + side + ", element " + i + ": " + epilogue[i]
                            + " from the epilogue, " + pass[i] + " from the pass (rounds to " + ecar.io.Bf16.round(pass[i]) + ")");
                }
            }
        }
    }

    /** DiT's MLP hidden layer as a matmul operand (GELU, then one bf16 rounding by the GEMM), read by the next GEMM as it is. */
    @Test
    void aLinearOperandWithItsActivationFeedsTheNextGemm() {
        FloatTensor x = bf16Random(101, 1f, 2, 130, 64), w1 = bf16Random(102, 0.1f, 256, 64), b1 = Compare.random(103, 0.2f, 256);
        FloatTensor w2 = bf16Random(104, 0.1f, 64, 256), res = Compare.random(105, 1f, 2, 130, 64);
        same("linearOperand GELU (tanh)", ROUNDED_ONCE, b -> b.linearOperand(b.upload(x), weightOf(b, w1), b.weight(b1), Activation.GELU_TANH));
        same("linearIntoResidual reading it", ROUNDED_ONCE, b -> {
            Tensor r = b.upload(res);
            b.linearIntoResidual(r, b.linearOperand(b.upload(x), weightOf(b, w1), b.weight(b1), Activation.GELU_TANH), weightOf(b, w2), null, null);
            return r;
        });
    }

    private static final java.util.Map<Backend, java.util.Map<FloatTensor, Tensor>> WEIGHTS = new java.util.IdentityHashMap<>();

    /** The same weight tensor object per backend across calls (the padded twin is cached per weight). */
    private static Tensor weightOf(Backend b, FloatTensor w) {
        return WEIGHTS.computeIfAbsent(b, k -> new java.util.IdentityHashMap<>()).computeIfAbsent(w, b::weight);
    }

    /** Head 16 goes through the GEMM fallback on a dense copy, head 64 through the flash kernel on the cache's rows. */
    @ParameterizedTest(name = "head {0}")
    @CsvSource({"16", "64"})
    void attentionOverAKvCacheMatchesTheCpu(int d) {
        int batch = 2, heads = 2, width = heads * d;
        java.util.Map<Backend, ecar.backend.KvCache> caches = new java.util.IdentityHashMap<>();
        for (int l : new int[]{1, 4, 16}) {
            FloatTensor k = bf16Random(l * 7L + d, 1f, batch, l, width), v = bf16Random(l * 7L + d + 1, 1f, batch, l, width),
                    q = bf16Random(l * 7L + d + 2, 1f, batch, l, width);
            int side = (int) Math.sqrt(l);
            same("attention over a cache, " + l + " new tokens, head " + d, BF16, b -> {
                ecar.backend.KvCache c = caches.computeIfAbsent(b, x -> x.kvCache(batch, 21, width));
                b.kvAppend(c, b.upload(k), b.upload(v));
                return b.attention(b.upload(q), c, heads);
            });
            same("attentionRope over a cache, head " + d, BF16, b -> b.attentionRope(b.upload(q), caches.get(b), heads, side, 16));
        }
    }

    /**
     * The stage-wise decoder's self-attention from a fused qkv (kv_append and rope2d_bf16 reading it at row stride
     * 3·width), over two stages of 2×2 and 4×4 tokens, against the CPU's chunks, rope2d, kvAppend and attention.
     */
    @ParameterizedTest(name = "head {0}")
    @CsvSource({"16", "64"})
    void selfAttentionFromAFusedQkvOverACacheMatchesTheCpu(int d) {
        int batch = 2, heads = 2, width = heads * d;
        java.util.Map<Backend, ecar.backend.KvCache> caches = new java.util.IdentityHashMap<>();
        for (int side : new int[]{2, 4}) {
            FloatTensor qkv = bf16Random(side * 31L + d, 1f, batch, side * side, 3 * width);
            same("selfAttention(qkv, cache), stage of " + side + "×" + side + ", head " + d, BF16, b -> {
                ecar.backend.KvCache c = caches.computeIfAbsent(b, x -> x.kvCache(batch, 20, width));
                return b.selfAttention(b.upload(qkv), c, heads, side, 16);
            });
        }
    }

    /**
     * ARPG's self-attention from a fused qkv (one kv_append pass: keys rotated by table rows into the cache, the rotated
     * bf16 queries beside) over two steps of 3 and 5 tokens at scattered table rows, and its shared keys and values
     * from a fused kv read by cross-attention's queries (projected and rotated by the GEMM's epilogue, linearRopeRows),
     * against the CPU's chunks, ropeRows, kvAppend and attention; and those queries bit for bit against the pass
     * (the float32 product, then rope_rows) rounded to bf16.
     */
    @ParameterizedTest(name = "head {0}")
    @CsvSource({"16", "64"})
    void selfAttentionRopeRowsMatchesTheCpu(int d) {
        int batch = 2, heads = 2, width = heads * d, grid = 4;
        float[][] t = ecar.backend.RopeTables.arpg(grid, d, 10000);
        FloatTensor cos = FloatTensor.of(t[0], 1 + grid * grid, d / 2), sin = FloatTensor.of(t[1], 1 + grid * grid, d / 2);
        java.util.Map<Backend, ecar.backend.KvCache[]> caches = new java.util.IdentityHashMap<>();
        float[][] rowsOfStep = {{0, 7, 16}, {3, 12, 1, 9, 5}};
        for (float[] r : rowsOfStep) {
            int l = r.length;
            FloatTensor qkv = bf16Random(l * 13L + d, 1f, batch, l, 3 * width), kv = bf16Random(l * 13L + d + 1, 1f, batch, l, 2 * width);
            FloatTensor q = bf16Random(l * 13L + d + 2, 1f, batch, l, width), rows = FloatTensor.of(r, l);
            FloatTensor wq = bf16Random(l * 13L + d + 3, 0.1f, width, width);
            same("selfAttentionRopeRows, " + l + " tokens, head " + d, BF16, b -> {
                ecar.backend.KvCache[] c = caches.computeIfAbsent(b, x -> new ecar.backend.KvCache[]{x.kvCache(batch, 9, width), x.kvCache(batch, 9, width)});
                return b.selfAttentionRopeRows(b.upload(qkv), c[0], heads, b.upload(cos), b.upload(sin), b.upload(rows));
            });
            same("kvAppendRopeRows, then queries by linearRopeRows attending, " + l + " tokens, head " + d, BF16, b -> {
                ecar.backend.KvCache c = caches.get(b)[1];
                b.kvAppendRopeRows(c, b.upload(kv), heads, b.upload(cos), b.upload(sin), b.upload(rows));
                return b.attention(b.linearRopeRows(b.upload(q), weightOf(b, wq), null, heads, b.upload(cos), b.upload(sin), b.upload(rows)), c, heads);
            });
            // the queries alone, against the pass (ECAR_GEMM_ROPE=pass: the float32 product, then rope_rows) rounded to bf16
            try (Backend.Scope s = gpu.scope()) {
                float[] epilogue = gpu.download(gpu.linearRopeRows(gpu.upload(q), weightOf(gpu, wq), null, heads, gpu.upload(cos), gpu.upload(sin),
                        gpu.upload(rows))).data(), pass;
                System.setProperty(ecar.cuda.ops.GemmKernels.ROPE_PROPERTY, "pass");
                try {
                    pass = gpu.download(gpu.linearRopeRows(gpu.upload(q), weightOf(gpu, wq), null, heads, gpu.upload(cos), gpu.upload(sin), gpu.upload(rows))).data();
                } finally {
                    System.clearProperty(ecar.cuda.ops.GemmKernels.ROPE_PROPERTY);
                }
                for (int i = 0; i < pass.length; i++) {
                    if (Float.floatToRawIntBits(epilogue[i]) != Float.floatToRawIntBits(ecar.io.Bf16.round(pass[i]))) {
                        throw new AssertionError("ARPG queries, " + l + " tokens, element " + i + ": " + epilogue[i] + " from the epilogue, " + pass[i] + " from the pass");
                    }
                }
            }
        }
    }

    /** kvAppendRope (kv_append rotating on the way in) against the CPU's rope2d then kvAppend, read through attention. */
    @ParameterizedTest(name = "head {0}")
    @CsvSource({"16", "64"})
    void kvAppendRopeMatchesTheCpu(int d) {
        int batch = 2, heads = 2, width = heads * d, side = 4, l = side * side;
        FloatTensor k = bf16Random(d + 11L, 1f, batch, l, width), v = bf16Random(d + 12L, 1f, batch, l, width), q = bf16Random(d + 13L, 1f, batch, l, width);
        same("kvAppendRope then attention, head " + d, BF16, b -> {
            ecar.backend.KvCache c = b.kvCache(batch, l + 3, width);
            b.kvAppendRope(c, b.upload(k), b.upload(v), heads, side, 16);
            return b.attention(b.upload(q), c, heads);
        });
        FloatTensor kv = bf16Random(d + 14L, 1f, batch, l, 2 * width);
        same("kvAppendRope from a fused kv then attention, head " + d, BF16, b -> {
            ecar.backend.KvCache c = b.kvCache(batch, l, width);
            b.kvAppendRope(c, b.upload(kv), heads, side, 16);
            return b.attention(b.upload(q), c, heads);
        });
    }

    /**
     * The gate read in place from a chunk of an adaLN modulation (the epilogue's gateLd), per sample and per token, at 5
     * tokens (the skinny kernel's 10 rows) and 100 (a tensor-core tile's 200), against the CPU's chunk copy.
     */
    @ParameterizedTest(name = "{0} tokens, modulation per {1}")
    @CsvSource({"5, sample", "5, token", "100, sample", "100, token"})
    void linearIntoResidualReadsTheGateChunkInPlace(int tokens, String per) {
        int k = 64, n = 40, chunks = 3;
        FloatTensor x = bf16Random(tokens + 1L, 1f, 2, tokens, k), w = bf16Random(tokens + 2L, 0.2f, n, k), bias = Compare.random(tokens + 3, 0.5f, n);
        FloatTensor res = Compare.random(tokens + 4, 1f, 2, tokens, n);
        FloatTensor mod = per.equals("sample") ? Compare.random(tokens + 5, 1f, 2, chunks * n) : Compare.random(tokens + 5, 1f, 2, tokens, chunks * n);
        for (int chunk = 0; chunk < chunks; chunk++) {
            int c = chunk;
            same("linearIntoResidual, gate chunk " + c + " of the modulation per " + per + ", " + tokens + " tokens", GEMM, b -> {
                Tensor r = b.upload(res);
                b.linearIntoResidual(r, b.upload(x), weightOf(b, w), b.weight(bias), b.upload(mod), chunks, c);
                return r;
            });
        }
    }

    /** The fused GEMM epilogues against the CPU's compositions; in-place results read back from the residual tensor. */
    @ParameterizedTest(name = "K {0}, gate per {1}")
    @CsvSource({"64, token", "30, sample", "48, none"})
    void linearIntoResidualMatchesTheCpu(int k, String gateKind) {
        FloatTensor x = bf16Random(k + 1L, 1f, 2, 5, k), w = bf16Random(k + 2L, 0.2f, 40, k), bias = Compare.random(k + 3, 0.5f, 40);
        FloatTensor res = Compare.random(k + 4, 1f, 2, 5, 40);
        FloatTensor gate = switch (gateKind) {
            case "token" -> Compare.random(k + 5, 1f, 2, 5, 40);
            case "sample" -> Compare.random(k + 5, 1f, 2, 40);
            default -> null;
        };
        same("linearIntoResidual K " + k + " gate " + gateKind, GEMM, b -> {
            Tensor r = b.upload(res);
            b.linearIntoResidual(r, b.upload(x), weightOf(b, w), b.weight(bias), gate == null ? null : b.upload(gate));
            return r;
        });
    }

    /**
     * The gated MLP's hidden layer from interleaved gate and value rows: one GEMM whose GATE_PAIRS epilogue combines them,
     * on the skinny kernel (3 rows), gemm.cu's tiles (210 rows) and gemm_sm90 where the device has it (1100 rows by 3808
     * interleaved columns: 9 × 30 tiles), with and without biases.
     */
    @ParameterizedTest(name = "K {0}, {1}, {2} rows, {3} hidden, bias {4}")
    @CsvSource({"64, GELU_ERF, 3, 28, true", "30, GELU_ERF, 210, 28, true", "48, SILU, 210, 28, false", "72, GELU_ERF, 1100, 1904, true"})
    void gatedLinearMatchesTheCpu(int k, Activation act, int rows, int hidden, boolean bias) {
        FloatTensor x = bf16Random(k + 11L, 1f, rows, k), w = bf16Random(k + 12L, 0.2f, 2 * hidden, k);
        FloatTensor b2 = Compare.random(k + 14, 0.5f, 2 * hidden);
        same("gatedLinear K " + k + " " + act + " " + rows + " rows", BF16, b -> b.gatedLinear(b.upload(x), weightOf(b, w), bias ? b.weight(b2) : null, act));
    }

    @Test
    void inPlaceUpdatesAndAssignMatchTheCpu() {
        FloatTensor x = Compare.random(21, 1f, 2, 6, 16), y = Compare.random(22, 1f, 2, 6, 16), g = Compare.random(23, 1f, 2, 16);
        same("gatedResidualInPlace", EXACTISH, b -> {
            Tensor t = b.upload(x);
            b.gatedResidualInPlace(t, b.upload(g), b.upload(y));
            return t;
        });
        same("addInPlace per sample", EXACTISH, b -> {
            Tensor t = b.upload(x);
            b.addInPlace(t, b.upload(g));
            return t;
        });
        same("assign", 0, b -> {
            Tensor t = b.zeros(x.shape());
            b.assign(t, b.upload(y));
            return t;
        });
    }

    @Test
    void linearOnABatchOfTokens() {
        FloatTensor x = bf16Random(5, 1f, 2, 7, 48), w = bf16Random(6, 0.2f, 96, 48), bias = Compare.random(7, 0.5f, 96);
        same("linear [2, 7, 48]", GEMM, b -> b.linear(b.upload(x), b.weight(w), b.weight(bias)));
    }

    @ParameterizedTest(name = "[{0}, {1}, {2}, {3}] → {4}")
    @CsvSource({"2, 6, 5, 16, 24", "1, 8, 8, 4, 32", "1, 4, 4, 16, 4", "1, 16, 16, 32, 32"})
    void conv3x3MatchesTheCpu(int n, int h, int w, int ci, int co) {
        FloatTensor x = bf16Random(n * 7L + ci, 1f, n, h, w, ci), k = bf16Random(co * 3L + ci, 0.2f, co, 3, 3, ci), bias = Compare.random(co, 0.5f, co);
        same("conv3x3 Ci " + ci + " Co " + co, GEMM, b -> b.conv3x3(b.upload(x), b.weight(k), b.weight(bias)));
    }

    // ------------------------------------------------------------------ elementwise

    @Test
    void elementwiseOpsMatchTheCpu() {
        FloatTensor a = Compare.random(1, 1f, 2, 6, 16), same = Compare.random(2, 1f, 2, 6, 16), perSample = Compare.random(3, 1f, 2, 16);
        FloatTensor pos = bf16Random(4, 1f, 6, 16);
        same("add same shape", EXACTISH, b -> b.add(b.upload(a), b.upload(same)));
        same("add per sample", EXACTISH, b -> b.add(b.upload(a), b.upload(perSample)));
        same("addTiled bf16 position embedding", EXACTISH, b -> b.addTiled(b.upload(a), b.weight(pos)));
        same("addTiled f32", EXACTISH, b -> b.addTiled(b.upload(a), b.upload(pos)));
        same("mul", EXACTISH, b -> b.mul(b.upload(a), b.upload(same)));
        same("silu", EXACTISH, b -> b.silu(b.upload(a)));
        same("gatedResidual per sample", EXACTISH, b -> b.gatedResidual(b.upload(a), b.upload(perSample), b.upload(same)));
        same("gatedResidual per token", EXACTISH, b -> b.gatedResidual(b.upload(a), b.upload(same), b.upload(a)));
    }

    // ------------------------------------------------------------------ norms

    @ParameterizedTest
    @EnumSource(Norm.class)
    void normsMatchTheCpu(Norm kind) {
        FloatTensor x = Compare.random(11, 2f, 3, 5, 96), w = Compare.random(12, 1f, 96), shift = Compare.random(13, 0.5f, 3, 96),
                scale = Compare.random(14, 0.5f, 3, 96), shiftTok = Compare.random(15, 0.5f, 3, 5, 96), scaleTok = Compare.random(16, 0.5f, 3, 5, 96);
        same("norm " + kind + " weighted", EXACTISH, b -> b.norm(b.upload(x), kind, b.weight(w), 1e-6f));
        same("norm " + kind + " plain", EXACTISH, b -> b.norm(b.upload(x), kind, null, 1e-6f));
        same("normForMatmul " + kind + " weighted", ROUNDED_ONCE, b -> b.normForMatmul(b.upload(x), kind, b.weight(w), 1e-6f));
        same("normModulate " + kind + " per sample", ROUNDED_ONCE, b -> b.normModulate(b.upload(x), kind, 1e-6f, b.upload(shift), b.upload(scale)));
        same("normModulate " + kind + " per token", ROUNDED_ONCE, b -> b.normModulate(b.upload(x), kind, 1e-6f, b.upload(shiftTok), b.upload(scaleTok)));
        // straight from an adaLN output: chunks read in place (shift after scale, as DiT's and FlowAR's orders have it)
        FloatTensor modSample = Compare.random(17, 0.5f, 3, 6 * 96), modToken = Compare.random(18, 0.5f, 3, 5, 3 * 96);
        same("normModulate " + kind + " chunks per sample", ROUNDED_ONCE, b -> b.normModulate(b.upload(x), kind, 1e-6f, b.upload(modSample), 6, 4, 2));
        same("normModulate " + kind + " chunks per token", ROUNDED_ONCE, b -> b.normModulate(b.upload(x), kind, 1e-6f, b.upload(modToken), 3, 2, 1));
    }

    @ParameterizedTest(name = "silu {0}")
    @CsvSource({"true", "false"})
    void groupNormMatchesTheCpu(boolean silu) {
        FloatTensor x = Compare.random(21, 3f, 2, 5, 6, 64), w = Compare.random(22, 1f, 64), bias = Compare.random(23, 1f, 64);
        same("groupNorm", 1e-4, b -> b.groupNorm(b.upload(x), 32, b.weight(w), b.weight(bias), 1e-6f, silu));
    }

    // ------------------------------------------------------------------ embeddings and layouts

    @Test
    void embeddingsMatchTheCpu() {
        FloatTensor table = bf16Random(31, 1f, 11, 24);
        int[] ids = {3, 0, 10, 3, 7};
        same("embedding bf16 table", 0, b -> b.embedding(b.weight(table), ids));
        same("embedding f32 table", 0, b -> b.embedding(b.upload(table), ids));
        FloatTensor deviceIds = FloatTensor.of(new float[]{3, 0, 10, 3, 7}, 5);
        same("embedding by device ids, bf16 table", 0, b -> b.embedding(b.weight(table), b.upload(deviceIds)));
        same("embedding by device ids, f32 table", 0, b -> b.embedding(b.upload(table), b.upload(deviceIds)));
        float[] bad = gpu.download(gpu.embedding(gpu.weight(table), gpu.upload(FloatTensor.of(new float[]{-1, 2.5f, 11}, 3)))).data();
        for (int i = 0; i < bad.length; i++) assertTrue(Float.isNaN(bad[i]), "element " + i + " of the rows of ids −1, 2.5 and 11: expected NaN, got " + bad[i]);
        same("timestepEmbedding", EXACTISH, b -> b.timestepEmbedding(new float[]{0f, 1.5f, 250f, 999f}, 256));
    }

    @Test
    void layoutsAreExact() {
        FloatTensor img = Compare.random(41, 1f, 2, 4, 6, 8), tokens = Compare.random(42, 1f, 2, 12, 16), nhwc = Compare.random(43, 1f, 2, 3, 5, 7);
        same("patchify", 0, b -> b.patchify(b.upload(img), 2));
        same("unpatchify", 0, b -> b.unpatchify(b.upload(tokens), 2, 4, 3, 4));
        same("nchwToNhwc", 0, b -> b.nchwToNhwc(b.upload(img)));
        same("nhwcToNchw", 0, b -> b.nhwcToNchw(b.upload(nhwc)));
        same("upsampleNearest2x", 0, b -> b.upsampleNearest2x(b.upload(nhwc)));
    }

    @ParameterizedTest(name = "{0}×{1} → {2}×{3}")
    @CsvSource({"4, 4, 8, 8", "8, 8, 4, 4", "5, 7, 3, 2", "2, 2, 16, 16", "16, 16, 16, 16"})
    void resizesMatchTheCpu(int h, int w, int oh, int ow) {
        FloatTensor x = Compare.random(h * 100L + w, 1f, 2, h, w, 16);
        same("resizeBicubic", EXACTISH, b -> b.resizeBicubic(b.upload(x), oh, ow));
        same("resizeArea", EXACTISH, b -> b.resizeArea(b.upload(x), oh, ow));
    }

    // ------------------------------------------------------------------ attention without a flash kernel

    @ParameterizedTest(name = "B {0}, L {1}/{2}, {3} heads of {4}")
    @CsvSource({"2, 16, 16, 4, 24", "2, 5, 21, 4, 16", "1, 64, 64, 1, 32", "1, 256, 256, 1, 512", "2, 9, 9, 3, 20"})
    void attentionThroughGemmsMatchesTheCpu(int batch, int lq, int lk, int heads, int d) {
        FloatTensor q = bf16Random(51, 1f, batch, lq, heads * d), k = bf16Random(52, 1f, batch, lk, heads * d), v = bf16Random(53, 1f, batch, lk, heads * d);
        same("attention d " + d, BF16, b -> b.attention(b.upload(q), b.upload(k), b.upload(v), heads));
    }

    @Test
    void ropeAttentionThroughGemmsMatchesTheCpu() {
        FloatTensor q = bf16Random(61, 1f, 2, 16, 64), k = bf16Random(62, 1f, 2, 16, 64), v = bf16Random(63, 1f, 2, 16, 64);
        // bf16 rounding after the rotation differs a little between the two paths: the bf16 bound covers it
        same("attentionRope d 16", BF16, b -> b.attentionRope(b.upload(q), b.upload(k), b.upload(v), 4, 4, 16, true));
        same("attentionRope d 16, keys cached", BF16, b -> b.attentionRope(b.upload(q), b.upload(k), b.upload(v), 4, 4, 16, false));
    }

    /**
     * Matmul operands come back in bf16 on the GPU (attention with a flash kernel, normModulate, gatedLinear) and every
     * op still reads them: a projection directly, the others through a float32 copy in the current scope, which the
     * scope gives back (nothing is kept past it).
     */
    @Test
    void matmulOperandsAreBf16AndEveryOpReadsThem() {
        FloatTensor q = bf16Random(71, 1f, 2, 16, 128), k = bf16Random(72, 1f, 2, 16, 128), v = bf16Random(73, 1f, 2, 16, 128);
        FloatTensor y = Compare.random(74, 1f, 2, 16, 128), w = bf16Random(75, 0.2f, 40, 128);
        try (Backend.Scope scope = gpu.scope()) {
            Tensor a = gpu.attention(gpu.upload(q), gpu.upload(k), gpu.upload(v), 2);
            assertEquals(ecar.tensor.DType.BF16, a.dtype(), "attention's output on the GPU, a matmul operand");
            long used = gpu.arenaLedger().used();
            try (Backend.Scope inner = gpu.scope()) {
                gpu.add(a, gpu.upload(y));
            }
            assertEquals(used, gpu.arenaLedger().used(), "the float32 copy add read lives in the inner scope only");
        }
        same("add reading an attention output", BF16, b -> b.add(b.attention(b.upload(q), b.upload(k), b.upload(v), 2), b.upload(y)));
        same("chunk of an attention output", BF16, b -> b.chunk(b.attention(b.upload(q), b.upload(k), b.upload(v), 2), 2, 1));
        same("linear on an attention output", BF16, b -> b.linear(b.attention(b.upload(q), b.upload(k), b.upload(v), 2), weightOf(b, w), null));
    }

    // ------------------------------------------------------------------ diffusion updates

    private static final DiffusionCoefficients K = new DiffusionCoefficients(1.25f, 0.62f, 0.31f, 0.69f, -5.1f, -3.2f, 0.91f, 0.41f, -3.7f);

    @ParameterizedTest(name = "{0}")
    @EnumSource(PosteriorVariance.class)
    void diffusionUpdatesMatchTheCpu(PosteriorVariance variance) {
        FloatTensor x = Compare.random(71, 1f, 2, 4, 6, 6), out = Compare.random(72, 1f, 2, variance.modelChannels(4), 6, 6),
                eps = Compare.random(73, 1f, 2, 4, 6, 6);
        for (int i = 0; i < 3; i++) {
            int part = i;
            same("diffusionPosterior part " + i, EXACTISH, b -> b.diffusionPosterior(b.upload(x), b.upload(out), K, variance)[part]);
        }
        same("ddimSample", EXACTISH, b -> inPlace(b, x, t -> b.ddimSample(t, b.diffusionPosterior(t, b.upload(out), K, variance)[2], K)));
        same("ddpmSample given noise", EXACTISH, b -> inPlace(b, x, t -> ddpm(b, t, out, variance, Noise.of(b.upload(eps)))));
        same("ddpmSample philox noise", 1e-4, b -> inPlace(b, x, t -> ddpm(b, t, out, variance, Noise.philox(9, 3))));
        int[] images = new int[x.shape().dim(0)];
        for (int r = 0; r < images.length; r++) images[r] = r < images.length / 2 ? 30 + r : 30 + r - images.length / 2;   // a guided batch's rows
        same("ddpmSample per-image noise", 1e-4, b -> inPlace(b, x, t -> ddpm(b, t, out, variance, Noise.perImage(9, 3, images))));
        same("ddpmSample last step", EXACTISH, b -> inPlace(b, x, t -> ddpm(b, t, out, variance, null)));
    }

    private static void ddpm(Backend b, Tensor x, FloatTensor out, PosteriorVariance variance, Noise noise) {
        Tensor[] post = b.diffusionPosterior(x, b.upload(out), K, variance);
        b.ddpmSample(x, post[0], post[1], noise);
    }

    private static Tensor inPlace(Backend b, FloatTensor host, java.util.function.Consumer<Tensor> op) {
        Tensor t = b.upload(host);
        op.accept(t);
        return t;
    }

    // ------------------------------------------------------------------ errors

    @Test
    void shapeErrorsNameTheOp() {
        Tensor x = gpu.upload(Compare.random(81, 1f, 3, 10));
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> gpu.linear(x, gpu.weight(Compare.random(82, 1f, 4, 12)), null));
        assertTrue(e.getMessage().startsWith("linear: "), e.getMessage());
        e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> gpu.embedding(gpu.weight(Compare.random(83, 1f, 5, 8)), new int[]{5}));
        assertTrue(e.getMessage().contains("outside the table's 5 rows"), e.getMessage());
        Shape s = Shape.of(1, 2, 2, 8);
        e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> gpu.conv3x3(gpu.zeros(s), gpu.weight(Compare.random(84, 1f, 4, 3, 3, 6)), null));
        assertTrue(e.getMessage().startsWith("conv3x3: "), e.getMessage());
    }
}
