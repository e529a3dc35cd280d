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
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * VAE key names on the vae.decode fixture: the fixture's LDM-named weights renamed the way diffusers names
 * them (up blocks numbered from the coarsest, Linear attention projections) must decode the fixture's latent
 * to its image through the Java loader, and through tools/convert_checkpoint.py, which must give back LDM's
 * names exactly.
 */
class VaeKeysTest {
    @TempDir
    Path dir;

    private static Path fixture() {
        String env = System.getenv("ECAR_FIXTURES");
        Assumptions.assumeTrue(env != null && !env.isBlank(), "ECAR_FIXTURES is not set: the VAE key-mapping test needs vae_decode_tiny");
        Path f = Path.of(env, "vae_decode_tiny.safetensors");
        Assumptions.assumeTrue(Files.isRegularFile(f), f + " not found");
        return f;
    }

    /** LDM name to diffusers name: the inverse of VaeKeys.toLdm, written out independently. */
    static String toDiffusers(String n, int levels) {
        n = n.replace("decoder.norm_out.", "decoder.conv_norm_out.");
        Matcher m = Pattern.compile("^decoder\\.mid\\.block_(\\d)\\.(.*)$").matcher(n);
        if (m.matches()) return "decoder.mid_block.resnets." + (Integer.parseInt(m.group(1)) - 1) + "." + m.group(2).replace("nin_shortcut", "conv_shortcut");
        m = Pattern.compile("^decoder\\.mid\\.attn_1\\.(norm|q|k|v|proj_out)\\.(.*)$").matcher(n);
        if (m.matches()) {
            String module = switch (m.group(1)) {
                case "norm" -> "group_norm";
                case "proj_out" -> "to_out.0";
                default -> "to_" + m.group(1);
            };
            return "decoder.mid_block.attentions.0." + module + "." + m.group(2);
        }
        m = Pattern.compile("^decoder\\.up\\.(\\d+)\\.(block|upsample)\\.(.*)$").matcher(n);
        if (m.matches()) {
            int i = levels - 1 - Integer.parseInt(m.group(1));
            return m.group(2).equals("block")
                    ? "decoder.up_blocks." + i + ".resnets." + m.group(3).replace("nin_shortcut", "conv_shortcut")
                    : "decoder.up_blocks." + i + ".upsamplers.0." + m.group(3);
        }
        return n;
    }

    /** The fixture's weights written as a diffusers checkpoint, with an encoder tensor that must be skipped. */
    private Path diffusersCheckpoint(SafeTensors f, int levels) throws Exception {
        SafeTensorsWriter w = new SafeTensorsWriter();
        for (String name : f.names()) {
            if (!name.startsWith("model.")) continue;
            String ldm = name.substring("model.".length());
            FloatTensor t = f.get(name).toFloatTensor();
            if (ldm.contains(".attn_1.") && t.shape().rank() == 4 && !ldm.contains("norm")) t = t.reshape(t.shape().dim(0), t.shape().dim(1));
            w.add(toDiffusers(ldm, levels), t);
        }
        w.add("encoder.conv_in.weight", FloatTensor.zeros(Shape.of(8, 3, 3, 3)));
        w.add("quant_conv.weight", FloatTensor.zeros(Shape.of(8, 8, 1, 1)));
        Path p = dir.resolve("diffusion_pytorch_model.safetensors");
        w.write(p);
        return p;
    }

    private static VaeConfig config(SafeTensors f) {
        return VaeConfig.fromJson(ecar.io.Json.Obj.parse(f.metadata().get("config"), "fixture"), "fixture");
    }

    private static double decodeError(VaeConfig cfg, Path weights, SafeTensors fixture) {
        CpuBackend cpu = new CpuBackend();
        try (SafeTensors w = SafeTensors.open(weights)) {
            VaeDecoder vae = VaeDecoder.load(cfg, VaeKeys.source(w, ""), cpu);
            FloatTensor out = cpu.download(vae.decodeRaw(cpu.upload(fixture.get("input.z").toFloatTensor())));
            return Comparison.relativeL2(out.data(), fixture.get("expected.image").toFloatTensor().data());
        }
    }

