package ecar.cli;

import ecar.backend.Backend;

/**
 * The peak memory of one measured generation, through {@link Backend#peakMemoryBytes()}: weights, KV caches and live
 * activations at their highest, which is what a GPU must have free to run the model at that batch.
 *
 * <p>Before each reset the garbage collector runs until the backend's holdings stop shrinking: tensors made outside
 * a scope (a KV cache, a previous model's weights) give their device memory back only once Java has collected their
 * handles, and those handles are small objects that would otherwise linger for many generations, counting toward a
 * peak the measured run never needed.
 */
final class PeakMemory {
    private PeakMemory() {}

    /** How long one collection may take to show in the backend's count (its cleaner runs on another thread). */
    private static final long SETTLE_NANOS = 100_000_000L;
    private static final int MAX_COLLECTIONS = 10;

    static boolean tracked(Backend b) {
        return b.peakMemoryBytes() >= 0;
    }

    /** Starts a new peak from what is held now that unreachable tensors are freed; nothing where memory is not tracked. */
    static void start(Backend b) {
        if (!tracked(b)) return;
        long held = heldNow(b);
        for (int i = 0; i < MAX_COLLECTIONS; i++) {
            System.gc();
            long after = waitForChange(b, held);
            if (after == held) break;
            held = after;
        }
        b.resetPeakMemory();
    }

    /** The bytes held now: a reset starts the peak from them. */
    private static long heldNow(Backend b) {
        b.resetPeakMemory();
        return b.peakMemoryBytes();
    }

    private static long waitForChange(Backend b, long held) {
        long deadline = System.nanoTime() + SETTLE_NANOS;
        long now = heldNow(b);
        while (now == held && System.nanoTime() < deadline) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return now;
            }
            now = heldNow(b);
        }
        return now;
    }
}
