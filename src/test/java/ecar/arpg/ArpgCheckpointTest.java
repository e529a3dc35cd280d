package ecar.arpg;

import ecar.PythonScripts;

import ecar.backend.cpu.CpuBackend;
import ecar.fixture.Fixture;
import ecar.io.Json;
import ecar.io.SafeTensors;
import ecar.model.WeightSource;
import ecar.model.Weights;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import static ecar.PythonScripts.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * tools/convert_checkpoint.py on ARPG checkpoints as the official code saves them (the state dict under "model", or
 * "module" from DeepSpeed, beside other entries), made by a script from the arpg.generate fixture's weights: the model
 * directory holds the reference's names and values, and the model loads from it and samples as from the fixture.
 */
class ArpgCheckpointTest {
    @TempDir
    Path dir;

    /** Saves the fixture's model.* tensors as a torch checkpoint under the given key, beside an optimizer and an epoch. */
    private static final String TORCH_SAVE = """
            import sys, torch
            sys.path.insert(0, "tools")
            from convert_checkpoint import read_safetensors
            src, dst, key = sys.argv[1], sys.argv[2], sys.argv[3]
            state = {n[len("model."):]: torch.frombuffer(bytearray(t.data), dtype=torch.float32).reshape(t.shape).clone()
                     for n, t in read_safetensors(src).items() if n.startswith("model.")}
            torch.save({key: state, "optimizer": {"state": {}, "param_groups": []}, "epoch": 3} if key else {"weights": state}, dst)
            """;

    @Test
    void officialCheckpointsBecomeAModelDirectory() throws Exception {
        String env = System.getenv("ECAR_FIXTURES");
        Assumptions.assumeTrue(env != null && !env.isBlank(), "ECAR_FIXTURES is not set: no ARPG weights to write a checkpoint from");
        Path fixture = Path.of(env, "arpg", "arpg_generate_tiny.safetensors");
        Assumptions.assumeTrue(Files.isRegularFile(fixture), fixture + " not found");
        String python = PythonScripts.withTorch();
        Assumptions.assumeTrue(python != null, "no python3 with torch (tried $ECAR_PYTHON, python3, /usr/bin/python3; apt-get install python3-torch): "
                + "the ARPG checkpoint conversion not tested");
        for (String key : new String[]{"model", "module"}) {
            Path pt = dir.resolve(key + ".pt"), out = dir.resolve("arpg-" + key);
            assertEquals(0, run(List.of(python, "-c", TORCH_SAVE, fixture.toString(), pt.toString(), key)).exit(), "writing the checkpoint");
            PythonScripts.Result r = run(List.of(python, "tools/convert_checkpoint.py", "--model", "arpg-l", "--weights", pt.toString(), "--out", out.toString()));
            assertEquals(0, r.exit(), r.log());
            Json.Obj config = Json.Obj.parse(Files.readString(out.resolve("config.json")), "config.json");
            assertEquals("arpg-l", config.str("model", null));
            assertEquals("vq16", config.str("vae", null));
            assertSameAsTheFixture(fixture, out.resolve("model.safetensors"));
        }
        Path pt = dir.resolve("other.pt");
        assertEquals(0, run(List.of(python, "-c", TORCH_SAVE, fixture.toString(), pt.toString(), "")).exit(), "writing the checkpoint");
        PythonScripts.Result refused = run(List.of(python, "tools/convert_checkpoint.py", "--model", "arpg-l", "--weights", pt.toString(), "--out", dir.resolve("x").toString()));
        assertTrue(refused.exit() != 0 && refused.log().contains("holds no state dict under \"ema\", \"model_ema\", \"model\", \"state_dict\" or \"module\""), refused.log());
    }

    /** The same names, shapes and values; loaded, the model samples the fixture's tokens (greedy, the fixture's order). */
    private static void assertSameAsTheFixture(Path fixture, Path converted) {
        CpuBackend cpu = new CpuBackend();
        try (Fixture f = Fixture.open(fixture); SafeTensors c = SafeTensors.open(converted)) {
            Set<String> expected = new TreeSet<>();
            for (String n : f.file().tensors().keySet()) if (n.startsWith("model.")) expected.add(n.substring("model.".length()));
            assertEquals(expected, new TreeSet<>(c.tensors().keySet()));
            for (String n : expected) assertArrayEquals(f.file().get("model." + n).toFloatTensor().data(), c.get(n).toFloatTensor().data(), n);
            ArpgConfig cfg = ArpgConfig.fromJson(f.config());
            ArpgSampling greedy = new ArpgSampling(4, 4f, DecodeSchedule.Guidance.LINEAR, DecodeSchedule.Reveal.ARCCOS, 1f, new ecar.backend.LogitFilter(1, 1f));
            int[] labels = f.ints("labels"), order = f.ints("orders");
            int[][] fromFixture = new ArpgSampler(ArpgTransformer.load(cfg, f.weights(cpu)), cpu).sample(labels, greedy, 0, order, ArpgSampler.Observer.NONE);
            int[][] fromFile = new ArpgSampler(ArpgTransformer.load(cfg, new Weights(WeightSource.of(c, ""), cpu)), cpu)
                    .sample(labels, greedy, 0, order, ArpgSampler.Observer.NONE);
            assertTrue(Arrays.deepEquals(fromFixture, fromFile), "the converted weights sample other tokens");
        }
    }
}
