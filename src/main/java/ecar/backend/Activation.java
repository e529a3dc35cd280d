package ecar.backend;

/** An activation applied in a linear layer's epilogue. */
public enum Activation {
    NONE,
    /** GELU with the tanh approximation (DiT's MLP). */
    GELU_TANH,
    /** Exact GELU, x·Φ(x) with erf (FlowAR's gated MLP). */
    GELU_ERF,
    /** x·sigmoid(x). */
    SILU
}
