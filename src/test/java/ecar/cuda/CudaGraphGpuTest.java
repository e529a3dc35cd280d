package ecar.cuda;

import ecar.backend.Backend;
import ecar.cuda.backend.CudaBackend;
import ecar.backend.StepKey;
import ecar.backend.StepScalars;
import ecar.sample.GenerateRequest;
import ecar.sample.Pipeline;
import ecar.sample.Presets;
import ecar.model.Progress;
import ecar.tensor.FloatTensor;
import ecar.tensor.Shape;
import ecar.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Captured sampling steps (CudaBackend.step): a pipeline sampled with its steps captured and replayed equals the same
 * pipeline sampled eagerly on the GPU (the device-scalar kernels compute what the host-scalar ones do, so to the bit),
 * and a replay allocates nothing from the arena. Skipped, with the reason, without a GPU.
 */
@GpuTest(arenaMiB = 512)
class CudaGraphGpuTest {
    static CudaBackend gpu;   // set by @GpuTest

    /**
     * Steps and whole loops (an ECAR stage, DiT's reverse process, an ARPG generation) as graphs: the first generation runs
     * its loops eagerly (their steps captured one by one and replayed: DDPM with 6 steps, ECAR stages of 1, 3 and 4; ARPG's
     * steps each once), the second captures
     * the loops, the third and fourth replay them. Every one equals the eager result (the device-scalar kernels compute
     * what the host-scalar ones do) and leaves the arena as it was; a generation started on another arena layout
     * captures again rather than replaying stale addresses.
     */
    @ParameterizedTest
    @ValueSource(strings = {"dit-tiny", "ecar-tiny", "arpg-tiny"})
    void loopsReplayInLaterGenerationsAndEqualEagerOnes(String preset) {
        GenerateRequest r = preset.startsWith("dit") ? GenerateRequest.of(1, 3).seed(5).steps(6).cfg(4f)
                : preset.startsWith("ecar") ? GenerateRequest.of(1, 3).seed(5).stageSteps(1, 3, 4) : GenerateRequest.of(1, 3).seed(5);
        Pipeline p = Pipeline.random(Presets.get(preset), 3, gpu);
        float[] eager = eagerly(() -> p.sampleLatents(r, Progress.NONE).data());
        assertEquals(2, gpu.loopRunsBeforeReplay());
        ArenaLedger ledger = gpu.arenaLedger();
        float[] previous = null;
        for (int run = 0; run < 4; run++) {
            long used = ledger.used();
            float[] g = p.sampleLatents(r, Progress.NONE).data();
            assertEquals(used, ledger.used(), preset + " run " + run + " left memory in the arena");
            assertTrue(maxDiff(eager, g) <= 1e-6, preset + " run " + run + " (eager, capture, replays) differs from eager by " + maxDiff(eager, g));
            if (run == 3) assertEquals(java.util.Arrays.toString(previous), java.util.Arrays.toString(g), preset + ": two replays differ");
            previous = g;
        }
        try (Backend.Scope moved = gpu.scope()) {
            gpu.zeros(Shape.of(1000));   // every tensor of the next generation sits elsewhere
            float[] g = p.sampleLatents(r.seed(6), Progress.NONE).data();
            float[] e = eagerly(() -> p.sampleLatents(r.seed(6), Progress.NONE).data());
            assertTrue(maxDiff(e, g) <= 1e-6, preset + ": on a moved layout, with another seed, the graphs' result differs by " + maxDiff(e, g));
        }
    }

    /** The result with graphs off, and graphs on again even when it throws (the backend is shared by the class's tests). */
    private static float[] eagerly(java.util.function.Supplier<float[]> run) {
        gpu.useGraphs(false);
        try {
            return run.get();
        } finally {
            gpu.useGraphs(true);
        }
    }

