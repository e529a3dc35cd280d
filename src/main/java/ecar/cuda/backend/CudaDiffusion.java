package ecar.cuda.backend;

import ecar.backend.Check;
import ecar.backend.DiffusionCoefficients;
import ecar.backend.Noise;
import ecar.backend.Philox;
import ecar.backend.PosteriorVariance;
import ecar.backend.StepScalars;

import ecar.cuda.CudaTensor;
import ecar.cuda.DeviceAddress;
import ecar.cuda.Stream;
import ecar.cuda.ops.DiffusionKernels;
import ecar.cuda.ops.Flow;
import ecar.tensor.DType;
import ecar.tensor.Shape;
import ecar.tensor.Tensor;

import static ecar.cuda.backend.CudaOperands.f32;

/**
 * CudaBackend's DiT sampling ops on the float32 state, once their arguments are checked: the channel-wise guidance
 * and the DDPM/DDIM updates, eager, with the scale, coefficients and noise as launch arguments, or inside a captured
 * step, reading them from the step scalars (and refusing values other than the step's). CPU twin: CpuDiffusion.
 */
final class CudaDiffusion {
    private final CudaMemory memory;
    private final CudaOperands operands;
    private final CudaSteps steps;
    private final Stream stream;
    private final DiffusionKernels kernels;

    CudaDiffusion(CudaMemory memory, CudaOperands operands, CudaSteps steps, Stream stream, DiffusionKernels kernels) {
        this.memory = memory;
        this.operands = operands;
        this.steps = steps;
        this.stream = stream;
        this.kernels = kernels;
    }

    /**
     * DiT's channel-wise guidance in place on out [2N, C, H, W]: channels below guidedChannels of both halves become
     * u + scale·(c − u); as CudaBackend.cfgCombineChannels has checked them (guidedChannels positive).
     */
    void cfgCombineChannels(Tensor out, int guidedChannels, float scale) {
        Shape s = out.shape();
        if (steps.capturing() != null) {
            CudaSteps.stepValue("cfgCombineChannels", "guidance scale", scale, steps.capturing().cfg());
            Flow.cfgCombineChannelsDev(stream, f32(out, "cfgCombineChannels").buffer(), s.dim(0) / 2, s.dim(1), s.dim(2) * s.dim(3), guidedChannels,
                    steps.scalar(StepScalars.CFG));
            return;
        }
        Flow.cfgCombineChannels(stream, f32(out, "cfgCombineChannels").buffer(), s.dim(0) / 2, s.dim(1), s.dim(2) * s.dim(3), guidedChannels, scale);
    }

    /**
     * DDPM's posterior mean and log-variance and pred_x0 (learned or fixed variance), as CudaBackend.diffusionPosterior
     * has checked them.
     */
    Tensor[] posterior(Tensor x, Tensor modelOut, DiffusionCoefficients k, PosteriorVariance variance) {
        Shape s = x.shape();
        CudaTensor mean = memory.alloc(s, DType.F32, "posterior mean"), logVar = memory.alloc(s, DType.F32, "posterior log-variance"),
                x0 = memory.alloc(s, DType.F32, "pred_x0");
        if (steps.capturing() != null) {
            steps.stepCoefficients("diffusionPosterior", k);
            kernels.posteriorDev(mean.buffer(), logVar.buffer(), x0.buffer(), operands.f32In(x, "diffusionPosterior").buffer(),
                    operands.f32In(modelOut, "diffusionPosterior").buffer(), s.dim(0), s.dim(1), s.dim(2) * s.dim(3), variance,
                    steps.scalar(StepScalars.COEFFICIENTS));
            return new Tensor[]{mean, logVar, x0};
        }
        kernels.posterior(mean.buffer(), logVar.buffer(), x0.buffer(), operands.f32In(x, "diffusionPosterior").buffer(),
                operands.f32In(modelOut, "diffusionPosterior").buffer(), s.dim(0), s.dim(1), s.dim(2) * s.dim(3), variance, k);
        return new Tensor[]{mean, logVar, x0};
    }

