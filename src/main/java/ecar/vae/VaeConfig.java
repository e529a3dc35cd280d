package ecar.vae;

import ecar.io.Json;

import java.util.Arrays;

/**
 * A decoder's hyper-parameters: LDM's KL autoencoder (continuous latents) or LlamaGen's VQ tokenizer (discrete
 * token ids), which share one decoder tree (MODELS.md §4, §5) and differ in what goes in and in key names.
 * KL generators see z·scale, so images come from decoder(z / scale); VQ generators emit codebook indices.
 *
 * @param embedDim         channels of post_quant_conv's input: the KL latent's channels, or the VQ codebook's
 *                         row width (codebook_embed_dim)
 * @param zChannels        channels after post_quant_conv (conv_in's input)
 * @param attnResolutions  resolutions (image side at that level) whose up blocks carry an AttnBlock
 * @param resolution       the image side the decoder was built for (only used to place attention)
 * @param kind             what the decoder takes and how its checkpoint names its tensors
 * @param codebookSize     rows of the VQ codebook (token ids are in [0, codebookSize)); 0 for KL
 */
public record VaeConfig(String name, int ch, int[] chMult, int numResBlocks, int embedDim, int zChannels,
                        int[] attnResolutions, int resolution, double scale, Kind kind, int codebookSize) {

    public static final int GROUPS = 32;
    public static final float EPS = 1e-6f;

    /** The two decoders this runtime knows. */
    public enum Kind {
        /** LDM's AutoencoderKL: latents [N, embed_dim, h, w], LDM key names (decoder.mid.block_1, decoder.up.3, ...). */
        KL,
        /**
         * LlamaGen's VQModel.decode_code: token ids [N, 1, h, w] as exact integer floats, looked up in the
         * l2-normalised codebook; LlamaGen key names (decoder.mid.0, decoder.conv_blocks.0.res.0, ...).
         */
        VQ
    }

    public VaeConfig {
        if (ch <= 0 || numResBlocks <= 0 || embedDim <= 0 || zChannels <= 0 || chMult.length == 0) {
            throw new IllegalArgumentException("VAE '" + name + "': ch, num_res_blocks, embed_dim, z_channels and ch_mult must be positive");
        }
        for (int m : chMult) {
            if (m <= 0 || (ch * m) % GROUPS != 0) {
                throw new IllegalArgumentException("VAE '" + name + "': channels " + ch + "×" + m + " must be a positive multiple of " + GROUPS + " (GroupNorm)");
            }
        }
        if (!(scale > 0)) throw new IllegalArgumentException("VAE '" + name + "': scale must be positive, found " + scale);
        if (kind == Kind.KL && codebookSize != 0) {
            throw new IllegalArgumentException("VAE '" + name + "': a KL decoder has no codebook, found codebook size " + codebookSize);
        }
        if (kind == Kind.VQ) checkVq(name, chMult, attnResolutions, resolution, scale, codebookSize);
    }

    /** LlamaGen's Decoder has no settings for attention or scale: refuse configs that claim otherwise. */
    private static void checkVq(String name, int[] chMult, int[] attnResolutions, int resolution, double scale, int codebookSize) {
        if (codebookSize <= 0 || codebookSize > 1 << 24) {
            throw new IllegalArgumentException("VAE '" + name + "': codebook size " + codebookSize
                    + " must be in [1, 2^24] (token ids travel as exact integers in float32)");
        }
        int coarsest = resolution >> (chMult.length - 1);
        if (attnResolutions.length != 1 || attnResolutions[0] != coarsest) {
            throw new IllegalArgumentException("VAE '" + name + "': LlamaGen's VQ decoder has attention at its coarsest level only ("
                    + coarsest + " at resolution " + resolution + "), found attn_resolutions " + Arrays.toString(attnResolutions));
        }
        if (scale != 1.0) throw new IllegalArgumentException("VAE '" + name + "': a VQ decoder takes token ids, which have no scale; found " + scale);
    }

    /** A KL decoder (LDM's AutoencoderKL). */
    public VaeConfig(String name, int ch, int[] chMult, int numResBlocks, int embedDim, int zChannels,
                     int[] attnResolutions, int resolution, double scale) {
        this(name, ch, chMult, numResBlocks, embedDim, zChannels, attnResolutions, resolution, scale, Kind.KL, 0);
    }

    /** A LlamaGen VQ decoder: attention at the coarsest level of a decoder built for resolution, no scale. */
    public static VaeConfig vq(String name, int ch, int[] chMult, int numResBlocks, int codebookSize, int codebookEmbedDim,
                               int zChannels, int resolution) {
        int[] attention = {resolution >> (chMult.length - 1)};
        return new VaeConfig(name, ch, chMult, numResBlocks, codebookEmbedDim, zChannels, attention, resolution, 1.0, Kind.VQ, codebookSize);
    }

    /** MAR's KL-16 (FlowAR, ECAR): 16 latent channels, ×16 downsampling. */
    public static VaeConfig kl16() {
        return new VaeConfig("kl16", 128, new int[]{1, 1, 2, 2, 4}, 2, 16, 16, new int[0], 256, 0.2325);
    }

    /** Stable Diffusion's f8 VAE (sd-vae-ft-ema, DiT): 4 latent channels, ×8 downsampling. */
    public static VaeConfig sdF8() {
        return new VaeConfig("sd-f8", 128, new int[]{1, 2, 4, 4}, 2, 4, 4, new int[0], 256, 0.18215);
    }

    /**
     * LlamaGen's VQ-16 tokenizer (vq_ds16_c2i.pt, ARPG and LlamaGen): 16384 codes of width 8, z 256, ×16
     * upsampling (a 16×16 token grid to 256² pictures). VQModel does not pass its num_res_blocks to the
     * Decoder, so the Decoder's default of 2 holds.
     */
    public static VaeConfig vq16() {
        return vq("vq16", 128, new int[]{1, 1, 2, 2, 4}, 2, 16384, 8, 256, 256);
    }

    /**
     * A small decoder of the same structure for the test presets: ch 32, one ResnetBlock pair per level, as
     * many levels as the upsampling factor needs.
     */
    public static VaeConfig tiny(int latentChannels, int factor) {
        if (Integer.bitCount(factor) != 1) throw new IllegalArgumentException("VAE factor " + factor + " must be a power of two");
        int[] mult = new int[Integer.numberOfTrailingZeros(factor) + 1];
        Arrays.fill(mult, 1);
        return new VaeConfig("tiny-f" + factor, 32, mult, 1, latentChannels, latentChannels, new int[0], 256, 1.0);
    }

    /**
     * The VQ decoder of the vq.decode fixture, for test presets: 64 codes of width 8 (the tiny ARPG's vocab),
     * z 64, ch 32, ch_mult (1, 2, 2), 2 res blocks: ×4 upsampling, so a 4×4 token grid gives 16² pictures and a
     * 16×16 grid 64² ones, in well under a second on the CPU.
     */
    public static VaeConfig tinyVq() {
        return tinyVq(64);
    }

    /** {@link #tinyVq()} with another codebook size (a generator's vocabulary). */
    public static VaeConfig tinyVq(int codebookSize) {
        return vq("tiny-vq", 32, new int[]{1, 2, 2}, 2, codebookSize, 8, 64, 16);
    }

    public static VaeConfig named(String name) {
        return switch (name) {
            case "kl16" -> kl16();
            case "sd-f8" -> sdF8();
            case "vq16" -> vq16();
            default -> throw new IllegalArgumentException("unknown VAE '" + name + "' (known: kl16, sd-f8, vq16)");
        };
    }

    /**
     * From a fixture's or model directory's JSON: LDM's ddconfig names (scale defaults to 1), or LlamaGen's
     * ModelArgs names when "codebook_size" is present (codebook_embed_dim, z_channels, ch, ch_mult, num_res_blocks).
     */
    public static VaeConfig fromJson(Json.Obj c, String name) {
        int z = c.integer("z_channels");
        if (c.has("codebook_size")) {
            return vq(name, c.integer("ch", 128), c.ints("ch_mult"), c.integer("num_res_blocks", 2), c.integer("codebook_size"),
                    c.integer("codebook_embed_dim"), z, c.integer("resolution", 256));
        }
        return new VaeConfig(name, c.integer("ch"), c.ints("ch_mult"), c.integer("num_res_blocks"),
                c.integer("embed_dim", z), z, c.ints("attn_resolutions", new int[0]), c.integer("resolution", 256),
                c.num("scale", 1.0));
    }

    /** Channels of what the decoder takes from a generator: the latent's embed_dim (KL), or 1 token id (VQ). */
    public int inputChannels() {
        return kind == Kind.VQ ? 1 : embedDim;
    }

    /** Spatial upsampling factor from latent to image. */
    public int factor() {
        return 1 << (chMult.length - 1);
    }

    /** Whether the up level at this image side carries attention. */
    public boolean attentionAt(int side) {
        return Arrays.stream(attnResolutions).anyMatch(r -> r == side);
    }

    @Override
    public String toString() {
        String input = kind == Kind.VQ ? "codebook " + codebookSize + "×" + embedDim : "z " + embedDim;
        return name + " (" + kind + ", ch " + ch + ", ch_mult " + Arrays.toString(chMult) + ", " + input + ", ×" + factor()
                + (kind == Kind.KL ? ", scale " + scale : "") + ")";
    }
}
