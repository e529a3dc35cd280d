package ecar.sample;

import ecar.backend.cpu.CpuBackend;
import ecar.dit.DiTConfig;
import ecar.dit.PositionEmbedding;
import ecar.family.Preset;
import ecar.flowar.FlowArConfig;
import ecar.io.Json;
import ecar.io.SafeTensors;
import ecar.io.SafeTensorsWriter;
import ecar.model.Progress;
import ecar.model.RandomWeights;
import ecar.model.WeightSource;
import ecar.tensor.FloatTensor;
import ecar.vae.VaeConfig;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * tools/convert_checkpoint.py on training checkpoints (optimizer state, argparse arguments) written with torch by
 * src/test/python/training_checkpoint.py as DiT's train.py and FlowAR's save_model write them: the safe reader takes
 * them without --trust-checkpoint, the EMA weights are chosen as the official code does, config.json gets every
 * number the weights determine, and the directory loads and samples what the weights say. Refusals (no EMA, a
 * pickled command, the wrong family) stop with a message and leave no output folder. Skips without torch.
 */
class ConvertCheckpointTest {
    @TempDir
    Path dir;

    private final CpuBackend cpu = new CpuBackend();
    private String python;

    @BeforeEach
    void torch() {
        python = TorchPython.find();
        Assumptions.assumeTrue(python != null, TorchPython.MISSING);
    }

    /** Random weights as the model asks for them, plus the buffers official checkpoints carry beside them. */
    private Path weights(Preset preset, long seed, Map<String, FloatTensor> buffers) throws Exception {
        SafeTensorsWriter w = new SafeTensorsWriter();
        Pipeline.of(preset, WeightSource.peeking(new RandomWeights(seed), w::add), cpu);
        buffers.forEach(w::add);
        Path p = dir.resolve("weights-" + seed + ".safetensors");
        w.write(p);
        return p;
    }

    private Path checkpoint(String layout, Path weights, String... more) throws Exception {
        Path pt = dir.resolve(layout + ".pt");
        List<String> cmd = new ArrayList<>(List.of(python, "src/test/python/training_checkpoint.py", layout, weights.toString(), pt.toString()));
        cmd.addAll(List.of(more));
        TorchPython.Result r = TorchPython.run(cmd);
        assertEquals(0, r.exit(), r.log());
        return pt;
    }

