package ecar.cli;

import ecar.sample.HeapEstimate;

import java.util.Locale;

/**
 * A CPU generation is refused before sampling when its estimated heap ({@link HeapEstimate}) exceeds what the JVM may
 * take (Runtime.maxMemory): running out after minutes of sampling, with an OutOfMemoryError, is the alternative.
 */
final class HeapCheck {
    private HeapCheck() {}

    /** Throws a UserError naming the need, the limit and the remedies when {@code e} does not fit in {@code maxHeap} bytes. */
    static void require(HeapEstimate e, long maxHeap, String what) {
        if (e.total() <= maxHeap) return;
        long suggestGib = (e.total() + (1L << 30) - 1) >> 30;
        throw new UserError(String.format(Locale.ROOT, "%s needs %s of Java heap on the CPU (estimated on shapes) but Java may use at most %.1f GiB: "
                + "ask for fewer labels or a smaller image, or give Java more with ECAR_JAVA_OPTS=-Xmx%dg", what, e.describe(),
                maxHeap / (double) (1L << 30), suggestGib));
    }
}
