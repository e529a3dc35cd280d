package ecar.sample;

import ecar.backend.cpu.CpuBackend;
import ecar.io.SafeTensorsException;
import ecar.io.SafeTensorsWriter;
import ecar.model.RandomWeights;
import ecar.model.WeightSource;
import ecar.model.WeightsException;
import ecar.tensor.FloatTensor;
import ecar.tensor.Shape;
import ecar.vae.VaeDecoder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Hostile model directories, generated here: configs of wrong types, huge numbers, deep nesting, unknown keys, paths out
 * of the directory, special files; weight files with missing, extra, misshaped and corrupt tensors. Each loads to a
 * one-line error naming the problem (or, for weights, the itemised list) within a few seconds, never a hang.
 */
class ModelDirectoryCorpusTest {
    @TempDir
    static Path shared;
    @TempDir
    Path dir;

    private static final CpuBackend CPU = new CpuBackend();
    /** dit-tiny's generator and VAE weights as a converted checkpoint holds them. */
    private static final Map<String, FloatTensor> MODEL = new LinkedHashMap<>(), VAE = new LinkedHashMap<>();

    @BeforeAll
    static void recordWeights() {
        Pipeline.of(Presets.get("dit-tiny"), WeightSource.peeking(new RandomWeights(5), MODEL::put), CPU);
        VaeDecoder.load(Presets.get("dit-tiny").vae(), WeightSource.peeking(new RandomWeights(6), VAE::put), CPU);
    }

    private static void write(Map<String, FloatTensor> tensors, Path file, Consumer<Map<String, FloatTensor>> edit) throws IOException {
        Map<String, FloatTensor> t = new LinkedHashMap<>(tensors);
        edit.accept(t);
        SafeTensorsWriter w = new SafeTensorsWriter();
        t.forEach(w::add);
        w.write(file);
    }

    /** A complete dit-tiny directory with this config. */
    private Path model(String config) throws IOException {
        write(MODEL, dir.resolve("model.safetensors"), t -> {});
        write(VAE, dir.resolve("vae.safetensors"), t -> {});
        Files.writeString(dir.resolve("config.json"), config);
        return dir;
    }

    private <T extends Throwable> String error(Class<T> type, Path d) {
        return error(type, d, WeightPaths.INSIDE_DIRECTORY);
    }

