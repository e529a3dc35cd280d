package ecar.sample;

import ecar.dit.DiTSampler;
import ecar.dit.Guidance;
import ecar.family.SamplingOption;
import ecar.family.SamplingOverrides;

import java.util.Arrays;
import java.util.Locale;

/**
 * What to generate: one image per class label, from a seed, with optional overrides of the model's sampling
 * settings (by option; a family refuses an option it does not use, naming the ones it does). Immutable: arrays are
 * copied in and out, and the builder-style methods return copies.
 * <pre>{@code GenerateRequest.of(207, 360).seed(7).cfg(2.4f)}</pre>
 */
public final class GenerateRequest {
    private final int[] labels;
    private final long seed;
    private final SamplingOverrides overrides;

    private GenerateRequest(int[] labels, long seed, SamplingOverrides overrides) {
        if (labels == null || labels.length == 0) throw new IllegalArgumentException("at least one class label is needed");
        this.labels = labels.clone();
        this.seed = seed;
        this.overrides = overrides;
    }

    public static GenerateRequest of(int... labels) {
        return new GenerateRequest(labels, 0, SamplingOverrides.NONE);
    }

    /** The class labels, one image each (a copy). */
    public int[] labels() {
        return labels.clone();
    }

    public long seed() {
        return seed;
    }

    public SamplingOverrides overrides() {
        return overrides;
    }

    public GenerateRequest seed(long s) {
        return new GenerateRequest(labels, s, overrides);
    }

    /** Any sampling option (see {@link SamplingOption} for the value types). */
    public GenerateRequest option(SamplingOption option, Object value) {
        return new GenerateRequest(labels, seed, overrides.with(option, value));
    }

    /** All of these overrides on top of this request's. */
    public GenerateRequest options(SamplingOverrides more) {
        GenerateRequest r = this;
        for (var e : more.asMap().entrySet()) r = r.option(e.getKey(), e.getValue());
        return r;
    }

    public GenerateRequest steps(int n) {
        return option(SamplingOption.STEPS, n);
    }

    public GenerateRequest stageSteps(int... perStage) {
        return option(SamplingOption.STAGE_STEPS, perStage.clone());
    }

    public GenerateRequest cfg(float w) {
        return option(SamplingOption.CFG, w);
    }

    public GenerateRequest guidanceHigh(float t) {
        return option(SamplingOption.GUIDANCE_HIGH, t);
    }

    public GenerateRequest gamma(double g) {
        return option(SamplingOption.GAMMA, g);
    }

    public GenerateRequest ditMethod(DiTSampler.Method m) {
        return option(SamplingOption.SAMPLER, m.name().toLowerCase(Locale.ROOT));
    }

    public GenerateRequest ditGuidance(Guidance g) {
        return option(SamplingOption.GUIDE_ALL_CHANNELS, g == Guidance.ALL_CHANNELS);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GenerateRequest r && Arrays.equals(r.labels, labels) && r.seed == seed && r.overrides.equals(overrides);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(labels) * 31 + Long.hashCode(seed);
    }

    @Override
    public String toString() {
        return "GenerateRequest[labels " + Arrays.toString(labels) + ", seed " + seed + (overrides.isEmpty() ? "" : ", " + overrides) + "]";
    }
}
