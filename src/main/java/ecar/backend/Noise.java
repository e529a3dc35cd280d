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
}
