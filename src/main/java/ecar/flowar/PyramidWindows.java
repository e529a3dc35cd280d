package ecar.flowar;

import ecar.model.Linspace;

/**
 * Pyramid Flow's split of the noise axis into stage windows (PyramidFlowMatchEulerDiscreteScheduler with
 * shift 1 and stage_range = linspace(0, 1, S+1)), reproduced number for number: the global sigmas are float32
 * k/1000 as the reference stores them, every later stage starts at a corrected sigma so the renoised jump
 * lands on the window, and each stage's timestep range is proportional to its length on the flow.
 */
public final class PyramidWindows {
    private static final int T = 1000;

    private final int stages;
    private final double gamma;
    private final double[] startSigma, endSigma, oriStartSigma, ratioStart, ratioEnd;
    private final double[] timestepMax, timestepMin;   // of each stage's 1000-point timestep grid (first, last kept)

    public PyramidWindows(int stages, double gamma) {
        if (stages < 1) throw new IllegalArgumentException("the schedule needs at least 1 stage, got " + stages);
        if (!(gamma > 0 && gamma <= 1.0 / 3)) {
            throw new IllegalArgumentException("gamma " + gamma + " outside (0, 1/3]: the block-noise covariance (1+γ)I − γ·11ᵀ is not positive semi-definite beyond 1/3");
        }
        this.stages = stages;
        this.gamma = gamma;
        startSigma = new double[stages];
        endSigma = new double[stages];
        oriStartSigma = new double[stages];
        ratioStart = new double[stages];
        ratioEnd = new double[stages];
        timestepMax = new double[stages];
        timestepMin = new double[stages];

        double[] range = Linspace.numpy(0, 1, stages + 1);
        double[] distance = new double[stages];
        for (int s = 0; s < stages; s++) {
            int startIdx = Math.max((int) (range[s] * T), 0);
            int endIdx = Math.min((int) (range[s + 1] * T), T);
            double start = sigma(startIdx);
            double end = endIdx < T ? sigma(endIdx) : 0.0;
            oriStartSigma[s] = start;
            if (s != 0) {
                double ori = 1 - start;
                double corrected = (1 / (Math.sqrt(1 + 1 / gamma) * (1 - ori) + ori)) * ori;
                start = 1 - corrected;
            }
            distance[s] = start - end;
            startSigma[s] = start;
            endSigma[s] = end;
        }
        double total = 0;
        for (double d : distance) total += d;
        for (int s = 0; s < stages; s++) {
            ratioStart[s] = s == 0 ? 0.0 : sum(distance, s) / total;
            ratioEnd[s] = s == stages - 1 ? 1.0 : sum(distance, s + 1) / total;
            double tMax = timestep((int) (ratioStart[s] * T));
            double tMin = timestep(Math.min((int) (ratioEnd[s] * T), T - 1));
            // the stage grid is linspace(tMax, tMin, T + 1) without its last point: keep its first and last
            double[] grid = Linspace.numpy(tMax, tMin, T + 1);
            timestepMax[s] = grid[0];
            timestepMin[s] = grid[T - 1];
        }
    }

    /** Python's sum() of the first n entries, left to right from 0. */
    private static double sum(double[] v, int n) {
        double acc = 0;
        for (int i = 0; i < n; i++) acc += v[i];
        return acc;
    }

    /** The reference's global sigmas[i]: float32((T − i)/T). */
    private static double sigma(int i) {
        return (float) (T - i) / (float) T;
    }

    /** The reference's global timesteps[i]: float32(sigmas[i] · T). */
    private static double timestep(int i) {
        return (float) sigma(i) * (float) T;
    }

    public int stages() {
        return stages;
    }

    public double gamma() {
        return gamma;
    }

    public double startSigma(int s) {
        return startSigma[s];
    }

    public double endSigma(int s) {
        return endSigma[s];
    }

    public double oriStartSigma(int s) {
        return oriStartSigma[s];
    }

    public double[] timestepRatio(int s) {
        return new double[]{ratioStart[s], ratioEnd[s]};
    }

    /** set_timesteps(K, s).timesteps: K points of the stage on the global 0..1000 axis. */
    public double[] timesteps(int k, int s) {
        return Linspace.numpy(timestepMax[s], timestepMin[s], k);
    }

    /** set_timesteps(K, s).sigmas: the stage-local grid linspace(1, 0.001, K) then 0. */
    public double[] sigmas(int k, int s) {
        double sigmaMin = Linspace.numpy(1, 0, T + 1)[T - 1];   // the last of the stage's 1000 sigmas
        double[] local = Linspace.numpy(1.0, sigmaMin, k);
        double[] r = java.util.Arrays.copyOf(local, k + 1);
        r[k] = 0.0;
        return r;
    }

    /** α of the jump into stage s &gt; 0: 1/(√(1+1/γ)(1−s₀)+s₀) with s₀ = 1 − the stage's original start σ. */
    public double jumpAlpha(int s) {
        double ori = 1 - oriStartSigma[s];
        return 1 / (Math.sqrt(1 + 1 / gamma) * (1 - ori) + ori);
    }

    /** β of the jump into stage s &gt; 0: α(1−s₀)/√γ. */
    public double jumpBeta(int s) {
        double ori = 1 - oriStartSigma[s];
        return jumpAlpha(s) * (1 - ori) / Math.sqrt(gamma);
    }
}