    private static double maxDiff(float[] a, float[] b) {
        assertEquals(a.length, b.length);
        double worst = 0;
        for (int i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
        return worst;
    }

    @Test
    void aLoopWhoseCaptureFailsRunsEagerly() {
        try (Backend.Scope run = gpu.scope()) {
            StepKey key = new StepKey(this, "upload loop", 0, 1);
            List<StepScalars> one = List.of(StepScalars.flow(0f, 1f, 1f));
            Runnable body = () -> {
                gpu.upload(new FloatTensor(Shape.of(1), new float[1]));
                gpu.step(key, one.get(0), () -> {});
            };
            gpu.loop(key, one, body);   // eager: allowed
            assertFalse(gpu.loopCaptureRefused(key, 1));
            gpu.loop(key, one, body);   // the capture refuses the upload; the loop runs eagerly instead, and from now on
            assertTrue(gpu.loopCaptureRefused(key, 1), "a loop whose capture failed runs eagerly for good");
            gpu.loop(key, one, body);
        }
    }

    @Test
    void aReplayAllocatesNothing() {
        ArenaLedger ledger = gpu.arenaLedger();
        try (Backend.Scope run = gpu.scope()) {
            Tensor x = gpu.zeros(Shape.of(2, 16, 8)), v = gpu.randn(Shape.of(2, 16, 8), 1, 2);
            StepKey key = new StepKey(this, "euler", 0, 2);
            for (int i = 0; i < 2; i++) step(key, x, v, i);   // eager, then capture
            List<ArenaLedger.Entry> live = ledger.live();
            long used = ledger.used();
            for (int i = 2; i < 5; i++) step(key, x, v, i);   // replays
            assertEquals(live, ledger.live(), "a replay allocated from the arena");
            assertEquals(used, ledger.used());
            // x = Σ dt_i · v over dt_i = -(i + 1)/8, i < 5: -15/8 · v (exact in float32)
            float[] xs = gpu.download(x).data(), vs = gpu.download(v).data();
            for (int i = 0; i < xs.length; i++) assertEquals(-15f / 8f * vs[i], xs[i], 1e-5f * Math.abs(vs[i]) + 1e-6f, "element " + i);
        }
    }

    private static void step(StepKey key, Tensor x, Tensor v, int i) {
        float dt = -(i + 1) / 8f;
        gpu.step(key, StepScalars.flow(0f, dt, 1f), () -> gpu.flowEulerStep(x, v, dt, 1f, false));
    }

    @Test
    void aCapturedBodyMayNotMoveHostDataOrDisagreeWithItsScalars() {
        try (Backend.Scope run = gpu.scope()) {
            Tensor x = gpu.zeros(Shape.of(2, 4)), v = gpu.zeros(Shape.of(2, 4));
            StepKey upload = new StepKey(this, "upload", 0, 2);
            gpu.step(upload, StepScalars.flow(0f, 1f, 1f), () -> gpu.upload(new FloatTensor(Shape.of(1), new float[1])));   // eager: allowed
            String msg = assertThrows(IllegalStateException.class,
                    () -> gpu.step(upload, StepScalars.flow(0f, 1f, 1f), () -> gpu.upload(new FloatTensor(Shape.of(1), new float[1])))).getMessage();
            assertTrue(msg.contains("upload inside a captured step"), msg);
            StepKey euler = new StepKey(this, "wrong dt", 0, 2);
            gpu.step(euler, StepScalars.flow(0f, 1f, 1f), () -> gpu.flowEulerStep(x, v, 0.5f, 1f, false));
            msg = assertThrows(IllegalArgumentException.class,
                    () -> gpu.step(euler, StepScalars.flow(0f, 1f, 1f), () -> gpu.flowEulerStep(x, v, 0.5f, 1f, false))).getMessage();
            assertTrue(msg.contains("flowEulerStep") && msg.contains("dt 0.5"), msg);
        }
        assertThrows(IllegalArgumentException.class, () -> gpu.step(new StepKey(this, "no scope", 0, 1), StepScalars.flow(0f, 1f, 1f), () -> {}));
    }
}
