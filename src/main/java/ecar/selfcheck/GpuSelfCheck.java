package ecar.selfcheck;

import ecar.backend.Backend;
import ecar.backend.cpu.CpuBackend;
import ecar.fixture.Comparison;
import ecar.model.RandomWeights;
import ecar.sample.GenerateRequest;
import ecar.sample.Pipeline;
import ecar.sample.Presets;
import ecar.model.Progress;
import ecar.tensor.FloatTensor;
import ecar.tensor.Shape;
import ecar.vae.VaeConfig;
import ecar.vae.VaeDecoder;

import java.time.Clock;
import java.time.LocalDate;
import java.util.Random;
import java.util.function.Supplier;

/**
 * The short check that decides whether {@code --backend auto} may use the GPU: the tiny presets sampled on the device
 * backend, three times (so that their loops run eagerly, are captured, then replay as graphs), and on the CPU reference
 * with the same weights and seed (sampled-latent cosine ≥ {@value #MIN_COSINE}; ARPG's token ids the same in all
 * three), and
 * the tiny VAEs decoding the same latents (relative L2 ≤ {@value #MAX_REL_L2}); then the model-sized kernels the
 * tiny presets never reach (attention over 256 tokens with heads of 64 and 72, as Hopper's attention_sm90 takes them;
 * GEMMs of 32 rows on gemm_skinny, of 128 rows on gemm_sm90's cooperative consumers or gemm.cu's tiles and of 2048 rows on
 * gemm_sm90 where it runs, a norm of a few rows) against the CPU within the same relative L2; every
 * output finite. These are the bounds of CudaPipelineGpuTest, so a device that passes here would pass that test. A few
 * seconds on a GPU, most of it the CPU reference.
 */
public final class GpuSelfCheck implements SelfCheck {
    static final double MIN_COSINE = 0.99;
    static final double MAX_REL_L2 = 2e-2;
    /** DiT steps: enough for the guided DDIM loop and its graphs to run more than once, few enough to stay quick. */
    private static final int DIT_STEPS = 4;
    private static final long SEED = 5, WEIGHTS_SEED = 3;

    private final Supplier<? extends Backend> device;
    private final Clock clock;

    /** Checks backends made by {@code device} (opened once, closed after) against a new CPU backend. */
    public GpuSelfCheck(Supplier<? extends Backend> device, Clock clock) {
        this.device = device;
        this.clock = clock;
    }

    @Override
    public Verdict run() {
        LocalDate today = LocalDate.now(clock);
        try (Backend gpu = device.get(); Backend cpu = new CpuBackend()) {
            sampled("dit-tiny", GenerateRequest.of(1, 3).seed(SEED).steps(DIT_STEPS), cpu, gpu);
            sampled("ecar-tiny", GenerateRequest.of(1, 3).seed(SEED), cpu, gpu);
            sampled("ecar-tiny-v2", GenerateRequest.of(1, 3).seed(SEED), cpu, gpu);   // ECAR-L/H's kind of flow head
            drawnAlike("arpg-tiny", GenerateRequest.of(1, 3).seed(SEED), cpu, gpu);
            decoded(VaeConfig.tiny(4, 8), cpu, gpu);
            decoded(VaeConfig.tiny(16, 16), cpu, gpu);
            modelSizedKernels(cpu, gpu);
            return Verdict.pass(today);
        } catch (Throwable t) {   // a kernel that does not load, a driver error, an OOM: all mean "do not use the GPU"
            return Verdict.fail(describe(t), today);
        }
    }

