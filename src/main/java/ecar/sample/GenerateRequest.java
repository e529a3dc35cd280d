package ecar.sample;

import ecar.dit.DiTSampler;
import ecar.dit.Guidance;

import java.util.Arrays;

/**
 * What to generate: one image per class label, from a seed, with optional overrides of the model's sampling
 * settings. Immutable; the builder-style methods return copies.
 * <pre>{@code GenerateRequest.of(207, 360).seed(7).cfg(2.4f)}</pre>
 */
public record GenerateRequest(int[] labels, long seed, Integer steps, int[] stageSteps, Float cfg, Float guidanceHigh, Double gamma,
                              DiTSampler.Method ditMethod, Guidance ditGuidance) {

    public GenerateRequest {
        if (labels == null || labels.length == 0) throw new IllegalArgumentException("at least one class label is needed");
        labels = labels.clone();
        stageSteps = stageSteps == null ? null : stageSteps.clone();
    }

    public static GenerateRequest of(int... labels) {
        return new GenerateRequest(labels, 0, null, null, null, null, null, null, null);
    }

    public GenerateRequest seed(long s) {
        return new GenerateRequest(labels, s, steps, stageSteps, cfg, guidanceHigh, gamma, ditMethod, ditGuidance);
    }

    public GenerateRequest steps(int n) {
        return new GenerateRequest(labels, seed, n, stageSteps, cfg, guidanceHigh, gamma, ditMethod, ditGuidance);
    }

    public GenerateRequest stageSteps(int... perStage) {
        return new GenerateRequest(labels, seed, steps, perStage, cfg, guidanceHigh, gamma, ditMethod, ditGuidance);
    }

    public GenerateRequest cfg(float w) {
        return new GenerateRequest(labels, seed, steps, stageSteps, w, guidanceHigh, gamma, ditMethod, ditGuidance);
    }

    public GenerateRequest guidanceHigh(float t) {
        return new GenerateRequest(labels, seed, steps, stageSteps, cfg, t, gamma, ditMethod, ditGuidance);
    }

    public GenerateRequest gamma(double g) {
        return new GenerateRequest(labels, seed, steps, stageSteps, cfg, guidanceHigh, g, ditMethod, ditGuidance);
    }

    public GenerateRequest ditMethod(DiTSampler.Method m) {
        return new GenerateRequest(labels, seed, steps, stageSteps, cfg, guidanceHigh, gamma, m, ditGuidance);
    }

    public GenerateRequest ditGuidance(Guidance g) {
        return new GenerateRequest(labels, seed, steps, stageSteps, cfg, guidanceHigh, gamma, ditMethod, g);
    }

    /** The model's defaults with this request's overrides. */
    public Sampling applyTo(Sampling s) {
        if (steps != null) s = s.withSteps(steps);
        if (stageSteps != null) s = s.withStepsPerStage(stageSteps);
        if (cfg != null) s = s.withCfg(cfg);
        if (guidanceHigh != null) s = s.withGuidanceHigh(guidanceHigh);
        if (gamma != null) s = s.withGamma(gamma);
        if (ditMethod != null) s = s.withDiTMethod(ditMethod);
        if (ditGuidance != null) s = s.withDiTGuidance(ditGuidance);
        return s;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GenerateRequest r && Arrays.equals(r.labels, labels) && r.seed == seed && java.util.Objects.equals(r.steps, steps)
                && Arrays.equals(r.stageSteps, stageSteps) && java.util.Objects.equals(r.cfg, cfg) && java.util.Objects.equals(r.guidanceHigh, guidanceHigh)
                && java.util.Objects.equals(r.gamma, gamma) && r.ditMethod == ditMethod && r.ditGuidance == ditGuidance;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(labels) * 31 + Long.hashCode(seed);
    }
}
