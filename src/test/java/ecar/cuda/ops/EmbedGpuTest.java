package ecar.cuda.ops;

import ecar.backend.cpu.CpuBackend;
import ecar.cuda.DeviceBuffer;
import ecar.tensor.FloatTensor;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static ecar.cuda.ops.GemmGpuTest.data;
import static ecar.cuda.ops.GpuOps.assertClose;
import static ecar.cuda.ops.GpuOps.random;

/** kernels/embed.cu against CpuBackend's timestep embedding, patchify/unpatchify, layout changes and resizes. */
class EmbedGpuTest {
    private static final double EXACTISH = 1e-5;
    private final CpuBackend cpu = new CpuBackend();

    @BeforeEach
    void gpu() {
        GpuOps.assume("embed");
    }

    @Test
    void timestepEmbedding() {
        float[] t = {0f, 1f, 17.5f, 249f, 999f, 0.731f, 500.25f};
        float[] expected = data(cpu.timestepEmbedding(t, 256));
        try (GpuOps g = new GpuOps()) {
            DeviceBuffer out = g.poisoned(t.length * 256L, Precision.F32, "out");
            new EmbedKernels(g.launcher).timestep(out, g.f32(t, "t"), t.length, 256);
            assertClose("timestep", expected, g.read(out, t.length * 256L, Precision.F32), EXACTISH);
        }
    }

    @ParameterizedTest(name = "[{0}, {1}, {2}, {3}] p {4}")
    @CsvSource({"2, 4, 32, 32, 2", "1, 4, 32, 32, 4", "3, 8, 16, 12, 2"})
    void patchifyAndUnpatchify(int n, int c, int h, int w, int p) {
        int total = n * c * h * w;
        float[] x = random(31, total, 1f);
        float[] expected = data(cpu.patchify(FloatTensor.of(x, n, c, h, w), p));
        int hp = h / p, wp = w / p;
        float[] tokens = random(32, total, 1f);
        float[] expectedImg = data(cpu.unpatchify(FloatTensor.of(tokens, n, hp * wp, p * p * c), p, c, hp, wp));
        try (GpuOps g = new GpuOps()) {
            EmbedKernels e = new EmbedKernels(g.launcher);
            DeviceBuffer dx = g.f32(x, "x");
            for (Precision prec : Precision.values()) {
                DeviceBuffer out = g.poisoned(total, prec, "patches");
                e.patchify(out, prec, dx, n, c, h, w, p);
                assertClose("patchify " + prec, prec == Precision.F32 ? expected : GpuOps.bf16Round(expected), g.read(out, total, prec), EXACTISH);
            }
            DeviceBuffer img = g.poisoned(total, Precision.F32, "image");
            e.unpatchify(img, g.f32(tokens, "tokens"), n, p, c, hp, wp);
            assertClose("unpatchify", expectedImg, g.read(img, total, Precision.F32), EXACTISH);
        }
    }

    @ParameterizedTest(name = "[{0}, {1}, {2}, {3}]")
    @CsvSource({"2, 4, 32, 32", "1, 512, 16, 16", "3, 5, 7, 9"})
    void layoutChanges(int n, int c, int h, int w) {
        int total = n * c * h * w;
        float[] x = random(33, total, 1f);
        float[] nhwc = data(cpu.nchwToNhwc(FloatTensor.of(x, n, c, h, w)));
        float[] back = data(cpu.nhwcToNchw(FloatTensor.of(x, n, h, w, c)));
        try (GpuOps g = new GpuOps()) {
            EmbedKernels e = new EmbedKernels(g.launcher);
            DeviceBuffer dx = g.f32(x, "x"), out = g.poisoned(total, Precision.F32, "out");
            e.transpose(out, dx, n, c, h * w);
            assertClose("nchw→nhwc", nhwc, g.read(out, total, Precision.F32), 0);
            DeviceBuffer out2 = g.poisoned(total, Precision.F32, "out2");
            e.transpose(out2, dx, n, h * w, c);
            assertClose("nhwc→nchw", back, g.read(out2, total, Precision.F32), 0);
        }
    }

    /** FlowAR's stage input: bicubic from each scale up to 16×16, then area down to the next scale; odd ratios too. */
    @ParameterizedTest(name = "{1}x{1} → {2}x{2} → {3}x{3}")
    @CsvSource({"2, 1, 16, 2", "2, 2, 16, 4", "1, 4, 16, 8", "2, 8, 16, 16", "1, 5, 7, 3", "1, 16, 16, 5"})
    void bicubicThenArea(int n, int side, int up, int down) {
        int c = 16;
        float[] x = random(34, n * side * side * c, 2f);
        FloatTensor big = (FloatTensor) cpu.resizeBicubic(FloatTensor.of(x, n, side, side, c), up, up);
        float[] expectedBig = big.data();
        float[] expectedSmall = data(cpu.resizeArea(big, down, down));
        try (GpuOps g = new GpuOps()) {
            EmbedKernels e = new EmbedKernels(g.launcher);
            DeviceBuffer db = g.poisoned((long) n * up * up * c, Precision.F32, "bicubic");
            e.resizeBicubic(db, g.f32(x, "x"), n, side, side, c, up, up);
            assertClose("bicubic", expectedBig, g.read(db, (long) n * up * up * c, Precision.F32), EXACTISH);
            DeviceBuffer ds = g.poisoned((long) n * down * down * c, Precision.F32, "area");
            e.resizeArea(ds, g.f32(expectedBig, "big"), n, up, up, c, down, down);
            assertClose("area", expectedSmall, g.read(ds, (long) n * down * down * c, Precision.F32), EXACTISH);
        }
    }
}
