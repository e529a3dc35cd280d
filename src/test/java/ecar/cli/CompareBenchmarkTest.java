package ecar.cli;

import ecar.backend.Backend;
import ecar.backend.cpu.CpuBackend;
import ecar.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The measurement loop with a backend that tracks memory and runs out of it, as a GPU does: the CPU backend behind a
 * proxy whose "device" counts each generation's noise tensor as its memory and refuses noise above a limit with the
 * CUDA arena's message. The tiny presets draw their noise once per generation, batch × (guided: 2) rows.
 */
class CompareBenchmarkTest {

    /** dit-tiny's noise is 4·8·8 = 256 floats per image: batch 2 fits, batch 4 does not. */
    private static final long LIMIT_BYTES = 3 * 256 * 4;

    private static final class FakeDevice {
        long peak;
        String failOther;   // a message to fail any generation with, not about memory
        String failFlowSteps;   // a message to fail the flow models' Euler steps with (DiT has none), not about memory

        Backend backend() {
            CpuBackend cpu = new CpuBackend();
            return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[]{Backend.class}, (proxy, method, args) -> {
                switch (method.getName()) {
                    case "name" -> { return "fake device"; }
                    case "peakMemoryBytes" -> { return peak; }
                    case "resetPeakMemory" -> {   // nothing is held between generations here
                        peak = 0;
                        return null;
                    }
                    case "flowEulerStep" -> {
                        if (failFlowSteps != null) throw new IllegalStateException(failFlowSteps);
                    }
                    case "randn" -> {
                        if (failOther != null) throw new IllegalStateException(failOther);
                        long bytes = ((Shape) args[0]).numel() * 4;
                        if (bytes > LIMIT_BYTES) {
                            throw new IllegalStateException("arena 'cuda backend' is out of memory: 'noise' needs " + bytes + " bytes");
                        }
                        peak = Math.max(peak, bytes);
                    }
                    default -> { }
                }
                try {
                    return method.invoke(cpu, args);
                } catch (InvocationTargetException e) {
                    throw e.getCause();
                }
            });
        }
    }

    private static final ByteArrayOutputStream LOG = new ByteArrayOutputStream();
    private static final PrintStream PROGRESS = new PrintStream(LOG, true, StandardCharsets.UTF_8);

    @Test
    void aBatchOutOfMemoryIsARowAndTheRunGoesOnWithPeaksResetForEachBatch() {
        FakeDevice device = new FakeDevice();
        CompareBenchmark bench = new CompareBenchmark(device.backend(), PROGRESS);
        ComparePlan plan = ComparePlan.of(List.of("dit-tiny", "ecar-tiny"), 64, List.of(2, 4, 1), 1, 0);

        CompareResult dit = bench.measure(plan.models().get(0), plan);
        BatchMeasurement two = dit.at(2), four = dit.at(4), one = dit.at(1);
        assertEquals(List.of(2, 4, 1), dit.batches().stream().map(BatchMeasurement::batch).toList());
        assertTrue(two.isMeasured() && one.isMeasured());
        assertFalse(four.isMeasured());
        assertTrue(four.outOfMemory().contains("is out of memory: 'noise' needs 4096 bytes"), four.outOfMemory());
        assertEquals(2 * 256 * 4, two.peakMemoryBytes());
        assertEquals(256 * 4, one.peakMemoryBytes(), "batch 1 after batch 2: its peak starts afresh");

        CompareResult ecar = bench.measure(plan.models().get(1), plan);   // the next model runs after one ran out
        assertTrue(ecar.batches().stream().allMatch(BatchMeasurement::isMeasured), ecar.toString());
        assertEquals(2 * ecar.at(1).peakMemoryBytes(), ecar.at(2).peakMemoryBytes());

        CompareRun run = new CompareRun("fake device", Double.NaN, java.time.OffsetDateTime.now(), "ecar compare", plan, List.of(dit, ecar));
        String table = CompareTable.format(run);
        assertTrue(table.lines().anyMatch(l -> l.matches("dit-tiny +4 +out of memory \\(below\\)")), table);
        assertTrue(table.lines().anyMatch(l -> l.matches("dit-tiny +1 +\\S+ +\\S+ +\\S+ +1 KiB +1\\.0x")), table);
        assertTrue(table.lines().anyMatch(l -> l.matches("ecar-tiny +4 +\\S+ +\\S+ +\\S+ +\\S+ KiB +—")), "no DiT latency at batch 4 to compare with: " + table);
        assertEquals(List.of("dit-tiny at batch 4: arena 'cuda backend' is out of memory: 'noise' needs 4096 bytes"), run.outOfMemory());
        assertTrue(CompareTable.notes(run).stream().anyMatch(n -> n.startsWith("peak memory: the most device memory held at once")));
    }

    @Test
    void otherFailuresStopTheRun() {
        FakeDevice device = new FakeDevice();
        device.failOther = "kernel gemm failed: CUDA_ERROR_ILLEGAL_ADDRESS";
        CompareBenchmark bench = new CompareBenchmark(device.backend(), PROGRESS);
        ComparePlan plan = ComparePlan.of(List.of("dit-tiny"), 64, List.of(1), 1, 0);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> bench.measure(plan.models().get(0), plan));
        assertEquals(device.failOther, e.getMessage());
    }

    /** What lost a whole H100 table once (2026-11-27): the last model failing took the rows measured before it along. */
    @Test
    void aFailureStopsTheRunButKeepsTheModelsMeasuredBeforeIt() {
        FakeDevice device = new FakeDevice();
        device.failFlowSteps = "arena 'cuda backend': reset to a mark that is no longer valid";
        CompareBenchmark bench = new CompareBenchmark(device.backend(), PROGRESS);
        ComparePlan plan = ComparePlan.of(List.of("dit-tiny", "ecar-tiny", "flowar-tiny"), 64, List.of(1), 1, 0);
        CompareBenchmark.Aborted e = assertThrows(CompareBenchmark.Aborted.class, () -> bench.measureAll(plan));
        assertEquals("ecar-tiny", e.model);
        assertEquals(List.of("dit-tiny"), e.measured.stream().map(CompareResult::name).toList());
        assertTrue(e.measured.get(0).at(1).isMeasured());
        assertEquals("ecar-tiny failed: " + device.failFlowSteps + " (the models measured before it are reported above)", Main.describe(e));
        // the first model failing: nothing to report, and the line says so by saying nothing of it
        device.failOther = "kernel gemm failed: CUDA_ERROR_ILLEGAL_ADDRESS";
        e = assertThrows(CompareBenchmark.Aborted.class, () -> bench.measureAll(plan));
        assertEquals("dit-tiny failed: " + device.failOther, Main.describe(e));
    }

    @Test
    void outOfMemoryIsRecognisedByItsMessageAnywhereInTheCauses() {
        assertTrue(CompareBenchmark.isOutOfMemory(new IllegalStateException("arena 'x' is out of memory: 'q' needs 8 bytes")));
        assertTrue(CompareBenchmark.isOutOfMemory(new RuntimeException("cuMemAlloc failed: CUDA_ERROR_OUT_OF_MEMORY")));
        assertTrue(CompareBenchmark.isOutOfMemory(new RuntimeException("step failed", new IllegalStateException("Out of memory on device"))));
        assertTrue(CompareBenchmark.isOutOfMemory(new OutOfMemoryError("Java heap space")));
        assertFalse(CompareBenchmark.isOutOfMemory(new IllegalArgumentException("index 9 out of range")));
        assertFalse(CompareBenchmark.isOutOfMemory(new NullPointerException()));
    }
}