    private <T extends Throwable> String error(Class<T> type, Path d, WeightPaths paths) {
        T e = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> assertThrows(type, () -> ModelDirectory.load(d, CPU, paths)));
        System.out.println("MSG " + e.getMessage().replace(dir.toString(), "D").replace(shared.toString(), "S"));
        return e.getMessage();
    }

    private void oneLine(String message, String expected) {
        assertTrue(message.contains(expected), message);
        assertEquals(1, message.lines().count(), message);
    }

    @Test
    void theGeneratedDirectoryLoads() throws IOException {
        assertEquals("dit-tiny", ModelDirectory.load(model("{\"model\": \"dit-tiny\"}"), CPU).preset().name());
    }

    @Test
    void configValuesOfTheWrongTypeOrSize() throws IOException {
        String cfg = dir.resolve("config.json").toString();
        oneLine(error(IllegalArgumentException.class, model("{\"model\": 5}")), cfg + ": \"model\" must be a string, found a number");
        oneLine(error(IllegalArgumentException.class, model("{\"model\": \"dit-tiny\", \"image_size\": \"big\"}")), "\"image_size\" must be a whole number, found a string");
        oneLine(error(IllegalArgumentException.class, model("{\"model\": \"dit-tiny\", \"image_size\": 64.5}")), "\"image_size\" must be a whole number, found 64.5");
        oneLine(error(IllegalArgumentException.class, model("{\"model\": \"dit-tiny\", \"image_size\": 1e300}")), "\"image_size\" must be a whole number from -2147483648 to 2147483647");
        oneLine(error(IllegalArgumentException.class, model("{\"model\": \"dit-tiny\", \"image_size\": 123456789012345678901234567890}")), "must be a whole number from");
        oneLine(error(IllegalArgumentException.class, model("{\"model\": \"dit-tiny\", \"image_size\": 16384}")), cfg + ": image size 16384 exceeds the limit of 1024");
        oneLine(error(IllegalArgumentException.class, model("{\"model\": \"dit-tiny\", \"image_size\": -64}")), cfg + ": image size -64 must be a positive multiple of 16");
        oneLine(error(IllegalArgumentException.class, model("{\"model\": \"dit-tiny\", \"weights\": [\"model.safetensors\"]}")), "\"weights\" must be a string, found an array");
        oneLine(error(IllegalArgumentException.class, model("{\"model\": \"no-such\"}")), cfg + ": unknown model 'no-such'");
        oneLine(error(IllegalArgumentException.class, model("{\"model\": \"dit-tiny\", \"vae\": 3}")), "\"vae\" must be a name (kl16, sd-f8, vq16) or an object");
        oneLine(error(IllegalArgumentException.class, model("{\"model\": \"dit-tiny\", \"vae\": {\"ch\": -1}}")), cfg);
        oneLine(error(IllegalArgumentException.class, model("{\"model\": \"dit-tiny\", \"modle\": \"x\"}")), "unknown key \"modle\"");
        oneLine(error(IllegalArgumentException.class, model("{\"source\": \"x\"}")), "missing \"model\"");
    }

    @Test
    void malformedAndOversizedConfigs() throws IOException {
        oneLine(error(IllegalArgumentException.class, model("")), "not valid JSON");
        oneLine(error(IllegalArgumentException.class, model("{\"model\": \"dit-tiny\",}")), "not valid JSON");
        oneLine(error(IllegalArgumentException.class, model("{\"model\": \"dit-tiny\", \"model\": \"dit-s-2\"}")), "not valid JSON");
        oneLine(error(IllegalArgumentException.class, model("{\"model\": \"dit-tiny\", \"source\": " + "[".repeat(100_000) + "}")), "nested deeper than the limit of 64 levels");
        oneLine(error(IllegalArgumentException.class, model("{\"model\": \"dit-tiny\", \"source\": \"" + "x".repeat(5 << 20) + "\"}")), "more than a config may hold");
        Files.write(dir.resolve("config.json"), new byte[]{'{', '"', (byte) 0xff, '"', ':', '1', '}'});
        oneLine(error(IllegalArgumentException.class, dir), "config.json: is not UTF-8 text");
    }

    @Test
    void configsThatAreNotFiles() throws Exception {
        Files.createDirectory(dir.resolve("config.json"));
        oneLine(error(IllegalArgumentException.class, dir), "config.json: is a directory, expected a JSON config");
        Files.delete(dir.resolve("config.json"));
        assumeTrue(new ProcessBuilder("mkfifo", dir.resolve("config.json").toString()).start().waitFor() == 0, "mkfifo is not available");
        oneLine(error(IllegalArgumentException.class, dir), "config.json: is not a regular file (a FIFO, socket or device), expected a JSON config");
    }

    /** "weights" and "vae_weights" must stay in the directory (symbolic links and .. resolved) unless the caller allows any path. */
    @Test
    void weightFilesOutsideTheDirectoryAreRefusedUnlessAllowed() throws IOException {
        Path outside = shared.resolve("outside.safetensors");
        write(MODEL, outside, t -> {});
        String passwd = error(IllegalArgumentException.class, model("{\"model\": \"dit-tiny\", \"weights\": \"/etc/passwd\"}"));
        if (Files.exists(Path.of("/etc/passwd"))) oneLine(passwd, "\"weights\" names /etc/passwd, which is /etc/passwd, outside the model directory");
        Path relative = dir.relativize(outside);
        oneLine(error(IllegalArgumentException.class, model("{\"model\": \"dit-tiny\", \"weights\": \"" + relative + "\"}")), "outside the model directory");
        oneLine(error(IllegalArgumentException.class, model("{\"model\": \"dit-tiny\", \"vae_weights\": \"" + relative + "\"}")), "\"vae_weights\" names");
        model("{\"model\": \"dit-tiny\"}");
        Files.delete(dir.resolve("model.safetensors"));
        Files.createSymbolicLink(dir.resolve("model.safetensors"), outside);
        oneLine(error(IllegalArgumentException.class, dir), "\"weights\" names model.safetensors, which is " + outside.toRealPath() + ", outside the model directory");

        assertEquals("dit-tiny", ModelDirectory.load(dir, CPU, WeightPaths.ANYWHERE).preset().name(), "allowed: the linked weights load");
        if (Files.exists(Path.of("/etc/passwd"))) {
            Files.writeString(dir.resolve("config.json"), "{\"model\": \"dit-tiny\", \"weights\": \"/etc/passwd\"}");
            oneLine(error(SafeTensorsException.class, dir, WeightPaths.ANYWHERE), "/etc/passwd: ");
        }
    }

    @Test
    void namedWeightFilesThatAreMissingOrNotFiles() throws IOException {
        oneLine(error(IllegalArgumentException.class, model("{\"model\": \"dit-tiny\", \"weights\": \"nothing.safetensors\"}")), "weights nothing.safetensors not found");
        oneLine(error(IllegalArgumentException.class, model("{\"model\": \"dit-tiny\", \"vae_weights\": \"nothing.safetensors\"}")), "vae_weights nothing.safetensors not found");
        oneLine(error(SafeTensorsException.class, model("{\"model\": \"dit-tiny\", \"weights\": \".\"}")), "is a directory, expected a safetensors file");
        oneLine(error(IllegalArgumentException.class, model("{\"model\": \"dit-tiny\", \"weights\": \"a\\u0000b\"}")), "\"weights\" is not a file name");
    }

    @Test
    void weightsWithMissingExtraOrMisshapedTensorsAreListed() throws IOException {
        model("{\"model\": \"dit-tiny\"}");
        String first = MODEL.keySet().iterator().next(), last = MODEL.keySet().stream().reduce((a, b) -> b).orElseThrow();
        write(MODEL, dir.resolve("model.safetensors"), t -> {
            t.remove(first);
            t.put("extra.weight", FloatTensor.of(new float[]{1}, 1));
            t.put(last, new FloatTensor(Shape.of(t.get(last).shape().size() + 1), new float[t.get(last).shape().size() + 1]));
        });
        String m = error(WeightsException.class, dir);
        assertTrue(m.contains(first) && m.contains("extra.weight") && m.contains(last), m);
    }

    @Test
    void corruptWeightFilesNameTheFile() throws IOException {
        model("{\"model\": \"dit-tiny\"}");
        Path w = dir.resolve("model.safetensors");
        byte[] bytes = Files.readAllBytes(w);
        Files.write(w, java.util.Arrays.copyOf(bytes, bytes.length - 100));
        oneLine(error(SafeTensorsException.class, dir), w.toString());
        Files.writeString(w, "not safetensors at all", StandardCharsets.UTF_8);
        oneLine(error(SafeTensorsException.class, dir), w.toString());
    }
}