    /** Three generations on the device: loops run eagerly, then are captured as graphs, then replayed; each must match. */
    private static void sampled(String preset, GenerateRequest r, Backend cpu, Backend gpu) {
        FloatTensor expected = Pipeline.random(Presets.get(preset), WEIGHTS_SEED, cpu).sampleLatents(r, Progress.NONE);
        Pipeline onDevice = Pipeline.random(Presets.get(preset), WEIGHTS_SEED, gpu);
        for (int run = 1; run <= 3; run++) {
            FloatTensor actual = onDevice.sampleLatents(r, Progress.NONE);
            String what = preset + " sampled latents" + (run == 1 ? "" : ", generation " + run);
            sameShapeAndFinite(what, expected, actual);
            double cos = Comparison.cosine(actual.data(), expected.data());
            if (!(cos >= MIN_COSINE)) throw new Mismatch(what + ": cosine with the CPU's is " + fmt(cos) + ", expected ≥ " + MIN_COSINE);
        }
    }

    /**
     * ARPG's token draws: bf16 logits move some draws off the CPU's, so the check is that the generations that run the
     * loop eagerly, capture it and replay it draw the same tokens (the sampler itself throws on an id outside the
     * codebook, naming the step).
     */
    private static void drawnAlike(String preset, GenerateRequest r, Backend cpu, Backend gpu) {
        FloatTensor expected = Pipeline.random(Presets.get(preset), WEIGHTS_SEED, cpu).sampleLatents(r, Progress.NONE);
        Pipeline onDevice = Pipeline.random(Presets.get(preset), WEIGHTS_SEED, gpu);
        FloatTensor first = null;
        for (int run = 1; run <= 3; run++) {
            FloatTensor actual = onDevice.sampleLatents(r, Progress.NONE);
            String what = preset + " token ids" + (run == 1 ? "" : ", generation " + run);
            sameShapeAndFinite(what, expected, actual);
            if (first == null) first = actual;
            else if (!java.util.Arrays.equals(first.data(), actual.data())) throw new Mismatch(what + ": draws differ from generation 1's with the same seed");
        }
    }

    private static void decoded(VaeConfig cfg, Backend cpu, Backend gpu) {
        Random rnd = new Random(17);
        float[] z = new float[2 * cfg.embedDim() * 4 * 4];
        for (int i = 0; i < z.length; i++) z[i] = (float) rnd.nextGaussian();
        FloatTensor latents = new FloatTensor(Shape.of(2, cfg.embedDim(), 4, 4), z);
        FloatTensor expected = decode(cfg, cpu, latents), actual = decode(cfg, gpu, latents);
        String what = "tiny VAE decode (" + cfg.embedDim() + " channels, ×" + cfg.factor() + ")";
        sameShapeAndFinite(what, expected, actual);
        double err = Comparison.relativeL2(actual.data(), expected.data());
        if (!(err <= MAX_REL_L2)) throw new Mismatch(what + ": relative L2 error " + fmt(err) + " against the CPU's, expected ≤ " + MAX_REL_L2);
    }

