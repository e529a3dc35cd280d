package ecar.cuda.backend;

import ecar.backend.Noise;
import ecar.backend.Philox;
import ecar.backend.StepScalars;

import ecar.cuda.CudaTensor;
import ecar.cuda.Stream;
import ecar.cuda.ops.Flow;
import ecar.tensor.DType;
import ecar.tensor.Shape;
import ecar.tensor.Tensor;

import static ecar.cuda.backend.CudaOperands.f32;

/**
 * CudaBackend's flow-sampler updates, once their arguments are checked: the (guided) Euler step of the flow ODE,
 * eager or inside a captured step (reading dt and the guidance weight from the step scalars), and the ECAR stage
 * jump with its block noise. CPU twin: CpuFlow.
 */
final class CudaFlow {
    private final CudaMemory memory;
    private final CudaOperands operands;
    private final CudaSteps steps;
    private final Stream stream;

    CudaFlow(CudaMemory memory, CudaOperands operands, CudaSteps steps, Stream stream) {
        this.memory = memory;
        this.operands = operands;
        this.steps = steps;
        this.stream = stream;
    }

    /** x += dt·v, with guidance from v's halves when {@code guided}; as CudaBackend.flowEulerStep has checked them. */
    void eulerStep(Tensor x, Tensor v, float dt, float cfgWeight, boolean guided) {
        CudaTensor xt = f32(x, "flowEulerStep"), vt = operands.f32In(v, "flowEulerStep");
        long n = x.shape().numel();
        if (steps.capturing() != null) {
            CudaSteps.stepValue("flowEulerStep", "dt", dt, steps.capturing().dt());
            if (guided) CudaSteps.stepValue("flowEulerStep", "guidance weight", cfgWeight, steps.capturing().cfg());
            if (guided) Flow.eulerGuidedDev(stream, xt.buffer(), vt.buffer(), n / 2, steps.scalar(StepScalars.DT));   // the kernel reads dt there and cfg in the next word
            else Flow.eulerDev(stream, xt.buffer(), vt.buffer(), n, steps.scalar(StepScalars.DT));
            return;
        }
        if (guided) Flow.eulerGuided(stream, xt.buffer(), vt.buffer(), n / 2, dt, cfgWeight);
        else Flow.euler(stream, xt.buffer(), vt.buffer(), n, dt);
    }

    /** The stage jump of x [B, side², C] to [B, (2·side)², C]; as CudaBackend.stageJump has checked x. */
    Tensor stageJump(Tensor x, int side, float alpha, float beta, float gamma, Noise noise) {
        Shape s = x.shape();
        Shape outShape = Shape.of(s.dim(0), 4 * side * side, s.last());
        CudaTensor eps = null;
        long seed = 0;
        int noiseStream = 0;
        switch (noise) {
            case Noise.Given g -> {
                eps = f32(g.eps(), "stageJump");
            }
            case Noise.Philox p -> {
                seed = p.seed();
                noiseStream = p.stream();
            }
            case Noise.PerImage p -> {
                return stageJumpPerImage(x, side, alpha, beta, gamma, p, outShape);
            }
        }
        CudaTensor o = memory.alloc(outShape, DType.F32, "stageJump");
        float amp = (float) Math.sqrt(1.0 + gamma), cc = Noise.blockNoiseC(gamma);
        Flow.stageJump(stream, o.buffer(), operands.f32In(x, "stageJump").buffer(), eps == null ? null : eps.buffer(), s.dim(0), side, s.last(),
                alpha, beta, amp, cc, seed, noiseStream);
        return o;
    }

    /** The jump with per-image noise: one launch per run of consecutive images (a guided batch's two halves). */
    private Tensor stageJumpPerImage(Tensor x, int side, float alpha, float beta, float gamma, Noise.PerImage noise, Shape outShape) {
        int channels = x.shape().last();
        long inRow = 4L * side * side * channels, outRow = 4L * outShape.dim(1) * channels;   // bytes of one row of x and of out
        CudaTensor o = memory.alloc(outShape, DType.F32, "stageJump");
        CudaTensor xt = operands.f32In(x, "stageJump");
        float amp = (float) Math.sqrt(1.0 + gamma), cc = Noise.blockNoiseC(gamma);
        for (int[] run : noise.runs()) {
            int row = run[0], rows = run[1], image = run[2];
            Flow.stageJump(stream, o.buffer().slice(row * outRow, rows * outRow, "stageJump rows"), xt.buffer().slice(row * inRow, rows * inRow, "stageJump rows"),
                    null, rows, side, channels, alpha, beta, amp, cc, noise.seed(), noise.stream(), image, outRow / 4);
        }
        return o;
    }
}
