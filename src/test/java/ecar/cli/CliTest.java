package ecar.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command line as a user meets it: exit codes, and one-line errors without stack traces. */
class CliTest {
    @TempDir
    Path dir;

    record Run(int code, String out, String err) {}

    static synchronized Run run(String... args) {
        PrintStream oldOut = System.out, oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = Main.run(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    private static void oneLineError(Run r, String expected) {
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().startsWith("ecar: "), r.err());
        assertTrue(r.err().contains(expected), r.err());
        assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
    }

    @Test
    void flopsPrintsTheCountAndRejectsUnknownModels() {
        Run ok = run("flops", "--model", "dit-xl-2");
        assertEquals(0, ok.code(), ok.err());
        assertTrue(ok.out().contains("118.621"), ok.out());
        oneLineError(run("flops", "--model", "dit-xxl-2"), "unknown model 'dit-xxl-2'");
    }

    /** sample-set makes the shards, the .npz and the manifest; run again, it keeps the shards; bad sets are one-line errors. */
    @Test
    void sampleSetMakesTheSetAndKeepsItsShardsWhenRunAgain() {
        String out = dir.resolve("set").toString();
        String[] args = {"sample-set", "--model", "ecar-tiny", "--per-class", "2", "--classes", "3-4", "--batch", "2", "--shard-size", "2", "--seed", "5",
                "--backend", "cpu", "--out", out};
        Run first = run(args);
        assertEquals(0, first.code(), first.err());
        assertTrue(first.out().contains("samples.npz (4 images"), first.out());
        assertTrue(first.err().contains("4 images of 64² (2 classes × 2), 2 shards of up to 2, batch 2"), first.err());
        assertTrue(first.err().contains("4/4 images, 2/2 shards"), first.err());
        assertTrue(java.nio.file.Files.exists(dir.resolve("set/shards/shard-00001/000003.png")));
        Run again = run(args);
        assertEquals(0, again.code(), again.err());
        assertTrue(again.err().contains("2 of 2 shards (4 images) are made and verify: kept"), again.err());
        oneLineError(run("sample-set", "--model", "ecar-tiny", "--classes", "5-12", "--backend", "cpu", "--out", out), "class label 10 outside [0, 9]");
        oneLineError(run("sample-set", "--model", "ecar-tiny", "--per-class", "0", "--backend", "cpu", "--out", out), "--per-class 0 must be positive");
        oneLineError(run("sample-set", "--model", "ecar-tiny", "--classes", "1,1", "--backend", "cpu", "--out", out), "class 1 is given twice");
    }

    /** Without a GPU, asking for it is a one-line error naming why; an unknown backend names the choices. */
    @Test
    void backendChoiceWithoutAGpu() {
        oneLineError(run("generate", "--model", "dit-tiny", "--backend", "tpu", "--out", dir.resolve("a.png").toString()), "expected cpu, cuda or auto");
        org.junit.jupiter.api.Assumptions.assumeFalse(ecar.cuda.CudaProbe.available(), "a GPU is present: --backend cuda would run");
        oneLineError(run("generate", "--model", "dit-tiny", "--backend", "cuda", "--out", dir.resolve("b.png").toString()), "cannot run on the GPU: ");
    }

    @Test
    void badSamplingValuesNameTheValueAndTheLimit() {
        oneLineError(run("flops", "--model", "ecar-s", "--steps", "0"), "steps must be positive, got 0");
        oneLineError(run("flops", "--model", "ecar-s", "--gamma", "0.5"), "gamma 0.5 must lie in (0, 1/3]");
        oneLineError(run("flops", "--model", "dit-xl-2", "--cfg", "0.5"), "cfg 0.5 must be a finite number of at least 1");
        oneLineError(run("flops", "--model", "ecar-s", "--cfg", "Infinity"), "cfg Infinity must be a finite number of at least 1");
        oneLineError(run("flops", "--model", "ecar-s", "--steps", "100000000"), "steps 100000000 exceeds the limit of 1000 per scale or stage");
        oneLineError(run("flops", "--model", "ecar-s", "--stage-steps", "5,5,5,2000"), "steps per stage must lie in [1, 1000], got [5, 5, 5, 2000]");
        oneLineError(run("flops", "--model", "ecar-s", "--stage-steps", "5,5"), "2 per-stage step counts for a model of 5 stages");
        oneLineError(run("flops", "--model", "ecar-s", "--image-size", "200"), "image size 200 must be a positive multiple of 16");
    }

    @Test
    void checkFailsOnUnknownKindsAndUnreadableFiles() throws Exception {
        Path f = dir.resolve("odd.safetensors");
        new ecar.io.SafeTensorsWriter().metadata("kind", "dit.backward").add("x", ecar.tensor.FloatTensor.of(new float[]{1}, 1)).write(f);
        Run r = run("check", f.toString(), dir.resolve("missing.safetensors").toString());
        assertEquals(1, r.code());
        assertTrue(r.out().contains("unknown fixture kind 'dit.backward'"), r.out());
        assertTrue(r.out().contains("missing.safetensors: no such file"), r.out());
        assertTrue(r.out().contains("0 of 2 fixtures passed"), r.out());
    }

    /** The fixtures this repository carries (DiT without learned variance, patch 4 and 8) pass through `ecar check`. */
    @Test
    void checkPassesTheBundledFixtures() throws Exception {
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("check"));
        try (var files = java.nio.file.Files.list(Path.of("src/test/resources/fixtures"))) {
            files.filter(p -> p.toString().endsWith(".safetensors")).sorted().forEach(p -> args.add(p.toString()));
        }
        Run r = run(args.toArray(String[]::new));
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("7 of 7 fixtures passed"), r.out());
        assertTrue(r.out().contains("PASS src/test/resources/fixtures/dit_pmeanvar_p4_fixed_small.safetensors"), r.out());
        assertTrue(r.out().contains("PASS src/test/resources/fixtures/flowar_head_v2.safetensors"), r.out());
        assertTrue(r.out().contains("PASS src/test/resources/fixtures/flowar_sample_v2.safetensors"), r.out());
    }

    /** A header of the given text, no data. */
    private Path rawSafetensors(String name, String header) throws java.io.IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(8 + h.length).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(h.length).put(h);
        return java.nio.file.Files.write(dir.resolve(name), b.array());
    }

    /** Corrupt JSON in one fixture is that fixture's one-line failure; the run goes on (it used to end in StackOverflowError). */
    @Test
    void checkReportsCorruptJsonAndGoesOn() throws Exception {
        Path deep = rawSafetensors("deep.safetensors", "{\"w\":{\"note\":" + "[".repeat(6000));
        Path config = rawSafetensors("config.safetensors", "{\"__metadata__\":{\"kind\":\"vae_decode\",\"config\":\"{\\\"ch\\\": 01}\"}}");
        Path odd = dir.resolve("odd.safetensors");
        new ecar.io.SafeTensorsWriter().metadata("kind", "dit.backward").add("x", ecar.tensor.FloatTensor.of(new float[]{1}, 1)).write(odd);
        Run r = run("check", deep.toString(), config.toString(), odd.toString());
        assertEquals(1, r.code(), r.err());
        assertTrue(r.out().contains("deep.safetensors: header is not a valid JSON object: nested deeper than the limit of 64 levels"), r.out());
        assertTrue(r.out().contains("config.safetensors __metadata__.config: not valid JSON: a number cannot have a leading zero"), r.out());
        assertTrue(r.out().contains("unknown fixture kind 'dit.backward'") && r.out().contains("0 of 3 fixtures passed"), r.out());
        assertFalse(r.out().contains("Error") || r.out().contains("\tat "), r.out());
    }

    @Test
    void compareChecksItsOutputPathBeforeAnyWork() {
        oneLineError(run("compare", "--out", dir.resolve("no/such/folder/c.png").toString()), "does not exist");
        oneLineError(run("compare", "--out", dir.resolve("chart.jpg").toString()), "expected a .png file name");
        oneLineError(run("compare", "--batch", "0"), "--batch must be positive");
    }

    @Test
    void infoSaysWhyThereIsNoGpu() {
        Run r = run("info");
        assertEquals(0, r.code());
        assertTrue(r.out().contains("java       25"), r.out());
        assertTrue(r.out().contains("gpu "), r.out());
        if (!ecar.cuda.CudaProbe.available()) {
            assertTrue(r.out().contains("backend    cpu will be used"), r.out());
            oneLineError(run("info", "--check"), "cannot run the GPU self-check: no GPU: ");
        }
    }

    @Test
    void generateWritesAGridAndSaysThePicturesAreNoise() throws Exception {
        Path png = dir.resolve("g.png");
        Run r = run("generate", "--model", "dit-tiny", "--class", "1,2,3", "--seed", "4", "--steps", "3", "--out", png.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("random weights") && r.err().contains("noise"), r.err());
        assertTrue(r.err().contains("decode"), "progress of the decode: " + r.err());
        java.awt.image.BufferedImage img = javax.imageio.ImageIO.read(png.toFile());
        assertEquals(3 * 64, img.getWidth());
        assertEquals(64, img.getHeight());
    }

    @Test
    void arpgGeneratesAGridAndTakesItsSamplingFlags() throws Exception {
        Path png = dir.resolve("arpg.png");
        Run r = run("generate", "--model", "arpg-tiny", "--class", "1,2", "--seed", "3", "--steps", "4", "--cfg-schedule", "constant",
                "--order-schedule", "cosine", "--temperature", "0.8", "--top-k", "20", "--top-p", "0.9", "--out", png.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("4 steps (cosine), cfg 4.00 constant, temperature 0.80, top-k 20, top-p 0.90"), r.err());
        java.awt.image.BufferedImage img = javax.imageio.ImageIO.read(png.toFile());
        assertEquals(2 * 64, img.getWidth());
        assertEquals(64, img.getHeight());
        Run f = run("flops", "--model", "arpg-l");
        assertEquals(0, f.code(), f.err());
        assertTrue(f.out().contains("149.07"), f.out());
        oneLineError(run("flops", "--model", "arpg-l", "--top-p", "1.5"), "top-p 1.5 must lie in (0, 1]");
        oneLineError(run("flops", "--model", "ecar-s", "--temperature", "0.5"), "--temperature does not apply to ECAR");
    }

    /** Without --class a model with fewer classes than 208 (the tiny presets have 10) takes 207 mod its count, not an error. */
    @Test
    void generateWithoutClassesTakesALabelTheModelHas() throws Exception {
        Path png = dir.resolve("default-class.png");
        Run r = run("generate", "--model", "arpg-tiny", "--steps", "2", "--out", png.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(64, javax.imageio.ImageIO.read(png.toFile()).getWidth(), "one image");
        oneLineError(run("generate", "--model", "arpg-tiny", "--class", "207", "--out", dir.resolve("x.png").toString()), "class label 207 outside [0, 9]");
    }

    @Test
    void generateRefusesBadInputBeforeSampling() {
        oneLineError(run("generate", "--model", "ecar-tiny", "--out", dir.resolve("none/x.png").toString()), "does not exist");
        oneLineError(run("generate", "--model", "ecar-tiny", "--class", "10", "--out", dir.resolve("x.png").toString()), "class label 10 outside [0, 9]");
        oneLineError(run("generate", "--model", "ecar-tiny", "--class", "1", "--stage-steps", "1,2", "--out", dir.resolve("x.png").toString()), "per-stage step counts");
        oneLineError(run("generate", "--model", "no-such-model", "--out", dir.resolve("x.png").toString()), "unknown model 'no-such-model'");
        if (java.nio.file.Files.isDirectory(Path.of("/proc"))) {   // a folder that exists but takes no files, even for root
            oneLineError(run("generate", "--model", "ecar-tiny", "--class", "1", "--out", "/proc/x.png"), "cannot create files in /proc");
        }
        assertFalse(java.nio.file.Files.exists(dir.resolve("x.png")));
    }

    /** -h and --help on every subcommand print its usage and exit 0, required options and parameters notwithstanding. */
    @Test
    void everySubcommandTakesHelp() {
        java.util.Set<String> commands = new java.util.TreeSet<>(new picocli.CommandLine(new Main()).getSubcommands().keySet());
        commands.remove("help");   // picocli's own
        assertTrue(commands.containsAll(java.util.List.of("generate", "compare", "info", "check", "flops", "sample-set")), commands.toString());
        for (String command : commands) {
            for (String flag : java.util.List.of("-h", "--help")) {
                Run r = run(command, flag);
                assertEquals(0, r.code(), command + " " + flag + ": " + r.err());
                assertTrue(r.out().startsWith("Usage: ecar " + command + " "), command + " " + flag + ": " + r.out());
                assertEquals("", r.err(), command + " " + flag);
            }
        }
    }

    /** generate's help sends the reader to ecar info for the presets, and info lists every one. */
    @Test
    void theHelpsPointerToThePresetsHolds() {
        assertTrue(run("generate", "--help").out().replaceAll("\\s+", " ").contains("see ecar info"));
        Run info = run("info");
        for (String name : ecar.sample.Presets.names()) assertTrue(info.out().contains("\n  " + name + " "), name + " missing from:\n" + info.out());
    }
}
