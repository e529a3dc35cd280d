package ecar.cuda.ops;

import ecar.backend.Activation;
import ecar.backend.cpu.CpuBackend;
import ecar.cuda.DeviceBuffer;
import ecar.tensor.FloatTensor;
import ecar.tensor.Tensor;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static ecar.cuda.ops.GemmGpuTest.data;
import static ecar.cuda.ops.GpuOps.BF16_TOL;
import static ecar.cuda.ops.GpuOps.F32_TOL;
import static ecar.cuda.ops.GpuOps.assertClose;
import static ecar.cuda.ops.GpuOps.bf16Round;
import static ecar.cuda.ops.GpuOps.random;

/** kernels/conv.cu against CpuBackend.conv3x3 (+ add for the fused skip) and upsampleNearest2x, NHWC. */
class ConvGpuTest {
    private final CpuBackend cpu = new CpuBackend();

    @BeforeEach
    void gpu() {
        GpuOps.assume("conv");
    }

    /** VAE decoder shapes (KL-16: z 16 → 512 at 16×16; SD f8 levels), the 3-channel conv_out, ragged images. */
    @ParameterizedTest(name = "[{0}, {1}, {2}, {3}] → {4} residual {5}")
    @CsvSource({"1, 16, 16, 16, 512, false", "1, 16, 16, 512, 512, true", "2, 32, 32, 128, 128, false", "1, 64, 64, 128, 3, false",
            "1, 5, 7, 8, 24, true", "2, 9, 3, 64, 130, false"})
    void conv3x3MatchesTheCpu(int n, int h, int w, int ci, int co, boolean residual) {
        int in = n * h * w * ci, out = n * h * w * co;
        float[] x = bf16Round(random(51, in, 1f)), wt = bf16Round(random(52, co * 9 * ci, (float) (1 / Math.sqrt(9.0 * ci)))), b = random(53, co, 0.2f);
        float[] res = random(54, out, 1f);
        Tensor y = cpu.conv3x3(FloatTensor.of(x, n, h, w, ci), FloatTensor.of(wt, co, 3, 3, ci), FloatTensor.of(b, co));
        float[] expected = data(residual ? cpu.add(FloatTensor.of(res, n, h, w, co), y) : y);
        try (GpuOps g = new GpuOps()) {
            ConvKernels conv = new ConvKernels(g.launcher, g.multiprocessors());
            DeviceBuffer dx = g.bf16(x, "x"), dw = g.bf16(wt, "w"), db = g.f32(b, "b");
            for (Precision p : Precision.values()) {
                if (residual && p == Precision.BF16) continue;
                DeviceBuffer dy = residual ? g.f32(res, "y=res") : g.poisoned(out, p, "y");
                conv.conv3x3(dy, p, dx, dw, db, residual ? dy : null, n, h, w, ci, co, Activation.NONE);
                assertClose("conv3x3 " + p, expected, g.read(dy, out, p), p == Precision.F32 ? F32_TOL : BF16_TOL);
            }
        }
    }

    @ParameterizedTest(name = "[{0}, {1}, {2}, {3}]")
    @CsvSource({"1, 32, 32, 512", "2, 5, 3, 7"})
    void upsampleMatchesTheCpu(int n, int h, int w, int c) {
        float[] x = bf16Round(random(55, n * h * w * c, 1f));
        float[] expected = data(cpu.upsampleNearest2x(FloatTensor.of(x, n, h, w, c)));
        try (GpuOps g = new GpuOps()) {
            ConvKernels conv = new ConvKernels(g.launcher, g.multiprocessors());
            DeviceBuffer y = g.poisoned(expected.length, Precision.F32, "y");
            conv.upsampleNearest2x(y, g.f32(x, "x"), Precision.F32, n, h, w, c);
            assertClose("upsample f32", expected, g.read(y, expected.length, Precision.F32), 0);
            DeviceBuffer yb = g.poisoned(expected.length, Precision.BF16, "yb");
            conv.upsampleNearest2x(yb, g.bf16(x, "xb"), Precision.BF16, n, h, w, c);
            assertClose("upsample bf16", expected, g.read(yb, expected.length, Precision.BF16), 0);
        }
    }
}
