package ecar.flowar;

import ecar.family.Disagreements;
import ecar.model.WeightSource;
import ecar.tensor.Shape;

import java.util.Arrays;
import java.util.List;

/**
 * What FlowAR's tensors say about its numbers (the official code's names): the width from the class table, the token
 * channels from z_proj, the AR depths from the blocks, the AR head size from the RoPE frequencies (head/4 of them),
 * the sequence (so the scales and the image size) from the position embeddings, the flow head's width, depth and
 * version (cross-attention) from flownet. num_classes is not stored (the table always has 1001 rows).
 */
final class FlowArShapes {
    private FlowArShapes() {}

    static List<String> disagreements(FlowArConfig c, WeightSource w) {
        Disagreements d = new Disagreements(w);
        if (w.names().isEmpty()) return d.lines();
        Shape table = d.shape("class_emb.weight");
        int dim = c.dim();
        if (table != null && table.rank() == 2) {
            d.check("dim", c.dim(), table.dim(1), "class_emb.weight " + table);
            dim = table.dim(1);
        }
        Shape z = d.shape("z_proj.weight");
        if (z != null && z.rank() == 2) d.check("token_dim", c.tokenDim(), z.dim(1), "z_proj.weight " + z);
        int enc = d.blocks("encoder_blocks.", ".attn.qkv.weight"), dec = d.blocks("decoder_blocks.", ".attn.qkv.weight");
        if (enc > 0) d.check("enc_depth", c.encDepth(), enc, "encoder_blocks.0 … " + (enc - 1));
        if (dec > 0) d.check("dec_depth", c.decDepth(), dec, "decoder_blocks.0 … " + (dec - 1));
        Shape rope = d.shape("encoder_blocks.0.attn.rope.freqs");
        if (rope != null && rope.rank() == 1 && rope.dim(0) > 0 && dim % (4 * rope.dim(0)) == 0) {
            d.check("heads", c.heads(), dim / (4 * rope.dim(0)), "encoder_blocks.0.attn.rope.freqs " + rope + ": heads of " + 4 * rope.dim(0) + " channels");
        }
        Shape pos = d.shape("diffusion_pos_embed_learned");
        if (pos != null && pos.rank() == 3 && pos.dim(1) != c.seqLen()) {
            d.add("img_size " + c.imgSize() + " (scales " + Arrays.toString(c.scales()) + ", " + c.seqLen() + " tokens): the weights hold "
                    + pos.dim(1) + " tokens" + imageSizeOf(c, pos.dim(1)) + " (diffusion_pos_embed_learned " + pos + ")");
        }
        Shape input = d.shape("flownet.input_proj.weight");
        if (input != null && input.rank() == 2) d.check("head_width", c.headWidth(), input.dim(0), "flownet.input_proj.weight " + input);
        int head = d.blocks("flownet.res_blocks.", ".attn.qkv.weight");
        if (head > 0) {
            d.check("head_depth", c.headDepth(), head, "flownet.res_blocks.0 … " + (head - 1));
            d.check("cross", c.cross(), w.shape("flownet.res_blocks.0.crossattn.q.weight", null) != null,
                    "flownet.res_blocks.0.crossattn.* " + (c.cross() ? "absent" : "present"));
        }
        return d.lines();
    }

    /** ", img_size N (scales …)" when tokens is a sum of doubling squares from the configured first scale. */
    private static String imageSizeOf(FlowArConfig c, int tokens) {
        int total = 0;
        StringBuilder sides = new StringBuilder();
        for (int s = c.scales()[0]; total < tokens; s *= 2) {
            total += s * s;
            sides.append(sides.isEmpty() ? "" : ", ").append(s);
            if (total == tokens) return ": img_size " + s * FlowArConfig.VAE_STRIDE + " (scales [" + sides + "])";
        }
        return "";
    }
}
