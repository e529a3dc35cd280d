package ecar.backend;

/**
 * Where the variance of a DDPM step comes from, as the reference's ModelVarType: the model's own prediction
 * (DiT with learn_sigma, output 2C channels) or a fixed value of the schedule (learn_sigma=False, output C channels;
 * create_diffusion picks FIXED_LARGE unless sigma_small).
 */
public enum PosteriorVariance {
    /** The second half of the model output v ∈ [−1, 1] interpolates: log σ² = f·log β_t + (1−f)·log β̃_t, f = (v+1)/2. */
    LEARNED_RANGE(0),
    /** log σ² = log β_t (log β̃_1 at the first step): {@link DiffusionCoefficients#fixedLargeLog()}. */
    FIXED_LARGE(1),
    /** log σ² = log β̃_t, clipped at the first step: {@link DiffusionCoefficients#minLog()}. */
    FIXED_SMALL(2);

    private final int code;

    PosteriorVariance(int code) {
        this.code = code;
    }

    /** The number kernels/diffusion.cu takes for this kind (its "variance" parameter). */
    public int code() {
        return code;
    }

    /** Channels of the model output for C latent channels: ε and v, or ε alone. */
    public int modelChannels(int latentChannels) {
        return this == LEARNED_RANGE ? 2 * latentChannels : latentChannels;
    }

    /** The fixed log-variance of a step; only for the fixed kinds. */
    public float fixedLog(DiffusionCoefficients k) {
        return switch (this) {
            case FIXED_LARGE -> k.fixedLargeLog();
            case FIXED_SMALL -> k.minLog();
            case LEARNED_RANGE -> throw new IllegalStateException("LEARNED_RANGE has no fixed log-variance: the model predicts it");
        };
    }
}
