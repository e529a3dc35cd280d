package ecar.sample;

import ecar.backend.cpu.CpuBackend;
import ecar.dit.DiTConfig;
import ecar.dit.PositionEmbedding;
import ecar.family.Preset;
import ecar.flowar.FlowArConfig;
import ecar.io.Json;
import ecar.io.SafeTensorsWriter;
import ecar.model.Progress;
import ecar.model.RandomWeights;
import ecar.model.WeightSource;
import ecar.tensor.FloatTensor;
import ecar.tensor.Shape;
import ecar.vae.VaeConfig;
import ecar.vae.VaeDecoder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Model directories of architectures no preset has: config.json's "architecture" numbers (as
 * tools/convert_checkpoint.py writes them) build the model, and numbers the weights contradict are named.
 */
class ModelDirectoryArchitectureTest {
    @TempDir
    Path dir;

    private final CpuBackend cpu = new CpuBackend();

    /**
     * A 512² DiT (64² latent) of width 64, one block, patch 8, without learned sigma: no preset is this. One head of 64
     * channels, the head size tools/convert_checkpoint.py assumes for widths outside the paper's table.
     */
    static final String DIT_512 = "{\"input_size\": 64, \"patch_size\": 8, \"in_channels\": 4, \"hidden_size\": 64, \"depth\": 1, "
            + "\"num_heads\": 1, \"mlp_ratio\": 4.0, \"num_classes\": 10, \"learn_sigma\": false}";
    /** A small decoder of ×8 (an SD f8 layout of 32 channels) so that 512² pictures decode in a test's time. */
    static final String F8_VAE = "{\"ch\": 32, \"ch_mult\": [1, 1, 1, 1], \"num_res_blocks\": 1, \"z_channels\": 4, \"scale\": 0.18215}";

    /** Random weights as a model asks for them, written as a checkpoint would hold them (pos_embed included). */
    private static Map<String, FloatTensor> record(Preset preset, long seed, CpuBackend cpu) {
        Map<String, FloatTensor> seen = new LinkedHashMap<>();
        Pipeline.of(preset, WeightSource.peeking(new RandomWeights(seed), seen::put), cpu);
        return seen;
    }

    private static void write(Map<String, FloatTensor> tensors, Path file) throws Exception {
        SafeTensorsWriter w = new SafeTensorsWriter();
        tensors.forEach(w::add);
        w.write(file);
    }

    private Preset dit512() {
        Preset base = Presets.get("dit-s-2");
        DiTConfig a = ((DiTConfig) base.architecture()).with(Json.Obj.parse(DIT_512, "test"));
        return base.with(a, VaeConfig.fromJson(Json.Obj.parse(F8_VAE, "test"), "f8-small"));
    }

    private void writeDit512(Preset preset) throws Exception {
        Map<String, FloatTensor> model = record(preset, 5, cpu);
        model.put("pos_embed", PositionEmbedding.sinCos2d(64, 8).reshape(1, 64, 64));   // the official checkpoints carry it
        write(model, dir.resolve("model.safetensors"));
        Map<String, FloatTensor> vae = new LinkedHashMap<>();
        VaeDecoder.load(preset.vae(), WeightSource.peeking(new RandomWeights(6), vae::put), cpu);
        write(vae, dir.resolve("vae.safetensors"));
    }

    @Test
    void a512DiTOfNoPresetSizeLoadsAndGenerates() throws Exception {
        Preset preset = dit512();
        assertEquals(512, preset.imageSize());
        writeDit512(preset);
        Files.writeString(dir.resolve("config.json"), "{\"model\": \"dit-s-2\", \"vae\": " + F8_VAE + ", \"image_size\": 512, \"architecture\": " + DIT_512 + "}");
        Pipeline p = Pipeline.load(dir.toString(), cpu);
        GenerateRequest r = GenerateRequest.of(3).seed(4).steps(4);
        Generated g = p.generate(r, Progress.NONE);
        assertEquals(Shape.of(1, 512, 512, 3), g.pixels().shape());
        assertEquals(Shape.of(1, 4, 64, 64), g.latents().shape());
        Pipeline expected = Pipeline.of(preset, new RandomWeights(5), cpu);
        assertArrayEquals(expected.sampleLatents(r, Progress.NONE).data(), g.latents().data(), "the directory's weights, the architecture's numbers");
    }

