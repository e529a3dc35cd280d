package ecar.cuda.ops;

import ecar.cuda.DeviceAddress;
import ecar.cuda.LaunchShape;

import static ecar.cuda.ops.OpCheck.buffer;
import static ecar.cuda.ops.OpCheck.disjoint;
import static ecar.cuda.ops.OpCheck.positive;
import static ecar.cuda.ops.OpCheck.that;

/**
 * kernels/sample.cu: ARPG's token sampling on float32 logits. CPU twins: {@code Backend.guideLogits, filterLogits,
 * sampleTokens}. The per-row kernels run one block of {@link #THREADS} threads per row of logits.
 */
public final class SampleKernels {
    private static final String FAMILY = "sample";
    public static final int THREADS = 256;
    private final Launcher launcher;

    public SampleKernels(Launcher launcher) {
        this.launcher = launcher;
    }

    /** out [half] = (u + (c − u)·cfg) / max(temperature, 1e-5) of logits [2·half] (conditional half first). */
    public void guide(DeviceAddress out, DeviceAddress logits, long half, float cfg, float temperature) {
        String op = "guideLogits";
        positive(op, "half", half);
        that(Float.isFinite(cfg) && Float.isFinite(temperature) && temperature >= 0f, op, "cfg " + cfg + " and temperature " + temperature
                + " must be finite, the temperature not negative");
        buffer(op, "logits", logits, 8 * half, 4, "[2 × " + half + "] f32");
        buffer(op, "out", out, 4 * half, 4, "[" + half + "] f32");
        disjoint(op, "out", out, "logits", logits);
        launcher.launch(FAMILY, "guide_logits(ptr out, ptr logits, i64 half, f32 cfg, f32 t)", LaunchShape.linear(half, 256), out, logits, half, cfg,
                Math.max(temperature, 1e-5f));
    }

    /**
     * The same with the guidance weight read from device address {@code cfg} (one f32: a captured step's scalar); the
     * temperature stays an argument.
     */
    public void guideDev(DeviceAddress out, DeviceAddress logits, long half, DeviceAddress cfg, float temperature) {
        String op = "guideLogits (device cfg)";
        positive(op, "half", half);
        that(Float.isFinite(temperature) && temperature >= 0f, op, "temperature " + temperature + " must be finite and not negative");
        buffer(op, "logits", logits, 8 * half, 4, "[2 × " + half + "] f32");
        buffer(op, "out", out, 4 * half, 4, "[" + half + "] f32");
        buffer(op, "cfg", cfg, 4, 4, "one f32");
        disjoint(op, "out", out, "logits", logits);
        launcher.launch(FAMILY, "guide_logits_dev(ptr out, ptr logits, i64 half, ptr cfg, f32 t)", LaunchShape.linear(half, 256), out, logits, half, cfg,
                Math.max(temperature, 1e-5f));
    }

    /** top_k_top_p_filtering in place on logits [rows, v]: removed entries become −∞. */
    public void filter(DeviceAddress logits, int rows, int v, int topK, float topP) {
        String op = "filterLogits";
        rows(op, logits, rows, v);
        that(topK >= 0 && topP > 0f && topP <= 1f, op, "top-k " + topK + " and top-p " + topP + ": expected top-k ≥ 0 and top-p in (0, 1]");
        launcher.launch(FAMILY, "filter_top_k_top_p(ptr logits, i32 rows, i32 v, i32 top_k, f32 top_p)", LaunchShape.of(rows, 1, 1, THREADS, 0),
                logits, rows, v, topK, topP);
    }

    /** ids [rows] (float32 integers, −1 for a row without finite probabilities) = one draw per row of logits [rows, v]. */
    public void draw(DeviceAddress ids, DeviceAddress logits, int rows, int v, long seed, int stream) {
        String op = "sampleTokens";
        rows(op, logits, rows, v);
        buffer(op, "ids", ids, 4L * rows, 4, "[" + rows + "] f32");
        disjoint(op, "ids", ids, "logits", logits);
        launcher.launch(FAMILY, "categorical_draw(ptr ids, ptr logits, i32 rows, i32 v, u64 seed, u32 stream)", LaunchShape.of(rows, 1, 1, THREADS, 0),
                ids, logits, rows, v, seed, stream);
    }

    /**
     * The same with the Philox seed (low word, high word) and stream read from the three 32-bit words at device address
     * {@code noise} (a captured step's scalars from StepScalars.SEED_LOW).
     */
    public void drawDev(DeviceAddress ids, DeviceAddress logits, int rows, int v, DeviceAddress noise) {
        String op = "sampleTokens (device seed and stream)";
        rows(op, logits, rows, v);
        buffer(op, "ids", ids, 4L * rows, 4, "[" + rows + "] f32");
        buffer(op, "noise", noise, 12, 4, "three u32: seed low, seed high, stream");
        disjoint(op, "ids", ids, "logits", logits);
        launcher.launch(FAMILY, "categorical_draw_dev(ptr ids, ptr logits, i32 rows, i32 v, ptr noise)", LaunchShape.of(rows, 1, 1, THREADS, 0),
                ids, logits, rows, v, noise);
    }

    private static void rows(String op, DeviceAddress logits, int rows, int v) {
        positive(op, "rows", rows);
        positive(op, "V", v);
        buffer(op, "logits", logits, 4L * rows * v, 4, "[" + rows + ", " + v + "] f32");
    }
}