    /** In place: x = mean + exp(½·logVar)·n, or without n (noise null). */
    void ddpmSample(Tensor x, Tensor mean, Tensor logVar, Noise noise) {
        if (steps.capturing() != null) {
            ddpmSampleCaptured(x, mean, logVar, noise);
            return;
        }
        DeviceAddress given = null;
        long seed = 0;
        int noiseStream = 0;
        switch (noise) {
            case null -> {}
            case Noise.Given g -> {
                given = operands.f32In(g.eps(), "ddpmSample").buffer();
            }
            case Noise.Philox p -> {
                seed = p.seed();
                noiseStream = p.stream();
            }
            case Noise.PerImage p -> {
                perImageRuns(x, p, (from, bytes, count, image, perImage) -> kernels.ddpmSample(f32(x, "ddpmSample").buffer().slice(from, bytes, "ddpmSample rows"),
                        operands.f32In(mean, "ddpmSample").buffer().slice(from, bytes, "ddpmSample rows"),
                        operands.f32In(logVar, "ddpmSample").buffer().slice(from, bytes, "ddpmSample rows"), null, count, false, p.seed(), p.stream(), image, perImage));
                return;
            }
        }
        kernels.ddpmSample(f32(x, "ddpmSample").buffer(), operands.f32In(mean, "ddpmSample").buffer(), operands.f32In(logVar, "ddpmSample").buffer(), given,
                x.shape().numel(), noise == null, seed, noiseStream);
    }

    /** DDIM's deterministic update of x in place, from pred_x0. */
    void ddimSample(Tensor x, Tensor predX0, DiffusionCoefficients k) {
        if (steps.capturing() != null) {
            steps.stepCoefficients("ddimSample", k);
            kernels.ddimSampleDev(f32(x, "ddimSample").buffer(), operands.f32In(predX0, "ddimSample").buffer(), x.shape().numel(),
                    steps.scalar(StepScalars.COEFFICIENTS));
            return;
        }
        kernels.ddimSample(f32(x, "ddimSample").buffer(), operands.f32In(predX0, "ddimSample").buffer(), x.shape().numel(), k);
    }

    /** One DDPM launch over a run of consecutive images: its byte range of x (and mean, logVar), elements, first image, elements per image. */
    private interface RunLaunch {
        void launch(long fromByte, long bytes, long count, int firstImage, long perImage);
    }

    /** Calls {@code launch} once per run of consecutive images in the noise's rows (a guided batch: its two halves). */
    private static void perImageRuns(Tensor x, Noise.PerImage noise, RunLaunch launch) {
        long perImage = x.shape().numel() / x.shape().dim(0);
        for (int[] run : noise.runs()) launch.launch(4L * run[0] * perImage, 4L * run[1] * perImage, (long) run[1] * perImage, run[2], perImage);
    }

    /** DDPM's update inside a capture: Philox noise whose (seed, stream) the kernel reads from the step scalars, or none. */
    private void ddpmSampleCaptured(Tensor x, Tensor mean, Tensor logVar, Noise noise) {
        String op = "ddpmSample";
        switch (noise) {
            case null -> {}
            case Noise.Given g -> throw new IllegalArgumentException(op + ": given noise inside a captured step (its tensor would be baked "
                    + "into the graph); use Philox noise, whose seed and stream are step scalars");
            case Noise.Philox p -> Check.that(p.seed() == steps.capturing().seed() && p.stream() == steps.capturing().noiseStream(), op,
                    "noise (seed " + p.seed() + ", stream " + p.stream() + ") inside a captured step whose noise is (seed " + steps.capturing().seed()
                            + ", stream " + steps.capturing().noiseStream() + ")");
            case Noise.PerImage p -> {
                // seed and stream come from the step scalars at each replay; the rows' images are launch arguments baked into the
                // graph, which is right because a run's rows keep their images for every step of the loop the capture lives in
                Check.that(p.seed() == steps.capturing().seed() && p.stream() == steps.capturing().noiseStream(), op,
                        "noise (seed " + p.seed() + ", stream " + p.stream() + ") inside a captured step whose noise is (seed " + steps.capturing().seed()
                                + ", stream " + steps.capturing().noiseStream() + ")");
                perImageRuns(x, p, (from, bytes, count, image, perImage) -> kernels.ddpmSampleDev(f32(x, op).buffer().slice(from, bytes, "ddpmSample rows"),
                        operands.f32In(mean, op).buffer().slice(from, bytes, "ddpmSample rows"), operands.f32In(logVar, op).buffer().slice(from, bytes, "ddpmSample rows"),
                        count, false, steps.scalar(StepScalars.SEED_LOW), image, perImage));
                return;
            }
        }
        kernels.ddpmSampleDev(f32(x, op).buffer(), operands.f32In(mean, op).buffer(), operands.f32In(logVar, op).buffer(), x.shape().numel(), noise == null,
                steps.scalar(StepScalars.SEED_LOW));
    }
}