    @Test
    void diffusersNamesDecodeTheFixture() throws Exception {
        try (SafeTensors f = SafeTensors.open(fixture())) {
            VaeConfig cfg = config(f);
            Path ckpt = diffusersCheckpoint(f, cfg.chMult().length);
            try (SafeTensors c = SafeTensors.open(ckpt)) {
                assertTrue(VaeKeys.isDiffusers(new TreeSet<>(c.names())));
            }
            double err = decodeError(cfg, ckpt, f);
            assertTrue(err <= 1e-4, "relative L2 " + err);
        }
    }

    @Test
    void convertCheckpointScriptGivesLdmNames() throws Exception {
        Path script = Path.of("tools/convert_checkpoint.py");
        try (SafeTensors f = SafeTensors.open(fixture())) {
            Assumptions.assumeTrue(PythonScripts.python3(), "python3 is not installed: tools/convert_checkpoint.py not tested");
            VaeConfig cfg = config(f);
            Path ckpt = diffusersCheckpoint(f, cfg.chMult().length);
            Path out = dir.resolve("model");
            Process p = new ProcessBuilder("python3", script.toString(), "--model", "dit-xl-2", "--vae", ckpt.toString(), "--out", out.toString())
                    .redirectErrorStream(true).start();
            String log = new String(p.getInputStream().readAllBytes());
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "convert_checkpoint.py did not finish");
            assertEquals(0, p.exitValue(), log);
            Path vae = out.resolve("vae.safetensors");
            Set<String> expected = new TreeSet<>();
            for (String n : f.names()) if (n.startsWith("model.")) expected.add(n.substring("model.".length()));
            try (SafeTensors c = SafeTensors.open(vae)) {
                assertEquals(expected, new TreeSet<>(c.names()));
                for (String n : expected) assertEquals(f.get("model." + n).shape(), c.get(n).shape(), n);
            }
            double err = decodeError(cfg, vae, f);
            assertTrue(err <= 1e-4, "relative L2 " + err);
            // config.json's "vae": the decoder's settings read from its tensors (not SD's f8: an object), DiT's latent scale
            var written = (java.util.Map<?, ?>) ecar.io.Json.Obj.parse(Files.readString(out.resolve("config.json")), "config.json").map().get("vae");
            @SuppressWarnings("unchecked") VaeConfig read = VaeConfig.fromJson(new ecar.io.Json.Obj((java.util.Map<String, Object>) written, "vae"), "fixture");
            assertEquals(java.util.Arrays.toString(cfg.chMult()), java.util.Arrays.toString(read.chMult()));
            assertEquals(List.of(cfg.ch(), cfg.numResBlocks(), cfg.zChannels(), cfg.embedDim(), cfg.attnResolutions().length),
                    List.of(read.ch(), read.numResBlocks(), read.zChannels(), read.embedDim(), read.attnResolutions().length));
            assertEquals(0.18215, read.scale());
        }
    }

    @Test
    void upBlocksAreNumberedFromTheCoarsest() {
        assertEquals("decoder.up.3.block.0.conv1.weight", VaeKeys.toLdm("decoder.up_blocks.0.resnets.0.conv1.weight", 4));
        assertEquals("decoder.up.0.block.2.nin_shortcut.bias", VaeKeys.toLdm("decoder.up_blocks.3.resnets.2.conv_shortcut.bias", 4));
        assertEquals("decoder.up.2.upsample.conv.weight", VaeKeys.toLdm("decoder.up_blocks.1.upsamplers.0.conv.weight", 4));
        assertEquals("decoder.mid.attn_1.proj_out.weight", VaeKeys.toLdm("decoder.mid_block.attentions.0.proj_attn.weight", 4));
        assertEquals("decoder.mid.block_2.norm1.weight", VaeKeys.toLdm("decoder.mid_block.resnets.1.norm1.weight", 4));
        assertEquals("decoder.norm_out.bias", VaeKeys.toLdm("decoder.conv_norm_out.bias", 4));
        assertEquals(null, VaeKeys.toLdm("encoder.down_blocks.0.resnets.0.conv1.weight", 4));
    }
}
