package ecar.backend.cpu;

import ecar.backend.LogitFilter;
import ecar.backend.Philox;
import ecar.backend.RopeTables;
import ecar.tensor.FloatTensor;
import ecar.tensor.Shape;
import ecar.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ARPG's ops on the CPU: RoPE by table rows, guidance on logits, top-k/top-p filtering and the categorical draw. */
class TokenSamplingOpsTest {
    private final CpuBackend b = new CpuBackend();

    private static float[] d(Tensor t) {
        return ((FloatTensor) t).data();
    }

    private static FloatTensor random(long seed, int... dims) {
        SplittableRandom r = new SplittableRandom(seed);
        FloatTensor t = FloatTensor.zeros(Shape.of(dims));
        for (int i = 0; i < t.data().length; i++) t.data()[i] = (float) r.nextGaussian();
        return t;
    }

    @Test
    void ropeRowsRotatesEachPairByItsTableRow() {
        int heads = 2, d = 8, grid = 3;
        float[][] t = RopeTables.arpg(grid, d, 10000);
        FloatTensor cos = FloatTensor.of(t[0], 1 + grid * grid, d / 2), sin = FloatTensor.of(t[1], 1 + grid * grid, d / 2);
        FloatTensor x = random(1, 2, 3, heads * d), rows = FloatTensor.of(new float[]{0, 5, 9}, 3);
        float[] y = d(b.ropeRows(x, heads, cos, sin, rows));
        for (int s = 0; s < 2; s++)
            for (int l = 0; l < 3; l++)
                for (int h = 0; h < heads; h++)
                    for (int p = 0; p < d / 2; p++) {
                        int o = (s * 3 + l) * heads * d + h * d + 2 * p, r = (int) rows.data()[l];
                        double c = t[0][r * d / 2 + p], sn = t[1][r * d / 2 + p];
                        double x0 = x.data()[o], x1 = x.data()[o + 1];
                        assertEquals(x0 * c - x1 * sn, y[o], 1e-6);
                        assertEquals(x1 * c + x0 * sn, y[o + 1], 1e-6);
                    }
        // the class token's row 0 zeroes it, as the reference's table does
        for (int i = 0; i < heads * d; i++) assertEquals(0f, y[i], 0f);
    }

    @Test
    void arpgTableHoldsRowAndColumnAnglesInItsTwoHalves() {
        int grid = 4, d = 16;
        float[][] t = RopeTables.arpg(grid, d, 10000);
        int half = d / 2, quarter = d / 4;
        int i = 2, j = 3, row = 1 + i * grid + j;
        for (int k = 0; k < quarter; k++) {
            double f = Math.pow(10000, -4.0 * k / d);
            assertEquals(Math.cos(i * f), t[0][row * half + k], 1e-6, "row angle, pair " + k);
            assertEquals(Math.sin(j * f), t[1][row * half + quarter + k], 1e-6, "column angle, pair " + (quarter + k));
        }
    }

