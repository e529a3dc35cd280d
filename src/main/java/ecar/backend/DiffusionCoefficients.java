package ecar.backend;

/**
 * The per-step scalars of a Gaussian diffusion step at one (respaced) timestep, computed in float64 by the
 * schedule and used in float32 as the reference does. {@link #floats()} is their order on the device (kernels/diffusion.cu).
 *
 * @param sqrtRecipAlphaBar     √(1/ᾱ_t): pred_x0 = this·x − sqrtRecipM1AlphaBar·ε
 * @param sqrtRecipM1AlphaBar   √(1/ᾱ_t − 1)
 * @param posteriorMeanCoef1    coefficient of pred_x0 in the posterior mean
 * @param posteriorMeanCoef2    coefficient of x_t in the posterior mean
 * @param minLog                log of the clipped posterior variance β̃_t (β̃_1 at the first step): also the
 *                              FIXED_SMALL log-variance
 * @param maxLog                log β_t
 * @param sqrtAlphaBarPrev      √ᾱ_{t−1} (DDIM)
 * @param sqrtOneMinusAlphaBarPrev √(1 − ᾱ_{t−1}) (DDIM, η = 0)
 * @param fixedLargeLog         the FIXED_LARGE log-variance: log β_t, except log β̃_1 at the first step (the
 *                              reference's "better decoder log likelihood" choice)
 */
public record DiffusionCoefficients(
        float sqrtRecipAlphaBar,
        float sqrtRecipM1AlphaBar,
        float posteriorMeanCoef1,
        float posteriorMeanCoef2,
        float minLog,
        float maxLog,
        float sqrtAlphaBarPrev,
        float sqrtOneMinusAlphaBarPrev,
        float fixedLargeLog) {

    /** How many floats {@link #floats()} holds. */
    public static final int COUNT = 9;

    /** The coefficients in the order of the components, as kernels take them (launch arguments or a device buffer). */
    public float[] floats() {
        return new float[]{sqrtRecipAlphaBar, sqrtRecipM1AlphaBar, posteriorMeanCoef1, posteriorMeanCoef2, minLog, maxLog,
                sqrtAlphaBarPrev, sqrtOneMinusAlphaBarPrev, fixedLargeLog};
    }
}
