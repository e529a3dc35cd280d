package ecar.cuda;

import ecar.backend.KvCache;

import ecar.backend.cpu.CpuBackend;
import ecar.cuda.backend.CudaBackend;
import ecar.io.Bf16;
import ecar.tensor.FloatTensor;
import ecar.tensor.Shape;
import ecar.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * kernels/attention.cu against the CPU backend on fresh random inputs: every output element is poisoned (NaN)
 * before the kernel runs and checked after; bf16 kernels within 2e-2 relative L2 (fixtures/README.md).
 */
@GpuTest(arenaMiB = 256)
class AttentionKernelTest {
    static final double REL_L2 = 2e-2, ELEMENT = 5e-2;
    static CudaBackend gpu;   // set by @GpuTest
    static final CpuBackend cpu = new CpuBackend();

    /** Inputs already on the bf16 grid, so the comparison measures the kernel, not the input rounding. */
    static FloatTensor bf16Random(long seed, int... dims) {
        return Compare.bf16Random(seed, 1f, dims);
    }

    @ParameterizedTest(name = "B {0}, H {1}, Lq {2}, Lk {3}, d {4}")
    @CsvSource({
            "2, 2, 1, 1, 64", "2, 2, 5, 5, 64", "2, 2, 85, 85, 64", "2, 2, 256, 256, 64", "2, 2, 341, 341, 64",
            "2, 2, 1, 1, 72", "2, 2, 5, 5, 72", "2, 2, 85, 85, 72", "2, 2, 256, 256, 72", "2, 2, 341, 341, 72",
            "2, 2, 5, 5, 96", "2, 2, 341, 341, 96",
            "2, 2, 1, 1, 128", "2, 2, 5, 5, 128", "2, 2, 85, 85, 128", "2, 2, 341, 341, 128",
            "4, 16, 256, 256, 72",          // DiT-XL/2 at 256²: 16 heads of 72
            "3, 16, 341, 341, 64",          // the AR transformer over all 341 tokens
            "2, 3, 85, 256, 64",            // cross-attention, Lq < Lk
            "2, 3, 256, 5, 72",             // cross-attention, Lq > Lk
            "1, 2, 64, 341, 128"})
    void matchesCpuAttention(int b, int h, int lq, int lk, int d) {
        long seed = 31L * lq + 7L * lk + d + b * h;
        FloatTensor q = bf16Random(seed, b, lq, h * d), k = bf16Random(seed + 1, b, lk, h * d), v = bf16Random(seed + 2, b, lk, h * d);
        FloatTensor expected = cpu.download(cpu.attention(q, k, v, h));
        FloatTensor actual = gpu.download(gpu.attention(gpu.upload(q), gpu.upload(k), gpu.upload(v), h));
        Compare.close("attention " + b + "×" + h + "×" + lq + "×" + lk + "×" + d, expected, actual, REL_L2, ELEMENT);
    }

    @ParameterizedTest(name = "side {0}, d {1}, rotate keys {2}")
    @CsvSource({"1, 64, true", "2, 64, true", "4, 72, true", "8, 64, false", "16, 64, true", "16, 72, true", "16, 128, false", "5, 128, true"})
    void matchesCpuAttentionWithRope(int side, int d, boolean ropeKeys) {
        int b = 2, h = 3, l = side * side;
        FloatTensor q = bf16Random(side * 100L + d, b, l, h * d), k = bf16Random(side * 100L + d + 1, b, l, h * d), v = bf16Random(side * 100L + d + 2, b, l, h * d);
        FloatTensor expected = cpu.download(cpu.attentionRope(q, k, v, h, side, 16, ropeKeys));
        FloatTensor actual = gpu.download(gpu.attentionRope(gpu.upload(q), gpu.upload(k), gpu.upload(v), h, side, 16, ropeKeys));
        Compare.close("attentionRope side " + side + " d " + d, expected, actual, REL_L2, ELEMENT);
    }

    /**
     * The fused self-attention (qkv_to_bf16, then the kernel on row stride 3·W; attention_sm90 on Hopper from 128
     * tokens) against the CPU's split-then-attend, with and without the 2D RoPE, and a head size with no kernel (16).
     */
    @ParameterizedTest(name = "B {0}, H {1}, side {2}, d {3}, rope {4}")
    @CsvSource({"2, 3, 16, 64, true", "2, 3, 16, 64, false", "4, 16, 16, 72, false", "1, 2, 12, 128, true", "2, 2, 5, 64, true", "2, 2, 4, 16, true"})
    void fusedSelfAttentionMatchesTheCpu(int b, int h, int side, int d, boolean rope) {
        int l = side * side;
        FloatTensor qkv = bf16Random(side * 1000L + d, b, l, 3 * h * d);
        FloatTensor expected = cpu.download(cpu.selfAttention(qkv, h, side, 16, rope));
        FloatTensor actual = gpu.download(gpu.selfAttention(gpu.upload(qkv), h, side, 16, rope));
        Compare.close("selfAttention " + b + "×" + h + "×" + l + "×" + d + (rope ? " rope" : ""), expected, actual, REL_L2, ELEMENT);
    }

