package ecar.family;

/**
 * The names of sampling settings a request or the command line may set (--steps, --cfg, …), with the type of their
 * value. Each family's {@link Sampling} takes the ones it uses and refuses the others by name.
 */
public enum SamplingOption {
    STEPS("steps", Integer.class),
    STAGE_STEPS("stage-steps", int[].class),
    CFG("cfg", Float.class),
    GUIDANCE_HIGH("guidance-high", Float.class),
    GAMMA("gamma", Double.class),
    /** "ddpm" or "ddim". */
    SAMPLER("sampler", String.class),
    GUIDE_ALL_CHANNELS("guide-all-channels", Boolean.class),
    /** How guidance changes over the steps: "linear" or "constant" (ARPG). */
    CFG_SCHEDULE("cfg-schedule", String.class),
    /** How fast a random-order sampler reveals tokens: "arccos" or "cosine" (ARPG). */
    ORDER_SCHEDULE("order-schedule", String.class),
    /** Divides the logits before a token draw (ARPG). */
    TEMPERATURE("temperature", Float.class),
    /** Draw only among the k most likely tokens; 0 for all (ARPG). */
    TOP_K("top-k", Integer.class),
    /** Draw only from the nucleus of this probability mass; 1 for all (ARPG). */
    TOP_P("top-p", Float.class);

    private final String flag;
    private final Class<?> type;

    SamplingOption(String flag, Class<?> type) {
        this.flag = flag;
        this.type = type;
    }

    /** The command-line spelling without dashes. */
    public String flag() {
        return flag;
    }

    public Class<?> type() {
        return type;
    }

    /** The exception a family throws for an option it does not use. */
    public IllegalArgumentException notFor(String who, java.util.Set<SamplingOption> taken) {
        StringBuilder names = new StringBuilder();
        for (SamplingOption o : taken) names.append(names.isEmpty() ? "" : ", ").append("--").append(o.flag);
        return new IllegalArgumentException("--" + flag + " does not apply to " + who + " (its sampling options: " + names + ")");
    }
}
