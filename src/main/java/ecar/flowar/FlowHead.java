package ecar.flowar;

import ecar.model.Linear;
import ecar.model.TimestepEmbedder;
import ecar.model.Weights;

import ecar.backend.Backend;
import ecar.backend.KvCache;
import ecar.backend.Norm;
import ecar.tensor.Shape;
import ecar.tensor.Tensor;

/**
 * FlowAR's flow head (SimpleTransformerAdaLN): predicts the velocity of each token from its noisy value x, the
 * time t and the AR transformer's condition for that token. Blocks are v1 (adaLN from SiLU(t + c) per token)
 * or v2 (attention adaLN from SiLU(t) per sample, cross-attention to the condition, MLP adaLN from SiLU(c + t)).
 * The time input is ⌊t·1000⌋, truncated in float32 as the reference's {@code (t*1000).long()}.
 */
public final class FlowHead {
    private static final float EPS = 1e-6f;

    private final FlowArConfig cfg;
    private final Backend b;
    private final TimestepEmbedder timeEmbed;
    private final Linear condEmbed, inputProj;
    private final HeadBlock[] blocks;
    /** v2: every block's ada_lin_attn stacked, [depth · 3w, w]: one matmul per velocity; block i reads chunks 3i..3i+2. */
    private final Linear adaAttn;
    /** v2: every block's ada_lin_mlp stacked likewise; per token, so its product is [B, L, depth · 3w] (see velocity). */
    private final Linear adaMlps;
    /**
     * The most bytes the stacked per-token MLP modulation of one velocity may take. Up to this (batch 1: FlowAR-L's
     * 12 blocks at 512 rows make 75 MB, FlowAR-H's 113 MB) one GEMM makes every block's, 11 launches fewer per Euler
     * step and one weight stream long enough to keep a GPU's memory busy; above it (larger batches: FlowAR-L's is
     * 2.4 GB at batch 64) each block makes its own from a view of the stacked weight, one block's alive at a time.
     */
    static final long STACKED_MLP_MODULATION_BYTES = 128L << 20;
    /** {@link #STACKED_MLP_MODULATION_BYTES}, or what a test sets to run the other way. */
    private long stackedMlpModulationBytes = STACKED_MLP_MODULATION_BYTES;
    private final Linear finalAda, finalLinear;

    /** One block of either version; the fields of the other version are null. */
    private record HeadBlock(Linear qkv, Linear proj, GatedMlp mlp, Linear ada,            // v1: ada → 6w from SiLU(t + c)
                             // v2 (its ada_lin_attn and ada_lin_mlp are stacked over the blocks: adaAttn, adaMlps)
                             Tensor normQ, Tensor normKv, Linear crossQ, Linear crossKv, Linear crossProj) {}

    public FlowHead(FlowArConfig cfg, Weights w) {
        this.cfg = cfg;
        this.b = w.backend();
        int width = cfg.headWidth(), c = cfg.tokenDim(), dz = cfg.dim();
        timeEmbed = TimestepEmbedder.load(w.at("time_embed."), width);
        condEmbed = Linear.load(w, "cond_embed", dz, width);
        inputProj = Linear.load(w, "input_proj", c, width);
        blocks = new HeadBlock[cfg.headDepth()];
        for (int i = 0; i < blocks.length; i++) {
            Weights bw = w.at("res_blocks." + i + ".");
            bw.ignore("attn.rope.freqs");
            Linear qkv = Linear.load(bw, "attn.qkv", width, 3 * width, false);
            Linear proj = Linear.load(bw, "attn.proj", width, width);
            GatedMlp mlp = GatedMlp.load(bw.at("mlp."), width);
            if (cfg.cross()) {
                bw.ignore("crossattn.rope.freqs");
                blocks[i] = new HeadBlock(qkv, proj, mlp, null, bw.param("norm2_1.weight", width), bw.param("norm2_2.weight", dz),
                        Linear.load(bw, "crossattn.q", width, width, false), Linear.load(bw, "crossattn.kv", dz, 2 * width, false),
                        Linear.load(bw, "crossattn.proj", width, width));
            } else {
                blocks[i] = new HeadBlock(qkv, proj, mlp, Linear.load(bw, "ada_lin", width, 6 * width), null, null, null, null, null);
            }
        }
        adaAttn = !cfg.cross() ? null : Linear.stack(w, "res_blocks.N.ada_lin_attn",
                java.util.stream.IntStream.range(0, blocks.length).mapToObj(i -> "res_blocks." + i + ".ada_lin_attn").toList(), width, 3 * width);
        adaMlps = !cfg.cross() ? null : Linear.stack(w, "res_blocks.N.ada_lin_mlp",
                java.util.stream.IntStream.range(0, blocks.length).mapToObj(i -> "res_blocks." + i + ".ada_lin_mlp").toList(), width, 3 * width);
        finalAda = Linear.load(w, "final_layer.adaLN_modulation.1", width, 2 * width);
        finalLinear = Linear.load(w, "final_layer.linear", width, c);
    }

