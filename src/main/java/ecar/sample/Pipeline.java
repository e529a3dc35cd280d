package ecar.sample;

import ecar.dit.DiTSampler;
import ecar.dit.DiffusionSchedule;
import ecar.flowar.TokenSampler;
import ecar.model.Progress;

import ecar.backend.Backend;
import ecar.dit.DiT;
import ecar.flowar.FlowAr;
import ecar.model.RandomWeights;
import ecar.model.WeightSource;
import ecar.model.Weights;
import ecar.tensor.FloatTensor;
import ecar.tensor.Shape;
import ecar.tensor.Tensor;
import ecar.vae.VaeDecoder;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.Supplier;

/**
 * A loaded model ready to generate: DiT (diffusion over SD-VAE latents) or the FlowAR modules (FlowAR or ECAR
 * schedule over KL-16 tokens), and the VAE that turns latents into pictures.
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
    private final DiT dit;
    private final FlowAr flowAr;
    private final long parameters;
    private final String weightsDescription;
    private final boolean randomWeights;
    private final Supplier<VaeDecoder> vae;   // loaded on first use; null when the model has none
    private VaeDecoder vaeLoaded;

    private Pipeline(Preset preset, Backend backend, DiT dit, FlowAr flowAr, long parameters, String weightsDescription,
                     boolean randomWeights, Supplier<VaeDecoder> vae) {
        this.preset = preset;
        this.parameters = parameters;
        this.backend = backend;
        this.dit = dit;
        this.flowAr = flowAr;
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
        if (Presets.exists(modelOrDirectory)) return random(Presets.get(modelOrDirectory), 0, backend);
        if (modelOrDirectory.contains("/") || modelOrDirectory.contains(java.io.File.separator)) {
            throw new IllegalArgumentException("model directory " + modelOrDirectory + " does not exist");
        }
        return random(Presets.get(modelOrDirectory), 0, backend);   // throws: unknown name, listing the presets
    }

    /**
     * The preset's architecture with weights from the source (checked: every problem is listed at once) and,
     * when vae is not null, a decoder for pictures.
     */
    public static Pipeline of(Preset preset, WeightSource weights, Supplier<VaeDecoder> vae, Backend backend) {
        Weights w = new Weights(weights, backend);
        boolean random = weights instanceof RandomWeights;
        return switch (preset.family()) {
            case DIT -> {
                DiT m = new DiT(preset.dit(), w);
                w.finish();
                yield new Pipeline(preset, backend, m, null, w.parameterCount(), weights.describe(), random, vae);
            }
            case FLOWAR, ECAR -> {
                FlowAr m = FlowAr.load(preset.flowAr(), w);
                yield new Pipeline(preset, backend, null, m, w.parameterCount(), weights.describe(), random, vae);
            }
        };
    }

    /** Without a VAE: latents only. */
    public static Pipeline of(Preset preset, WeightSource weights, Backend backend) {
        return of(preset, weights, null, backend);
    }

    /** A preset with seeded random weights, the VAE's too (no download): for benchmarks, comparisons and tests. */
    public static Pipeline random(Preset preset, long seed, Backend backend) {
        return of(preset, new RandomWeights(seed), () -> VaeDecoder.load(preset.vae(), new RandomWeights(seed + 1), backend), backend);
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

    /** The sampling settings a request resolves to. */
    public Sampling settings(GenerateRequest r) {
        return r.applyTo(preset.sampling());
    }

    /**
     * Sampled latents [N, C, h, w] for the request: SD-VAE latents for DiT (before the 1/0.18215 scaling),
     * KL-16 token maps for FlowAR/ECAR. The same request gives the same latents.
     */
    public synchronized FloatTensor sampleLatents(GenerateRequest r, Progress progress) {
        check(r);
        Sampling s = settings(r);
        try (Backend.Scope scope = backend.scope()) {
            Tensor out = switch (preset.family()) {
                case DIT -> sampleDiT(r, s, progress);
                case FLOWAR, ECAR -> new TokenSampler(flowAr, backend).sample(r.labels(), preset.tokenSchedule(s),
                        TokenSampler.NoiseSource.philox(r.seed()), new TokenSampler.Observer() {
                            @Override
                            public void step(int done, int total) {
                                progress.update("sampling", done, total);
                            }
                        });
            };
            return backend.download(out);
        }
    }

    private Tensor sampleDiT(GenerateRequest r, Sampling s, Progress progress) {
        int n = r.labels().length, c = preset.dit().inChannels(), side = preset.dit().inputSize();
        boolean guided = s.cfg() > 1f;
        Tensor z = backend.randn(Shape.of(n, c, side, side), r.seed(), 0);
        Tensor x = guided ? backend.concatBatch(z, z) : z;
        int[] y = guided ? new int[2 * n] : r.labels().clone();
        if (guided) {
            System.arraycopy(r.labels(), 0, y, 0, n);
            Arrays.fill(y, n, 2 * n, preset.dit().nullClass());
        }
        DiffusionSchedule schedule = DiffusionSchedule.linear(s.ditRespacing());
        new DiTSampler(dit, backend).sample(x, y, schedule, s.ditMethod(), s.cfg(), s.ditGuidance(), r.seed(), progress);
        return guided ? backend.sliceBatch(x, 0, n) : x;
    }

    /** Validates a request (labels in range, settings the schedule can serve) without running it. */
    public void check(GenerateRequest r) {
        checkLabels(r.labels());
        Sampling s = settings(r);
        if (flowAr != null) preset.tokenSchedule(s);
    }

    private void checkLabels(int[] labels) {
        int classes = preset.numClasses();
        for (int l : labels) {
            if (l < 0 || l >= classes) {
                throw new IllegalArgumentException("class label " + l + " outside [0, " + (classes - 1) + "] for " + preset.name());
            }
        }
    }
}
