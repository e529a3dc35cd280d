package ecar.sample;

import ecar.dit.DiTSampler;
import ecar.dit.Guidance;
import ecar.family.ImageRows;
import ecar.family.SamplingOption;
import ecar.family.SamplingOverrides;

import java.util.Arrays;
import java.util.Locale;

/**
 * What to generate: one image per class label, from a seed, with optional overrides of the model's sampling
 * settings (by option; a family refuses an option it does not use, naming the ones it does). Immutable: arrays are
 * copied in and out, and the builder-style methods return copies.
 * <pre>{@code GenerateRequest.of(207, 360).seed(7).cfg(2.4f)}</pre>
 *
 * <p>Each label is an image of a numbered set: images 0..N-1 unless {@link #images(int...)} says which. A family
 * that draws per image (DiT, FlowAR, ECAR) keys every random number of image k by (seed, k), so image 5 of a set is
 * the same picture whether it is generated alone, in a batch of 8, or in another shard.
 */
public final class GenerateRequest {
    private final int[] labels;
    private final int[] images;
    private final long seed;
    private final SamplingOverrides overrides;

    private GenerateRequest(int[] labels, int[] images, long seed, SamplingOverrides overrides) {
        if (labels == null || labels.length == 0) throw new IllegalArgumentException("at least one class label is needed");
        this.labels = labels.clone();
        this.images = images == null ? ImageRows.first(labels.length) : images.clone();
        ImageRows.check(this.labels, this.images);
        this.seed = seed;
        this.overrides = overrides;
    }

    public static GenerateRequest of(int... labels) {
        return new GenerateRequest(labels, null, 0, SamplingOverrides.NONE);
    }

    /** The class labels, one image each (a copy). */
    public int[] labels() {
        return labels.clone();
    }

    /** The index of each label's image in its set (a copy); 0..N-1 unless set. */
    public int[] images() {
        return images.clone();
    }

    /** The same labels as images {@code indices} of a set, one index per label. */
    public GenerateRequest images(int... indices) {
        return new GenerateRequest(labels, indices, seed, overrides);
    }

    public long seed() {
        return seed;
    }

    public SamplingOverrides overrides() {
        return overrides;
    }

    public GenerateRequest seed(long s) {
        return new GenerateRequest(labels, images, s, overrides);
    }

    /** Any sampling option (see {@link SamplingOption} for the value types). */
    public GenerateRequest option(SamplingOption option, Object value) {
        return new GenerateRequest(labels, images, seed, overrides.with(option, value));
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
        return o instanceof GenerateRequest r && Arrays.equals(r.labels, labels) && Arrays.equals(r.images, images) && r.seed == seed
                && r.overrides.equals(overrides);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(labels) * 31 + Long.hashCode(seed);
    }

    @Override
    public String toString() {
        boolean first = Arrays.equals(images, ImageRows.first(labels.length));
        return "GenerateRequest[labels " + Arrays.toString(labels) + (first ? "" : ", images " + Arrays.toString(images)) + ", seed " + seed
                + (overrides.isEmpty() ? "" : ", " + overrides) + "]";
    }
}
