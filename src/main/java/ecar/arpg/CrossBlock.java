package ecar.arpg;

import ecar.backend.Backend;
import ecar.backend.KvCache;
import ecar.backend.Norm;
import ecar.model.Linear;
import ecar.model.Weights;
import ecar.tensor.Tensor;

/**
 * A cross-decoder block ({@code layers.cross_dec.i}): the mask-token queries q += proj(attention(to_q(RMSNorm(q))))
 * against the shared keys and values, the queries under the RoPE of the positions they predict (target-aware); then
 * q += FFN(RMSNorm(q)).
 */
record CrossBlock(Tensor attnNorm, Linear q, Linear proj, Tensor ffnNorm, FeedForward ffn) {

    static CrossBlock load(Weights w, ArpgConfig c) {
        int d = c.dim();
        return new CrossBlock(w.param("attn_norm.weight", d), Linear.load(w, "attn.to_q", d, d, false), Linear.load(w, "attn.proj", d, d, false),
                w.param("ffn_norm.weight", d), FeedForward.load(w.at("ffn."), d, c.ffnHidden()));
    }

    /** Queries [B, m, dim] for the positions at table rows {@code targets}, attending to every shared key cached. */
    void apply(Backend b, Tensor x, Rope rope, Tensor targets, KvCache shared, float eps) {
        try (Backend.Scope attention = b.scope()) {   // in place on x, each half in a scope of its own
            Tensor queries = rope.queries(b, q, b.normForMatmul(x, Norm.RMS, attnNorm, eps), targets);
            proj.addTo(b, x, b.attention(queries, shared, rope.heads()), null);
        }
        try (Backend.Scope mlp = b.scope()) {
            ffn.addTo(b, x, b.normForMatmul(x, Norm.RMS, ffnNorm, eps));
        }
    }
}
