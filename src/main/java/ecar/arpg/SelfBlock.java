package ecar.arpg;

import ecar.backend.Backend;
import ecar.backend.KvCache;
import ecar.backend.Norm;
import ecar.model.Linear;
import ecar.model.Weights;
import ecar.tensor.Tensor;

/**
 * A self-decoder block ({@code layers.self_dec.i}): x += proj(attention(RMSNorm(x))) over every token cached so far
 * and the new ones, queries and keys under the RoPE of the tokens' own positions; then x += FFN(RMSNorm(x)).
 */
record SelfBlock(Tensor attnNorm, Linear q, Linear k, Linear v, Linear proj, Tensor ffnNorm, FeedForward ffn) {

    static SelfBlock load(Weights w, ArpgConfig c) {
        int d = c.dim();
        return new SelfBlock(w.param("attn_norm.weight", d), Linear.load(w, "attn.to_q", d, d, false), Linear.load(w, "attn.to_k", d, d, false),
                Linear.load(w, "attn.to_v", d, d, false), Linear.load(w, "attn.proj", d, d, false), w.param("ffn_norm.weight", d),
                FeedForward.load(w.at("ffn."), d, c.ffnHidden()));
    }

    /**
     * In place on x [B, n, dim] at table rows {@code rows}, each half in a scope of its own; appends the tokens' keys and
     * values to the block's cache.
     */
    void apply(Backend b, Tensor x, Rope rope, Tensor rows, KvCache cache, float eps) {
        try (Backend.Scope attention = b.scope()) {
            Tensor h = b.normForMatmul(x, Norm.RMS, attnNorm, eps);
            Tensor queries = rope.rotate(b, q.apply(b, h), rows);
            b.kvAppend(cache, rope.rotate(b, k.apply(b, h), rows), v.apply(b, h));
            proj.addTo(b, x, b.attention(queries, cache, rope.heads()), null);
        }
        try (Backend.Scope mlp = b.scope()) {
            ffn.addTo(b, x, b.normForMatmul(x, Norm.RMS, ffnNorm, eps));
        }
    }
}