    /** Kernels only model-sized shapes reach: a broken one must keep --backend auto off the GPU, as a broken tiny one does. */
    private static void modelSizedKernels(Backend cpu, Backend gpu) {
        Random rnd = new Random(23);
        FloatTensor qkv64 = gaussian(rnd, 1f, 2, 256, 3 * 2 * 64), qkv72 = gaussian(rnd, 1f, 1, 256, 3 * 2 * 72);
        same("self-attention, 256 tokens, heads of 64 with the 2D RoPE", cpu, gpu, b -> b.selfAttention(b.upload(qkv64), 2, 16, 16, true));
        same("self-attention, 256 tokens, heads of 72", cpu, gpu, b -> b.selfAttention(b.upload(qkv72), 2, 0, 0, false));
        // the flow head's qkv with the 2D RoPE in the GEMM's epilogue: 8 × 256 rows × 1536 columns, 192 tiles (gemm_sm90 on Hopper)
        FloatTensor xr = gaussian(rnd, 1f, 8, 256, 512), wr = gaussian(rnd, 0.05f, 3 * 512, 512);
        same("linearRope then self-attention, 256 tokens, heads of 64", cpu, gpu,
                b -> b.selfAttention(b.linearRope(b.upload(xr), b.weight(wr), null, 8, 16, 16), 8, 0, 0, false));
        FloatTensor x = gaussian(rnd, 1f, 128, 2736), w = gaussian(rnd, 0.02f, 1024, 2736), x2 = gaussian(rnd, 1f, 2048, 264), w2 = gaussian(rnd, 0.06f, 1152, 264);
        same("linear 128 × 2736 → 1024 (gemm_sm90's cooperative consumers, K split, on Hopper; gemm.cu's 64-row tiles elsewhere)", cpu, gpu,
                b -> b.linear(b.upload(x), b.weight(w), null));
        // batch 1's few rows: gemm_skinny with K split 4 ways and two block rows of 16 (ECAR-L's stage-3 fc2), and the
        // norm a block of rows takes before its projections (its row held in registers)
        FloatTensor x32 = gaussian(rnd, 1f, 32, 2736), h = gaussian(rnd, 2f, 6, 1024), g = gaussian(rnd, 1f, 1024);
        same("linear 32 × 2736 → 1024 (gemm_skinny, K split, two block rows)", cpu, gpu, b -> b.linear(b.upload(x32), b.weight(w), null));
        same("RMSNorm of 6 rows of 1024 with a weight", cpu, gpu, b -> b.norm(b.upload(h), ecar.backend.Norm.RMS, b.upload(g), 1e-6f));
        // 16 × 9 = 144 output tiles of 128 × 128, at least one per SM on every Hopper part: gemm_sm90 there (ragged K)
        same("linear 2048 × 264 → 1152 (gemm_sm90 on Hopper)", cpu, gpu, b -> b.linear(b.upload(x2), b.weight(w2), null));
    }

    private static FloatTensor gaussian(Random rnd, float scale, int... dims) {
        FloatTensor t = new FloatTensor(Shape.of(dims), new float[Math.toIntExact(Shape.of(dims).numel())]);
        float[] d = t.data();
        for (int i = 0; i < d.length; i++) d[i] = (float) (scale * rnd.nextGaussian());
        return t;
    }

    private static void same(String what, Backend cpu, Backend gpu, java.util.function.Function<Backend, ecar.tensor.Tensor> op) {
        FloatTensor expected, actual;
        try (Backend.Scope s = cpu.scope()) {
            expected = cpu.download(op.apply(cpu));
        }
        try (Backend.Scope s = gpu.scope()) {
            actual = gpu.download(op.apply(gpu));
        }
        sameShapeAndFinite(what, expected, actual);
        double err = Comparison.relativeL2(actual.data(), expected.data());
        if (!(err <= MAX_REL_L2)) throw new Mismatch(what + ": relative L2 error " + fmt(err) + " against the CPU's, expected ≤ " + MAX_REL_L2);
    }

    private static FloatTensor decode(VaeConfig cfg, Backend b, FloatTensor z) {
        VaeDecoder d = VaeDecoder.load(cfg, new RandomWeights(11), b);
        try (Backend.Scope s = b.scope()) {
            return b.download(d.decodeRaw(b.upload(z)));
        }
    }

    private static void sameShapeAndFinite(String what, FloatTensor expected, FloatTensor actual) {
        if (!actual.shape().equals(expected.shape())) throw new Mismatch(what + ": shape " + actual.shape() + ", expected " + expected.shape());
        float[] a = actual.data();
        for (int i = 0; i < a.length; i++) {
            if (!Float.isFinite(a[i])) throw new Mismatch(what + ": element " + i + " is " + a[i] + ", expected a finite number");
        }
    }

    private static String describe(Throwable t) {
        if (t instanceof Mismatch) return t.getMessage();
        String m = t.getMessage();
        return t.getClass().getSimpleName() + (m == null ? "" : ": " + m.lines().findFirst().orElse(""));
    }

    private static String fmt(double x) {
        return String.format(java.util.Locale.ROOT, "%.4g", x);
    }

    /** A result outside its bound: the message is the whole reason. */
    private static final class Mismatch extends RuntimeException {
        Mismatch(String message) {
            super(message, null, false, false);
        }
    }
}
