package ecar.cli;

import ecar.backend.cpu.CpuBackend;
import ecar.dit.DiT;
import ecar.dit.DiTConfig;
import ecar.io.Json;
import ecar.io.SafeTensorsWriter;
import ecar.model.RandomWeights;
import ecar.model.WeightSource;
import ecar.model.Weights;
import ecar.tensor.FloatTensor;
import ecar.tensor.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Hostile input at the command line, generated here: each case ends in a clean error that names the problem (one line,
 * or the itemised list of a weights mismatch), a non-zero exit code and nothing written, within a time bound. The other
 * cases of the corpus: ecar.sample.ModelDirectoryCorpusTest (model directories), ecar.io.SafeTensorsFuzzTest (corrupt
 * safetensors and JSON), InterruptedWriteTest (signals), TopLevelErrorsTest (out of memory, stack overflow), CliTest
 * (help, option values).
 */
class HostileInputCliTest {
    @TempDir
    Path dir;

    /** Runs the command line in this JVM within a time bound: a hang fails the test instead of stalling the build. */
    private static CliTest.Run run(String... args) {
        return assertTimeoutPreemptively(Duration.ofSeconds(60), () -> CliTest.run(args));
    }

    private Path out() throws IOException {
        return Files.createDirectories(dir.resolve("out")).resolve("grid.png");
    }

    private void nothingWritten() throws IOException {
        try (Stream<Path> s = Files.list(dir.resolve("out"))) {
            assertEquals(List.of(), s.toList());
        }
    }

    private static void refused(CliTest.Run r, String expected) {
        assertNotEquals(0, r.code(), r.err());
        assertTrue(r.err().startsWith("ecar: ") && r.err().contains(expected), r.err());
        assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
        assertFalse(r.err().contains("\tat "), r.err());
    }

    @Test
    void anImageSizeBeyondTheLimitIsRefusedBeforeAnyWork() throws IOException {
        refused(run("generate", "--model", "dit-tiny", "--class", "1", "--image-size", "16384", "--backend", "cpu", "--out", out().toString()),
                "image size 16384 exceeds the limit of 1024 pixels a side");
        nothingWritten();
    }

    /** A model directory's config naming /etc/passwd: refused by default; allowed, it is read and refused as not safetensors. */
    @Test
    void weightsOutsideTheModelDirectory() throws IOException {
        assumeTrue(Files.isRegularFile(Path.of("/etc/passwd")), "no /etc/passwd here");
        Path model = Files.createDirectories(dir.resolve("model"));
        Files.writeString(model.resolve("config.json"), "{\"model\": \"dit-tiny\", \"weights\": \"/etc/passwd\"}");
        refused(run("generate", "--model", model.toString(), "--class", "1", "--backend", "cpu", "--out", out().toString()),
                "\"weights\" names /etc/passwd, which is /etc/passwd, outside the model directory");
        refused(run("generate", "--model", model.toString(), "--class", "1", "--backend", "cpu", "--allow-weights-outside", "--out", out().toString()),
                "/etc/passwd: header length");
        nothingWritten();
    }