    @ParameterizedTest(name = "d {0}")
    @CsvSource({"64", "72", "96", "128"})
    void stageBlockCausalMatchesPerStageAttention(int d) {
        int[] stages = {1, 4, 16, 64, 256};
        int b = 2, h = 2, total = 341;
        FloatTensor q = bf16Random(900 + d, b, total, h * d), k = bf16Random(901 + d, b, total, h * d), v = bf16Random(902 + d, b, total, h * d);
        // reference: the queries of stage s against the keys and values of stages 0..s
        float[] exp = new float[q.shape().size()];
        int w = h * d;
        for (int s = 0, start = 0; s < stages.length; start += stages[s], s++) {
            int end = start + stages[s];
            FloatTensor qs = tokens(q, start, end), ks = tokens(k, 0, end), vs = tokens(v, 0, end);
            float[] o = cpu.download(cpu.attention(qs, ks, vs, h)).data();
            for (int bi = 0; bi < b; bi++) System.arraycopy(o, bi * stages[s] * w, exp, (bi * total + start) * w, stages[s] * w);
        }
        FloatTensor actual = gpu.download(gpu.attentionBlockCausal(gpu.upload(q), gpu.upload(k), gpu.upload(v), h, stages));
        Compare.close("block-causal d " + d, new FloatTensor(q.shape(), exp), actual, REL_L2, ELEMENT);
    }

    @ParameterizedTest(name = "d {0}")
    @CsvSource({"64", "72"})
    void kvCacheStageByStageMatchesCpu(int d) {
        int b = 2, h = 4, w = h * d;
        int[] sides = {1, 2, 4, 8, 16};
        KvCache cache = gpu.kvCache(b, 341, w);
        Tensor cpuK = null, cpuV = null;
        for (int side : sides) {
            int l = side * side;
            FloatTensor q = bf16Random(40L * side + d, b, l, w), k = bf16Random(40L * side + d + 1, b, l, w), v = bf16Random(40L * side + d + 2, b, l, w);
            Tensor kr = cpu.rope2d(k, h, side, 16);
            cpuK = cpuK == null ? kr : cpu.concatTokens(cpuK, kr);
            cpuV = cpuV == null ? v : cpu.concatTokens(cpuV, v);
            FloatTensor expected = cpu.download(cpu.attentionRope(q, cpuK, cpuV, h, side, 16, false));
            gpu.kvAppend(cache, gpu.rope2d(gpu.upload(k), h, side, 16), gpu.upload(v));
            FloatTensor actual = gpu.download(gpu.attentionRope(gpu.upload(q), cache, h, side, 16));
            Compare.close("kv cache stage of side " + side + " d " + d, expected, actual, REL_L2, ELEMENT);
        }
    }

    /** Both kernel variants of head sizes 64 and 72 (2 and 1 m-tiles a warp), bf16 in and out, poisoned output. */
    @ParameterizedTest(name = "d {0}, m-tiles {1}")
    @CsvSource({"64, 1", "64, 2", "72, 1", "72, 2"})
    void bothKernelVariantsMatchCpu(int d, int mTiles) {
        int b = 2, h = 3, lq = 200, lk = 150;
        FloatTensor q = bf16Random(d + mTiles, b, lq, h * d), k = bf16Random(d + mTiles + 1, b, lk, h * d), v = bf16Random(d + mTiles + 2, b, lk, h * d);
        FloatTensor expected = cpu.download(cpu.attention(q, k, v, h));
        CudaTensor qg = (CudaTensor) gpu.weight(q), kg = (CudaTensor) gpu.weight(k), vg = (CudaTensor) gpu.weight(v);   // bf16 on the device
        short[] raw = new short[expected.shape().size()];
        try (DeviceBuffer out = DeviceBuffer.allocate(2L * raw.length, "variant out")) {
            out.fill32(0x7fc07fc0, gpu.stream());
            ecar.cuda.ops.Attention.forward(gpu.stream(), ecar.cuda.ops.Attention.Problem.dense(b, h, d, lq, lk), qg.buffer(), kg.buffer(), vg.buffer(),
                    out, true, null, null, mTiles);
            out.download(raw, gpu.stream());
        }
        float[] actual = new float[raw.length];
        for (int i = 0; i < raw.length; i++) actual[i] = Bf16.toFloat(raw[i]);
        Compare.close("attention d " + d + " m-tiles " + mTiles, expected, new FloatTensor(expected.shape(), actual), REL_L2, ELEMENT);
    }

    @Test
    void rope2dIsBitExact() {
        for (int side : new int[]{1, 5, 16}) {
            FloatTensor x = Compare.random(side, 1f, 3, side * side, 2 * 72);
            Compare.exact("rope2d side " + side, cpu.download(cpu.rope2d(x, 2, side, 16)), gpu.download(gpu.rope2d(gpu.upload(x), 2, side, 16)));
        }
    }

    @Test
    void headSizesWithoutAFlashKernelTakeTheGemmFallback() {
        // one head of 80: no flash kernel, so CudaAttention's GEMM + softmax path runs; it must still be attention
        FloatTensor q = bf16Random(5, 1, 4, 80), k = bf16Random(6, 1, 4, 80), v = bf16Random(7, 1, 4, 80);
        FloatTensor expected = cpu.download(cpu.attention(q, k, v, 1));
        FloatTensor actual = gpu.download(gpu.attention(gpu.upload(q), gpu.upload(k), gpu.upload(v), 1));
        Compare.close("attention fallback, head 80", expected, actual, REL_L2, ELEMENT);
    }

    /** Token rows [from, to) of [B, L, W]. */
    static FloatTensor tokens(FloatTensor x, int from, int to) {
        Shape s = x.shape();
        int b = s.dim(0), l = s.dim(1), w = s.dim(2), n = to - from;
        float[] o = new float[b * n * w];
        for (int i = 0; i < b; i++) System.arraycopy(x.data(), (i * l + from) * w, o, i * n * w, n * w);
        return new FloatTensor(Shape.of(b, n, w), o);
    }
}
