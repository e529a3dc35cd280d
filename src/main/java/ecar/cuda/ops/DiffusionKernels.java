package ecar.cuda.ops;

import ecar.backend.DiffusionCoefficients;
import ecar.backend.PosteriorVariance;
import ecar.cuda.DeviceAddress;
import ecar.cuda.LaunchShape;

import static ecar.cuda.ops.OpCheck.buffer;
import static ecar.cuda.ops.OpCheck.optional;
import static ecar.cuda.ops.OpCheck.positive;
import static ecar.cuda.ops.OpCheck.that;

/**
 * kernels/diffusion.cu on DiT's float32 state x [B, C, H·W] and model output [B, 2C, H·W] (ε, then the variance
 * interpolation: {@link PosteriorVariance#LEARNED_RANGE}) or [B, C, H·W] (ε alone: a fixed variance). CPU twins: {@code Backend.cfgCombineChannels, diffusionPosterior, ddpmSample, ddimSample}; the
 * fused steps equal cfgCombineChannels → diffusionPosterior → ddpmSample / ddimSample in one pass.
 */
public final class DiffusionKernels {
    private static final String COEF = "f32 a, f32 b, f32 c1, f32 c2, f32 minLog, f32 maxLog, f32 sqrtPrev, f32 sqrt1mPrev, f32 largeLog";
    private static final String COEF_BUFFER = DiffusionCoefficients.COUNT + " f32";

    private final Launcher launcher;

    public DiffusionKernels(Launcher launcher) {
        this.launcher = launcher;
    }

    /** out [2N, Co, HW]: channels &lt; g of both halves become u + s·(c − u). */
    public void cfgCombineChannels(DeviceAddress out, int n2, int co, int hw, int g, float s) {
        String op = "cfgCombineChannels";
        shape(op, n2, co, hw);
        that(n2 % 2 == 0 && g >= 0 && g <= co, op, "needs two batch halves and 0..." + co + " guided channels, got batch " + n2 + " and " + g);
        buffer(op, "out", out, 4L * n2 * co * hw, 4, "[" + n2 + ", " + co + ", " + hw + "] f32");
        if (g == 0) return;
        launcher.launch("diffusion", "cfg_combine_channels(ptr out, i32 n, i32 co, i32 hw, i32 g, f32 s)",
                LaunchShape.linear((long) (n2 / 2) * g * hw, 256), out, n2 / 2, co, hw, g, s);
    }

    /** mean, logVar, x0 [N, C, HW] from x [N, C, HW] and the model output ([N, 2C, HW] learned, [N, C, HW] fixed). */
    public void posterior(DeviceAddress mean, DeviceAddress logVar, DeviceAddress x0, DeviceAddress x, DeviceAddress modelOut,
                          int n, int c, int hw, PosteriorVariance variance, DiffusionCoefficients k) {
        long count = checkPosterior("diffusionPosterior", mean, logVar, x0, x, modelOut, n, c, hw, variance);
        launcher.launch("diffusion", "diffusion_posterior(ptr mean, ptr logVar, ptr x0, ptr x, ptr mo, i32 n, i32 c, i32 hw, i32 variance, "
                        + COEF + ")",
                LaunchShape.linear(count, 256), concat(new Object[]{mean, logVar, x0, x, modelOut, n, c, hw, variance.code()}, k));
    }

    /**
     * In place: x = mean + exp(½·logVar)·ε, ε from {@code noise} when not null, else Philox(seed, stream, i);
     * {@code last} (the final step) gives x = mean.
     */
    public void ddpmSample(DeviceAddress x, DeviceAddress mean, DeviceAddress logVar, DeviceAddress noise, long count, boolean last,
                           long seed, int stream) {
        ddpmSample(x, mean, logVar, noise, count, last, seed, stream, 0, 0);
    }

    /**
     * As above with Philox noise per image when {@code perImage} &gt; 0: the count elements are images firstImage,
     * firstImage + 1, … of perImage elements each (element j of image k at Philox.imageIndex(k, j)).
     */
    public void ddpmSample(DeviceAddress x, DeviceAddress mean, DeviceAddress logVar, DeviceAddress noise, long count, boolean last,
                           long seed, int stream, int firstImage, long perImage) {
        String op = "ddpmSample";
        imageRun(op, count, firstImage, perImage);
        positive(op, "count", count);
        buffer(op, "x", x, 4 * count, 4, count + " f32");
        buffer(op, "mean", mean, 4 * count, 4, count + " f32");
        buffer(op, "logVar", logVar, 4 * count, 4, count + " f32");
        optional(op, "noise", noise, 4 * count, 4, count + " f32");
        launcher.launch("diffusion", "ddpm_sample(ptr x, ptr mean, ptr logVar, ptr? noise, i64 count, i32 hasNoise, u64 seed, u32 stream, "
                        + "u32 firstImage, i64 perImage)", LaunchShape.linear(count, 256), x, mean, logVar, noise, count, last ? 0 : 1, seed, stream,
                firstImage, perImage);
    }

