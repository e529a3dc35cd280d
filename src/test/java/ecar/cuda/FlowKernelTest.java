package ecar.cuda;

import ecar.backend.cpu.CpuBackend;
import ecar.cuda.backend.CudaBackend;
import ecar.backend.Noise;
import ecar.tensor.FloatTensor;
import ecar.tensor.Shape;
import ecar.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * kernels/flow.cu and the backend's memory ops against the CPU backend: the f32 sampler state must match to the bit
 * (the kernels round every operation as Java does); Philox noise within 1e-6 (double-precision log/cos may differ
 * in the last place before the rounding to float).
 */
@GpuTest(arenaMiB = 64)
class FlowKernelTest {
    static CudaBackend gpu;   // set by @GpuTest
    static final CpuBackend cpu = new CpuBackend();

    @ParameterizedTest(name = "[2×{0}, {1}, {2}] guided {3}")
    @CsvSource({"1, 1, 16, true", "2, 5, 16, true", "3, 85, 7, true", "32, 256, 16, true", "1, 1, 1, false", "3, 85, 7, false", "32, 256, 16, false"})
    void eulerStepIsExact(int n, int l, int c, boolean guided) {
        FloatTensor x = Compare.random(n * 1000L + l, 1f, 2 * n, l, c), v = Compare.random(n * 1000L + l + 1, 1f, 2 * n, l, c);
        Tensor xc = cpu.upload(x), xg = gpu.upload(x);
        Tensor vg = gpu.upload(v);
        for (int step = 0; step < 3; step++) {
            cpu.flowEulerStep(xc, v, -0.0123f * (step + 1), 2.4f, guided);
            gpu.flowEulerStep(xg, vg, -0.0123f * (step + 1), 2.4f, guided);
        }
        Compare.exact("euler step", cpu.download(xc), gpu.download(xg));
    }

    /** A sampling step captured once as a CUDA graph and replayed, as the sampler will: same bits as the CPU. */
    @Test
    void graphReplayOfAGuidedStepIsExact() {
        FloatTensor x = Compare.random(77, 1f, 64, 256, 16), v = Compare.random(78, 1f, 64, 256, 16);
        Tensor xc = cpu.upload(x), xg = gpu.upload(x), vg = gpu.upload(v);
        gpu.synchronize();
        try (CudaGraph g = CudaGraph.capture(gpu.stream(), () -> gpu.flowEulerStep(xg, vg, -0.05f, 2.4f, true))) {
            for (int i = 0; i < 4; i++) {
                g.launch(gpu.stream());
                cpu.flowEulerStep(xc, v, -0.05f, 2.4f, true);
            }
        }
        Compare.exact("graph replay", cpu.download(xc), gpu.download(xg));
    }

    /** One captured graph replayed with a different dt and weight per step, read from a device scalar buffer. */
    @Test
    void graphReplayWithPerStepScalarsOnTheDevice() {
        FloatTensor x = Compare.random(79, 1f, 64, 256, 16), v = Compare.random(80, 1f, 64, 256, 16);
        Tensor xc = cpu.upload(x);
        CudaTensor xg = (CudaTensor) gpu.upload(x), vg = (CudaTensor) gpu.upload(v);
        long half = x.shape().numel() / 2;
        float[] dts = {-0.2f, -0.15f, -0.1f}, ws = {1f, 1.7f, 2.4f};
        try (DeviceBuffer scalars = DeviceBuffer.allocate(8, "step scalars")) {
            gpu.synchronize();
            try (CudaGraph g = CudaGraph.capture(gpu.stream(), () -> ecar.cuda.ops.Flow.eulerGuidedDev(gpu.stream(), xg.buffer(), vg.buffer(), half, scalars))) {
                for (int i = 0; i < dts.length; i++) {
                    scalars.upload(new float[]{dts[i], ws[i]}, gpu.stream());
                    g.launch(gpu.stream());
                    cpu.flowEulerStep(xc, v, dts[i], ws[i], true);
                }
            }
            Compare.exact("graph replay with device scalars", cpu.download(xc), gpu.download(xg));
        }
    }

    @ParameterizedTest(name = "[{0}, {1}², {2}] gamma {3}")
    @CsvSource({"2, 1, 16, 0.3333333", "2, 2, 16, 0.25", "3, 5, 7, 0.3333333", "64, 8, 16, 0.3333333"})
    void stageJumpWithGivenNoiseIsExact(int b, int side, int c, float gamma) {
        FloatTensor x = Compare.random(side, 1f, b, side * side, c), eps = Compare.random(side + 1, 1f, b, 4 * side * side, c);
        Tensor expected = cpu.stageJump(x, side, 0.7f, 0.45f, gamma, Noise.of(eps));
        Tensor actual = gpu.stageJump(gpu.upload(x), side, 0.7f, 0.45f, gamma, Noise.of(gpu.upload(eps)));
        Compare.exact("stage jump", cpu.download(expected), gpu.download(actual));
    }

