package ecar.model;

import ecar.backend.Activation;
import ecar.backend.Backend;
import ecar.tensor.Tensor;

/** nn.Linear: weight [out, in], optional bias [out]. */
public record Linear(Tensor weight, Tensor bias, int in, int out) {

    public static Linear load(Weights w, String name, int in, int out) {
        return load(w, name, in, out, true);
    }

    public static Linear load(Weights w, String name, int in, int out, boolean bias) {
        return new Linear(w.param(name + ".weight", out, in), bias ? w.param(name + ".bias", out) : null, in, out);
    }

    /**
     * Linears of one shape that read the same input, as one: their weights' rows and biases stacked in the order of
     * {@code names} (each "prefix.N.layer"), so one matmul gives every output side by side, [.., names · out].
     */
    public static Linear stack(Weights w, String label, java.util.List<String> names, int in, int out) {
        return stack(w, label, names, in, out, true);
    }

    /** As above, with or without biases (ARPG's projections have none). */
    public static Linear stack(Weights w, String label, java.util.List<String> names, int in, int out, boolean bias) {
        java.util.List<String> weights = names.stream().map(n -> n + ".weight").toList(), biases = names.stream().map(n -> n + ".bias").toList();
        return new Linear(w.paramStack(label + ".weight", weights, out, in), bias ? w.paramStack(label + ".bias", biases, out) : null, in,
                names.size() * out);
    }

    /**
     * The gate and value projections of a gated MLP as one [2·out, in] weight with their rows interleaved (gate row j at
     * 2j, value row j at 2j + 1) and likewise their biases (or none): the operand of {@link Backend#gatedLinear}.
     */
    public static Linear gatePairs(Weights w, String label, String gate, String value, int in, int out, boolean bias) {
        java.util.List<String> names = java.util.List.of(gate, value);
        Tensor weight = w.paramInterleave(label + ".weight", names.stream().map(n -> n + ".weight").toList(), out, in);
        Tensor b = bias ? w.paramInterleave(label + ".bias", names.stream().map(n -> n + ".bias").toList(), out) : null;
        return new Linear(weight, b, in, 2 * out);
    }

    /** act(gate) ⊙ value of each hidden unit, where this is a {@link #gatePairs} linear: [.., out / 2]. */
    public Tensor gated(Backend b, Tensor x, Activation act) {
        return b.gatedLinear(x, weight, bias, act);
    }

    public Tensor apply(Backend b, Tensor x) {
        return b.linear(x, weight, bias, Activation.NONE);
    }

    /**
     * This linear as a fused qkv whose q and k FlowAR's 2D RoPE rotates, ready for self-attention: {@link Backend#linearRope}
     * (one GEMM writing bf16 on a GPU).
     */
    public Tensor rotated(Backend b, Tensor x, int heads, int side, int span) {
        return b.linearRope(x, weight, bias, heads, side, span);
    }

    /** This linear as queries FlowAR's 2D RoPE rotates, for attention only: {@link Backend#linearRopeQueries}. */
    public Tensor rotatedQueries(Backend b, Tensor x, int heads, int side, int span) {
        return b.linearRopeQueries(x, weight, bias, heads, side, span);
    }

    /** This linear as the input of attention or a projection only: {@link Backend#linearOperand} (bf16 on a GPU). */
    public Tensor operand(Backend b, Tensor x) {
        return b.linearOperand(x, weight, bias);
    }

    /** The same after the activation (an MLP's hidden layer, which only its output projection reads). */
    public Tensor operand(Backend b, Tensor x, Activation act) {
        return b.linearOperand(x, weight, bias, act);
    }

    public Tensor apply(Backend b, Tensor x, Activation act) {
        return b.linear(x, weight, bias, act);
    }

    /** In place: residual += gate ⊙ this(x), gate per group or null for 1. */
    public void addTo(Backend b, Tensor residual, Tensor x, Tensor gate) {
        b.linearIntoResidual(residual, x, weight, bias, gate);
    }

    /** In place: residual += gate ⊙ (x·Wᵀ + b) with the gate chunk {@code gateChunk} of an adaLN modulation of {@code chunks}. */
    public void addTo(Backend b, Tensor residual, Tensor x, Tensor mod, int chunks, int gateChunk) {
        b.linearIntoResidual(residual, x, weight, bias, mod, chunks, gateChunk);
    }
}
