package ecar.backend.cpu;

import ecar.backend.DiffusionCoefficients;
import ecar.backend.PosteriorVariance;

/** CPU twin of kernels/diffusion.cu: DiT's channel-wise guidance and the DDPM/DDIM updates (learned or fixed variance). */
final class CpuDiffusion {
    private CpuDiffusion() {}

    /** out [2N, Co, HW]: channels < g of both halves ← u + s(c − u). */
    static void cfgCombine(float[] out, int n2, int co, int hw, int g, float s) {
        int n = n2 / 2;
        for (int b = 0; b < n; b++)
            for (int ch = 0; ch < g; ch++) {
                int oc = (b * co + ch) * hw, ou = ((b + n) * co + ch) * hw;
                for (int i = 0; i < hw; i++) {
                    float cv = out[oc + i], uv = out[ou + i];
                    float e = uv + s * (cv - uv);
                    out[oc + i] = e;
                    out[ou + i] = e;
                }
            }
    }

    /**
     * Writes mean, log-variance and pred_x0 of x [N, C, HW] from the model output: [N, 2C, HW] (ε, v) with learned
     * variance, ε [N, C, HW] with a fixed one.
     */
    static void posterior(float[] x, float[] mo, int n, int c, int hw, DiffusionCoefficients k, PosteriorVariance variance,
                          float[] mean, float[] logVar, float[] x0) {
        boolean learned = variance == PosteriorVariance.LEARNED_RANGE;
        int co = variance.modelChannels(c);
        float fixed = learned ? 0f : variance.fixedLog(k);
        for (int b = 0; b < n; b++)
            for (int ch = 0; ch < c; ch++) {
                int ox = (b * c + ch) * hw, oe = (b * co + ch) * hw, ov = (b * co + c + ch) * hw;
                for (int i = 0; i < hw; i++) {
                    float xv = x[ox + i];
                    float p = k.sqrtRecipAlphaBar() * xv - k.sqrtRecipM1AlphaBar() * mo[oe + i];
                    x0[ox + i] = p;
                    mean[ox + i] = k.posteriorMeanCoef1() * p + k.posteriorMeanCoef2() * xv;
                    if (learned) {
                        float frac = (mo[ov + i] + 1f) / 2f;
                        logVar[ox + i] = frac * k.maxLog() + (1f - frac) * k.minLog();
                    } else {
                        logVar[ox + i] = fixed;
                    }
                }
            }
    }

    static void ddpm(float[] x, float[] mean, float[] logVar, float[] noise) {
        for (int i = 0; i < x.length; i++) {
            x[i] = noise == null ? mean[i] : mean[i] + (float) Math.exp(0.5f * logVar[i]) * noise[i];
        }
    }

    static void ddim(float[] x, float[] x0, DiffusionCoefficients k) {
        for (int i = 0; i < x.length; i++) {
            float eps = (k.sqrtRecipAlphaBar() * x[i] - x0[i]) / k.sqrtRecipM1AlphaBar();
            x[i] = x0[i] * k.sqrtAlphaBarPrev() + k.sqrtOneMinusAlphaBarPrev() * eps;
        }
    }
}
