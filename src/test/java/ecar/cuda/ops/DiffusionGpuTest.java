package ecar.cuda.ops;

import ecar.backend.cpu.CpuBackend;
import ecar.backend.DiffusionCoefficients;
import ecar.backend.Noise;
import ecar.backend.PosteriorVariance;
import ecar.cuda.DeviceBuffer;
import ecar.dit.DiffusionSchedule;
import ecar.tensor.FloatTensor;
import ecar.tensor.Tensor;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

import static ecar.cuda.ops.GemmGpuTest.data;
import static ecar.cuda.ops.GpuOps.assertClose;
import static ecar.cuda.ops.GpuOps.random;

/**
 * kernels/diffusion.cu against CpuBackend's cfgCombineChannels, diffusionPosterior, ddpmSample (Philox and given
 * noise) and ddimSample, and the fused steps against their composition. DiT-XL/2 latents: 4 channels of 32×32,
 * learned variance (model output 8 channels) and both fixed variances (model output 4 channels).
 */
class DiffusionGpuTest {
    private static final double TOL = 1e-5;
    private static final int C = 4, HW = 32 * 32;
    private final CpuBackend cpu = new CpuBackend();
    private final DiffusionSchedule schedule = DiffusionSchedule.linear("250");

    @BeforeEach
    void gpu() {
        GpuOps.assume("diffusion");
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(PosteriorVariance.class)
    void separateKernelsMatchTheCpu(PosteriorVariance variance) {
        int n = 4, co = variance.modelChannels(C);
        DiffusionCoefficients k = schedule.at(137);
        float[] x = random(41, n * C * HW, 1.5f), mo = random(42, n * co * HW, 1f);
        Tensor xt = FloatTensor.of(x.clone(), n, C, 32, 32);
        Tensor mot = FloatTensor.of(mo.clone(), n, co, 32, 32);
        cpu.cfgCombineChannels(mot, 3, 4f);
        Tensor[] post = cpu.diffusionPosterior(xt, mot, k, variance);
        long count = (long) n * C * HW;
        try (GpuOps g = new GpuOps()) {
            DiffusionKernels d = new DiffusionKernels(g.launcher);
            DeviceBuffer dx = g.f32(x, "x"), dmo = g.f32(mo, "modelOut");
            d.cfgCombineChannels(dmo, n, co, HW, 3, 4f);
            assertClose("cfg combine", data(mot), g.read(dmo, (long) n * co * HW, Precision.F32), TOL);
            DeviceBuffer mean = g.poisoned(count, Precision.F32, "mean"), lv = g.poisoned(count, Precision.F32, "logVar"),
                    x0 = g.poisoned(count, Precision.F32, "x0");
            d.posterior(mean, lv, x0, dx, dmo, n, C, HW, variance, k);
            assertClose("mean", data(post[0]), g.read(mean, count, Precision.F32), TOL);
            assertClose("logVar", data(post[1]), g.read(lv, count, Precision.F32), TOL);
            assertClose("pred_x0", data(post[2]), g.read(x0, count, Precision.F32), TOL);

            // DDPM with Philox noise, with given noise, and the last step (no noise)
            Tensor a = FloatTensor.of(x.clone(), n, C, 32, 32);
            cpu.ddpmSample(a, post[0], post[1], Noise.philox(7, 3));
            d.ddpmSample(dx, mean, lv, null, count, false, 7, 3);
            assertClose("ddpm philox", data(a), g.read(dx, count, Precision.F32), TOL);
            float[] eps = random(43, (int) count, 2f);
            Tensor b = FloatTensor.of(x.clone(), n, C, 32, 32);
            cpu.ddpmSample(b, post[0], post[1], Noise.of(FloatTensor.of(eps, n, C, 32, 32)));
            d.ddpmSample(dx, mean, lv, g.f32(eps, "eps"), count, false, 0, 0);
            assertClose("ddpm given noise", data(b), g.read(dx, count, Precision.F32), TOL);
            d.ddpmSample(dx, mean, lv, null, count, true, 0, 0);
            assertClose("ddpm last step", data(post[0]), g.read(dx, count, Precision.F32), TOL);

            Tensor c = FloatTensor.of(x.clone(), n, C, 32, 32);
            cpu.ddimSample(c, post[2], k);
            DeviceBuffer dx2 = g.f32(x, "x2");
            d.ddimSample(dx2, x0, count, k);
            assertClose("ddim", data(c), g.read(dx2, count, Precision.F32), TOL);
        }
    }

    /** The fused step equals cfgCombineChannels → diffusionPosterior → ddpmSample / ddimSample. */
    @ParameterizedTest(name = "ddim {0} guided {1} channels {2} step {3} {4}")
    @CsvSource({"false, true, 3, 200, LEARNED_RANGE", "false, true, 4, 10, LEARNED_RANGE", "false, false, 0, 100, LEARNED_RANGE",
            "false, true, 3, 0, LEARNED_RANGE", "true, true, 3, 120, LEARNED_RANGE", "true, false, 0, 5, LEARNED_RANGE",
            "false, true, 3, 200, FIXED_LARGE", "false, true, 3, 0, FIXED_LARGE", "false, false, 0, 100, FIXED_SMALL",
            "true, true, 3, 120, FIXED_LARGE", "true, false, 0, 5, FIXED_SMALL"})
    void fusedStepMatchesTheComposition(boolean ddim, boolean guided, int g, int step, PosteriorVariance variance) {
        int b = guided ? 4 : 2, co = variance.modelChannels(C);
        DiffusionCoefficients k = schedule.at(step);
        float[] x = random(44, b * C * HW, 1.2f), mo = random(45, b * co * HW, 1f);
        Tensor xt = FloatTensor.of(x.clone(), b, C, 32, 32);
        Tensor mot = FloatTensor.of(mo.clone(), b, co, 32, 32);
        if (guided) cpu.cfgCombineChannels(mot, g, 1.5f);
        Tensor[] post = cpu.diffusionPosterior(xt, mot, k, variance);
        boolean last = step == 0;
        if (ddim) cpu.ddimSample(xt, post[2], k);
        else cpu.ddpmSample(xt, post[0], post[1], last ? null : Noise.philox(11, 1 + step));
        long count = (long) b * C * HW;
        try (GpuOps gp = new GpuOps()) {
            DiffusionKernels d = new DiffusionKernels(gp.launcher);
            DeviceBuffer dx = gp.f32(x, "x"), dmo = gp.f32(mo, "modelOut");
            if (ddim) d.ddimStep(dx, dmo, b, C, HW, variance, guided, g, 1.5f, k);
            else d.ddpmStep(dx, dmo, b, C, HW, variance, guided, g, 1.5f, k, last, 11, 1 + step);
            assertClose(ddim ? "fused ddim" : "fused ddpm", data(xt), gp.read(dx, count, Precision.F32), TOL);
            assertClose("model output untouched", mo, gp.read(dmo, (long) b * co * HW, Precision.F32), 0);
        }
    }
}
