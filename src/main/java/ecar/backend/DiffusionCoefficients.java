package ecar.backend;

/**
 * The per-step scalars of a Gaussian diffusion step at one (respaced) timestep, computed in float64 by the
 * schedule and used in float32 as the reference does.
 *
 * @param sqrtRecipAlphaBar     √(1/ᾱ_t): pred_x0 = this·x − sqrtRecipM1AlphaBar·ε
 * @param sqrtRecipM1AlphaBar   √(1/ᾱ_t − 1)
 * @param posteriorMeanCoef1    coefficient of pred_x0 in the posterior mean
 * @param posteriorMeanCoef2    coefficient of x_t in the posterior mean
 * @param minLog                log of the clipped posterior variance β̃_t
 * @param maxLog                log β_t
 * @param sqrtAlphaBarPrev      √ᾱ_{t−1} (DDIM)
 * @param sqrtOneMinusAlphaBarPrev √(1 − ᾱ_{t−1}) (DDIM, η = 0)
 */
public record DiffusionCoefficients(
        float sqrtRecipAlphaBar,
        float sqrtRecipM1AlphaBar,
        float posteriorMeanCoef1,
        float posteriorMeanCoef2,
        float minLog,
        float maxLog,
        float sqrtAlphaBarPrev,
        float sqrtOneMinusAlphaBarPrev) {}
