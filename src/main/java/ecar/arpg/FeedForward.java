package ecar.arpg;

import ecar.backend.Activation;
import ecar.backend.Backend;
import ecar.model.Linear;
import ecar.model.Weights;
import ecar.tensor.Tensor;

/** LlamaGen's FeedForward: w2(silu(w1·x) ⊙ w3·x), bias-free, hidden size {@link ArpgConfig#ffnHidden()}. */
record FeedForward(Linear w1, Linear w3, Linear w2) {

    static FeedForward load(Weights w, int dim, int hidden) {
        return new FeedForward(Linear.load(w, "w1", dim, hidden, false), Linear.load(w, "w3", dim, hidden, false), Linear.load(w, "w2", hidden, dim, false));
    }

    /** In place: residual += w2(silu(w1·x) ⊙ w3·x). */
    void addTo(Backend b, Tensor residual, Tensor x) {
        w2.addTo(b, residual, b.gatedLinear(x, w1.weight(), null, Activation.SILU, w3.weight(), null), null);
    }
}
