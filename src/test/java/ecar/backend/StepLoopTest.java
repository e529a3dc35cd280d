package ecar.backend;

import ecar.backend.cpu.CpuBackend;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Backend.loop's contract, as the CPU backend checks it: a loop's body runs exactly its declared steps, in order. */
class StepLoopTest {
    private static final StepKey KEY = new StepKey("model", "loop", 0, 1);
    private static final StepScalars A = StepScalars.flow(900f, -0.1f, 2f), B = StepScalars.flow(800f, -0.2f, 2f);

    @Test
    void aBodyThatRunsItsDeclaredStepsPasses() {
        CpuBackend cpu = new CpuBackend();
        int[] ran = {0};
        cpu.loop(KEY, List.of(A, B), () -> {
            cpu.step(KEY, A, () -> ran[0]++);
            cpu.step(KEY, B, () -> ran[0]++);
        });
        assertEquals(2, ran[0]);
        cpu.step(KEY, B, () -> ran[0]++);   // after the loop, steps are free again
        assertEquals(3, ran[0]);
    }

    @Test
    void aStepWithOtherScalarsAMissingStepAndAnExtraStepAreRefused() {
        CpuBackend cpu = new CpuBackend();
        String other = assertThrows(IllegalArgumentException.class, () -> cpu.loop(KEY, List.of(A, B), () -> {
            cpu.step(KEY, B, () -> {});
        })).getMessage();
        assertTrue(other.contains("step 1 of loop") && other.contains("declared"), other);
        String missing = assertThrows(IllegalArgumentException.class, () -> cpu.loop(KEY, List.of(A, B), () -> cpu.step(KEY, A, () -> {}))).getMessage();
        assertTrue(missing.contains("declared 2 steps; its body ran 1"), missing);
        String extra = assertThrows(IllegalArgumentException.class, () -> cpu.loop(KEY, List.of(A), () -> {
            cpu.step(KEY, A, () -> {});
            cpu.step(KEY, A, () -> {});
        })).getMessage();
        assertTrue(extra.contains("its body ran one more"), extra);
        cpu.loop(KEY, List.of(A), () -> cpu.step(KEY, A, () -> {}));   // a failed loop leaves no state behind
    }

    @Test
    void loopsDoNotNest() {
        CpuBackend cpu = new CpuBackend();
        String msg = assertThrows(IllegalArgumentException.class, () -> cpu.loop(KEY, List.of(A), () -> cpu.loop(KEY, List.of(A), () -> {}))).getMessage();
        assertTrue(msg.contains("loops do not nest"), msg);
    }

    @Test
    void watchFiniteReportsTheEarliestBadStepOnce() {
        CpuBackend cpu = new CpuBackend();
        ecar.tensor.Tensor good = cpu.upload(new ecar.tensor.FloatTensor(ecar.tensor.Shape.of(2), new float[]{1, 2}));
        ecar.tensor.Tensor bad = cpu.upload(new ecar.tensor.FloatTensor(ecar.tensor.Shape.of(2), new float[]{1, Float.POSITIVE_INFINITY}));
        cpu.watchFinite(good, 0);
        assertEquals(-1, cpu.firstNonFinite());
        cpu.watchFinite(bad, 5);
        cpu.watchFinite(good, 1);
        cpu.watchFinite(bad, 2);
        assertEquals(2, cpu.firstNonFinite());
        assertEquals(-1, cpu.firstNonFinite(), "a report starts a new watch");
    }
}
