package ecar.dit;

/** How DiT's classifier-free guidance mixes the conditional and unconditional outputs. */
public enum Guidance {
    /** The official {@code forward_with_cfg}: only the first three channels of ε are guided. */
    OFFICIAL_3_CHANNELS,
    /** Every latent channel of ε is guided. */
    ALL_CHANNELS;

    public int guidedChannels(int latentChannels) {
        return this == OFFICIAL_3_CHANNELS ? Math.min(3, latentChannels) : latentChannels;
    }
}
