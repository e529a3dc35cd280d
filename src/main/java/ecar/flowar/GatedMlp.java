package ecar.flowar;

import ecar.model.Linear;
import ecar.model.Weights;

import ecar.backend.Activation;
import ecar.backend.Backend;
import ecar.tensor.Tensor;

/**
 * timm's SwiGLU class built with GELU (exact) as FlowAR builds it: fc2(GELU(fc1_g·x) ⊙ fc1_x·x). fc1_g and fc1_x are
 * loaded as one weight with their rows interleaved ({@code fc1}), so one matmul gives both (Backend.gatedLinear).
 */
public record GatedMlp(Linear fc1, Linear out) {

    public static GatedMlp load(Weights w, int width) {
        int hidden = FlowArConfig.mlpHidden(width);
        return new GatedMlp(Linear.gatePairs(w, "fc1", "fc1_g", "fc1_x", width, hidden, true), Linear.load(w, "fc2", hidden, width));
    }

    public Tensor apply(Backend b, Tensor x) {
        return out.apply(b, hidden(b, x));
    }

    /** In place: residual += g ⊙ MLP(x), g the chunk {@code gateChunk} of {@code chunks} of an adaLN modulation (adaLN-Zero). */
    public void addTo(Backend b, Tensor residual, Tensor x, Tensor mod, int chunks, int gateChunk) {
        out.addTo(b, residual, hidden(b, x), mod, chunks, gateChunk);
    }

    private Tensor hidden(Backend b, Tensor x) {
        return fc1.gated(b, x, Activation.GELU_ERF);
    }
}