    /** perImage 0 (one flat stream) or whole images of fewer than 2³² elements from a first image that is not negative. */
    private static void imageRun(String op, long count, int firstImage, long perImage) {
        if (perImage == 0 && firstImage == 0) return;
        that(firstImage >= 0 && perImage > 0 && perImage < 1L << 32 && count % perImage == 0, op,
                "images from " + firstImage + " of " + perImage + " elements for " + count + " elements; expected a first image >= 0 and whole images "
                        + "of 1 to 2^32 - 1 elements");
    }

    /** In place: x = √ᾱ_prev·x0 + √(1 − ᾱ_prev)·(a·x − x0)/b. */
    public void ddimSample(DeviceAddress x, DeviceAddress x0, long count, DiffusionCoefficients k) {
        String op = "ddimSample";
        positive(op, "count", count);
        buffer(op, "x", x, 4 * count, 4, count + " f32");
        buffer(op, "x0", x0, 4 * count, 4, count + " f32");
        launcher.launch("diffusion", "ddim_sample(ptr x, ptr x0, i64 count, " + COEF + ")",
                LaunchShape.linear(count, 256), concat(new Object[]{x, x0, count}, k));
    }

    // Device-scalar variants (a captured step replayed with each step's values): coef is 9 f32 in DiffusionCoefficients
    // order, noise 3 u32 words (seed low, seed high, Philox stream); see StepScalars.words().

    /** As {@link #posterior} with the coefficients read on the device. */
    public void posteriorDev(DeviceAddress mean, DeviceAddress logVar, DeviceAddress x0, DeviceAddress x, DeviceAddress modelOut,
                             int n, int c, int hw, PosteriorVariance variance, DeviceAddress coef) {
        String op = "diffusionPosterior (device coefficients)";
        long count = checkPosterior(op, mean, logVar, x0, x, modelOut, n, c, hw, variance);
        buffer(op, "coef", coef, 4L * DiffusionCoefficients.COUNT, 4, COEF_BUFFER);
        launcher.launch("diffusion", "diffusion_posterior_dev(ptr mean, ptr logVar, ptr x0, ptr x, ptr mo, i32 n, i32 c, i32 hw, i32 variance, ptr coef)",
                LaunchShape.linear(count, 256), mean, logVar, x0, x, modelOut, n, c, hw, variance.code(), coef);
    }

    /** As {@link #ddpmSample} with Philox noise whose seed and stream are read on the device. */
    public void ddpmSampleDev(DeviceAddress x, DeviceAddress mean, DeviceAddress logVar, long count, boolean last, DeviceAddress noise) {
        ddpmSampleDev(x, mean, logVar, count, last, noise, 0, 0);
    }

    /** As above with the noise per image when {@code perImage} &gt; 0 (see the host-scalar ddpmSample); the images are launch arguments. */
    public void ddpmSampleDev(DeviceAddress x, DeviceAddress mean, DeviceAddress logVar, long count, boolean last, DeviceAddress noise,
                              int firstImage, long perImage) {
        String op = "ddpmSample (device noise stream)";
        imageRun(op, count, firstImage, perImage);
        positive(op, "count", count);
        buffer(op, "x", x, 4 * count, 4, count + " f32");
        buffer(op, "mean", mean, 4 * count, 4, count + " f32");
        buffer(op, "logVar", logVar, 4 * count, 4, count + " f32");
        buffer(op, "noise", noise, 12, 4, "3 u32 (seed low, seed high, stream)");
        launcher.launch("diffusion", "ddpm_sample_dev(ptr x, ptr mean, ptr logVar, i64 count, i32 hasNoise, ptr noise, u32 firstImage, i64 perImage)",
                LaunchShape.linear(count, 256), x, mean, logVar, count, last ? 0 : 1, noise, firstImage, perImage);
    }

    /** As {@link #ddimSample} with the coefficients read on the device. */
    public void ddimSampleDev(DeviceAddress x, DeviceAddress x0, long count, DeviceAddress coef) {
        String op = "ddimSample (device coefficients)";
        positive(op, "count", count);
        buffer(op, "x", x, 4 * count, 4, count + " f32");
        buffer(op, "x0", x0, 4 * count, 4, count + " f32");
        buffer(op, "coef", coef, 4L * DiffusionCoefficients.COUNT, 4, COEF_BUFFER);
        launcher.launch("diffusion", "ddim_sample_dev(ptr x, ptr x0, i64 count, ptr coef)", LaunchShape.linear(count, 256), x, x0, count, coef);
    }

