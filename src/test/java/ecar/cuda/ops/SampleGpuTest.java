package ecar.cuda.ops;

import ecar.backend.LogitFilter;
import ecar.backend.RopeTables;
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
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * kernels/sample.cu and embed.cu's rope_rows against the CPU backend on the same float32 inputs: guidance, the filter
 * (the same entries −∞, the rest untouched), the categorical draw (the same ids) and the RoPE by table rows.
 */
class SampleGpuTest {
    private final CpuBackend cpu = new CpuBackend();

    @BeforeEach
    void gpu() {
        GpuOps.assume("sample");
    }

    @Test
    void guideLogitsMatchesTheCpu() {
        int half = 3 * 7 * 16384;
        float[] l = random(41, 2 * half, 3f);
        float[] expected = data(cpu.guideLogits(FloatTensor.of(l, 6, 7, 16384), 4.5f, 0.9f));
        try (GpuOps g = new GpuOps()) {
            DeviceBuffer out = g.poisoned(half, Precision.F32, "guided");
            new SampleKernels(g.launcher).guide(out, g.f32(l, "logits"), half, 4.5f, 0.9f);
            assertArrayEquals(expected, g.read(out, half, Precision.F32), "the same float operations, each rounded");
        }
    }

    /** Random logits of VQ-16's vocabulary; ties are improbable, so the threshold and the stable sort keep the same set. */
    @ParameterizedTest(name = "top-k {0}, top-p {1}")
    @CsvSource({"1, 1.0", "5, 1.0", "100, 1.0", "0, 0.9", "0, 0.05", "50, 0.8", "16384, 0.99"})
    void filterRemovesWhatTheCpuRemoves(int topK, float topP) {
        int rows = 12, v = 16384;
        float[] l = random(42, rows * v, 2f);
        LogitFilter f = new LogitFilter(topK, topP);
        float[] expected = data(cpu.filterLogits(FloatTensor.of(l, rows, v), f));
        try (GpuOps g = new GpuOps()) {
            DeviceBuffer x = g.f32(l, "logits");
            new SampleKernels(g.launcher).filter(x, rows, v, topK, topP);
            float[] actual = g.read(x, (long) rows * v, Precision.F32);
            assertArrayEquals(expected, actual, "the kernel's probabilities and masses are the twin's, summed in another order in double");
        }
    }

    @Test
    void drawsTheCpusIdsFromTheSameLogits() {
        int rows = 64, v = 16384;
        float[] l = random(43, rows * v, 2f);
        l[5 * v + 7] = Float.NaN;   // row 5 has no valid distribution: −1 on both
        FloatTensor expected = FloatTensor.zeros(ecar.tensor.Shape.of(rows));
        cpu.sampleTokens(FloatTensor.of(l, rows, v), LogitFilter.NONE, 11, 4, expected);
        try (GpuOps g = new GpuOps()) {
            DeviceBuffer ids = g.poisoned(rows, Precision.F32, "ids");
            new SampleKernels(g.launcher).draw(ids, g.f32(l, "logits"), rows, v, 11L, 4);
            float[] actual = g.read(ids, rows, Precision.F32);
            assertEquals(-1f, actual[5]);
            assertArrayEquals(expected.data(), actual, "a draw parts only where u·Σe lies within rounding of a running sum");
        }
    }

    @Test
    void ropeRowsIsBitExactWithTheCpu() {
        int batch = 4, l = 7, heads = 16, d = 64, grid = 16;
        float[][] t = RopeTables.arpg(grid, d, 10000);
        float[] x = random(44, batch * l * heads * d, 1f), rows = {0, 1, 17, 256, 255, 3, 100};
        FloatTensor cos = FloatTensor.of(t[0], 1 + grid * grid, d / 2), sin = FloatTensor.of(t[1], 1 + grid * grid, d / 2);
        float[] expected = data(cpu.ropeRows(FloatTensor.of(x, batch, l, heads * d), heads, cos, sin, FloatTensor.of(rows, l)));
        try (GpuOps g = new GpuOps()) {
            DeviceBuffer out = g.poisoned((long) batch * l * heads * d, Precision.F32, "out");
            new EmbedKernels(g.launcher).ropeRows(out, g.f32(x, "x"), g.f32(rows, "rows"), batch, l, heads * d, d, g.f32(t[0], "cos"), g.f32(t[1], "sin"),
                    1 + grid * grid);
            float[] actual = g.read(out, (long) batch * l * heads * d, Precision.F32);
            assertClose("ropeRows", expected, actual, 1e-6);
            assertTrue(java.util.Arrays.equals(expected, actual), "the same float operations, each rounded");
        }
    }
}
