package ecar.flowar;

import ecar.model.Linear;
import ecar.model.Weights;

import ecar.backend.Activation;
import ecar.backend.Backend;
import ecar.tensor.Tensor;

/** timm's SwiGLU class built with GELU (exact) as FlowAR builds it: fc2(GELU(fc1_g·x) ⊙ fc1_x·x). */
public record GatedMlp(Linear gate, Linear value, Linear out) {

    public static GatedMlp load(Weights w, int width) {
        int hidden = FlowArConfig.mlpHidden(width);
        return new GatedMlp(Linear.load(w, "fc1_g", width, hidden), Linear.load(w, "fc1_x", width, hidden), Linear.load(w, "fc2", hidden, width));
    }

    public Tensor apply(Backend b, Tensor x) {
        return out.apply(b, hidden(b, x));
    }

    /** In place: residual += g ⊙ MLP(x), g the chunk {@code gateChunk} of {@code chunks} of an adaLN modulation (adaLN-Zero). */
    public void addTo(Backend b, Tensor residual, Tensor x, Tensor mod, int chunks, int gateChunk) {
        out.addTo(b, residual, hidden(b, x), mod, chunks, gateChunk);
    }

    private Tensor hidden(Backend b, Tensor x) {
        return b.gatedLinear(x, gate.weight(), gate.bias(), Activation.GELU_ERF, value.weight(), value.bias());
    }
}
