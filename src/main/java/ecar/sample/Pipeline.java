package ecar.sample;

import ecar.backend.Backend;
import ecar.model.DiT;
import ecar.model.FlowAr;
import ecar.model.RandomWeights;
import ecar.model.WeightSource;
import ecar.model.Weights;
import ecar.tensor.FloatTensor;
import ecar.tensor.Shape;
import ecar.tensor.Tensor;

import java.util.Arrays;

/**
 * A loaded model ready to generate: DiT (diffusion over SD-VAE latents) or the FlowAR modules (FlowAR or ECAR
 * schedule over KL-16 tokens). One generation runs at a time per pipeline (calls are serialised); the backend
 * uses every core or the GPU within a call. Load several pipelines to run several models.
 */
public final class Pipeline {
    private final Preset preset;
    private final Backend backend;
    private final DiT dit;
    private final FlowAr flowAr;
    private final long parameters;

    private Pipeline(Preset preset, Backend backend, DiT dit, FlowAr flowAr, long parameters) {
        this.preset = preset;
        this.parameters = parameters;
        this.backend = backend;
        this.dit = dit;
        this.flowAr = flowAr;
    }

    /** The preset's architecture with weights from the source (checked: every problem is listed at once). */
    public static Pipeline of(Preset preset, WeightSource weights, Backend backend) {
        Weights w = new Weights(weights, backend);
        return switch (preset.family()) {
            case DIT -> {
                DiT m = new DiT(preset.dit(), w);
                w.finish();
                yield new Pipeline(preset, backend, m, null, w.parameterCount());
            }
            case FLOWAR, ECAR -> {
                FlowAr m = FlowAr.load(preset.flowAr(), w);
                yield new Pipeline(preset, backend, null, m, w.parameterCount());
            }
        };
    }

    /** A preset with seeded random weights (no download): for benchmarks, comparisons and tests. */
    public static Pipeline random(Preset preset, long seed, Backend backend) {
        return of(preset, new RandomWeights(seed), backend);
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
        checkLabels(r.labels());
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

    private void checkLabels(int[] labels) {
        int classes = preset.numClasses();
        for (int l : labels) {
            if (l < 0 || l >= classes) {
                throw new IllegalArgumentException("class label " + l + " outside [0, " + (classes - 1) + "] for " + preset.name());
            }
        }
    }
}