    @Test
    void numbersTheWeightsContradictAreNamed() throws Exception {
        writeDit512(dit512());
        // the case: a 512² checkpoint whose config says nothing of the size
        String withoutSize = DIT_512.replace("\"input_size\": 64, ", "");
        Files.writeString(dir.resolve("config.json"), "{\"model\": \"dit-s-2\", \"vae\": " + F8_VAE + ", \"architecture\": " + withoutSize + "}");
        var e = assertThrows(IllegalArgumentException.class, () -> Pipeline.load(dir.toString(), cpu));
        assertTrue(e.getMessage().contains("disagrees with model.safetensors"), e.getMessage());
        assertTrue(e.getMessage().contains("input_size 32 (image_size 256): the weights say 64 (image_size 512; pos_embed [1, 64, 64] holds 8×8 tokens of patch 8)"),
                e.getMessage());
        // only the preset's name: every number that differs is listed
        Files.writeString(dir.resolve("config.json"), "{\"model\": \"dit-s-2\", \"vae\": " + F8_VAE + "}");
        e = assertThrows(IllegalArgumentException.class, () -> Pipeline.load(dir.toString(), cpu));
        for (String s : new String[]{"hidden_size 384: the weights say 64 (x_embedder.proj.weight [64, 4, 8, 8])", "patch_size 2: the weights say 8",
                "depth 12: the weights say 1", "num_classes 1000: the weights say 10", "learn_sigma true (8 output channels): the weights say false"}) {
            assertTrue(e.getMessage().contains(s), s + " in " + e.getMessage());
        }
    }

    @Test
    void architectureNumbersAreChecked() throws Exception {
        writeDit512(dit512());
        Files.writeString(dir.resolve("config.json"), "{\"model\": \"dit-s-2\", \"architecture\": {\"input_size\": 64, \"hidden_sise\": 64}}");
        var e = assertThrows(IllegalArgumentException.class, () -> Pipeline.load(dir.toString(), cpu));
        assertTrue(e.getMessage().contains("unknown key \"hidden_sise\" (known: input_size, patch_size"), e.getMessage());
        Files.writeString(dir.resolve("config.json"), "{\"model\": \"dit-s-2\", \"vae\": " + F8_VAE + ", \"image_size\": 256, \"architecture\": " + DIT_512 + "}");
        e = assertThrows(IllegalArgumentException.class, () -> Pipeline.load(dir.toString(), cpu));
        assertTrue(e.getMessage().contains("image_size 256 disagrees with \"architecture\", whose 64² latent the vae decoder (×8) turns into 512² images"),
                e.getMessage());
        Files.writeString(dir.resolve("config.json"), "{\"model\": \"dit-s-2\", \"architecture\": [64]}");
        e = assertThrows(IllegalArgumentException.class, () -> Pipeline.load(dir.toString(), cpu));
        assertTrue(e.getMessage().contains("\"architecture\" must be an object"), e.getMessage());
        Files.writeString(dir.resolve("config.json"), "{\"model\": \"dit-s-2\", \"architecture\": {\"hidden_size\": 100}}");
        e = assertThrows(IllegalArgumentException.class, () -> Pipeline.load(dir.toString(), cpu));
        assertTrue(e.getMessage().contains("hidden_size 100 must be a multiple of num_heads 6"), e.getMessage());
    }

    /** FlowAR with a flow head of another width and depth than its preset (as FlowAR's scripts default diffloss_w). */
    @Test
    void aFlowArHeadOfAnotherWidthLoadsAndGenerates() throws Exception {
        Preset base = Presets.get("ecar-tiny");
        String numbers = "{\"head_width\": 128, \"head_depth\": 1, \"cross\": true}";
        Preset preset = base.with(((FlowArConfig) base.architecture()).with(Json.Obj.parse(numbers, "test")), base.vae());
        write(record(preset, 8, cpu), dir.resolve("model.safetensors"));
        Map<String, FloatTensor> vae = new LinkedHashMap<>();
        VaeDecoder.load(preset.vae(), WeightSource.peeking(new RandomWeights(9), vae::put), cpu);
        write(vae, dir.resolve("vae.safetensors"));
        String tinyVae = "{\"ch\": 32, \"ch_mult\": [1, 1, 1, 1, 1], \"num_res_blocks\": 1, \"z_channels\": 16, \"scale\": 1.0}";
        Files.writeString(dir.resolve("config.json"), "{\"model\": \"ecar-tiny\", \"vae\": " + tinyVae + ", \"architecture\": " + numbers + "}");
        Pipeline p = Pipeline.load(dir.toString(), cpu);
        GenerateRequest r = GenerateRequest.of(2).seed(3);
        assertEquals(Shape.of(1, 64, 64, 3), p.generate(r, Progress.NONE).pixels().shape());
        assertArrayEquals(Pipeline.of(preset, new RandomWeights(8), cpu).sampleLatents(r, Progress.NONE).data(), p.sampleLatents(r, Progress.NONE).data());

        Files.writeString(dir.resolve("config.json"), "{\"model\": \"ecar-tiny\", \"vae\": " + tinyVae + "}");
        var e = assertThrows(IllegalArgumentException.class, () -> Pipeline.load(dir.toString(), cpu));
        assertTrue(e.getMessage().contains("head_width 64: the weights say 128 (flownet.input_proj.weight [128, 16])"), e.getMessage());
        assertTrue(e.getMessage().contains("head_depth 2: the weights say 1"), e.getMessage());
        assertTrue(e.getMessage().contains("cross false: the weights say true"), e.getMessage());
    }
}