    /**
     * One DDPM step in one pass, in place on x [B, C, HW]; {@code guided}: the batch is (cond, uncond) halves and the
     * first g channels of ε are guided with scale s. Noise is Philox(seed, stream, i) unless {@code last}.
     */
    public void ddpmStep(DeviceAddress x, DeviceAddress modelOut, int b, int c, int hw, PosteriorVariance variance, boolean guided, int g, float s,
                         DiffusionCoefficients k, boolean last, long seed, int stream) {
        int half = checkStep("ddpmStep", x, modelOut, b, c, hw, variance, guided, g);
        Object[] head = concat(new Object[]{x, modelOut, b, c, hw, variance.code(), half, g, s}, k);
        Object[] args = java.util.Arrays.copyOf(head, head.length + 3);
        args[head.length] = last ? 0 : 1;
        args[head.length + 1] = seed;
        args[head.length + 2] = stream;
        launcher.launch("diffusion", "ddpm_step(ptr x, ptr mo, i32 bsz, i32 c, i32 hw, i32 variance, i32 half, i32 g, f32 s, " + COEF
                        + ", i32 hasNoise, u64 seed, u32 stream)", LaunchShape.linear((long) b * c * hw, 256), args);
    }

    /** One DDIM (η = 0) step in one pass, in place on x; guidance as {@link #ddpmStep}. */
    public void ddimStep(DeviceAddress x, DeviceAddress modelOut, int b, int c, int hw, PosteriorVariance variance, boolean guided, int g, float s,
                         DiffusionCoefficients k) {
        int half = checkStep("ddimStep", x, modelOut, b, c, hw, variance, guided, g);
        launcher.launch("diffusion", "ddim_step(ptr x, ptr mo, i32 bsz, i32 c, i32 hw, i32 variance, i32 half, i32 g, f32 s, " + COEF + ")",
                LaunchShape.linear((long) b * c * hw, 256), concat(new Object[]{x, modelOut, b, c, hw, variance.code(), half, g, s}, k));
    }

    private static int checkStep(String op, DeviceAddress x, DeviceAddress mo, int b, int c, int hw, PosteriorVariance variance, boolean guided, int g) {
        shape(op, b, c, hw);
        that(variance != null, op, "the posterior variance kind is required");
        if (guided) that(b % 2 == 0 && g >= 0 && g <= c, op, "guidance needs two batch halves and 0.." + c + " guided channels, got batch " + b + " and " + g);
        long count = (long) b * c * hw;
        buffer(op, "x", x, 4 * count, 4, "[" + b + ", " + c + ", " + hw + "] f32");
        modelOutput(op, mo, b, c, hw, variance);
        return guided ? b / 2 : 0;
    }

    /** The model output for the variance kind: [N, 2C, HW] learned, [N, C, HW] fixed. */
    private static void modelOutput(String op, DeviceAddress mo, int n, int c, int hw, PosteriorVariance variance) {
        int co = variance.modelChannels(c);
        buffer(op, "modelOut", mo, 4L * n * co * hw, 4, "[" + n + ", " + co + ", " + hw + "] f32 (" + variance + ")");
    }

    /** The posterior's operands for [N, C, HW]; returns N·C·HW. */
    private static long checkPosterior(String op, DeviceAddress mean, DeviceAddress logVar, DeviceAddress x0, DeviceAddress x, DeviceAddress modelOut,
                                       int n, int c, int hw, PosteriorVariance variance) {
        shape(op, n, c, hw);
        that(variance != null, op, "the posterior variance kind is required");
        long count = (long) n * c * hw;
        String st = "[" + n + ", " + c + ", " + hw + "] f32";
        buffer(op, "x", x, 4 * count, 4, st);
        modelOutput(op, modelOut, n, c, hw, variance);
        buffer(op, "mean", mean, 4 * count, 4, st);
        buffer(op, "logVar", logVar, 4 * count, 4, st);
        buffer(op, "x0", x0, 4 * count, 4, st);
        return count;
    }

    private static void shape(String op, int n, int c, int hw) {
        positive(op, "batch", n);
        positive(op, "C", c);
        positive(op, "H·W", hw);
    }

    /** head followed by the coefficients as separate f32 arguments, in the kernels' COEF_PARAMS order. */
    private static Object[] concat(Object[] head, DiffusionCoefficients k) {
        float[] f = k.floats();
        Object[] a = java.util.Arrays.copyOf(head, head.length + f.length);
        for (int i = 0; i < f.length; i++) a[head.length + i] = f[i];
        return a;
    }
}