    public FlowArConfig config() {
        return cfg;
    }

    /** The cap on the stacked MLP modulation (tests: 0 makes every block compute its own). Returns this. */
    FlowHead withStackedMlpModulationBytes(long bytes) {
        stackedMlpModulationBytes = bytes;
        return this;
    }

    /** The integer time the head embeds for t: ⌊t·1000⌋ computed in float32. */
    public static float timeInput(float t) {
        return (float) (long) (t * 1000f);
    }

    /**
     * What the head derives from the condition alone, computed once per stage: c = cond_embed(condition) and, for v2
     * blocks, the cross-attention keys (rotated) and values, held in a KV cache per block: in the form attention reads
     * (bf16 on a GPU), so that no step converts them again.
     */
    public Prepared prepare(Tensor condition, int side) {
        Tensor c = condEmbed.apply(b, condition);
        KvCache[] cross = new KvCache[blocks.length];
        if (cfg.cross()) {
            Shape s = condition.shape();
            for (int i = 0; i < blocks.length; i++) {
                HeadBlock blk = blocks[i];
                cross[i] = b.kvCache(s.dim(0), s.dim(1), cfg.headWidth());
                try (Backend.Scope scope = b.scope()) {   // only the cache outlives the block's preparation
                    Tensor kv = blk.crossKv().apply(b, b.normForMatmul(condition, Norm.RMS, blk.normKv(), EPS));
                    b.kvAppendRope(cross[i], kv, cfg.headHeads(), side, FlowArConfig.ROPE_SPAN);
                }
            }
        }
        return new Prepared(condition, c, side, cross);
    }

    /** The per-stage constants of {@link #prepare}; {@code cross} holds each v2 block's keys and values (null for v1). */
    public record Prepared(Tensor condition, Tensor c, int side, KvCache[] cross) {}

    /** Velocity [B, L, C] of tokens x [B, L, C] at time t (one value per sample). */
    public Tensor velocity(Prepared p, Tensor x, float[] t) {
        float[] steps = new float[t.length];
        for (int i = 0; i < t.length; i++) steps[i] = timeInput(t[i]);
        Tensor tEmb = timeEmbed.apply(b, steps);          // [B, w], broadcast over the tokens
        Tensor ct = b.add(p.c(), tEmb);                   // c + t per token
        Tensor ctAct = b.silu(ct);
        Tensor h = inputProj.apply(b, x);
        Tensor modsA = cfg.cross() ? adaAttn.apply(b, b.silu(tEmb)) : null;   // per sample, [B, depth · 3w]
        long mlpModulationBytes = 4L * ctAct.shape().numel() * 3 * blocks.length;
        Tensor modsM = cfg.cross() && mlpModulationBytes <= stackedMlpModulationBytes ? adaMlps.apply(b, ctAct) : null;   // per token, [B, L, depth · 3w]
        for (int i = 0; i < blocks.length; i++) {
            try (Backend.Scope scope = b.scope()) {   // each block in place on h; its activations are reclaimed as it ends
                if (cfg.cross()) blockV2(blocks[i], h, modsA, modsM, ctAct, p, i);
                else blockV1(blocks[i], h, ctAct, p.side());
            }
        }
        Tensor mod = finalAda.apply(b, ctAct);            // shift, scale
        return finalLinear.apply(b, b.normModulate(h, Norm.RMS, EPS, mod, 2, 0, 1));
    }