    @Test
    void ropeRowsNamesARowOutsideTheTable() {
        FloatTensor cos = FloatTensor.zeros(Shape.of(5, 2)), x = FloatTensor.zeros(Shape.of(1, 2, 4));
        var e = assertThrows(IllegalArgumentException.class, () -> b.ropeRows(x, 1, cos, cos, FloatTensor.of(new float[]{1, 5}, 2)));
        assertTrue(e.getMessage().contains("row 5.0 (element 1) is not an integer in [0, 5)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> b.ropeRows(x, 1, cos, cos, FloatTensor.of(new float[]{1}, 1)));
        assertTrue(e.getMessage().contains("expected one per token"), e.getMessage());
    }

    @Test
    void guideLogitsCombinesTheHalvesAndDividesByTheTemperature() {
        FloatTensor l = FloatTensor.of(new float[]{2, 4, /* uncond */ 1, 1}, 2, 1, 2);
        assertArrayEquals(new float[]{(1 + 3 * 1) / 0.5f, (1 + 3 * 3) / 0.5f}, d(b.guideLogits(l, 3f, 0.5f)));
        assertArrayEquals(new float[]{4e5f, 1e6f}, d(b.guideLogits(l, 3f, 0f)), 1f, "temperature 0 divides by 1e-5");
        assertEquals(Shape.of(1, 1, 2), b.guideLogits(l, 1f, 1f).shape());
        var e = assertThrows(IllegalArgumentException.class, () -> b.guideLogits(FloatTensor.zeros(Shape.of(3, 2)), 1f, 1f));
        assertTrue(e.getMessage().contains("two batch halves"), e.getMessage());
    }

    private float[] filtered(float[] row, int k, float p) {
        return d(b.filterLogits(FloatTensor.of(row.clone(), 1, row.length), new LogitFilter(k, p)));
    }

    @Test
    void topKKeepsEveryLogitEqualToTheKthLargest() {
        float ninf = Float.NEGATIVE_INFINITY;
        assertArrayEquals(new float[]{ninf, 3, 2, ninf, 2}, filtered(new float[]{1, 3, 2, 0, 2}, 2, 1f));
        assertArrayEquals(new float[]{1, 3, 2, 0, 2}, filtered(new float[]{1, 3, 2, 0, 2}, 9, 1f), "k beyond the vocabulary keeps all");
    }

    @Test
    void topPKeepsTheSmallestPrefixWhoseMassBeforeEachTokenIsAtMostP() {
        float ninf = Float.NEGATIVE_INFINITY;
        // probabilities 0.5, 0.25, 0.125, 0.125 (sorted: index 2, 0, 1, 3)
        float[] row = {(float) Math.log(0.25), (float) Math.log(0.125), (float) Math.log(0.5), (float) Math.log(0.125)};
        assertArrayEquals(new float[]{ninf, ninf, row[2], ninf}, filtered(row, 0, 0.4f), "the top token always stays");
        assertArrayEquals(new float[]{row[0], ninf, row[2], ninf}, filtered(row, 0, 0.6f));
        assertArrayEquals(new float[]{row[0], row[1], row[2], ninf}, filtered(row, 0, 0.8f));
        assertArrayEquals(new float[]{row[0], ninf, row[2], ninf}, filtered(row, 2, 0.9f), "top-p over what top-k kept");
    }

    @Test
    void filterRefusesSettingsOutsideTheirRanges() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new LogitFilter(-1, 1f)).getMessage().contains("top-k -1"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new LogitFilter(0, 0f)).getMessage().contains("top-p 0.0 must lie in (0, 1]"));
    }

    @Test
    void greedyDrawIsTheArgmaxWhateverTheUniform() {
        FloatTensor logits = random(3, 64, 50);
        FloatTensor ids = FloatTensor.zeros(Shape.of(8, 8));
        b.sampleTokens(logits, new LogitFilter(1, 1f), 9, 4, ids);
        for (int r = 0; r < 64; r++) {
            int best = 0;
            for (int v = 1; v < 50; v++) if (logits.data()[r * 50 + v] > logits.data()[r * 50 + best]) best = v;
            assertEquals(best, ids.data()[r], "row " + r);
        }
    }

    @Test
    void drawsFollowTheDistributionAndTheSeed() {
        int rows = 20000;
        float[] p = {0.1f, 0.6f, 0.3f};
        float[] l = new float[rows * 3];
        for (int r = 0; r < rows; r++) for (int v = 0; v < 3; v++) l[r * 3 + v] = (float) Math.log(p[v]) + 7f;   // a shift changes nothing
        FloatTensor logits = FloatTensor.of(l, rows, 3), ids = FloatTensor.zeros(Shape.of(rows));
        b.sampleTokens(logits, LogitFilter.NONE, 5, 2, ids);
        int[] count = new int[3];
        for (float id : ids.data()) count[(int) id]++;
        for (int v = 0; v < 3; v++) assertEquals(p[v], count[v] / (double) rows, 0.01, "token " + v);
        // row r's draw is the first token whose running probability exceeds its Philox uniform
        for (int r = 0; r < 50; r++) {
            float u = Philox.uniform(5, 2, r);
            int expected = u < 0.1f ? 0 : u < 0.7f ? 1 : 2;
            if (Math.abs(u - 0.1f) > 1e-5 && Math.abs(u - 0.7f) > 1e-5) assertEquals(expected, ids.data()[r], "row " + r + ", u " + u);
        }
        FloatTensor again = FloatTensor.zeros(Shape.of(rows)), other = FloatTensor.zeros(Shape.of(rows));
        b.sampleTokens(logits, LogitFilter.NONE, 5, 2, again);
        b.sampleTokens(logits, LogitFilter.NONE, 5, 3, other);
        assertArrayEquals(ids.data(), again.data());
        assertTrue(!java.util.Arrays.equals(ids.data(), other.data()), "another stream draws otherwise");
    }

    @Test
    void aRowWithoutFiniteProbabilitiesDrawsMinusOne() {
        float ninf = Float.NEGATIVE_INFINITY;
        FloatTensor logits = FloatTensor.of(new float[]{ninf, ninf, ninf, Float.NaN, 0, 1, 0, Float.POSITIVE_INFINITY, 1, 0, 5, ninf}, 4, 3);
        FloatTensor ids = FloatTensor.zeros(Shape.of(4));
        b.sampleTokens(logits, LogitFilter.NONE, 1, 1, ids);
        assertArrayEquals(new float[]{-1, -1, -1, 1}, ids.data());
        var e = assertThrows(IllegalArgumentException.class, () -> b.sampleTokens(logits, LogitFilter.NONE, 1, 1, FloatTensor.zeros(Shape.of(2))));
        assertTrue(e.getMessage().contains("expected one id per row"), e.getMessage());
    }

    @Test
    void philoxUniformsAreOnTheirGridAndDeterministic() {
        double sum = 0;
        for (int i = 0; i < 10000; i++) {
            float u = Philox.uniform(77, 3, i);
            assertTrue(u >= 0f && u < 1f && u * (1 << 24) == Math.rint(u * (1 << 24)), "u " + u);
            assertEquals(u, Philox.uniform(77, 3, i));
            sum += u;
        }
        assertEquals(0.5, sum / 10000, 0.01);
    }
}
