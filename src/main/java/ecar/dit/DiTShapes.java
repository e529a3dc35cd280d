package ecar.dit;

import ecar.family.Disagreements;
import ecar.model.WeightSource;
import ecar.tensor.Shape;

import java.util.List;

/**
 * What DiT's tensors say about its numbers (facebookresearch/DiT's names): width, channels and patch from the patch
 * embedding, the latent side from pos_embed, depth from the blocks, the MLP width, the classes from the label table
 * (one row more: the null label), learned sigma from the final layer's rows. The head count is not stored.
 */
final class DiTShapes {
    private DiTShapes() {}

    static List<String> disagreements(DiTConfig c, int decoderFactor, WeightSource w) {
        Disagreements d = new Disagreements(w);
        if (w.names().isEmpty()) return d.lines();
        int p = c.patchSize(), channels = c.inChannels();
        Shape x = d.shape("x_embedder.proj.weight");
        if (x != null && x.rank() == 4) {
            String e = "x_embedder.proj.weight " + x;
            d.check("hidden_size", c.hiddenSize(), x.dim(0), e);
            d.check("in_channels", channels, x.dim(1), e);
            d.check("patch_size", p, x.dim(2), e);
            p = x.dim(2);
            channels = x.dim(1);
        }
        Shape pos = d.shape("pos_embed");
        if (pos != null && pos.rank() == 3) {
            int tokens = pos.dim(1), grid = (int) Math.round(Math.sqrt(tokens));
            if (grid * grid == tokens && grid * p != c.inputSize()) {
                d.add("input_size " + c.inputSize() + " (image_size " + c.inputSize() * decoderFactor + "): the weights say " + grid * p
                        + " (image_size " + grid * p * decoderFactor + "; pos_embed " + pos + " holds " + grid + "×" + grid + " tokens of patch " + p + ")");
            }
        }
        int depth = d.blocks("blocks.", ".attn.qkv.weight");
        if (depth > 0) d.check("depth", c.depth(), depth, "blocks.0 … blocks." + (depth - 1));
        Shape fc1 = d.shape("blocks.0.mlp.fc1.weight");
        if (fc1 != null && fc1.rank() == 2 && fc1.dim(0) != c.mlpHidden()) {
            d.add("mlp_ratio " + c.mlpRatio() + " (MLP width " + c.mlpHidden() + "): the weights say MLP width " + fc1.dim(0)
                    + " (blocks.0.mlp.fc1.weight " + fc1 + ")");
        }
        Shape table = d.shape("y_embedder.embedding_table.weight");
        if (table != null && table.rank() == 2) {
            d.check("num_classes", c.numClasses(), table.dim(0) - 1, "y_embedder.embedding_table.weight " + table + ": the classes and the null label");
        }
        Shape fin = d.shape("final_layer.linear.weight");
        if (fin != null && fin.rank() == 2 && fin.dim(0) % (p * p) == 0) {
            int out = fin.dim(0) / (p * p);
            if (out != c.outChannels() && (out == channels || out == 2 * channels)) {
                d.add("learn_sigma " + c.learnSigma() + " (" + c.outChannels() + " output channels): the weights say " + (out == 2 * channels)
                        + " (final_layer.linear.weight " + fin + ": " + out + " channels of patch " + p + ")");
            }
        }
        return d.lines();
    }
}
