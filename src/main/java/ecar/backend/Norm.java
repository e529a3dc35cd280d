package ecar.backend;

/** Normalizations over the last dimension, without affine parameters unless a weight is passed. */
public enum Norm {
    /** (x − mean) / √(var + eps). */
    LAYER,
    /** x / √(mean(x²) + eps). */
    RMS
}
