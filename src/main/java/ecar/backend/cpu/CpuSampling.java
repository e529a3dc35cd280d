package ecar.backend.cpu;

import ecar.backend.LogitFilter;
import ecar.backend.Philox;

import java.util.Arrays;

/**
 * CPU twin of kernels/sample.cu: ARPG's token draw. Guidance and temperature on logits, {@code top_k_top_p_filtering}
 * exactly as the reference computes it (sorted descending, softmax, running sums compared with top-p), and one
 * categorical draw per row from a Philox uniform.
 */
final class CpuSampling {
    private CpuSampling() {}

    /** out[n, i] = (u + (c − u)·cfg) / max(T, 1e-5) with c = logits[n, i], u = logits[N + n, i]; rows of len elements. */
    static void guide(float[] out, float[] logits, int halfElements, float cfg, float temperature) {
        float t = Math.max(temperature, 1e-5f);
        for (int i = 0; i < halfElements; i++) {
            float c = logits[i], u = logits[halfElements + i];
            out[i] = (u + (c - u) * cfg) / t;
        }
    }

    /** The filter on every row of v entries, in place. */
    static void filter(float[] logits, int v, LogitFilter f) {
        if (!f.active()) return;
        Parallel.forRange(logits.length / v, 16, (r0, r1) -> {
            for (int r = r0; r < r1; r++) filterRow(logits, r * v, v, f);
        });
    }

    /** One row: top-k (ties with the k-th largest kept), then top-p over what remains. */
    static void filterRow(float[] x, int o, int v, LogitFilter f) {
        if (f.topK() > 0) {
            int k = Math.min(f.topK(), v);
            float[] sorted = Arrays.copyOfRange(x, o, o + v);
            Arrays.sort(sorted);
            float kth = sorted[v - k];
            for (int i = o; i < o + v; i++) if (x[i] < kth) x[i] = Float.NEGATIVE_INFINITY;
        }
        if (f.topP() < 1f) {
            Integer[] order = new Integer[v];
            for (int i = 0; i < v; i++) order[i] = i;
            // descending, ties by index (a stable sort): the reference's torch.sort leaves ties in an unspecified order
            Arrays.sort(order, (a, b) -> Float.compare(x[o + b], x[o + a]));
            float max = x[o + order[0]];
            if (!(max > Float.NEGATIVE_INFINITY)) return;
            float[] e = new float[v];
            double sum = 0;
            for (int i = 0; i < v; i++) {
                e[i] = (float) Math.exp(x[o + order[i]] - max);
                sum += e[i];
            }
            // cumulative probabilities as torch.cumsum gives them on the CPU: a double running sum stored as float
            double cum = 0;
            float before = 0f;   // the probability of the tokens sorted before this one
            boolean[] remove = new boolean[v];
            for (int i = 0; i < v; i++) {
                if (i > 0 && before > f.topP()) remove[order[i]] = true;
                cum += (float) (e[i] / sum);
                before = (float) cum;
            }
            for (int i = 0; i < v; i++) if (remove[i]) x[o + i] = Float.NEGATIVE_INFINITY;
        }
    }

    /** One draw per row of v logits into ids (as floats), the row's uniform from Philox (seed, stream, row). */
    static void draw(float[] logits, int v, long seed, int stream, float[] ids) {
        Parallel.forRange(ids.length, 16, (r0, r1) -> {
            for (int r = r0; r < r1; r++) ids[r] = drawRow(logits, r * v, v, Philox.uniform(seed, stream, r));
        });
    }

    /** The first j whose running sum of e = exp(x − max) exceeds u·Σe; −1 when the row's probabilities are not finite. */
    static int drawRow(float[] x, int o, int v, float u) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = o; i < o + v; i++) {
            if (Float.isNaN(x[i])) return -1;
            max = Math.max(max, x[i]);
        }
        if (max == Float.NEGATIVE_INFINITY || max == Float.POSITIVE_INFINITY) return -1;
        double sum = 0;
        for (int i = o; i < o + v; i++) sum += (float) Math.exp(x[i] - max);
        double target = u * sum, running = 0;
        int last = -1;
        for (int i = o; i < o + v; i++) {
            float e = (float) Math.exp(x[i] - max);
            if (e > 0f) last = i - o;
            running += e;
            if (running > target) return i - o;
        }
        return last;   // u·Σe rounded onto the total: the last token with any probability
    }
}