    @ParameterizedTest(name = "[{0}, {1}², {2}]")
    @CsvSource({"2, 1, 16", "3, 5, 7", "64, 8, 16"})
    void stageJumpWithPhiloxNoiseMatches(int b, int side, int c) {
        FloatTensor x = Compare.random(side, 1f, b, side * side, c);
        Tensor expected = cpu.stageJump(x, side, 0.7f, 0.45f, 1f / 3, Noise.philox(7, 3));
        Tensor actual = gpu.stageJump(gpu.upload(x), side, 0.7f, 0.45f, 1f / 3, Noise.philox(7, 3));
        Compare.close("stage jump (Philox)", cpu.download(expected), gpu.download(actual), 1e-6, 1e-6);
    }

    /** Per-image noise: rows 0..2 are images 40, 41, 7 (two runs), as a guided batch's halves would be. */
    @ParameterizedTest(name = "[3, {0}², {1}] per image")
    @CsvSource({"1, 16", "5, 7"})
    void stageJumpWithPerImageNoiseMatches(int side, int c) {
        FloatTensor x = Compare.random(side + 10, 1f, 3, side * side, c);
        Noise noise = Noise.perImage(7, 3, new int[]{40, 41, 7});
        Tensor expected = cpu.stageJump(x, side, 0.7f, 0.45f, 1f / 3, noise);
        Tensor actual = gpu.stageJump(gpu.upload(x), side, 0.7f, 0.45f, 1f / 3, noise);
        Compare.close("stage jump (per image)", cpu.download(expected), gpu.download(actual), 1e-6, 1e-6);
    }

    @Test
    void perImageRandnMatchesPhilox() {
        int[] images = {5, 6, 7, 0, 9};
        Shape s = Shape.of(5, 3, 65);
        Compare.close("randn per image", cpu.download(cpu.randn(s, 11, 2, images)), gpu.download(gpu.randn(s, 11, 2, images)), 1e-6, 1e-6);
    }

    @Test
    void randnMatchesPhilox() {
        for (int n : new int[]{1, 5, 4097, 64 * 256 * 16}) {
            Shape s = Shape.of(n);
            Compare.close("randn " + n, cpu.download(cpu.randn(s, 11, 2)), gpu.download(gpu.randn(s, 11, 2)), 1e-6, 1e-6);
        }
    }

    @ParameterizedTest(name = "[2×{0}, {1}, {2}×{2}] guided channels {3}")
    @CsvSource({"1, 8, 4, 3", "2, 8, 32, 8", "3, 6, 5, 1"})
    void cfgCombineChannelsIsExact(int n, int co, int hw, int g) {
        FloatTensor out = Compare.random(n + co, 1f, 2 * n, co, hw, hw);
        Tensor c = cpu.upload(out), gt = gpu.upload(out);
        cpu.cfgCombineChannels(c, g, 4f);
        gpu.cfgCombineChannels(gt, g, 4f);
        Compare.exact("cfg combine", cpu.download(c), gpu.download(gt));
    }

    @Test
    void watchFiniteReportsTheEarliestBadStep() {
        FloatTensor x = Compare.random(1, 1f, 3, 85, 7);
        gpu.watchFinite(gpu.upload(x), 0);
        assertEquals(-1, gpu.firstNonFinite());
        FloatTensor nan = Compare.random(1, 1f, 3, 85, 7), inf = Compare.random(1, 1f, 3, 85, 7);
        nan.data()[1234] = Float.NaN;
        inf.data()[1784] = Float.NEGATIVE_INFINITY;
        gpu.watchFinite(gpu.upload(x), 1);
        gpu.watchFinite(gpu.upload(inf), 7);
        gpu.watchFinite(gpu.upload(nan), 4);
        gpu.watchFinite(gpu.upload(nan), 9);
        assertEquals(4, gpu.firstNonFinite(), "the smallest bad step, whatever the order of the checks");
        assertEquals(-1, gpu.firstNonFinite(), "a report starts a new watch");
    }

    @Test
    void memoryOpsAreExact() {
        FloatTensor a = Compare.random(1, 1f, 4, 5, 12), b = Compare.random(2, 1f, 4, 16, 12);
        Tensor ga = gpu.upload(a), gb = gpu.upload(b);
        Compare.exact("round trip", a, gpu.download(ga));
        Compare.exact("concatTokens", cpu.download(cpu.concatTokens(a, b)), gpu.download(gpu.concatTokens(ga, gb)));
        Compare.exact("concatBatch", cpu.download(cpu.concatBatch(a, a)), gpu.download(gpu.concatBatch(ga, ga)));
        Compare.exact("sliceBatch", cpu.download(cpu.sliceBatch(b, 1, 3)), gpu.download(gpu.sliceBatch(gb, 1, 3)));
        for (int i = 0; i < 3; i++) Compare.exact("chunk " + i, cpu.download(cpu.chunk(b, 3, i)), gpu.download(gpu.chunk(gb, 3, i)));
        Compare.exact("condTwice", cpu.download(cpu.condTwice(b)), gpu.download(gpu.condTwice(gb)));
        Compare.exact("zeros", FloatTensor.zeros(Shape.of(3, 7)), gpu.download(gpu.zeros(Shape.of(3, 7))));
        Compare.exact("reshape", a.reshape(20, 12), gpu.download(gpu.reshape(ga, Shape.of(20, 12))));
        try (var scope = gpu.scope()) {
            Compare.exact("scoped chunk", cpu.download(cpu.chunk(b, 2, 1)), gpu.download(gpu.chunk(gb, 2, 1)));
        }
    }
}
