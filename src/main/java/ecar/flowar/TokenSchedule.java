package ecar.flowar;

import ecar.model.Linspace;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The two ways to sample FlowAR-family tokens over stages of rising resolution, as data: a list of
 * {@link StagePlan}s. FLOWAR denoises every scale in full from fresh noise (the official sampler); ECAR gives
 * each stage one window of the noise axis (Pyramid Flow's windows) and starts it from the previous stage by the
 * jump, so the flow is spread over the stages instead of repeated at each.
 */
public final class TokenSchedule {
    public enum Kind { FLOWAR, ECAR }

    private final Kind kind;
    private final List<StagePlan> stages;
    private final String description;

    private TokenSchedule(Kind kind, List<StagePlan> stages, String description) {
        this.kind = kind;
        this.stages = List.copyOf(stages);
        this.description = description;
    }

    public Kind kind() {
        return kind;
    }

    public List<StagePlan> stages() {
        return stages;
    }

    public StagePlan stage(int s) {
        return stages.get(s);
    }

    /**
     * The side of the bicubic step in the resize between stages (bicubic up to it, then area down to the next
     * stage). The official FlowAR sampler hard-codes 16×16 (its 256² grid) whatever the image size; ECAR goes
     * through the final token grid. Both are 16 for 256² images.
     */
    public int resizeGrid(int finalGrid) {
        return kind == Kind.FLOWAR ? FLOWAR_RESIZE_GRID : finalGrid;
    }

    /** FlowAR's {@code F.interpolate(x_, (16, 16), mode='bicubic')} between scales. */
    public static final int FLOWAR_RESIZE_GRID = 16;

    public int totalSteps() {
        return stages.stream().mapToInt(StagePlan::steps).sum();
    }

    @Override
    public String toString() {
        return description;
    }

    /** cfg ramps linearly from 1 at the first stage to cfg at the last (FlowAR's scaled_cfg). */
    static float rampedCfg(float cfg, int stage, int stages) {
        return stages == 1 ? cfg : (cfg - 1) * stage / (stages - 1) + 1;
    }

    private static void checkCommon(int[] sides, float cfg, float guidanceHigh) {
        if (sides.length == 0) throw new IllegalArgumentException("the schedule needs at least one stage");
        for (int i = 1; i < sides.length; i++) {
            if (sides[i] != 2 * sides[i - 1]) {
                throw new IllegalArgumentException("stage sides must double from stage to stage, got " + Arrays.toString(sides));
            }
        }
        if (!(cfg >= 1f && cfg < Float.POSITIVE_INFINITY)) throw new IllegalArgumentException("cfg " + cfg + " must be a finite number of at least 1 (1 turns guidance off)");
        if (!(guidanceHigh >= 0f && guidanceHigh <= 1f)) throw new IllegalArgumentException("guidance interval end " + guidanceHigh + " must be in [0, 1]");
    }

    /**
     * FlowAR's sampler: per stage, fresh noise and Euler on t from 1 to 0 over
     * [linspace(1, 0.3, K/2), linspace(0.25, 0, K/2+1)] (K = 50: linspace(1, 0, 51)); guided while t ≤ guidanceHigh.
     */
    public static TokenSchedule flowAr(int[] sides, int numSteps, float cfg, float guidanceHigh) {
        checkCommon(sides, cfg, guidanceHigh);
        if (numSteps < 2) throw new IllegalArgumentException("FlowAR steps " + numSteps + " must be at least 2");
        double[] grid = numSteps == 50 ? Linspace.torch(1, 0, 51)
                : concat(Linspace.torch(1, 0.3, numSteps / 2), Linspace.torch(0.25, 0, numSteps / 2 + 1));
        List<StagePlan> plans = new ArrayList<>();
        for (int s = 0; s < sides.length; s++) {
            float w = rampedCfg(cfg, s, sides.length);
            int n = grid.length - 1;
            float[] t = new float[n], dt = new float[n];
            boolean[] guided = new boolean[n];
            for (int i = 0; i < n; i++) {
                t[i] = (float) grid[i];
                dt[i] = (float) (grid[i + 1] - grid[i]);
                guided[i] = w > 1f && grid[i] <= guidanceHigh && grid[i] >= 0.0;
            }
            plans.add(new StagePlan(sides[s], false, 0f, 0f, 0f, t, dt, guided, w));
        }
        return new TokenSchedule(Kind.FLOWAR, plans, String.format(Locale.ROOT,
                "FlowAR schedule: %d stages %s, %d Euler steps each, cfg %.2f ramped from 1, guidance while t <= %.2f",
                sides.length, Arrays.toString(sides), grid.length - 1, cfg, guidanceHigh));
    }

    /**
     * ECAR's multistage schedule (MODELS.md §3): stage s takes K_s Euler steps over Pyramid Flow's stage-local
     * sigma grid, the head sees timesteps_K[i]/1000 on the global axis, and every stage after the first starts
     * from the previous one by the jump with the stage's α and β and block noise of correlation γ.
     */
    public static TokenSchedule ecar(int[] sides, int[] stepsPerStage, double gamma, float cfg, float guidanceHigh) {
        checkCommon(sides, cfg, guidanceHigh);
        if (stepsPerStage.length != sides.length) {
            throw new IllegalArgumentException(stepsPerStage.length + " step counts for " + sides.length + " stages");
        }
        for (int k : stepsPerStage) if (k <= 0) throw new IllegalArgumentException("steps per stage must be positive, got " + k);
        PyramidWindows windows = new PyramidWindows(sides.length, gamma);
        List<StagePlan> plans = new ArrayList<>();
        for (int s = 0; s < sides.length; s++) {
            int k = stepsPerStage[s];
            double[] ts = windows.timesteps(k, s), sig = windows.sigmas(k, s);
            float w = rampedCfg(cfg, s, sides.length);
            float[] t = new float[k], dt = new float[k];
            boolean[] guided = new boolean[k];
            for (int i = 0; i < k; i++) {
                t[i] = (float) (ts[i] / 1000.0);
                dt[i] = (float) (sig[i + 1] - sig[i]);
                guided[i] = w > 1f && t[i] <= guidanceHigh;
            }
            boolean jump = s > 0;
            plans.add(new StagePlan(sides[s], jump, jump ? (float) windows.jumpAlpha(s) : 0f, jump ? (float) windows.jumpBeta(s) : 0f,
                    (float) gamma, t, dt, guided, w));
        }
        return new TokenSchedule(Kind.ECAR, plans, String.format(Locale.ROOT,
                "ECAR schedule: %d stages %s, steps per stage %s, gamma %.4f, cfg %.2f ramped from 1, guidance while t <= %.2f",
                sides.length, Arrays.toString(sides), Arrays.toString(stepsPerStage), gamma, cfg, guidanceHigh));
    }

    private static double[] concat(double[] a, double[] b) {
        double[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
