package ecar.vae;

import ecar.PythonScripts;

import ecar.backend.cpu.CpuBackend;
import ecar.fixture.Comparison;
import ecar.io.SafeTensors;
import ecar.io.SafeTensorsWriter;
import ecar.tensor.FloatTensor;
import ecar.tensor.Shape;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * LlamaGen VQ checkpoints on the vq.decode fixture: the fixture's VQModel weights, written as a whole tokenizer
 * checkpoint would hold them (encoder, quant_conv, the codebook_used buffer, training entries), must decode the
 * fixture's token ids to its image with {@link VaeConfig#tinyVq()}, read directly and after
 * tools/convert_checkpoint.py --vq, from a safetensors file and from a torch .pt as LlamaGen saves them (read by the
 * converter's safe reader, and by torch.load with --trust-checkpoint).
 */
class VqCheckpointTest {
    @TempDir
    Path dir;

    private static Path fixture() {
        String env = System.getenv("ECAR_FIXTURES");
        Assumptions.assumeTrue(env != null && !env.isBlank(), "ECAR_FIXTURES is not set: the VQ checkpoint tests need arpg/vq_decode_tiny");
        Path f = Path.of(env, "arpg", "vq_decode_tiny.safetensors");
        Assumptions.assumeTrue(Files.isRegularFile(f), f + " not found");
        return f;
    }

    /** The fixture's VQModel state_dict plus tensors of the parts decoding does not use. */
    private Path fullCheckpoint(SafeTensors f) throws Exception {
        SafeTensorsWriter w = new SafeTensorsWriter();
        for (String name : f.names()) if (name.startsWith("model.")) w.add(name.substring("model.".length()), f.get(name).toFloatTensor());
        w.add("encoder.conv_in.weight", FloatTensor.zeros(Shape.of(32, 3, 3, 3)));
        w.add("encoder.conv_blocks.0.res.0.norm1.weight", FloatTensor.zeros(Shape.of(32)));
        w.add("quant_conv.weight", FloatTensor.zeros(Shape.of(8, 64, 1, 1)));
        Path p = dir.resolve("vq_tokenizer.safetensors");
        w.write(p);
        return p;
    }

    /** The names a converted file must hold: the fixture's decoder, post_quant_conv and codebook. */
    private static Set<String> decodingNames(SafeTensors f) {
        Set<String> names = new TreeSet<>();
        for (String n : f.names()) if (n.startsWith("model.") && !n.endsWith("codebook_used")) names.add(n.substring("model.".length()));
        return names;
    }

    private static double decodeError(Path weights, SafeTensors fixture) {
        CpuBackend cpu = new CpuBackend();
        long[] raw = fixture.get("input.indices").toLongs();
        int[] ids = new int[raw.length];
        for (int i = 0; i < ids.length; i++) ids[i] = Math.toIntExact(raw[i]);
        int n = fixture.get("input.indices").shape().dim(0);
        try (SafeTensors w = SafeTensors.open(weights)) {
            VaeDecoder vae = VaeDecoder.load(VaeConfig.tinyVq(), VaeKeys.source(w, ""), cpu);
            FloatTensor out = cpu.download(vae.decodeRaw(cpu.upload(IndexMap.of(ids, n, 4))));
            return Comparison.relativeL2(out.data(), fixture.get("expected.image").toFloatTensor().data());
        }
    }

    @Test
    void tinyVqDecodesAWholeTokenizerCheckpoint() throws Exception {
        try (SafeTensors f = SafeTensors.open(fixture())) {
            double err = decodeError(fullCheckpoint(f), f);
            assertTrue(err <= 1e-4, "relative L2 " + err);
        }
    }

    @Test
    void convertedSafetensorsKeepExactlyTheDecodingTensors() throws Exception {
        Assumptions.assumeTrue(PythonScripts.python3(), "python3 is not installed: tools/convert_checkpoint.py --vq not tested");
        try (SafeTensors f = SafeTensors.open(fixture())) {
            Path out = dir.resolve("model");
            PythonScripts.Result r = convert("python3", fullCheckpoint(f), out);
            assertEquals(0, r.exit(), r.log());
            checkConverted(out.resolve("vae.safetensors"), f);
        }
    }

    @Test
    void convertedTorchCheckpointDecodesTheFixture() throws Exception {
        String python = PythonScripts.withTorch();
        Assumptions.assumeTrue(python != null, "no python3 with torch (tried $ECAR_PYTHON, python3, /usr/bin/python3; "
                + "apt-get install python3-torch): the .pt conversion not tested");
        try (SafeTensors f = SafeTensors.open(fixture())) {
            Path pt = dir.resolve("vq_ds16_c2i.pt");
            PythonScripts.Result saved = PythonScripts.run(List.of(python, "-c", TORCH_SAVE, fullCheckpoint(f).toString(), pt.toString()));
            assertEquals(0, saved.exit(), "writing the .pt: " + saved.log());
            // LlamaGen's training checkpoints pickle their argparse arguments and a float: the safe reader takes them as data
            Path out = dir.resolve("model");
            PythonScripts.Result r = convert(python, pt, out, "--model", "arpg-l");
            assertEquals(0, r.exit(), r.log());
            checkConverted(out.resolve("vae.safetensors"), f);
            // not LlamaGen's VQ-16 but the fixture's tiny tokenizer: its settings, read from the tensors, are tinyVq()'s
            String config = Files.readString(out.resolve("config.json"));
            var vae = (java.util.Map<?, ?>) ecar.io.Json.Obj.parse(config, "config.json").map().get("vae");
            @SuppressWarnings("unchecked") var settings = new ecar.io.Json.Obj((java.util.Map<String, Object>) vae, "vae");
            VaeConfig read = VaeConfig.fromJson(settings, "tiny-vq");
            assertEquals(VaeConfig.tinyVq().toString(), read.toString(), config);
            // --trust-checkpoint unpickles with torch.load: the same tensors
            Path trusted = dir.resolve("trusted");
            r = convert(python, pt, trusted, "--trust-checkpoint");
            assertEquals(0, r.exit(), r.log());
            checkConverted(trusted.resolve("vae.safetensors"), f);
        }
    }

    @Test
    void aKlCheckpointIsNotTakenForAVqTokenizer() throws Exception {
        Assumptions.assumeTrue(PythonScripts.python3(), "python3 is not installed: tools/convert_checkpoint.py --vq not tested");
        Path kl = dir.resolve("kl.safetensors");
        new SafeTensorsWriter().add("decoder.mid.block_1.norm1.weight", FloatTensor.zeros(Shape.of(32)))
                .add("post_quant_conv.weight", FloatTensor.zeros(Shape.of(4, 4, 1, 1))).write(kl);
        PythonScripts.Result r = convert("python3", kl, dir.resolve("model"));
        assertNotEquals(0, r.exit(), r.log());
        assertTrue(r.log().contains("is not a LlamaGen VQ tokenizer: expected quantize.embedding.weight"), r.log());
    }

    private void checkConverted(Path vae, SafeTensors f) {
        Set<String> expected = decodingNames(f);
        try (SafeTensors c = SafeTensors.open(vae)) {
            assertEquals(expected, new TreeSet<>(c.names()));
            for (String n : expected) assertEquals(f.get("model." + n).shape(), c.get(n).shape(), n);
        }
        double err = decodeError(vae, f);
        assertTrue(err <= 1e-4, "relative L2 " + err);
    }

    /**
     * Saves a safetensors file's tensors as LlamaGen's vq_train.py does: the VQModel under "model", beside the
     * optimizer, discriminator, step count and the argparse arguments.
     */
    private static final String TORCH_SAVE = """
            import argparse, sys, torch
            sys.path.insert(0, "tools")
            from convert_checkpoint import read_safetensors
            src, dst = sys.argv[1], sys.argv[2]
            model = {n: torch.frombuffer(bytearray(t.data), dtype=torch.float32).reshape(t.shape).clone()
                     for n, t in read_safetensors(src).items()}
            torch.save({"model": model, "optimizer": {"state": {}, "param_groups": []},
                        "discriminator": {"conv.weight": torch.zeros(4, 3, 3, 3)}, "steps": 1000,
                        "args": argparse.Namespace(codebook_size=64, codebook_embed_dim=8, lr=1e-4)}, dst)
            """;

    private static PythonScripts.Result convert(String python, Path checkpoint, Path out, String... more) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(python, "tools/convert_checkpoint.py", "--vq", checkpoint.toString(), "--out", out.toString()));
        cmd.addAll(List.of(more));
        return PythonScripts.run(cmd);
    }
}
