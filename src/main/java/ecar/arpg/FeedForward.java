package ecar.arpg;

import ecar.backend.Activation;
import ecar.backend.Backend;
import ecar.model.Linear;
import ecar.model.Weights;
import ecar.tensor.Tensor;

/**
 * LlamaGen's FeedForward: w2(silu(w1·x) ⊙ w3·x), bias-free, hidden size {@link ArpgConfig#ffnHidden()}. w1 and w3 are
 * loaded as one weight with their rows interleaved ({@code w13}), so one matmul gives both (Backend.gatedLinear).
 */
record FeedForward(Linear w13, Linear w2) {

    static FeedForward load(Weights w, int dim, int hidden) {
        return new FeedForward(Linear.gatePairs(w, "w13", "w1", "w3", dim, hidden, false), Linear.load(w, "w2", hidden, dim, false));
    }

    /** In place: residual += w2(silu(w1·x) ⊙ w3·x). */
    void addTo(Backend b, Tensor residual, Tensor x) {
        w2.addTo(b, residual, w13.gated(b, x, Activation.SILU), null);
    }
}