    /** Velocity from the condition directly (prepares it first): the reference's forward(x, t, condition). */
    public Tensor forward(Tensor x, float[] t, Tensor condition) {
        int l = x.shape().dim(1), side = (int) Math.round(Math.sqrt(l));
        if (side * side != l) throw new IllegalArgumentException("flow head: " + l + " tokens do not form a square grid");
        return velocity(prepare(condition, side), x, t);
    }

    /**
     * In place: x += gate ⊙ proj(self-attention of h with the 2D RoPE), gate the chunk {@code gateChunk} of {@code chunks}
     * of mod. The qkv projection rotates q and k as it makes them (Backend.linearRope).
     */
    private void selfAttention(HeadBlock blk, Tensor x, Tensor h, int side, Tensor mod, int chunks, int gateChunk) {
        Tensor qkv = blk.qkv().rotated(b, h, cfg.headHeads(), side, FlowArConfig.ROPE_SPAN);
        Tensor a = b.selfAttention(qkv, cfg.headHeads(), 0, 0, false);
        blk.proj().addTo(b, x, a, mod, chunks, gateChunk);
    }

    // Each half of a block frees its work before the next half starts (the block's modulation lives in the block's scope).

    private void blockV1(HeadBlock blk, Tensor x, Tensor ctAct, int side) {
        Tensor mod = blk.ada().apply(b, ctAct);           // per token: gamma1, gamma2, scale1, scale2, shift1, shift2
        try (Backend.Scope attention = b.scope()) {
            Tensor h = b.normModulate(x, Norm.RMS, EPS, mod, 6, 4, 2);
            selfAttention(blk, x, h, side, mod, 6, 0);
        }
        try (Backend.Scope mlp = b.scope()) {
            Tensor h = b.normModulate(x, Norm.RMS, EPS, mod, 6, 5, 3);
            blk.mlp().addTo(b, x, h, mod, 6, 1);
        }
    }

    /**
     * Block i of v2; its attention modulation is chunks 3i..3i+2 of modsA (gamma1, scale1, shift1 per sample), its MLP's
     * chunks 3i..3i+2 of modsM (gamma2, scale2, shift2 per token) or, where modsM is null, its own ada_lin_mlp's.
     */
    private void blockV2(HeadBlock blk, Tensor x, Tensor modsA, Tensor modsM, Tensor ctAct, Prepared p, int i) {
        try (Backend.Scope attention = b.scope()) {
            int chunks = 3 * blocks.length, at = 3 * i;
            Tensor h = b.normModulate(x, Norm.RMS, EPS, modsA, chunks, at + 2, at + 1);
            selfAttention(blk, x, h, p.side(), modsA, chunks, at);
        }
        try (Backend.Scope crossAttention = b.scope()) {
            Tensor q = blk.crossQ().rotatedQueries(b, b.normForMatmul(x, Norm.RMS, blk.normQ(), EPS), cfg.headHeads(), p.side(), FlowArConfig.ROPE_SPAN);
            Tensor cross = b.attention(q, p.cross()[i], cfg.headHeads());
            blk.crossProj().addTo(b, x, cross, null);
        }
        try (Backend.Scope mlp = b.scope()) {
            Tensor modM = modsM != null ? modsM : adaMlp(i).apply(b, ctAct);   // per token: gamma2, scale2, shift2
            int chunks = modsM != null ? 3 * blocks.length : 3, at = modsM != null ? 3 * i : 0;
            Tensor h = b.normModulate(x, Norm.RMS, EPS, modM, chunks, at + 2, at + 1);
            blk.mlp().addTo(b, x, h, modM, chunks, at);
        }
    }

    /** Block i's ada_lin_mlp alone: rows 3w·i .. 3w·(i+1) of the stacked weight and bias (views on a GPU, copies on the CPU). */
    private Linear adaMlp(int i) {
        int w3 = 3 * cfg.headWidth();
        return new Linear(b.sliceBatch(adaMlps.weight(), w3 * i, w3 * (i + 1)), b.sliceBatch(adaMlps.bias(), w3 * i, w3 * (i + 1)), cfg.headWidth(), w3);
    }
}
