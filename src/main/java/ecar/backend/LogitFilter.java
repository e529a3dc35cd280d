package ecar.backend;

/**
 * Which logits a token draw keeps, as ARPG's (and LlamaGen's) {@code top_k_top_p_filtering}: the top-k largest (every
 * logit equal to the k-th largest too), then of those the smallest prefix, largest first, whose probability before each
 * kept token is at most top-p. Removed logits become −∞.
 *
 * @param topK keep the k largest; 0 keeps all
 * @param topP keep the nucleus of this probability mass; 1 keeps all
 */
public record LogitFilter(int topK, float topP) {
    /** Keeps every logit (the official sampler's default: top_k 0, top_p 1). */
    public static final LogitFilter NONE = new LogitFilter(0, 1f);

    public LogitFilter {
        Check.that(topK >= 0, "LogitFilter", "top-k " + topK + " must be 0 (off) or positive");
        Check.that(topP > 0f && topP <= 1f, "LogitFilter", "top-p " + topP + " must lie in (0, 1] (1 is off)");
    }

    /** Whether it removes anything at all (the reference skips the filter otherwise). */
    public boolean active() {
        return topK > 0 || topP < 1f;
    }
}
