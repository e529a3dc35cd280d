package ecar.cuda;

import ecar.cuda.backend.CudaBackend;
import ecar.selfcheck.GpuSelfCheck;
import ecar.selfcheck.Verdict;
import org.junit.jupiter.api.Test;

import java.time.Clock;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The self-check that lets {@code --backend auto} use the GPU, run for real (skips without a GPU, with the probe's
 * reason): on a working device and build it must pass, or auto would never pick the GPU.
 */
class GpuSelfCheckGpuTest {
    @Test
    void theSelfCheckPassesOnThisGpu() {
        Gpu.assume();
        long t0 = System.nanoTime();
        Verdict v = new GpuSelfCheck(() -> new CudaBackend(512L << 20), Clock.systemDefaultZone()).run();
        double seconds = (System.nanoTime() - t0) / 1e9;
        System.err.printf("[gpu self-check] %s in %.1f s%n", v.passed() ? "passed" : "failed: " + v.reason(), seconds);
        assertTrue(v.passed(), () -> "the GPU self-check failed: " + v.reason());
    }
}
