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

    /** This preset with another architecture and decoder; the image size follows them (latent side × decoder factor). */
    public Preset with(Architecture a, VaeConfig v) {
        return new Preset(name, family, a.latentSide() * v.factor(), a, v, sampling, about);
    }

    /**
     * The largest image side {@link #atImageSize} builds: twice the largest the papers trained (512²). Beyond it the CPU
     * backend's attention over the SD-f8 decoder's 256² latent tokens (at 2048²) would need one score matrix of 2³² floats,
     * more than a Java array holds, and every model's memory grows with the square of the side.
     */
    public static final int MAX_IMAGE_SIZE = 1024;

    /** The preset rebuilt for another image size (a multiple of 16 the architecture can take, at most {@link #MAX_IMAGE_SIZE}). */
    public Preset atImageSize(int size) {
        if (size == imageSize) return this;
        if (size <= 0 || size % 16 != 0) throw new IllegalArgumentException("image size " + size + " must be a positive multiple of 16");
        if (size > MAX_IMAGE_SIZE) throw new IllegalArgumentException("image size " + size + " exceeds the limit of " + MAX_IMAGE_SIZE + " pixels a side");
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

    /**
     * The device memory a generation of {@code batch} images would need on the CUDA backend, by running the generator on
     * a {@link CountingBackend} that keeps the bytes (weights; the activation arena's peak as scopes free blocks' work).
     */
    public CountingBackend.MemoryEstimate memory(int batch, Sampling s) {
        if (batch <= 0) throw new IllegalArgumentException("batch " + batch + " must be positive");
        family.check(this, s);
        CountingBackend counter = new CountingBackend();
        Generator g = family.load(this, new Weights(new RandomWeights(0), counter));
        try (ecar.backend.Backend.Scope scope = counter.scope()) {
            g.sample(new int[batch], s, 0, Progress.NONE);
        }
        return counter.memory();
    }

    /**
     * The largest batch whose activations fit in {@code arenaBytes} by {@link #memory}'s estimate (it grows by the same
     * bytes per image), or 0 when not even one image fits.
     */
    public int largestBatch(long arenaBytes, Sampling s) {
        long one = memory(1, s).peakActivationBytes(), two = memory(2, s).peakActivationBytes();
        if (one > arenaBytes) return 0;
        long perImage = Math.max(1, two - one);
        int lo = 1, hi = (int) Math.min(1 << 20, 2 + (arenaBytes - one) / perImage);   // lo fits; search up to the linear guess
        while (lo < hi) {
            int mid = (int) (((long) lo + hi + 1) / 2);
            if (fits(mid, arenaBytes, s)) lo = mid;
            else hi = mid - 1;
        }
        return lo;
    }

    /** True when a batch's activations fit; a batch whose tensors outgrow 2³¹ elements does not fit either. */
    private boolean fits(int batch, long arenaBytes, Sampling s) {
        try {
            return memory(batch, s).peakActivationBytes() <= arenaBytes;
        } catch (IllegalStateException e) {
            return false;
        }
    }
}
