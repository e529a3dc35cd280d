package ecar.dit;

import ecar.model.Linear;
import ecar.model.TimestepEmbedder;
import ecar.model.Weights;

import ecar.backend.Activation;
import ecar.backend.Backend;
import ecar.backend.Norm;
import ecar.tensor.Shape;
import ecar.tensor.Tensor;

/**
 * The DiT baseline (Peebles &amp; Xie), exactly the official architecture and key names: patch embedding plus a
 * fixed sin-cos position embedding, adaLN-Zero blocks conditioned on c = t_emb + y_emb, a modulated final
 * layer, unpatchify.
 */
public final class DiT {
    private static final float EPS = 1e-6f;

    private final DiTConfig cfg;
    private final Backend b;
    private final Linear patchEmbed;   // the stride-p conv as a linear over (c, kh, kw) patches
    private final Tensor posEmbed;     // [T, D]
    private final TimestepEmbedder tEmbed;
    private final Tensor yTable;       // [num_classes + 1, D], the last row is the null label
    private final Block[] blocks;
    /** Every block's adaLN_modulation.1 stacked, [depth · 6D, D]: one matmul per forward; block i reads chunks 6i..6i+5. */
    private final Linear adaLN;
    private final Linear finalAdaLN, finalLinear;

    private record Block(Linear qkv, Linear proj, Linear fc1, Linear fc2) {}

    public DiT(DiTConfig cfg, Weights w) {
        this.cfg = cfg;
        this.b = w.backend();
        int d = cfg.hiddenSize(), p = cfg.patchSize(), c = cfg.inChannels();
        Tensor conv = w.param("x_embedder.proj.weight", new int[]{d, c, p, p}, Shape.of(d, c * p * p), t -> t.reshape(d, c * p * p));
        patchEmbed = new Linear(conv, w.param("x_embedder.proj.bias", d), c * p * p, d);
        posEmbed = b.weight(w.host("pos_embed", () -> PositionEmbedding.sinCos2d(d, cfg.gridSide()).reshape(1, cfg.tokens(), d),
                1, cfg.tokens(), d).reshape(cfg.tokens(), d));
        tEmbed = TimestepEmbedder.load(w.at("t_embedder."), d);
        yTable = w.param("y_embedder.embedding_table.weight", cfg.numClasses() + 1, d);
        blocks = new Block[cfg.depth()];
        for (int i = 0; i < blocks.length; i++) {
            Weights bw = w.at("blocks." + i + ".");
            blocks[i] = new Block(Linear.load(bw, "attn.qkv", d, 3 * d), Linear.load(bw, "attn.proj", d, d), Linear.load(bw, "mlp.fc1", d, cfg.mlpHidden()),
                    Linear.load(bw, "mlp.fc2", cfg.mlpHidden(), d));
        }
        adaLN = Linear.stack(w, "blocks.N.adaLN_modulation.1",
                java.util.stream.IntStream.range(0, blocks.length).mapToObj(i -> "blocks." + i + ".adaLN_modulation.1").toList(), d, 6 * d);
        finalAdaLN = Linear.load(w, "final_layer.adaLN_modulation.1", d, 2 * d);
        finalLinear = Linear.load(w, "final_layer.linear", d, p * p * cfg.outChannels());
    }

    public DiTConfig config() {
        return cfg;
    }

    /** x [N, C, H, W] latents, t [N] timesteps (may be fractional), y [N] labels → [N, out_channels, H, W]. */
    public Tensor forward(Tensor x, float[] t, int[] y) {
        checkShape(x);
        if (t.length != x.shape().dim(0) || y.length != x.shape().dim(0)) {
            throw new IllegalArgumentException("DiT: " + x.shape().dim(0) + " latents but " + t.length + " timesteps and " + y.length + " labels");
        }
        return forward(x, t, labels(y));
    }

    /**
     * The label embeddings [N, D] for y, N of them; the null label is {@code num_classes}. They do not change during
     * sampling, so a sampler makes them once (their ids are an upload, which a captured step may not do).
     */
    public Tensor labels(int[] y) {
        for (int label : y) {
            if (label < 0 || label > cfg.numClasses()) {
                throw new IllegalArgumentException("class label " + label + " outside [0, " + cfg.numClasses() + "] (" + cfg.numClasses() + " is the null label)");
            }
        }
        return b.embedding(yTable, y);
    }

    /** As {@link #forward(Tensor, float[], int[])} with the labels already embedded ({@link #labels}). */
    public Tensor forward(Tensor x, float[] t, Tensor labels) {
        checkShape(x);
        Shape ls = labels.shape();
        if (t.length != x.shape().dim(0) || ls.rank() != 2 || ls.dim(0) != x.shape().dim(0) || ls.last() != cfg.hiddenSize()) {
            throw new IllegalArgumentException("DiT: " + x.shape().dim(0) + " latents but " + t.length + " timesteps and label embeddings " + ls
                    + " (expected [" + x.shape().dim(0) + ", " + cfg.hiddenSize() + "])");
        }
        Tensor h = b.addTiled(patchEmbed.apply(b, b.patchify(x, cfg.patchSize())), posEmbed);
        Tensor c = b.add(tEmbed.apply(b, t), labels);
        Tensor cAct = b.silu(c);
        Tensor mods = adaLN.apply(b, cAct);   // [N, depth · 6D]: each block's shift, scale, gate for attention, then for the MLP
        for (int i = 0; i < blocks.length; i++) {
            try (Backend.Scope scope = b.scope()) {   // the block's activations are reclaimed as it ends; h is updated in place
                block(blocks[i], h, mods, 6 * i);
            }
        }
        Tensor mod = finalAdaLN.apply(b, cAct);
        Tensor out = finalLinear.apply(b, b.normModulate(h, Norm.LAYER, EPS, mod, 2, 0, 1));
        int g = cfg.gridSide();
        return b.unpatchify(out, cfg.patchSize(), cfg.outChannels(), g, g);
    }

    private void checkShape(Tensor x) {
        Shape s = x.shape();
        if (s.rank() != 4 || s.dim(1) != cfg.inChannels() || s.dim(2) != cfg.inputSize() || s.dim(3) != cfg.inputSize()) {
            throw new IllegalArgumentException("DiT input " + s + ", expected [N, " + cfg.inChannels() + ", " + cfg.inputSize() + ", " + cfg.inputSize() + "]");
        }
    }

    /**
     * adaLN-Zero, in place on the residual stream x: x += gate·Attn(modulate(LN(x))); x += gate·MLP(modulate(LN(x))).
     * The block's modulation is chunks {@code at}..{@code at} + 5 of mods (shift, scale, gate for attention, then for the MLP).
     */
    private void block(Block blk, Tensor x, Tensor mods, int at) {
        int chunks = 6 * blocks.length;
        try (Backend.Scope attention = b.scope()) {   // each half frees its work before the next starts
            Tensor h = b.normModulate(x, Norm.LAYER, EPS, mods, chunks, at, at + 1);
            Tensor qkv = blk.qkv().operand(b, h);   // self-attention without RoPE reads it as it is: bf16 on a GPU
            Tensor attn = b.selfAttention(qkv, cfg.numHeads(), 0, 0, false);
            blk.proj().addTo(b, x, attn, mods, chunks, at + 2);
        }
        try (Backend.Scope mlp = b.scope()) {
            Tensor h = b.normModulate(x, Norm.LAYER, EPS, mods, chunks, at + 3, at + 4);
            blk.fc2().addTo(b, x, blk.fc1().operand(b, h, Activation.GELU_TANH), mods, chunks, at + 5);   // bf16 on a GPU
        }
    }
}
