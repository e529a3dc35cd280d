package ecar.sample;

import ecar.family.Preset;
import ecar.model.Progress;

import ecar.backend.cpu.CpuBackend;
import ecar.io.SafeTensorsWriter;
import ecar.model.RandomWeights;
import ecar.model.WeightSource;
import ecar.tensor.FloatTensor;
import ecar.tensor.Shape;
import ecar.vae.VaeDecoder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The library's image API: requests to pictures, model directories, and the errors around them. */
class GenerateTest {
    @TempDir
    Path dir;

    private final CpuBackend cpu = new CpuBackend();

    @Test
    void theSameRequestGivesTheSamePictures() {
        Pipeline p = Pipeline.random(Presets.get("ecar-tiny"), 5, cpu);
        GenerateRequest r = GenerateRequest.of(3, 7).seed(11);
        Generated a = p.generate(r, Progress.NONE), b = p.generate(r, Progress.NONE);
        assertArrayEquals(a.pixels().data(), b.pixels().data());
        assertEquals(Shape.of(2, 64, 64, 3), a.pixels().shape());
        assertEquals(Shape.of(2, 16, 4, 4), a.latents().shape());
        List<BufferedImage> images = a.images();
        assertEquals(2, images.size());
        assertEquals(64, images.get(0).getWidth());
        Generated c = p.generate(r.seed(12), Progress.NONE);
        assertFalse(java.util.Arrays.equals(a.pixels().data(), c.pixels().data()), "another seed, other pictures");
    }

    @Test
    void picturesFollowTheRoundedPixels() {
        FloatTensor px = new FloatTensor(Shape.of(1, 1, 2, 3), new float[]{0f, 0.5f, 1f, 1.2f, -0.1f, 0.2f});
        BufferedImage img = ecar.image.Pictures.toImages(px).get(0);
        assertEquals(0x0080FF, img.getRGB(0, 0) & 0xFFFFFF);
        assertEquals(0xFF0033, img.getRGB(1, 0) & 0xFFFFFF);
        BufferedImage grid = ecar.image.Pictures.grid(List.of(img, img, img), 2);
        assertEquals(4, grid.getWidth());
        assertEquals(2, grid.getHeight());
    }

    /** Random weights recorded as they are asked for, to write a model directory a real checkpoint would fill. */
    private static final class Recorder {
        final Map<String, FloatTensor> seen = new LinkedHashMap<>();
        final WeightSource source;

        Recorder(long seed) {
            source = WeightSource.peeking(new RandomWeights(seed), seen::put);
        }

        void write(Path file) throws Exception {
            SafeTensorsWriter w = new SafeTensorsWriter();
            seen.forEach(w::add);
            w.write(file);
        }
    }

    @Test
    void aModelDirectoryGeneratesWhatItsWeightsSay() throws Exception {
        Preset preset = Presets.get("ecar-tiny");
        Recorder model = new Recorder(5), vae = new Recorder(6);
        Pipeline.of(preset, model.source, cpu);
        VaeDecoder.load(preset.vae(), vae.source, cpu);
        model.write(dir.resolve("model.safetensors"));
        vae.write(dir.resolve("vae.safetensors"));
        Files.writeString(dir.resolve("config.json"), "{\"model\": \"ecar-tiny\", \"vae\": {\"ch\": 32, \"ch_mult\": [1, 1, 1, 1, 1], "
                + "\"num_res_blocks\": 1, \"z_channels\": 16, \"scale\": 1.0}}");
        Pipeline fromDisk = Pipeline.load(dir.toString(), cpu);
        assertFalse(fromDisk.randomWeights());
        GenerateRequest r = GenerateRequest.of(1).seed(2);
        Generated expected = Pipeline.random(preset, 5, cpu).generate(r, Progress.NONE);
        assertArrayEquals(expected.pixels().data(), fromDisk.generate(r, Progress.NONE).pixels().data());
    }

    @Test
    void aMissingVaeIsReportedBeforeSampling() throws Exception {
        Recorder model = new Recorder(5);
        Pipeline.of(Presets.get("dit-tiny"), model.source, cpu);
        model.write(dir.resolve("model.safetensors"));
        Files.writeString(dir.resolve("config.json"), "{\"model\": \"dit-tiny\"}");
        Pipeline p = Pipeline.load(dir.toString(), cpu);
        int[] steps = {0};
        var e = assertThrows(IllegalStateException.class, () -> p.generate(GenerateRequest.of(1), (phase, d, t) -> steps[0]++));
        assertTrue(e.getMessage().contains("has no VAE"), e.getMessage());
        assertEquals(0, steps[0], "no sampling step ran");
        assertEquals(Shape.of(1, 4, 8, 8), p.sampleLatents(GenerateRequest.of(1), Progress.NONE).shape(), "latents still work");
    }

    @Test
    void badModelDirectoriesSayWhatIsWrong() throws Exception {
        var e = assertThrows(IllegalArgumentException.class, () -> Pipeline.load(dir.toString(), cpu));
        assertTrue(e.getMessage().contains("has no config.json"), e.getMessage());
        Files.writeString(dir.resolve("config.json"), "{\"model\": \"ecar-tiny\", \"vea\": \"kl16\"}");
        e = assertThrows(IllegalArgumentException.class, () -> Pipeline.load(dir.toString(), cpu));
        assertTrue(e.getMessage().contains("unknown key \"vea\""), e.getMessage());
        Files.writeString(dir.resolve("config.json"), "{\"model\": \"ecar-tiny\"}");
        e = assertThrows(IllegalArgumentException.class, () -> Pipeline.load(dir.toString(), cpu));
        assertTrue(e.getMessage().contains("weights model.safetensors not found"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Pipeline.load("models/nothing-here", cpu));
        assertTrue(e.getMessage().contains("model directory models/nothing-here does not exist"), e.getMessage());
        Files.writeString(dir.resolve("config.json"), "{\"model\": \"ecar-tiny\", \"vae\": \"sd-f8\"}");
        e = assertThrows(IllegalArgumentException.class, () -> Pipeline.load(dir.toString(), cpu));
        assertTrue(e.getMessage().contains("does not fit 16-channel"), e.getMessage());
    }
}
