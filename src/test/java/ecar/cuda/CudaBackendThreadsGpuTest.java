package ecar.cuda;

import ecar.backend.Backend;
import ecar.cuda.backend.CudaBackend;
import ecar.sample.GenerateRequest;
import ecar.sample.Pipeline;
import ecar.sample.Presets;
import ecar.model.Progress;
import org.junit.jupiter.api.Test;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One CUDA backend is not shared by two threads: a pipeline on a second thread is refused at its first call with a
 * message naming both threads, before it touches the arena, and the owner's pipeline still samples what it sampled
 * before. Skipped, with the reason, without a GPU.
 */
class CudaBackendThreadsGpuTest {
    @Test
    void aSecondThreadIsRefusedAndTheOwnerCarriesOn() throws Exception {
        Gpu.assume();
        ExecutorService other = Executors.newSingleThreadExecutor(r -> new Thread(r, "second-pipeline"));
        try (CudaBackend gpu = new CudaBackend(256L << 20)) {
            GenerateRequest r = GenerateRequest.of(1, 2).seed(3).steps(2);
            Pipeline mine = Pipeline.random(Presets.get("dit-tiny"), 1, gpu);
            float[] before = mine.sampleLatents(r, Progress.NONE).data();
            long used = gpu.arenaLedger().used();

            Future<?> f = other.submit(() -> Pipeline.random(Presets.get("dit-tiny"), 1, gpu).sampleLatents(r, Progress.NONE));
            Throwable t = assertInstanceOf(java.util.concurrent.ExecutionException.class, org.junit.jupiter.api.Assertions.assertThrows(Exception.class, f::get)).getCause();
            assertInstanceOf(IllegalStateException.class, t);
            assertTrue(t.getMessage().contains("from thread 'second-pipeline'") && t.getMessage().contains("belongs to thread '" + Thread.currentThread().getName() + "'"),
                    t.getMessage());
            Future<?> scope = other.submit(() -> {
                try (Backend.Scope s = gpu.scope()) {
                    return null;
                }
            });
            assertInstanceOf(IllegalStateException.class, org.junit.jupiter.api.Assertions.assertThrows(Exception.class, scope::get).getCause());

            assertEquals(used, gpu.arenaLedger().used(), "the refused thread took no arena memory");
            assertEquals(java.util.Arrays.toString(before), java.util.Arrays.toString(mine.sampleLatents(r, Progress.NONE).data()));
        } finally {
            other.shutdownNow();
        }
    }
}