    /** Weights of another model: every missing tensor and the unexpected one listed, exit 1, no file. */
    @Test
    void weightsThatDoNotFitAreListed() throws IOException {
        Path model = Files.createDirectories(dir.resolve("model"));
        Files.writeString(model.resolve("config.json"), "{\"model\": \"dit-tiny\"}");
        new SafeTensorsWriter().add("stray.weight", FloatTensor.of(new float[]{1, 2}, 2)).write(model.resolve("model.safetensors"));
        CliTest.Run r = run("generate", "--model", model.toString(), "--class", "1", "--backend", "cpu", "--out", out().toString());
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().startsWith("ecar: weights from " + model.resolve("model.safetensors") + " do not fit the model:"), r.err());
        assertTrue(r.err().contains("missing (") && r.err().contains("x_embedder.proj.weight") && r.err().contains("unexpected (1): stray.weight"), r.err());
        nothingWritten();
    }

    private static final String DIT_CONFIG = "{\"input_size\": 8, \"patch_size\": 2, \"in_channels\": 4, \"hidden_size\": 32, \"depth\": 1, "
            + "\"num_heads\": 2, \"mlp_ratio\": 2.0, \"num_classes\": 10, \"learn_sigma\": true}";

    /** A dit.forward fixture whose expected output is our own (so it passes), stored under the given shape. */
    private Path ditFixture(String name, int... expectedShape) throws IOException {
        CpuBackend cpu = new CpuBackend();
        Map<String, FloatTensor> weights = new LinkedHashMap<>();
        Weights w = new Weights(WeightSource.peeking(new RandomWeights(3), weights::put), cpu);
        DiT model = new DiT(DiTConfig.fromJson(Json.Obj.parse(DIT_CONFIG, "test")), w);
        w.finish();
        FloatTensor x = new RandomWeights(4).get("x", Shape.of(2, 4, 8, 8));
        float[] t = {10, 900};
        FloatTensor out = cpu.download(model.forward(cpu.upload(x), t, new int[]{1, 7}));
        SafeTensorsWriter f = new SafeTensorsWriter().metadata("kind", "dit.forward").metadata("config", DIT_CONFIG);
        weights.forEach((k, v) -> f.add("model." + k, v));
        f.add("input.x", x).add("input.t", FloatTensor.of(t, 2)).addLongs("input.y", new long[]{1, 7}, 2)
                .add("expected.out", new FloatTensor(Shape.of(expectedShape), out.data()));
        Path p = dir.resolve(name);
        f.write(p);
        return p;
    }

    /**
     * check on four files: a FIFO (it used to block forever), a folder holding no fixture, an expected tensor of another shape with the same
     * element count (it used to pass) and a good fixture. Each bad one fails alone and the good one still passes.
     */
    @Test
    void checkFailsEachBadFileAloneAndNeverHangs() throws Exception {
        Path fifo = dir.resolve("fifo.safetensors"), folder = Files.createDirectory(dir.resolve("folder.safetensors"));
        assumeTrue(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor() == 0, "mkfifo is not available");
        Path good = ditFixture("good.safetensors", 2, 8, 8, 8), reshaped = ditFixture("reshaped.safetensors", 2, 8, 64);
        CliTest.Run r = run("check", fifo.toString(), folder.toString(), reshaped.toString(), good.toString());
        assertEquals(1, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("FAIL " + fifo + "\n  " + fifo + ": is not a regular file (a FIFO, socket or device), expected a safetensors file"), r.out());
        assertTrue(r.out().contains("FAIL " + folder + "\n  " + folder + ": a folder without .safetensors fixtures"), r.out());
        assertTrue(r.out().contains("FAIL " + reshaped) && r.out().contains("(shape [2, 8, 8, 8], expected [2, 8, 64])"), r.out());
        assertTrue(r.out().contains("PASS " + good) && r.out().contains("1 of 4 fixtures passed"), r.out());
    }

    /** On the CPU a generation whose heap estimate exceeds the JVM's limit is refused before sampling: a child JVM of 256 MiB. */
    @Test
    void aGenerationTooBigForTheHeapIsRefusedBeforeSampling() throws Exception {
        Path log = dir.resolve("child.log"), png = out();
        Process p = ChildJvm.start(log, Map.of(), List.of("-Xmx256m"), "ecar.cli.Main", "generate", "--model", "dit-tiny", "--class", "1",
                "--image-size", "1024", "--backend", "cpu", "--out", png.toString());
        String output = waitFor(p, log);
        assertEquals(1, p.exitValue(), output);
        assertTrue(output.contains("ecar: dit-tiny, 1 image of 1024², needs about ") && output.contains("of Java heap on the CPU")
                && output.contains("Java may use at most 0.") && output.contains("ECAR_JAVA_OPTS=-Xmx5g"), output);
        assertEquals(1, output.strip().lines().count(), "one line, before the run is announced and sampled: " + output);
        nothingWritten();
    }

    /** ECAR_CUDA_DEVICE=abc: info says what is wrong with it in one line (it used to say nothing). */
    @Test
    void infoNamesABadDeviceVariable() throws Exception {
        Path log = dir.resolve("child.log");
        Process p = ChildJvm.start(log, Map.of("ECAR_CUDA_DEVICE", "abc"), List.of("-Xmx256m"), "ecar.cli.Main", "info");
        String output = waitFor(p, log);
        assertEquals(0, p.exitValue(), output);
        assertTrue(output.lines().anyMatch(l -> l.startsWith("device     ECAR_CUDA_DEVICE='abc' is not a device number (")
                && l.endsWith("): the GPU backend will not start until it is corrected or unset")), output);
    }

    private static String waitFor(Process p, Path log) throws InterruptedException {
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("the child did not finish in 60 s: " + ChildJvm.log(log));
        }
        return ChildJvm.log(log);
    }
}
