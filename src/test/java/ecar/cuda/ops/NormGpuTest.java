package ecar.cuda.ops;

import ecar.backend.cpu.CpuBackend;
import ecar.backend.Norm;
import ecar.cuda.DeviceBuffer;
import ecar.tensor.FloatTensor;
import ecar.tensor.Tensor;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static ecar.cuda.ops.GemmGpuTest.data;
import static ecar.cuda.ops.GpuOps.BF16_TOL;
import static ecar.cuda.ops.GpuOps.F32_TOL;
import static ecar.cuda.ops.GpuOps.assertClose;
import static ecar.cuda.ops.GpuOps.random;

/** kernels/norm.cu against CpuBackend.norm, normModulate and groupNorm. */
class NormGpuTest {
    private final CpuBackend cpu = new CpuBackend();

    @BeforeEach
    void gpu() {
        GpuOps.assume("norm");
    }

    /**
     * adaLN modulation with shift and scale read in place from an adaLN output [G, 6d] (chunks 0 and 1 here), per
     * sample (DiT, ratio = tokens) or per token (the flow head's Block_v1, ratio 1).
     */
    @ParameterizedTest(name = "{0} rows {1} d {2} ratio {3}")
    @CsvSource({"LAYER, 1024, 1152, 256", "LAYER, 256, 1152, 1", "RMS, 341, 1024, 341", "RMS, 512, 1024, 1", "LAYER, 7, 33, 7",
            "RMS, 6, 1024, 1", "LAYER, 5, 2048, 5", "LAYER, 3, 2052, 1", "RMS, 9, 100, 3"})
    void normModulateMatchesTheCpu(Norm kind, int rows, int d, int ratio) {
        int groups = rows / ratio;
        float[] x = random(21, rows * d, 3f), ada = random(22, groups * 6 * d, 0.5f);
        for (int i = 0; i < x.length; i += 7) x[i] += 1.5f;   // a non-zero mean
        float[] shift = new float[groups * d], scale = new float[groups * d];
        for (int gr = 0; gr < groups; gr++) {
            System.arraycopy(ada, gr * 6 * d, shift, gr * d, d);
            System.arraycopy(ada, gr * 6 * d + d, scale, gr * d, d);
        }
        float[] expected = data(cpu.normModulate(FloatTensor.of(x, rows, d), kind, 1e-6f, FloatTensor.of(shift, groups, d), FloatTensor.of(scale, groups, d)));
        try (GpuOps g = new GpuOps()) {
            NormKernels norm = new NormKernels(g.launcher);
            DeviceBuffer dx = g.f32(x, "x"), dada = g.f32(ada, "adaLN");
            for (Precision p : Precision.values()) {
                DeviceBuffer out = g.poisoned((long) rows * d, p, "out");
                norm.rowsModulated(out, p, dx, dada, dada.slice(4L * d, dada.bytes() - 4L * d, "scale"), 6 * d, rows, d, kind, 1e-6f, ratio);
                assertClose(kind + " modulated " + p, expected, g.read(out, (long) rows * d, p), p == Precision.F32 ? F32_TOL : BF16_TOL);
            }
        }
    }

    /**
     * The rows held in registers (d % 4 == 0, d ≤ 2048, 16-byte aligned operands) and the four-byte loop (here x
     * starts 4 bytes into its buffer) give the CPU's values; every other case of the register path is above.
     */
    @ParameterizedTest(name = "{0}, x {1} bytes into its buffer")
    @CsvSource({"LAYER, 0", "LAYER, 4", "RMS, 4"})
    void bothPathsMatchTheCpu(Norm kind, int offset) {
        int rows = 6, d = 1024;
        float[] x = random(28, rows * d + 1, 2f), w = random(29, d, 1f);
        float[] shifted = java.util.Arrays.copyOfRange(x, offset / 4, offset / 4 + rows * d);
        float[] expected = data(cpu.norm(FloatTensor.of(shifted, rows, d), kind, FloatTensor.of(w, d), 1e-6f));
        try (GpuOps g = new GpuOps()) {
            DeviceBuffer dx = g.f32(x, "x"), out = g.poisoned((long) rows * d, Precision.BF16, "out");
            new NormKernels(g.launcher).rows(out, Precision.BF16, dx.slice(offset, 4L * rows * d, "x + " + offset + " bytes"), g.f32(w, "w"), rows, d, kind, 1e-6f);
            assertClose(kind + " norm, x + " + offset + " bytes", expected, g.read(out, (long) rows * d, Precision.BF16), BF16_TOL);
        }
    }

    @ParameterizedTest(name = "{0} with weight {1}")
    @CsvSource({"RMS, true", "LAYER, false", "RMS, false"})
    void normMatchesTheCpu(Norm kind, boolean withWeight) {
        int rows = 341, d = 1024;
        float[] x = random(23, rows * d, 2f), w = random(24, d, 1f);
        Tensor wt = withWeight ? FloatTensor.of(w, d) : null;
        float[] expected = data(cpu.norm(FloatTensor.of(x, rows, d), kind, wt, 1e-6f));
        try (GpuOps g = new GpuOps()) {
            DeviceBuffer out = g.poisoned((long) rows * d, Precision.F32, "out");
            new NormKernels(g.launcher).rows(out, Precision.F32, g.f32(x, "x"), withWeight ? g.f32(w, "w") : null, rows, d, kind, 1e-6f);
            assertClose(kind + " norm", expected, g.read(out, (long) rows * d, Precision.F32), F32_TOL);
        }
    }

    @ParameterizedTest(name = "[{0}, {1}, {2}, {3}] silu {4}")
    @CsvSource({"1, 64, 64, 128, true", "2, 32, 32, 512, true", "1, 16, 16, 256, false", "1, 5, 7, 64, true"})
    void groupNormMatchesTheCpu(int n, int h, int w, int c, boolean silu) {
        int total = n * h * w * c;
        float[] x = random(25, total, 2f), wt = random(26, c, 1f), b = random(27, c, 0.5f);
        for (int i = 0; i < total; i += 3) x[i] += 0.7f;
        float[] expected = data(cpu.groupNorm(FloatTensor.of(x, n, h, w, c), 32, FloatTensor.of(wt, c), FloatTensor.of(b, c), 1e-6f, silu));
        try (GpuOps g = new GpuOps()) {
            NormKernels norm = new NormKernels(g.launcher);
            DeviceBuffer dx = g.f32(x, "x"), stats = g.scratch(NormKernels.statsBytes(n, 32), "stats");
            stats.fill32(Float.floatToRawIntBits(Float.NaN), g.stream);   // the zeroing launch must clear it
            for (Precision p : Precision.values()) {
                DeviceBuffer out = g.poisoned(total, p, "out");
                norm.groupNorm(out, p, dx, stats, g.f32(wt, "w"), g.f32(b, "b"), n, h * w, c, 32, 1e-6f, silu);
                assertClose("groupNorm " + p, expected, g.read(out, total, p), p == Precision.F32 ? F32_TOL : BF16_TOL);
            }
        }
    }

    @Test
    void rejectsModulationWithoutScale() {
        try (GpuOps g = new GpuOps()) {
            DeviceBuffer x = g.f32(new float[64], "x");
            org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> new NormKernels(g.launcher).rowsModulated(x, Precision.F32, x, x, null, 8, 8, 8, Norm.LAYER, 1e-6f, 1));
        }
    }
}
