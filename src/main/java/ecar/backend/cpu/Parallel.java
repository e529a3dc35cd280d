package ecar.backend.cpu;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/**
 * A fixed pool of worker threads, one per core, for the CPU backend's data-parallel loops. The calling thread
 * takes part, so a loop over n tasks runs on every core with no hand-off when n is 1. Tasks are claimed from a
 * shared counter, which balances uneven work.
 */
public final class Parallel {
    private static final int THREADS = Integer.getInteger("ecar.threads", Runtime.getRuntime().availableProcessors());
    private static final ExecutorService POOL = Executors.newFixedThreadPool(Math.max(1, THREADS - 1), r -> {
        Thread t = new Thread(r, "ecar-cpu");
        t.setDaemon(true);
        return t;
    });
    /** Nested loops run serially on the thread that reached them. */
    private static final ThreadLocal<Boolean> INSIDE = ThreadLocal.withInitial(() -> false);

    private Parallel() {}

    public static int threads() {
        return THREADS;
    }

    /** Runs body(i) for i in [0, n), spread over the cores. */
    public static void forEach(int n, IntConsumer body) {
        if (n <= 0) return;
        if (n == 1 || THREADS == 1 || INSIDE.get()) {
            for (int i = 0; i < n; i++) body.accept(i);
            return;
        }
        AtomicInteger next = new AtomicInteger();
        Runnable worker = () -> {
            boolean was = INSIDE.get();
            INSIDE.set(true);
            try {
                for (int i; (i = next.getAndIncrement()) < n; ) body.accept(i);
            } finally {
                INSIDE.set(was);
            }
        };
        int helpers = Math.min(THREADS - 1, n - 1);
        @SuppressWarnings("unchecked")
        Future<?>[] fs = new Future[helpers];
        for (int h = 0; h < helpers; h++) fs[h] = POOL.submit(worker);
        Throwable failure = null;
        try {
            worker.run();
        } catch (Throwable t) {
            failure = t;
        }
        for (Future<?> f : fs) {
            try {
                f.get();
            } catch (java.util.concurrent.ExecutionException e) {
                if (failure == null) failure = e.getCause();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                if (failure == null) failure = e;
            }
        }
        if (failure instanceof RuntimeException re) throw re;
        if (failure instanceof Error err) throw err;
        if (failure != null) throw new RuntimeException(failure);
    }

    /** Runs body(from, to) over [0, n) cut into about {@code threads()·4} contiguous chunks of at least minChunk. */
    public static void forRange(int n, int minChunk, RangeBody body) {
        if (n <= 0) return;
        int chunks = Math.max(1, Math.min(THREADS * 4, n / Math.max(1, minChunk)));
        int per = (n + chunks - 1) / chunks;
        int count = (n + per - 1) / per;
        forEach(count, c -> body.run(c * per, Math.min(n, (c + 1) * per)));
    }

    @FunctionalInterface
    public interface RangeBody {
        void run(int from, int to);
    }
}
