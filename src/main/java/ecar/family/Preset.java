package ecar.family;

import ecar.flops.CountingBackend;
import ecar.flops.FlopsReport;
import ecar.model.Progress;
import ecar.model.RandomWeights;
import ecar.model.Weights;
import ecar.vae.VaeConfig;
import ecar.vae.VaeDecoder;

/**
 * A named model: its family and architecture, the image size, the decoder that turns its latents into pictures,
 * and its default sampling. Weights come from a model directory or, for presets, from seeded random numbers.
 */
public record Preset(String name, ModelFamily family, int imageSize, Architecture architecture, VaeConfig vae, Sampling sampling, String about) {

    public Preset {
        if (vae.inputChannels() != architecture.latentChannels() || architecture.latentSide() * vae.factor() != imageSize) {
            throw new IllegalArgumentException(name + ": VAE " + vae + " does not fit " + architecture.latentChannels() + "-channel "
                    + architecture.latentSide() + "² latents of " + imageSize + "² images");
        }
    }

    public int numClasses() {
        return architecture.numClasses();
    }

    public int latentChannels() {
        return architecture.latentChannels();
    }

    public Preset withSampling(Sampling s) {
        return new Preset(name, family, imageSize, architecture, vae, s, about);
    }

    public Preset withVae(VaeConfig v) {
        return new Preset(name, family, imageSize, architecture, v, sampling, about);
    }

    /** The preset rebuilt for another image size (a multiple of 16 the architecture can take). */
    public Preset atImageSize(int size) {
        if (size == imageSize) return this;
        if (size <= 0 || size % 16 != 0) throw new IllegalArgumentException("image size " + size + " must be a positive multiple of 16");
        return new Preset(name, family, size, architecture.atImageSize(size, vae.factor()), vae, sampling, about);
    }

    /** The settings of a request: these defaults with its overrides, checked against the architecture. */
    public Sampling settings(SamplingOverrides overrides) {
        Sampling s = sampling.with(overrides);
        family.check(this, s);
        return s;
    }

    /**
     * The multiply-accumulates of one image with these settings, counted by running the generator (and the decoder)
     * on a {@link CountingBackend}: the model code is the only description of the architecture.
     */
    public FlopsReport flops(Sampling s) {
        family.check(this, s);
        CountingBackend counter = new CountingBackend();
        Weights w = new Weights(new RandomWeights(0), counter);
        family.load(this, w).sample(new int[]{0}, s, 0, Progress.NONE);
        FlopsReport r = counter.report(name + ": " + architecture.describe() + ", " + imageSize + "² images; " + s.describe(), 1);
        CountingBackend decoder = new CountingBackend();
        int side = architecture.latentSide();
        VaeDecoder.load(vae, new RandomWeights(1), decoder).decodeRaw(decoder.zeros(ecar.tensor.Shape.of(1, latentChannels(), side, side)));
        return r.withDecode(vae.name() + ", " + side + "² latent to " + imageSize + "²", decoder.report("decode", 1).macsPerImage());
    }

    public FlopsReport flops() {
        return flops(sampling);
    }
}
