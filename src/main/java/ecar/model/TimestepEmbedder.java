package ecar.model;


import ecar.backend.Activation;
import ecar.backend.Backend;
import ecar.tensor.Tensor;

/** DiT's TimestepEmbedder (also FlowAR's flow head): 256-dim sinusoid → Linear → SiLU → Linear. */
public record TimestepEmbedder(Linear fc1, Linear fc2) {
    public static final int FREQUENCY_DIM = 256;

    public static TimestepEmbedder load(Weights w, int hidden) {
        return new TimestepEmbedder(Linear.load(w, "mlp.0", FREQUENCY_DIM, hidden), Linear.load(w, "mlp.2", hidden, hidden));
    }

    public Tensor apply(Backend b, float[] t) {
        Tensor freq = b.timestepEmbedding(t, FREQUENCY_DIM);
        return fc2.apply(b, fc1.apply(b, freq, Activation.SILU));
    }
}
