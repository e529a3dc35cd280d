package ecar.arpg;

import ecar.backend.Backend;
import ecar.backend.KvCache;
import ecar.backend.Norm;
import ecar.model.Linear;
import ecar.model.Weights;
import ecar.tensor.Shape;
import ecar.tensor.Tensor;

/**
 * ARPG's decoder-decoder transformer (hp-l33/ARPG {@code Transformer}, MODELS.md §5). One embedding table serves image
 * tokens, the mask token and the classes. The self-decoder blocks run on the tokens fed at a step; their output, normed,
 * gives the shared keys and values ({@code layers.to_k}, {@code layers.to_v}, stacked as one projection at load; keys
 * under RoPE); the cross-decoder blocks
 * run mask-token queries, one per position to predict, against them; {@code norm} and {@code head} give the logits.
 * At inference nothing is masked: a step's tokens see every cached token and each other.
 */
public final class ArpgTransformer {
    private final ArpgConfig cfg;
    private final Backend b;
    private final Tensor embeddings;
    private final SelfBlock[] selfBlocks;
    private final CrossBlock[] crossBlocks;
    private final Tensor sharedNorm, outNorm;
    private final Linear sharedKv, head;
    private final Rope rope;

    private ArpgTransformer(ArpgConfig cfg, Weights w) {
        this.cfg = cfg;
        this.b = w.backend();
        int d = cfg.dim();
        embeddings = w.param("embeddings.weight", cfg.embeddingRows(), d);
        selfBlocks = new SelfBlock[cfg.halfDepth()];
        crossBlocks = new CrossBlock[cfg.halfDepth()];
        for (int i = 0; i < selfBlocks.length; i++) selfBlocks[i] = SelfBlock.load(w.at("layers.self_dec." + i + "."), cfg);
        sharedNorm = w.param("layers.norm.weight", d);
        sharedKv = Linear.stack(w, "layers.to_kv", java.util.List.of("layers.to_k", "layers.to_v"), d, d, false);
        for (int i = 0; i < crossBlocks.length; i++) crossBlocks[i] = CrossBlock.load(w.at("layers.cross_dec." + i + "."), cfg);
        outNorm = w.param("norm.weight", d);
        head = Linear.load(w, "head", d, cfg.vocab(), false);
        rope = Rope.upload(b, cfg);
    }

    /** Loads every parameter under the reference's names and reports all problems at once. */
    public static ArpgTransformer load(ArpgConfig cfg, Weights w) {
        ArpgTransformer m = new ArpgTransformer(cfg, w);
        w.finish();
        return m;
    }

    public ArpgConfig config() {
        return cfg;
    }

    /** Embeddings [batch, n, dim] of ids [batch·n] (image tokens, the mask token, class tokens). */
    public Tensor embed(int[] ids, int batch) {
        return b.reshape(b.embedding(embeddings, ids), Shape.of(batch, ids.length / batch, cfg.dim()));
    }

    /** Embeddings [batch, n, dim] of the ids in a tensor [batch·n] (float exact integers; see Backend.embedding). */
    public Tensor embed(Tensor ids, int batch) {
        return b.reshape(b.embedding(embeddings, ids), Shape.of(batch, ids.shape().size() / batch, cfg.dim()));
    }

    /** A step's draws ids [N, n] embedded for both halves of the [cond; null] batch: [2N, n, dim]. */
    public Tensor embedTwice(Tensor ids) {
        Tensor e = embed(ids, ids.shape().dim(0));
        return b.concatBatch(e, e);
    }

    /** The KV caches of one generation of {@code batch} sequences, each sized for the class token and every image token. */
    public Session start(int batch) {
        return new Session(batch);
    }

    public final class Session {
        private final KvCache[] selfCaches;
        private final KvCache shared;

        private Session(int batch) {
            int capacity = 1 + cfg.tokens();
            selfCaches = new KvCache[selfBlocks.length];
            for (int i = 0; i < selfCaches.length; i++) selfCaches[i] = b.kvCache(batch, capacity, cfg.dim());
            shared = b.kvCache(batch, capacity, cfg.dim());
        }

        /**
         * One decoding step ({@code forward_shared}): the fed tokens' embeddings [B, n, dim] at table rows {@code fedRows}
         * join every cache; the queries [B, m, dim] (mask-token embeddings) predict the positions at table rows
         * {@code targetRows}. Returns logits [B, m, vocab]. Both fed and queries serve as the residual streams and are
         * overwritten.
         */
        public Tensor step(Tensor fed, Tensor fedRows, Tensor queries, Tensor targetRows) {
            float eps = cfg.normEps();
            Tensor x = fed;
            try (Backend.Scope r = b.region("self decoder")) {
                for (int i = 0; i < selfBlocks.length; i++) selfBlocks[i].apply(b, x, rope, fedRows, selfCaches[i], eps);
            }
            try (Backend.Scope r = b.region("shared k/v")) {
                Tensor h = b.normForMatmul(x, Norm.RMS, sharedNorm, eps);
                rope.append(b, sharedKv.apply(b, h), fedRows, shared);
            }
            Tensor q = queries;
            try (Backend.Scope r = b.region("cross decoder")) {
                for (CrossBlock block : crossBlocks) block.apply(b, q, rope, targetRows, shared, eps);
            }
            try (Backend.Scope r = b.region("head")) {
                return head.apply(b, b.normForMatmul(q, Norm.RMS, outNorm, eps));
            }
        }
    }
}
