package ecar.flowar;

import ecar.model.Linear;
import ecar.model.Weights;

import ecar.backend.Backend;
import ecar.backend.KvCache;
import ecar.backend.Norm;
import ecar.tensor.FloatTensor;
import ecar.tensor.Tensor;

/**
 * FlowAR's autoregressive transformer: an encoder and a decoder stack of adaLN blocks conditioned on the class
 * embedding, run one stage (scale) at a time. Each block keeps a KV cache, so stage s attends to itself and to
 * all earlier stages (block-causal) while computing only its own r² tokens.
 */
public final class ArTransformer {
    private static final float EPS = 1e-6f;

    private final FlowArConfig cfg;
    private final Backend b;
    final Tensor classTable;          // [1001, D]
    final Linear zProj;               // token_dim → D
    private final Tensor zProjLn;     // RMSNorm weight applied to the encoder input
    private final Tensor[] encPos, decPos, diffPos;   // per stage [r², D]
    private final Block[] encoder, decoder;
    private final Tensor encNorm, decNorm;
    private final Linear decoderEmbed;

    /** AR block: RMSNorm (no weight), adaLN from SiLU(class embedding) → gamma1, gamma2, scale1, scale2, shift1, shift2. */
    private record Block(Linear qkv, Linear proj, GatedMlp mlp, Linear ada) {
        static Block load(Weights w, int d) {
            w.ignore("attn.rope.freqs");   // RoPE frequencies are recomputed from the head size
            return new Block(Linear.load(w, "attn.qkv", d, 3 * d), Linear.load(w, "attn.proj", d, d), GatedMlp.load(w.at("mlp."), d),
                    Linear.load(w, "ada_lin.1", d, 6 * d));
        }
    }

    public ArTransformer(FlowArConfig cfg, Weights w) {
        this.cfg = cfg;
        this.b = w.backend();
        int d = cfg.dim();
        classTable = w.param("class_emb.weight", FlowArConfig.CLASS_ROWS, d);
        zProj = Linear.load(w, "z_proj", cfg.tokenDim(), d);
        zProjLn = w.param("z_proj_ln.weight", d);
        encPos = stageSlices(w.host("encoder_pos_embed_learned", 1, cfg.seqLen(), d));
        decPos = stageSlices(w.host("decoder_pos_embed_learned", 1, cfg.seqLen(), d));
        diffPos = stageSlices(w.host("diffusion_pos_embed_learned", 1, cfg.seqLen(), d));
        encoder = new Block[cfg.encDepth()];
        for (int i = 0; i < encoder.length; i++) encoder[i] = Block.load(w.at("encoder_blocks." + i + "."), d);
        encNorm = w.param("encoder_norm.weight", d);
        decoderEmbed = Linear.load(w, "decoder_embed", d, d);
        decoder = new Block[cfg.decDepth()];
        for (int i = 0; i < decoder.length; i++) decoder[i] = Block.load(w.at("decoder_blocks." + i + "."), d);
        decNorm = w.param("decoder_norm.weight", d);
        w.ignore("mask");   // the training-time block-causal mask buffer
    }

    private Tensor[] stageSlices(FloatTensor pos) {
        Tensor[] out = new Tensor[cfg.stages()];
        int d = cfg.dim();
        for (int s = 0; s < out.length; s++) {
            float[] slice = java.util.Arrays.copyOfRange(pos.data(), cfg.start(s) * d, (cfg.start(s) + cfg.tokens(s)) * d);
            out[s] = b.weight(FloatTensor.of(slice, cfg.tokens(s), d));
        }
        return out;
    }

    /** Class embeddings [labels.length, D] (label 1000 is the null label). */
    public Tensor classEmbedding(int[] labels) {
        return b.embedding(classTable, labels);
    }

    /** The input of stage s > 0: z_proj of the previous stage's tokens resized to this stage's grid, [B, r², token_dim]. */
    public Tensor projectTokens(Tensor tokens) {
        return zProj.apply(b, tokens);
    }

    /** One generation: the adaLN modulation of every block and its KV cache, sized for all the stages' tokens. */
    public Session start(Tensor classEmbedding) {
        return new Session(classEmbedding);
    }

    public final class Session {
        private final Tensor[] encMod, decMod;     // adaLN modulation per block, constant over the stages
        private final KvCache[] encCache, decCache;

        private Session(Tensor classEmbedding) {
            Tensor cAct = b.silu(classEmbedding);
            int batch = classEmbedding.shape().dim(0);
            encMod = new Tensor[encoder.length];
            decMod = new Tensor[decoder.length];
            encCache = new KvCache[encoder.length];
            decCache = new KvCache[decoder.length];
            for (int i = 0; i < encoder.length; i++) {
                encMod[i] = encoder[i].ada().apply(b, cAct);
                encCache[i] = b.kvCache(batch, cfg.seqLen(), cfg.dim());
            }
            for (int i = 0; i < decoder.length; i++) {
                decMod[i] = decoder[i].ada().apply(b, cAct);
                decCache[i] = b.kvCache(batch, cfg.seqLen(), cfg.dim());
            }
        }

        /**
         * Runs stage s on its input x [B, r², D] (the class embedding as one token at stage 0, else z_proj of the
         * resized previous tokens) and returns the flow head's condition [B, r², D]. The stages before s must have run
         * (here, or replayed as part of a captured loop, whose appends this object never sees: so the caches are told
         * where stage s starts rather than counting).
         */
        public Tensor stage(int s, Tensor x) {
            if (s < 0 || s >= cfg.stages()) throw new IllegalArgumentException("stage " + s + " outside [0, " + (cfg.stages() - 1) + "]");
            for (KvCache c : encCache) c.holdFirst(cfg.start(s));
            for (KvCache c : decCache) c.holdFirst(cfg.start(s));
            int side = cfg.side(s);
            Tensor h = b.norm(b.addTiled(x, encPos[s]), Norm.RMS, zProjLn, EPS);
            for (int i = 0; i < encoder.length; i++) block(encoder[i], encMod[i], h, side, encCache[i]);
            h = b.normForMatmul(h, Norm.RMS, encNorm, EPS);
            h = b.addTiled(decoderEmbed.apply(b, h), decPos[s]);
            for (int i = 0; i < decoder.length; i++) block(decoder[i], decMod[i], h, side, decCache[i]);
            return b.addTiled(b.norm(h, Norm.RMS, decNorm, EPS), diffPos[s]);
        }

        /**
         * One block, in place on the residual stream x, each half in a scope of its own: the stage's keys (rotated) and
         * values join the block's cache, its queries attend to every stage so far.
         */
        private void block(Block blk, Tensor mod, Tensor x, int side, KvCache cache) {
            // chunk order of ada_lin: gamma1, gamma2, scale1, scale2, shift1, shift2
            try (Backend.Scope attention = b.scope()) {
                Tensor h = b.normModulate(x, Norm.RMS, EPS, mod, 6, 4, 2);
                Tensor qkv = blk.qkv().apply(b, h);
                Tensor attn = b.selfAttention(qkv, cache, cfg.heads(), side, FlowArConfig.ROPE_SPAN);
                blk.proj().addTo(b, x, attn, mod, 6, 0);
            }
            try (Backend.Scope mlp = b.scope()) {
                Tensor h = b.normModulate(x, Norm.RMS, EPS, mod, 6, 5, 3);
                blk.mlp().addTo(b, x, h, mod, 6, 1);
            }
        }
    }
}