    private TorchPython.Result convert(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(python, "tools/convert_checkpoint.py"));
        cmd.addAll(List.of(args));
        return TorchPython.run(cmd);
    }

    private static Json.Obj config(Path modelDir) throws Exception {
        return Json.Obj.parse(Files.readString(modelDir.resolve("config.json")), "config.json");
    }

    /** Nothing of a failed conversion is left: no output folder, no hidden .part folder beside it. */
    private void nothingLeft(Path out) throws Exception {
        assertFalse(Files.exists(out), out + " was made");
        try (Stream<Path> s = Files.list(out.getParent())) {
            assertEquals(List.of(), s.filter(p -> p.getFileName().toString().endsWith(".part")).toList());
        }
    }

    private Preset dit512() {
        Preset base = Presets.get("dit-s-2");
        DiTConfig a = ((DiTConfig) base.architecture()).with(Json.Obj.parse(ModelDirectoryArchitectureTest.DIT_512, "test"));
        return base.with(a, VaeConfig.sdF8());
    }

    /** The case: a DiT at 512² from DiT's train.py converts with its size, and loads without editing config.json. */
    @Test
    void ditTrainingCheckpointGivesItsEmaAndEveryNumber() throws Exception {
        Preset preset = dit512();
        Path w = weights(preset, 5, Map.of("pos_embed", PositionEmbedding.sinCos2d(64, 8).reshape(1, 64, 64)));
        Path out = dir.resolve("dit");
        TorchPython.Result r = convert("--model", "dit-s-2", "--weights", checkpoint("dit", w).toString(), "--out", out.toString());
        assertEquals(0, r.exit(), r.log());
        assertTrue(r.log().contains("\"ema\" (as DiT's find_model takes it)"), r.log());
        assertTrue(r.log().contains("note: num_heads 1: not stored in the weights; hidden_size 64 is none of the paper's widths, so heads of 64 "
                + "channels are assumed"), r.log());
        assertTrue(r.log().contains("the weights are not dit-s-2's: depth 1 (dit-s-2: 12), hidden_size 64 (dit-s-2: 384), patch_size 8"), r.log());
        Json.Obj c = config(out);
        assertEquals(512, c.integer("image_size"));
        assertEquals("sd-f8", c.str("vae", null));
        @SuppressWarnings("unchecked") Json.Obj a = new Json.Obj((Map<String, Object>) c.map().get("architecture"), "architecture");
        assertEquals(DiTConfig.KEYS.subList(0, 9), List.copyOf(a.map().keySet()));
        assertEquals(64, a.integer("input_size"));
        assertEquals(8, a.integer("patch_size"));
        assertEquals(10, a.integer("num_classes"));
        assertFalse(a.bool("learn_sigma", true));
        // the EMA's values, not the model's (which are one more)
        try (SafeTensors conv = SafeTensors.open(out.resolve("model.safetensors")); SafeTensors orig = SafeTensors.open(w)) {
            assertArrayEquals(orig.get("blocks.0.attn.qkv.weight").toFloatTensor().data(), conv.get("blocks.0.attn.qkv.weight").toFloatTensor().data());
        }
        Pipeline p = Pipeline.load(out.toString(), cpu);
        GenerateRequest req = GenerateRequest.of(4).seed(2).steps(3);
        assertArrayEquals(Pipeline.of(preset, new RandomWeights(5), cpu).sampleLatents(req, Progress.NONE).data(), p.sampleLatents(req, Progress.NONE).data());
    }

    private Preset flowArWideHead() {
        Preset base = Presets.get("ecar-tiny");
        return base.with(((FlowArConfig) base.architecture()).with(Json.Obj.parse("{\"head_width\": 128, \"head_depth\": 1, \"cross\": true}", "test")),
                base.vae());
    }

    /** FlowAR's buffers: each block's RoPE frequencies (head/4 of them: they tell the head count) and the attention mask. */
    private static Map<String, FloatTensor> flowArBuffers(FlowArConfig c) {
        Map<String, FloatTensor> b = new LinkedHashMap<>();
        int arHead = c.dim() / c.heads();
        for (int i = 0; i < c.encDepth(); i++) b.put("encoder_blocks." + i + ".attn.rope.freqs", FloatTensor.zeros(ecar.tensor.Shape.of(arHead / 4)));
        for (int i = 0; i < c.decDepth(); i++) b.put("decoder_blocks." + i + ".attn.rope.freqs", FloatTensor.zeros(ecar.tensor.Shape.of(arHead / 4)));
        for (int i = 0; i < c.headDepth(); i++) {
            b.put("flownet.res_blocks." + i + ".attn.rope.freqs", FloatTensor.zeros(ecar.tensor.Shape.of(16)));
            if (c.cross()) b.put("flownet.res_blocks." + i + ".crossattn.rope.freqs", FloatTensor.zeros(ecar.tensor.Shape.of(16)));
        }
        b.put("mask", FloatTensor.zeros(ecar.tensor.Shape.of(1, 1, c.seqLen(), c.seqLen())));
        return b;
    }

    @Test
    void flowArTrainingCheckpointGivesModelEmaWithEmaAndItsHead() throws Exception {
        Preset preset = flowArWideHead();
        FlowArConfig arch = (FlowArConfig) preset.architecture();
        Path w = weights(preset, 8, flowArBuffers(arch));
        Path pt = checkpoint("flowar", w);
        Path out = dir.resolve("ecar");
        TorchPython.Result r = convert("--model", "ecar-l", "--weights", pt.toString(), "--ema", "--out", out.toString());
        assertEquals(0, r.exit(), r.log());
        assertTrue(r.log().contains("\"model_ema\" (--ema)"), r.log());
        assertTrue(r.log().contains("the weights are not ecar-l's: dim 64 (ecar-l: 1024)"), r.log());
        Json.Obj c = config(out);
        assertEquals("kl16", c.str("vae", null));
        assertEquals(64, c.integer("image_size"));
        @SuppressWarnings("unchecked") Json.Obj a = new Json.Obj((Map<String, Object>) c.map().get("architecture"), "architecture");
        // every number read from the weights; num_classes is not stored (FlowAR's class table has 1001 rows for any)
        assertEquals(1000, a.integer("num_classes"));
        assertEquals(arch.with(Json.Obj.parse("{\"num_classes\": 1000}", "test")), FlowArConfig.fromJson(a));
        assertTrue(r.log().contains("note: num_classes 1000: FlowAR's class table has 1001 rows whatever its class_num"), r.log());
        // the tiny decoder instead of KL-16, for a test's time; the architecture as converted
        Files.writeString(out.resolve("config.json"), Files.readString(out.resolve("config.json"))
                .replace("\"vae\": \"kl16\"", "\"vae\": {\"ch\": 32, \"ch_mult\": [1, 1, 1, 1, 1], \"num_res_blocks\": 1, \"z_channels\": 16}"));
        GenerateRequest req = GenerateRequest.of(1).seed(6);
        Preset expected = Presets.get("ecar-l").with(FlowArConfig.fromJson(a), preset.vae());   // ecar-l's sampling, the weights' modules
        assertArrayEquals(Pipeline.of(expected, new RandomWeights(8), cpu).sampleLatents(req, Progress.NONE).data(),
                Pipeline.load(out.toString(), cpu).sampleLatents(req, Progress.NONE).data());

        // without --ema: "model", the training weights
        Path raw = dir.resolve("raw");
        r = convert("--model", "ecar-l", "--weights", pt.toString(), "--out", raw.toString());
        assertEquals(0, r.exit(), r.log());
        assertTrue(r.log().contains("from " + pt + ", \"model\""), r.log());
        try (SafeTensors conv = SafeTensors.open(raw.resolve("model.safetensors")); SafeTensors orig = SafeTensors.open(w)) {
            float[] ema = orig.get("z_proj.weight").toFloatTensor().data(), model = conv.get("z_proj.weight").toFloatTensor().data();
            for (int i = 0; i < ema.length; i++) assertEquals(ema[i] + 1f, model[i], 1e-6f);
        }
    }

    @Test
    void aRunWithoutEmaIsNamedAndLeavesNothing() throws Exception {
        Path pt = checkpoint("flowar-no-ema", weights(flowArWideHead(), 8, Map.of()));
        Path out = dir.resolve("models/ecar");
        TorchPython.Result r = convert("--model", "ecar-l", "--weights", pt.toString(), "--ema", "--out", out.toString());
        assertNotEquals(0, r.exit(), r.log());
        assertTrue(r.log().contains("holds \"model_ema\": None (the training run kept no such weights); drop --ema to convert \"model\""), r.log());
        assertFalse(r.log().contains("Traceback"), r.log());
        nothingLeft(out);
    }

    /** A pickled command is refused by name and never runs; an existing model directory stays as it was. */
    @Test
    void aHostileCheckpointIsRefusedAndRunsNothing() throws Exception {
        Path marker = dir.resolve("ran");
        Path pt = checkpoint("hostile", weights(dit512(), 5, Map.of()), marker.toString());
        Path out = dir.resolve("existing");
        Files.createDirectories(out);
        Files.writeString(out.resolve("config.json"), "{\"model\": \"dit-s-2\"}");
        TorchPython.Result r = convert("--model", "dit-s-2", "--weights", pt.toString(), "--out", out.toString());
        assertNotEquals(0, r.exit(), r.log());
        assertTrue(r.log().contains("refused to build posix.system") && r.log().contains("rerun with --trust-checkpoint"), r.log());
        assertFalse(Files.exists(marker), "the pickled command ran");
        assertEquals("{\"model\": \"dit-s-2\"}", Files.readString(out.resolve("config.json")));
        try (Stream<Path> s = Files.list(out)) {
            assertEquals(1, s.count(), "nothing added to the existing directory");
        }
        nothingLeft(dir.resolve("never-made"));
    }

    @Test
    void weightsOfAnotherFamilyAreNamed() throws Exception {
        Path pt = checkpoint("flowar", weights(flowArWideHead(), 8, Map.of()));
        Path out = dir.resolve("dit");
        TorchPython.Result r = convert("--model", "dit-xl-2", "--weights", pt.toString(), "--ema", "--out", out.toString());
        assertNotEquals(0, r.exit(), r.log());
        assertTrue(r.log().contains("--model dit-xl-2 expects DiT (x_embedder.proj.weight, y_embedder.embedding_table.weight) weights, but "
                + pt + " holds FlowAR (class_emb.weight, flownet.*) weights"), r.log());
        nothingLeft(out);
    }
}
