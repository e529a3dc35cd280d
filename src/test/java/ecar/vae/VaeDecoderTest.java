package ecar.vae;

import ecar.backend.cpu.CpuBackend;
import ecar.model.RandomWeights;
import ecar.model.Progress;
import ecar.tensor.FloatTensor;
import ecar.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The decoder's shapes, its picture mapping and its errors (numerics are held to the vae.decode fixture). */
class VaeDecoderTest {
    private final CpuBackend cpu = new CpuBackend();

    @Test
    void paperConfigsHaveThePublishedStructure() {
        assertEquals(16, VaeConfig.kl16().factor());
        assertEquals(8, VaeConfig.sdF8().factor());
        assertEquals(0.18215, VaeConfig.sdF8().scale());
        assertEquals(0.2325, VaeConfig.kl16().scale());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> VaeConfig.named("f4")).getMessage().contains("unknown VAE 'f4'"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new VaeConfig("odd", 48, new int[]{1}, 1, 4, 4, new int[0], 16, 1))
                .getMessage().contains("multiple of 32"));
    }

    @Test
    void picturesAreInTheUnitRangeAndHaveTheImageSize() {
        VaeConfig c = VaeConfig.tiny(4, 4);
        VaeDecoder vae = VaeDecoder.load(c, new RandomWeights(3), cpu);
        FloatTensor z = new FloatTensor(Shape.of(2, 4, 3, 5), new float[2 * 4 * 15]);
        for (int i = 0; i < z.data().length; i++) z.data()[i] = (float) Math.sin(i);
        int[] seen = {0};
        FloatTensor px = vae.decodeImages(cpu.upload(z), (phase, done, total) -> seen[0] = Math.max(seen[0], done));
        assertEquals(Shape.of(2, 12, 20, 3), px.shape());
        for (float v : px.data()) assertTrue(v >= 0f && v <= 1f, "pixel " + v);
        assertTrue(seen[0] > 0, "progress was reported");
        // the picture of one image does not depend on the others of the batch
        FloatTensor one = vae.decodeImages(cpu.upload(new FloatTensor(Shape.of(1, 4, 3, 5), java.util.Arrays.copyOf(z.data(), 60))), Progress.NONE);
        assertEquals(0.0, ecar.fixture.Comparison.relativeL2(one.data(), java.util.Arrays.copyOf(px.data(), one.data().length)), 1e-7);
    }

    @Test
    void latentsWithTheWrongChannelCountAreRefused() {
        VaeDecoder vae = VaeDecoder.load(VaeConfig.tiny(16, 2), new RandomWeights(1), cpu);
        var e = assertThrows(IllegalArgumentException.class, () -> vae.decodeRaw(cpu.upload(FloatTensor.zeros(Shape.of(1, 4, 2, 2)))));
        assertTrue(e.getMessage().contains("[1, 4, 2, 2] must be [N, 16, h, w]"), e.getMessage());
    }

    @Test
    void checkpointsThatDoNotFitAreListed() {
        var e = assertThrows(ecar.model.WeightsException.class, () -> VaeDecoder.load(VaeConfig.tiny(4, 2),
                ecar.model.WeightSource.of(Map.of("decoder.conv_in.weight", FloatTensor.zeros(Shape.of(32, 4, 3, 3)),
                        "decoder.extra", FloatTensor.zeros(Shape.of(1))), "test.safetensors"), cpu));
        assertTrue(e.getMessage().contains("missing (67): post_quant_conv.weight [4, 4, 1, 1]"), e.getMessage());
        assertTrue(e.getMessage().contains("unexpected (1): decoder.extra"), e.getMessage());
    }
}
