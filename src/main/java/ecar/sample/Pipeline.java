package ecar.sample;

import ecar.backend.Backend;
import ecar.backend.OutOfMemory;
import ecar.family.Generator;
import ecar.family.Preset;
import ecar.family.Sampling;
import ecar.model.Progress;
import ecar.model.RandomWeights;
import ecar.model.WeightSource;
import ecar.model.Weights;
import ecar.tensor.FloatTensor;
import ecar.vae.VaeDecoder;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Supplier;

/**
 * A loaded model ready to generate: a generator of some family (ecar.family) and the decoder that turns its
 * latents into pictures.
 * <pre>{@code
 * Pipeline p = Pipeline.load("models/ecar-l", new CpuBackend());
 * Generated g = p.generate(GenerateRequest.of(207, 360).seed(7), Progress.NONE);
 * ImageIO.write(g.images().get(0), "png", new File("dog.png"));
 * }</pre>
 * Thread safety: a pipeline may be shared by threads; generations on one pipeline run one at a time (calls
 * are serialised), and the backend uses every core or the GPU within a call. Load several pipelines to run
 * several models at once.
 */
public final class Pipeline {
    private final Preset preset;
    private final Backend backend;
    private final Generator generator;
    private final long parameters;
    private final String weightsDescription;
    private final boolean randomWeights;
    private final Supplier<VaeDecoder> vae;   // loaded on first use; null when the model has none
    private VaeDecoder vaeLoaded;

    private Pipeline(Preset preset, Backend backend, Generator generator, long parameters, String weightsDescription, boolean randomWeights,
                     Supplier<VaeDecoder> vae) {
        this.preset = preset;
        this.backend = backend;
        this.generator = generator;
        this.parameters = parameters;
        this.weightsDescription = weightsDescription;
        this.randomWeights = randomWeights;
        this.vae = vae;
    }

    /**
     * A preset name (random weights, e.g. "ecar-l") or a model directory (config.json and safetensors, see
     * docs/MODEL_DIRECTORY.md).
     */
    public static Pipeline load(String modelOrDirectory, Backend backend) {
        Path dir = Path.of(modelOrDirectory);
        if (Files.isDirectory(dir)) return ModelDirectory.load(dir, backend);
        if (!Presets.exists(modelOrDirectory) && (modelOrDirectory.contains("/") || modelOrDirectory.contains(java.io.File.separator))) {
            throw new IllegalArgumentException("model directory " + modelOrDirectory + " does not exist");
        }
        return random(Presets.get(modelOrDirectory), 0, backend);   // an unknown name throws, listing the presets
    }

    /**
     * The preset's architecture with weights from the source (checked: every problem is listed at once) and,
     * when vae is not null, a decoder for pictures.
     */
    public static Pipeline of(Preset preset, WeightSource weights, Supplier<VaeDecoder> vae, Backend backend) {
        Weights w = new Weights(weights, backend);
        Generator g = preset.family().load(preset, w);
        w.finish();
        return new Pipeline(preset, backend, g, w.parameterCount(), weights.describe(), weights instanceof RandomWeights, vae);
    }

    /** Without a VAE: latents only. */
    public static Pipeline of(Preset preset, WeightSource weights, Backend backend) {
        return of(preset, weights, null, backend);
    }

    /** A preset with seeded random weights, the VAE's too (no download): for benchmarks, comparisons and tests. */
    public static Pipeline random(Preset preset, long seed, Backend backend) {
        return of(preset, new RandomWeights(seed), () -> VaeDecoder.load(preset.vae(), new RandomWeights(seed + 1), backend), backend);
    }

    /**
     * True when the model keys every random draw by image index (DiT, FlowAR, ECAR), so an image of a set is the same in
     * any batch; false for a family whose draws are shared by the batch (see {@link Generator#sample(int[], int[], Sampling, long, Progress)}).
     */
    public boolean drawsPerImage() {
        return generator.drawsPerImage();
    }

    /** True when the weights are seeded random numbers: the pictures are then noise. */
    public boolean randomWeights() {
        return randomWeights;
    }

    /** Where the generator's weights came from. */
    public String weightsDescription() {
        return weightsDescription;
    }

    public boolean hasVae() {
        return vae != null;
    }

    /**
     * Latents and pictures for the request: sampling, then the VAE decode. The same request gives the same
     * pictures. Progress reports the phases "sampling" and "decode".
     */
    public synchronized Generated generate(GenerateRequest r, Progress progress) {
        check(r);
        VaeDecoder decoder = vae();   // a missing VAE is an error before any sampling
        long t0 = System.nanoTime();
        FloatTensor latents = sampleLatents(r, progress);
        long t1 = System.nanoTime();
        FloatTensor pixels;
        try (Backend.Scope scope = backend.scope()) {
            pixels = decoder.decodeImages(backend.upload(latents), progress);
        }
        return new Generated(r, latents, pixels, (t1 - t0) / 1e9, (System.nanoTime() - t1) / 1e9);
    }

