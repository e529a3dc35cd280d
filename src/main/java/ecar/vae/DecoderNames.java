package ecar.vae;

/**
 * Where each module of the decoder tree sits in a checkpoint. LDM (KL checkpoints) numbers the up levels by
 * resolution, finest = 0, and names the mid modules; LlamaGen (VQ checkpoints) numbers its conv_blocks in the
 * order they run, coarsest = 0, and the mid modules by position. The decoder asks for the checkpoint's own names,
 * so a missing tensor is reported under the name its file would hold.
 *
 * @param levelsFromCoarsest whether level numbers count from the coarsest level (LlamaGen) or the finest (LDM)
 */
record DecoderNames(String midBlock1, String midAttention, String midBlock2, String level, String resnet,
                    boolean levelsFromCoarsest) {

    static final DecoderNames LDM = new DecoderNames("mid.block_1.", "mid.attn_1.", "mid.block_2.", "up.", "block.", false);
    static final DecoderNames LLAMAGEN = new DecoderNames("mid.0.", "mid.1.", "mid.2.", "conv_blocks.", "res.", true);

    static DecoderNames of(VaeConfig.Kind kind) {
        return kind == VaeConfig.Kind.VQ ? LLAMAGEN : LDM;
    }

    /** The up level whose channels are ch·ch_mult[i] (i = levels − 1 is the coarsest, which runs first). */
    String level(int i, int levels) {
        return level + (levelsFromCoarsest ? levels - 1 - i : i) + ".";
    }

    /** ResnetBlock j of a level. */
    String resnet(int j) {
        return resnet + j + ".";
    }

    /** AttnBlock j of a level (after ResnetBlock j). */
    String attention(int j) {
        return "attn." + j + ".";
    }
}
