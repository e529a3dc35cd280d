package ecar.flowar;

import ecar.family.Architecture;

import ecar.io.Json;

import java.util.Arrays;

/**
 * The FlowAR family's architecture (official FlowAR code; ECAR uses the same modules), with the fixtures' names.
 *
 * @param imgSize   image side in pixels; the token grid is imgSize / 16 (KL-16 VAE, patch 1)
 * @param dim       width of the AR encoder and decoder
 * @param encDepth  encoder blocks
 * @param decDepth  decoder blocks
 * @param heads     AR attention heads
 * @param tokenDim  channels of a token (the VAE's latent channels)
 * @param numClasses labels accepted; the class table always has 1001 rows, the last being the null label
 * @param headDepth flow head blocks
 * @param headWidth flow head width (heads of 64 dims)
 * @param scales    token-grid sides of the stages, each double the previous, the last the full grid
 * @param cross     flow head blocks are Block_v2 (cross-attention to the AR tokens) instead of Block_v1
 */
public record FlowArConfig(int imgSize, int dim, int encDepth, int decDepth, int heads, int tokenDim, int numClasses,
                           int headDepth, int headWidth, int[] scales, boolean cross) implements Architecture {

    /** class_emb = nn.Embedding(1000 + 1, dim) whatever num_classes says; row 1000 is the null label. */
    public static final int CLASS_ROWS = 1001;
    /** VisionRotaryEmbeddingFast's pt_seq_len: every stage's RoPE positions span 0..16. */
    public static final int ROPE_SPAN = 16;
    public static final int VAE_STRIDE = 16;
    public static final int HEAD_DIM_OF_FLOW_HEAD = 64;

    public FlowArConfig {
        scales = scales.clone();
        check(dim > 0 && heads > 0 && dim % heads == 0, "dim " + dim + " must be a positive multiple of heads " + heads);
        check((dim / heads) % 4 == 0, "AR head size " + dim / heads + " must be a multiple of 4 for the 2D RoPE");
        check(encDepth >= 0 && decDepth >= 0 && headDepth > 0, "depths must be positive (enc " + encDepth + ", dec " + decDepth + ", head " + headDepth + ")");
        check(headWidth >= HEAD_DIM_OF_FLOW_HEAD && headWidth % HEAD_DIM_OF_FLOW_HEAD == 0, "head_width " + headWidth + " must be a multiple of 64");
        check(tokenDim > 0, "token_dim must be positive");
        check(numClasses > 0 && numClasses < CLASS_ROWS, "num_classes " + numClasses + " must be in [1, 1000]");
        check(scales.length >= 1 && scales[0] >= 1, "scales must start at 1 or more, got " + Arrays.toString(scales));
        for (int i = 1; i < scales.length; i++) {
            check(scales[i] == 2 * scales[i - 1], "scales must double from stage to stage, got " + Arrays.toString(scales));
        }
        check(imgSize % VAE_STRIDE == 0 && imgSize / VAE_STRIDE == scales[scales.length - 1],
                "the last scale " + scales[scales.length - 1] + " must be img_size/16 = " + imgSize / VAE_STRIDE);
    }

    private static void check(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException("FlowAR config: " + message);
    }

    public int stages() {
        return scales.length;
    }

    public int side(int stage) {
        return scales[stage];
    }

    /** Token count of a stage, r². */
    public int tokens(int stage) {
        return scales[stage] * scales[stage];
    }

    /** First token of a stage in the whole sequence. */
    public int start(int stage) {
        int s = 0;
        for (int i = 0; i < stage; i++) s += tokens(i);
        return s;
    }

    /** All tokens, Σ r² (341 for 1-2-4-8-16). */
    public int seqLen() {
        return start(stages());
    }

    public int grid() {
        return scales[scales.length - 1];
    }

    @Override
    public int latentChannels() {
        return tokenDim;
    }

    @Override
    public int latentSide() {
        return grid();
    }

    /** The same modules for another image size: stages from the first scale, doubling up to the new grid. */
    @Override
    public FlowArConfig atImageSize(int imageSize, int decoderFactor) {
        int grid = imageSize / VAE_STRIDE, first = scales[0];
        java.util.List<Integer> sides = new java.util.ArrayList<>();
        for (int s = first; s <= grid; s *= 2) sides.add(s);
        if (imageSize % VAE_STRIDE != 0 || sides.isEmpty() || sides.get(sides.size() - 1) != grid) {
            throw new IllegalArgumentException("image size " + imageSize + " gives a " + grid + "² token grid, not " + first + "·2^k");
        }
        return new FlowArConfig(imageSize, dim, encDepth, decDepth, heads, tokenDim, numClasses, headDepth, headWidth,
                sides.stream().mapToInt(Integer::intValue).toArray(), cross);
    }

    @Override
    public String describe() {
        return String.format(java.util.Locale.ROOT, "AR %d+%d blocks × %d, head %d×%d %s, scales %s", encDepth, decDepth, dim, headDepth, headWidth,
                cross ? "v2" : "v1", Arrays.toString(scales));
    }

    /** timm SwiGLU hidden size as FlowAR builds it: int(dim · 4 · 2/3). */
    public static int mlpHidden(int width) {
        return (int) (width * 4.0 * 2 / 3.0);
    }

    public int headHeads() {
        return headWidth / HEAD_DIM_OF_FLOW_HEAD;
    }

    /** The names {@link #with} and {@link #fromJson} read (the fixtures' names for FlowAR's constructor arguments). */
    public static final java.util.List<String> KEYS = java.util.List.of("img_size", "dim", "enc_depth", "dec_depth", "heads", "token_dim",
            "num_classes", "head_depth", "head_width", "scales", "cross");

    /**
     * This architecture with the numbers o gives in place of its own (a model directory's "architecture"). An img_size
     * without scales keeps the first scale and doubles up to the new grid; scales without img_size set it.
     */
    public FlowArConfig with(Json.Obj o) {
        o.onlyKeys(KEYS);
        int[] given = o.ints("scales", null);
        int img = o.integer("img_size", given != null && given.length > 0 ? given[given.length - 1] * VAE_STRIDE : imgSize);
        FlowArConfig c = new FlowArConfig(given != null ? img : imgSize, o.integer("dim", dim), o.integer("enc_depth", encDepth),
                o.integer("dec_depth", decDepth), o.integer("heads", heads), o.integer("token_dim", tokenDim), o.integer("num_classes", numClasses),
                o.integer("head_depth", headDepth), o.integer("head_width", headWidth), given != null ? given : scales, o.bool("cross", cross));
        return given == null && img != imgSize ? c.atImageSize(img, VAE_STRIDE) : c;
    }

    public static FlowArConfig fromJson(Json.Obj o) {
        return new FlowArConfig(o.integer("img_size", 256), o.integer("dim"), o.integer("enc_depth"), o.integer("dec_depth"),
                o.integer("heads"), o.integer("token_dim", 16), o.integer("num_classes", 1000), o.integer("head_depth"),
                o.integer("head_width"), o.ints("scales", new int[]{1, 2, 4, 8, 16}), o.bool("cross", false));
    }

    /** FlowAR-S, -L, -H at 256² (the paper's sizes). */
    public static FlowArConfig named(String size) {
        int[] scales = {1, 2, 4, 8, 16};
        return switch (size.toUpperCase(java.util.Locale.ROOT)) {
            case "S" -> new FlowArConfig(256, 768, 6, 6, 12, 16, 1000, 2, 1024, scales, false);
            case "L" -> new FlowArConfig(256, 1024, 8, 8, 16, 16, 1000, 12, 1024, scales, true);
            case "H" -> new FlowArConfig(256, 1536, 15, 15, 16, 16, 1000, 12, 1536, scales, true);
            default -> throw new IllegalArgumentException("unknown FlowAR size '" + size + "' (expected S, L or H)");
        };
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FlowArConfig c && c.imgSize == imgSize && c.dim == dim && c.encDepth == encDepth && c.decDepth == decDepth
                && c.heads == heads && c.tokenDim == tokenDim && c.numClasses == numClasses && c.headDepth == headDepth
                && c.headWidth == headWidth && Arrays.equals(c.scales, scales) && c.cross == cross;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(scales) * 31 + dim;
    }

    @Override
    public String toString() {
        return "FlowArConfig[dim " + dim + ", " + encDepth + "+" + decDepth + " blocks, " + heads + " heads, head " + headDepth + "×" + headWidth
                + (cross ? " v2" : " v1") + ", scales " + Arrays.toString(scales) + ", " + imgSize + "²]";
    }
}