    /** Pictures [N, H, W, 3] in [0, 1] from latents [N, C, h, w] this model sampled. */
    public synchronized FloatTensor decode(FloatTensor latents, Progress progress) {
        VaeDecoder decoder = vae();
        try (Backend.Scope scope = backend.scope()) {
            return decoder.decodeImages(backend.upload(latents), progress);
        }
    }

    private synchronized VaeDecoder vae() {
        if (vae == null) {
            throw new IllegalStateException(preset.name() + " (" + weightsDescription + ") has no VAE: pictures need one "
                    + "(a model directory's vae.safetensors, see docs/MODEL_DIRECTORY.md)");
        }
        if (vaeLoaded == null) vaeLoaded = vae.get();
        return vaeLoaded;
    }

    public Preset preset() {
        return preset;
    }

    /** Parameters of the generative model (the VAE not included). */
    public long parameters() {
        return parameters;
    }

    public Backend backend() {
        return backend;
    }

    /** The sampling settings a request resolves to: the model's defaults with its overrides, checked. */
    public Sampling settings(GenerateRequest r) {
        return preset.settings(r.overrides());
    }

    /**
     * Sampled latents [N, C, h, w] for the request (SD-VAE latents for DiT before the 1/0.18215 scaling, KL-16 token
     * maps for FlowAR/ECAR). The same request gives the same latents.
     */
    public synchronized FloatTensor sampleLatents(GenerateRequest r, Progress progress) {
        Sampling s = check(r);
        try (Backend.Scope scope = backend.scope()) {
            return backend.download(generator.sample(r.labels(), r.images(), s, r.seed(), progress));
        } catch (OutOfMemory e) {
            throw withFit(e, r.labels().length, s);
        }
    }

    /** The backend's out-of-memory error with the batch that would fit, estimated from the model's own code. */
    private OutOfMemory withFit(OutOfMemory e, int batch, Sampling s) {
        int fits = preset.largestBatch(e.capacity(), s);
        long needed = preset.memory(batch, s).peakActivationBytes();
        String fit = fits == 0 ? "not even one image fits in it" : "batch " + fits + " fits in it";
        return new OutOfMemory(String.format(java.util.Locale.ROOT, "%s at batch %d needs about %.1f GiB of activations, KV caches and scratch "
                        + "(estimated on shapes); %s. %s", preset.name(), batch, needed / (double) (1L << 30), fit, e.getMessage()), e.capacity(), e);
    }

    /**
     * Prepares timed runs of the request: a short generation that takes the same code paths (every stage, both guidance
     * halves) in fewer steps, so that they see compiled code and filled caches; then, on a backend that replays sampling
     * loops as graphs, the request itself as many times as it takes to capture them — unless the request, predicted from
     * the short run's time and the two settings' FLOPs, would take over {@link #GRAPH_WARM_UP_LIMIT_SECONDS}, where
     * launches are a sliver of a run and the extra runs would only cost time (DiT-XL/2 at batch 64).
     */
    public synchronized void warmUp(GenerateRequest r) {
        Sampling full = check(r), quick = preset.family().warmup(full);
        long t0 = System.nanoTime();
        sampleDiscarding(r, quick);
        int runs = backend.loopRunsBeforeReplay();
        if (runs == 0) return;
        double predicted = (System.nanoTime() - t0) / 1e9 * preset.flops(full).flopsPerImage() / preset.flops(quick).flopsPerImage();
        if (predicted > GRAPH_WARM_UP_LIMIT_SECONDS) return;
        for (int i = 0; i < runs; i++) sampleDiscarding(r, full);
    }

    /** Past this predicted length of a run, warm-up does not run the request to capture its loops. */
    public static final double GRAPH_WARM_UP_LIMIT_SECONDS = 3.0;

    private void sampleDiscarding(GenerateRequest r, Sampling s) {
        try (Backend.Scope scope = backend.scope()) {
            backend.download(generator.sample(r.labels(), r.images(), s, r.seed(), Progress.NONE));
        }
    }

    /** Validates a request (labels in range, settings the model can serve) without running it; returns its settings. */
    public Sampling check(GenerateRequest r) {
        int classes = preset.numClasses();
        for (int l : r.labels()) {
            if (l < 0 || l >= classes) {
                throw new IllegalArgumentException("class label " + l + " outside [0, " + (classes - 1) + "] for " + preset.name());
            }
        }
        return settings(r);
    }
}
