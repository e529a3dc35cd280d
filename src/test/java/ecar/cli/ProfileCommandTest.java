package ecar.cli;

import ecar.tensor.FloatTensor;
import ecar.tensor.Tensor;
import ecar.tensor.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code ecar profile} on the CPU: one timed generation, its ops longest first, their times adding up to the wall time. */
class ProfileCommandTest {

    @Test
    void profilesATinyGenerationOpByOp() {
        CliTest.Run run = CliTest.run("profile", "--model", "ecar-tiny", "--backend", "cpu", "--top", "8");
        String out = run.out();
        assertEquals(0, run.code(), run.err());
        assertTrue(run.err().contains("one generation to warm up, one timed"), run.err());
        List<String> lines = out.lines().toList();
        assertTrue(lines.get(0).startsWith("ecar profile: ecar-tiny on cpu"), out);
        // "one generation: W s wall; C op calls of K kinds took T s of it": the ops' own times add up to the wall time at most
        String[] head = lines.get(1).split("[ ;:]+");
        double wall = Double.parseDouble(head[2]), ops = Double.parseDouble(head[head.length - 4]);
        assertTrue(ops <= wall && ops >= 0.5 * wall, "ops took " + ops + " s of a " + wall + " s generation: " + out);
        assertTrue(lines.get(2).startsWith("op ") && lines.get(2).contains("GFLOP/s"), out);
        assertEquals(8 + 4, lines.size(), "header, 8 rows and the rest in one line: " + out);
        assertTrue(lines.get(lines.size() - 1).startsWith("("), out);
        double previous = Double.MAX_VALUE;
        for (String row : lines.subList(3, 11)) {
            double ms = Double.parseDouble(row.substring(52).trim().split(" +")[1]);
            assertTrue(ms <= previous, "rows longest first: " + out);
            previous = ms;
        }
        assertTrue(out.contains("gatedLinear 32×64·(340×64)ᵀ"), "matrix products by shape: " + out);
    }

    /** --keep-graphs is a GPU option: on the CPU it is refused, naming the option and the backend. */
    @Test
    void keepGraphsIsRefusedOnTheCpu() {
        CliTest.Run run = CliTest.run("profile", "--model", "ecar-tiny", "--backend", "cpu", "--keep-graphs");
        assertEquals(1, run.code(), run.err());
        assertTrue(run.err().contains("--keep-graphs is for the GPU") && run.err().contains("cpu"), run.err());
    }

    /** On the CPU a profile whose heap estimate exceeds the JVM's limit is refused before anything runs: a child JVM of 256 MiB. */
    @Test
    void aProfileTooLargeForTheHeapIsRefusedFirst(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("child.log");
        Process p = ChildJvm.start(log, java.util.Map.of(), List.of("-Xmx256m"), "ecar.cli.Main", "profile", "--model", "dit-tiny", "--image-size",
                "1024", "--backend", "cpu");
        assertTrue(p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS), "the child JVM did not finish");
        String output = Files.readString(log);
        assertEquals(1, p.exitValue(), output);
        assertTrue(output.contains("of Java heap on the CPU") && output.contains("Java may use at most 0."), output);
        assertTrue(!output.contains("warm up"), "refused before the run is announced: " + output);
    }

    /**
     * With a device clock each leaf op keeps its interval's device time, and an op with a body (a step) gets no interval
     * of its own, whose idle gaps would count as its work: here a step whose body runs add (1 ms) and silu (2 ms).
     */
    @Test
    void deviceClockTimesLeavesAndPassesFootprintsUp() {
        List<String> opened = new java.util.ArrayList<>();
        double[][] times = {{1e-3, 1.2e-3}, {2e-3, 2.2e-3, 1}};   // silu's host queueing outlasted the gate
        OpTimes.DeviceClock clock = new OpTimes.DeviceClock() {
            public Object open() {
                opened.add("open");
                return opened.size() - 1;
            }

            public void close(Object interval) {
                opened.set((Integer) interval, "closed");
            }

            public double[] read(Object interval) {
                assertEquals("closed", opened.get((Integer) interval), "read after close");
                return times[(Integer) interval];
            }
        };
        ecar.backend.cpu.CpuBackend cpu = new ecar.backend.cpu.CpuBackend();
        OpTimes t = OpTimes.onDevice(cpu, clock);
        ecar.backend.Backend b = t.backend();
        Tensor x = b.upload(new FloatTensor(Shape.of(4), new float[]{1, 2, 3, 4}));
        t.start();
        b.step(new ecar.backend.StepKey("test", "step", 0, 1), ecar.backend.StepScalars.flow(0.5f, 0.1f, 1f), () -> {
            b.add(x, x);
            b.silu(x);
        });
        assertEquals(List.of("closed", "closed"), opened, "two leaf intervals; the step opened none");
        java.util.Map<String, OpTimes.Row> rows = new java.util.HashMap<>();
        for (OpTimes.Row r : t.rows()) rows.put(r.op(), r);
        assertEquals(1e-3, rows.get("add").seconds(), 1e-12);
        assertEquals(2e-3, rows.get("silu").seconds(), 1e-12);
        assertEquals(0.0, rows.get("step").seconds(), "a step's own kernels are not separated from its body's");
        assertTrue(t.deviceTime());
        assertEquals(1, t.gappedIntervals(), "one interval may hold host gaps");
        String table = ProfileCommand.format("test", 1.0, t.rows(), 5, true);
        assertTrue(table.contains("device ms") && table.contains("kept the device busy 0.003 s"), table);
    }

    @Test
    void matrixProductsAreLabelledAndCountedByShape() {
        FloatTensor x = new FloatTensor(Shape.of(2, 16, 1024), new float[2 * 16 * 1024]), w = new FloatTensor(Shape.of(3072, 1024), new float[3072 * 1024]);
        assertEquals("linear 32×1024·(3072×1024)ᵀ", OpTimes.label("linear", new Object[]{x, w, null}));
        assertEquals(2.0 * 32 * 3072 * 1024, OpTimes.flops("linear", new Object[]{x, w, null}));
        assertEquals(2.0 * 32 * 3072 * 1024, OpTimes.flops("gatedLinear", new Object[]{x, w, null, null}), "gate and value rows together");
        assertEquals("linearIntoResidual 32×1024·(3072×1024)ᵀ", OpTimes.label("linearIntoResidual", new Object[]{null, x, w, null, null}));
        assertEquals("selfAttention", OpTimes.label("selfAttention", new Object[]{x}));
        assertEquals(0.0, OpTimes.flops("add", new Object[]{x, x}));
    }
}
