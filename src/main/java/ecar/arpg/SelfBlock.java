package ecar.arpg;

import ecar.backend.Backend;
import ecar.backend.KvCache;
import ecar.backend.Norm;
import ecar.model.Linear;
import ecar.model.Weights;
import ecar.tensor.Tensor;

import java.util.List;

/**
 * A self-decoder block ({@code layers.self_dec.i}): x += proj(attention(RMSNorm(x))) over every token cached so far
 * and the new ones, queries and keys under the RoPE of the tokens' own positions; then x += FFN(RMSNorm(x)). The
 * reference's to_q, to_k and to_v run as one projection (their weights stacked at load), whose output the backend
 * reads in place.
 */
record SelfBlock(Tensor attnNorm, Linear qkv, Linear proj, Tensor ffnNorm, FeedForward ffn) {

    static SelfBlock load(Weights w, ArpgConfig c) {
        int d = c.dim();
        return new SelfBlock(w.param("attn_norm.weight", d), Linear.stack(w, "attn.to_qkv", List.of("attn.to_q", "attn.to_k", "attn.to_v"), d, d, false),
                Linear.load(w, "attn.proj", d, d, false), w.param("ffn_norm.weight", d), FeedForward.load(w.at("ffn."), d, c.ffnHidden()));
    }

    /**
     * In place on x [B, n, dim] at table rows {@code rows}, each half in a scope of its own; appends the tokens' keys and
     * values to the block's cache.
     */
    void apply(Backend b, Tensor x, Rope rope, Tensor rows, KvCache cache, float eps) {
        try (Backend.Scope attention = b.scope()) {
            Tensor h = b.normForMatmul(x, Norm.RMS, attnNorm, eps);
            proj.addTo(b, x, rope.selfAttention(b, qkv.apply(b, h), rows, cache), null);
        }
        try (Backend.Scope mlp = b.scope()) {
            ffn.addTo(b, x, b.normForMatmul(x, Norm.RMS, ffnNorm, eps));
        }
    }
}
