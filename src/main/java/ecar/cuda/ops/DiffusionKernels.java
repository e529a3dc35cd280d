package ecar.cuda.ops;

import ecar.backend.DiffusionCoefficients;
import ecar.cuda.DeviceAddress;
import ecar.cuda.LaunchShape;

import static ecar.cuda.ops.OpCheck.buffer;
import static ecar.cuda.ops.OpCheck.optional;
import static ecar.cuda.ops.OpCheck.positive;
import static ecar.cuda.ops.OpCheck.that;

/**
 * kernels/diffusion.cu on DiT's float32 state x [B, C, H·W] and model output [B, 2C, H·W] (ε, then the variance
 * interpolation). CPU twins: {@code Backend.cfgCombineChannels, diffusionPosterior, ddpmSample, ddimSample}; the
 * fused steps equal cfgCombineChannels → diffusionPosterior → ddpmSample / ddimSample in one pass.
 */
public final class DiffusionKernels {
    private static final String COEF = "f32 a, f32 b, f32 c1, f32 c2, f32 minLog, f32 maxLog, f32 sqrtPrev, f32 sqrt1mPrev";

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

    /** mean, logVar, x0 [N, C, HW] from x [N, C, HW] and the model output [N, 2C, HW]. */
    public void posterior(DeviceAddress mean, DeviceAddress logVar, DeviceAddress x0, DeviceAddress x, DeviceAddress modelOut,
                          int n, int c, int hw, DiffusionCoefficients k) {
        long count = checkPosterior("diffusionPosterior", mean, logVar, x0, x, modelOut, n, c, hw);
        launcher.launch("diffusion", "diffusion_posterior(ptr mean, ptr logVar, ptr x0, ptr x, ptr mo, i32 n, i32 c, i32 hw, " + COEF + ")",
                LaunchShape.linear(count, 256), concat(new Object[]{mean, logVar, x0, x, modelOut, n, c, hw}, k));
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

    // Device-scalar variants (a captured step replayed with each step's values): coef is 8 f32 in DiffusionCoefficients
    // order, noise 3 u32 words (seed low, seed high, Philox stream); see StepScalars.words().

    /** As {@link #posterior} with the coefficients read on the device. */
    public void posteriorDev(DeviceAddress mean, DeviceAddress logVar, DeviceAddress x0, DeviceAddress x, DeviceAddress modelOut,
                             int n, int c, int hw, DeviceAddress coef) {
        String op = "diffusionPosterior (device coefficients)";
        long count = checkPosterior(op, mean, logVar, x0, x, modelOut, n, c, hw);
        buffer(op, "coef", coef, 32, 4, "8 f32");
        launcher.launch("diffusion", "diffusion_posterior_dev(ptr mean, ptr logVar, ptr x0, ptr x, ptr mo, i32 n, i32 c, i32 hw, ptr coef)",
                LaunchShape.linear(count, 256), mean, logVar, x0, x, modelOut, n, c, hw, coef);
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
        buffer(op, "coef", coef, 32, 4, "8 f32");
        launcher.launch("diffusion", "ddim_sample_dev(ptr x, ptr x0, i64 count, ptr coef)", LaunchShape.linear(count, 256), x, x0, count, coef);
    }

    /**
     * One DDPM step in one pass, in place on x [B, C, HW]; {@code guided}: the batch is (cond, uncond) halves and the
     * first g channels of ε are guided with scale s. Noise is Philox(seed, stream, i) unless {@code last}.
     */
    public void ddpmStep(DeviceAddress x, DeviceAddress modelOut, int b, int c, int hw, boolean guided, int g, float s,
                         DiffusionCoefficients k, boolean last, long seed, int stream) {
        int half = checkStep("ddpmStep", x, modelOut, b, c, hw, guided, g);
        Object[] head = concat(new Object[]{x, modelOut, b, c, hw, half, g, s}, k);
        Object[] args = java.util.Arrays.copyOf(head, head.length + 3);
        args[head.length] = last ? 0 : 1;
        args[head.length + 1] = seed;
        args[head.length + 2] = stream;
        launcher.launch("diffusion", "ddpm_step(ptr x, ptr mo, i32 bsz, i32 c, i32 hw, i32 half, i32 g, f32 s, " + COEF
                        + ", i32 hasNoise, u64 seed, u32 stream)", LaunchShape.linear((long) b * c * hw, 256), args);
    }

    /** One DDIM (η = 0) step in one pass, in place on x; guidance as {@link #ddpmStep}. */
    public void ddimStep(DeviceAddress x, DeviceAddress modelOut, int b, int c, int hw, boolean guided, int g, float s, DiffusionCoefficients k) {
        int half = checkStep("ddimStep", x, modelOut, b, c, hw, guided, g);
        launcher.launch("diffusion", "ddim_step(ptr x, ptr mo, i32 bsz, i32 c, i32 hw, i32 half, i32 g, f32 s, " + COEF + ")",
                LaunchShape.linear((long) b * c * hw, 256), concat(new Object[]{x, modelOut, b, c, hw, half, g, s}, k));
    }

    private static int checkStep(String op, DeviceAddress x, DeviceAddress mo, int b, int c, int hw, boolean guided, int g) {
        shape(op, b, c, hw);
        if (guided) that(b % 2 == 0 && g >= 0 && g <= c, op, "guidance needs two batch halves and 0.." + c + " guided channels, got batch " + b + " and " + g);
        long count = (long) b * c * hw;
        buffer(op, "x", x, 4 * count, 4, "[" + b + ", " + c + ", " + hw + "] f32");
        buffer(op, "modelOut", mo, 8 * count, 4, "[" + b + ", " + 2 * c + ", " + hw + "] f32");
        return guided ? b / 2 : 0;
    }

    /** The posterior's operands for [N, C, HW]; returns N·C·HW. */
    private static long checkPosterior(String op, DeviceAddress mean, DeviceAddress logVar, DeviceAddress x0, DeviceAddress x, DeviceAddress modelOut,
                                       int n, int c, int hw) {
        shape(op, n, c, hw);
        long count = (long) n * c * hw;
        String st = "[" + n + ", " + c + ", " + hw + "] f32";
        buffer(op, "x", x, 4 * count, 4, st);
        buffer(op, "modelOut", modelOut, 8 * count, 4, "[" + n + ", " + 2 * c + ", " + hw + "] f32");
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

    private static Object[] concat(Object[] head, DiffusionCoefficients k) {
        Object[] a = java.util.Arrays.copyOf(head, head.length + 8);
        int i = head.length;
        a[i] = k.sqrtRecipAlphaBar();
        a[i + 1] = k.sqrtRecipM1AlphaBar();
        a[i + 2] = k.posteriorMeanCoef1();
        a[i + 3] = k.posteriorMeanCoef2();
        a[i + 4] = k.minLog();
        a[i + 5] = k.maxLog();
        a[i + 6] = k.sqrtAlphaBarPrev();
        a[i + 7] = k.sqrtOneMinusAlphaBarPrev();
        return a;
    }
}
