package ecar.sample;

/** The model families the runtime generates with. */
public enum Family {
    /** DiT: a diffusion transformer denoising SD-VAE latents over hundreds of steps. */
    DIT,
    /** FlowAR: scale-wise AR with a flow head that denoises every scale in full. */
    FLOWAR,
    /** ECAR: FlowAR's modules with the flow split across the stages (MODELS.md §3). */
    ECAR;

    public String id() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    public static Family parse(String s) {
        for (Family f : values()) if (f.id().equalsIgnoreCase(s)) return f;
        throw new IllegalArgumentException("unknown model family '" + s + "' (expected dit, flowar or ecar)");
    }
}
