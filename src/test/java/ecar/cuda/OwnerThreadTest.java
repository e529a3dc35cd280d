package ecar.cuda;

import org.junit.jupiter.api.Test;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The CUDA backend's thread confinement, without a GPU: the first user owns it, every other thread is refused. */
class OwnerThreadTest {
    private static Throwable on(String threadName, Runnable r) throws Exception {
        ThreadFactory named = task -> new Thread(task, threadName);
        ExecutorService one = Executors.newSingleThreadExecutor(named);
        try {
            Future<?> f = one.submit(r);
            try {
                f.get();
                return null;
            } catch (java.util.concurrent.ExecutionException e) {
                return e.getCause();
            }
        } finally {
            one.shutdownNow();
        }
    }

    @Test
    void theFirstUserOwnsItAndOthersAreRefusedByName() throws Exception {
        OwnerThread guard = new OwnerThread("the CUDA backend");
        assertDoesNotThrow(guard::check);
        assertDoesNotThrow(guard::check, "the owner, again");
        Throwable t = on("worker-7", guard::check);
        assertInstanceOf(IllegalStateException.class, t);
        assertEquals("the CUDA backend belongs to thread '" + Thread.currentThread().getName() + "', its first user, and was called from thread 'worker-7': "
                + "its scopes and memory arena are one stack and its work one stream, so it cannot be shared between threads; open one per thread", t.getMessage());
        assertDoesNotThrow(guard::check, "a refused caller takes nothing");
    }

    /** Made on one thread and handed to another before any use: the one that uses it owns it. */
    @Test
    void ownershipGoesToTheFirstUseNotTheCreator() throws Exception {
        OwnerThread guard = new OwnerThread("the CUDA backend");
        assertEquals(null, on("sampler", guard::check));
        assertInstanceOf(IllegalStateException.class, assertThrows(IllegalStateException.class, guard::check));
    }

    /** Many threads racing for a new guard: exactly one wins. */
    @Test
    void oneOfManyRacingThreadsWins() throws Exception {
        OwnerThread guard = new OwnerThread("x");
        int threads = 8;
        java.util.concurrent.CountDownLatch start = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.atomic.AtomicInteger won = new java.util.concurrent.atomic.AtomicInteger(), refused = new java.util.concurrent.atomic.AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            java.util.List<Future<?>> fs = new java.util.ArrayList<>();
            for (int i = 0; i < threads; i++) {
                fs.add(pool.submit(() -> {
                    start.await();
                    try {
                        guard.check();
                        won.incrementAndGet();
                    } catch (IllegalStateException e) {
                        refused.incrementAndGet();
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : fs) f.get();
        } finally {
            pool.shutdownNow();
        }
        assertEquals(1, won.get());
        assertEquals(threads - 1, refused.get());
    }
}
