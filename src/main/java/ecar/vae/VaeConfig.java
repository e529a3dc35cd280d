package ecar.vae;

import ecar.io.Json;

import java.util.Arrays;

/**
 * The KL autoencoder's decoder hyper-parameters (LDM's Decoder) and the latent scale the generators were
 * trained with: generators see z·scale, so images come from decoder(z / scale).
 *
 * @param embedDim         latent channels the generator produces (post_quant_conv's input)
 * @param zChannels        channels after post_quant_conv (conv_in's input)
 * @param attnResolutions  resolutions (image side at that level) whose up blocks carry an AttnBlock
 * @param resolution       the image side the decoder was built for (only used to place attention)
 */
public record VaeConfig(String name, int ch, int[] chMult, int numResBlocks, int embedDim, int zChannels,
                        int[] attnResolutions, int resolution, double scale) {

    public static final int GROUPS = 32;
    public static final float EPS = 1e-6f;

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
     * A small decoder of the same structure for the test presets: ch 32, one ResnetBlock pair per level, as
     * many levels as the upsampling factor needs.
     */
    public static VaeConfig tiny(int latentChannels, int factor) {
        if (Integer.bitCount(factor) != 1) throw new IllegalArgumentException("VAE factor " + factor + " must be a power of two");
        int[] mult = new int[Integer.numberOfTrailingZeros(factor) + 1];
        Arrays.fill(mult, 1);
        return new VaeConfig("tiny-f" + factor, 32, mult, 1, latentChannels, latentChannels, new int[0], 256, 1.0);
    }

    public static VaeConfig named(String name) {
        return switch (name) {
            case "kl16" -> kl16();
            case "sd-f8" -> sdF8();
            default -> throw new IllegalArgumentException("unknown VAE '" + name + "' (known: kl16, sd-f8)");
        };
    }

    /** From a fixture's or model directory's JSON: LDM's ddconfig names; the scale defaults to 1. */
    public static VaeConfig fromJson(Json.Obj c, String name) {
        int z = c.integer("z_channels");
        return new VaeConfig(name, c.integer("ch"), c.ints("ch_mult"), c.integer("num_res_blocks"),
                c.integer("embed_dim", z), z, c.ints("attn_resolutions", new int[0]), c.integer("resolution", 256),
                c.num("scale", 1.0));
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
        return name + " (ch " + ch + ", ch_mult " + Arrays.toString(chMult) + ", z " + embedDim + ", ×" + factor() + ", scale " + scale + ")";
    }
}
