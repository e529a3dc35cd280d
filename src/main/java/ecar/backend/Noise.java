package ecar.backend;

import ecar.tensor.Tensor;

/**
 * Where standard normal noise comes from: a tensor given by the caller (a fixture's draws), or the counter-based
 * Philox stream (seed, stream) whose element i is {@link Philox#normal(long, int, long)}; a GPU backend can
 * generate the latter inside the kernel that consumes it, and every backend draws the same numbers.
 */
public sealed interface Noise {
    record Given(Tensor eps) implements Noise {}

    record Philox(long seed, int stream) implements Noise {}

    static Noise of(Tensor eps) {
        return new Given(eps);
    }

    static Noise philox(long seed, int stream) {
        return new Philox(seed, stream);
    }

    /** c of the block-noise draw: n = √(1+γ)(ε − c·mean₂ₓ₂ ε) has covariance (1+γ)I − γ·11ᵀ per 2×2 block. */
    static float blockNoiseC(float gamma) {
        return (float) (1.0 - Math.sqrt(Math.max(0.0, (1.0 - 3.0 * gamma) / (1.0 + gamma))));
    }
}
