package ecar.vae;

import ecar.backend.cpu.CpuBackend;
import ecar.fixture.Comparison;
import ecar.flops.CountingBackend;
import ecar.model.Progress;
import ecar.model.RandomWeights;
import ecar.model.WeightSource;
import ecar.model.WeightsException;
import ecar.tensor.FloatTensor;
import ecar.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** LlamaGen's VQ decoder: its configs, index maps, key names and errors (numerics are held to the vq.decode fixture). */
class VqDecoderTest {
    private final CpuBackend cpu = new CpuBackend();

    @Test
    void vq16HasLlamaGensStructure() {
        VaeConfig c = VaeConfig.vq16();
        assertEquals(VaeConfig.Kind.VQ, c.kind());
        assertEquals(16, c.factor());
        assertEquals(1, c.inputChannels());
        assertEquals(16384, c.codebookSize());
        assertEquals(8, c.embedDim());
        assertEquals(256, c.zChannels());
        assertArrayEquals(new int[]{1, 1, 2, 2, 4}, c.chMult());
        assertTrue(c.attentionAt(16) && !c.attentionAt(32), "attention only at the 16² level");
        assertEquals(c.toString(), VaeConfig.named("vq16").toString());
        assertEquals(16, VaeConfig.kl16().inputChannels());
    }

    @Test
    void configsThatAreNotLlamaGensAreRefused() {
        var attention = assertThrows(IllegalArgumentException.class, () -> new VaeConfig("x", 32, new int[]{1, 1}, 1, 8, 32,
                new int[]{16}, 16, 1.0, VaeConfig.Kind.VQ, 64));
        assertTrue(attention.getMessage().contains("attention at its coarsest level only (8 at resolution 16)"), attention.getMessage());
        var scale = assertThrows(IllegalArgumentException.class, () -> new VaeConfig("x", 32, new int[]{1, 1}, 1, 8, 32,
                new int[]{8}, 16, 0.5, VaeConfig.Kind.VQ, 64));
        assertTrue(scale.getMessage().contains("token ids, which have no scale"), scale.getMessage());
        var codebook = assertThrows(IllegalArgumentException.class, () -> VaeConfig.tinyVq(0));
        assertTrue(codebook.getMessage().contains("codebook size 0 must be in [1, 2^24]"), codebook.getMessage());
        var kl = assertThrows(IllegalArgumentException.class, () -> new VaeConfig("x", 32, new int[]{1}, 1, 4, 4,
                new int[0], 16, 1.0, VaeConfig.Kind.KL, 64));
        assertTrue(kl.getMessage().contains("a KL decoder has no codebook"), kl.getMessage());
    }

    @Test
    void indexMapsDecodeToPicturesOfTheImageSize() {
        VaeConfig c = VaeConfig.tinyVq();
        VaeDecoder vae = VaeDecoder.load(c, new RandomWeights(5), cpu);
        int[] ids = new int[2 * 16];
        for (int i = 0; i < ids.length; i++) ids[i] = (i * 37) % c.codebookSize();
        FloatTensor map = IndexMap.of(ids, 2, 4);
        FloatTensor raw = cpu.download(vae.decodeRaw(cpu.upload(map)));
        assertEquals(Shape.of(2, 3, 16, 16), raw.shape());
        FloatTensor px = vae.decodeImages(cpu.upload(map), Progress.NONE);
        assertEquals(Shape.of(2, 16, 16, 3), px.shape());
        // pictures are clamp((x + 1) / 2) of the raw output, moved to channels-last
        for (int n = 0; n < 2; n++)
            for (int y = 0; y < 16; y++)
                for (int x = 0; x < 16; x++)
                    for (int ch = 0; ch < 3; ch++) {
                        float r = raw.data()[((n * 3 + ch) * 16 + y) * 16 + x];
                        assertEquals(Math.min(1f, Math.max(0f, (r + 1f) / 2f)), px.data()[((n * 16 + y) * 16 + x) * 3 + ch], 1e-6f);
                    }
        // a different token changes the picture
        ids[5] = (ids[5] + 1) % c.codebookSize();
        FloatTensor other = cpu.download(vae.decodeRaw(cpu.upload(IndexMap.of(ids, 2, 4))));
        assertTrue(Comparison.relativeL2(other.data(), raw.data()) > 1e-4, "token 5 was read");
    }

    @Test
    void codebookRowsAreUnitLength() {
        FloatTensor t = Codebook.normalizeRows(FloatTensor.of(new float[]{3, 4, 0, 0, 0, 0, 1, 1}, 2, 4));
        assertArrayEquals(new float[]{0.6f, 0.8f, 0, 0, 0, 0, (float) Math.sqrt(0.5), (float) Math.sqrt(0.5)}, t.data(), 1e-7f);
        FloatTensor zero = Codebook.normalizeRows(FloatTensor.zeros(Shape.of(1, 8)));   // F.normalize's eps: no NaN
        for (float v : zero.data()) assertEquals(0f, v);
    }

    @Test
    void idsThatAreNotCodebookIndicesAreRefused() {
        VaeDecoder vae = VaeDecoder.load(VaeConfig.tinyVq(), new RandomWeights(1), cpu);
        float[] v = new float[16];
        v[6] = 64;   // image 0, row 1, column 2
        var range = assertThrows(IllegalArgumentException.class, () -> vae.decodeRaw(cpu.upload(new FloatTensor(Shape.of(1, 1, 4, 4), v))));
        assertTrue(range.getMessage().contains("token id 64.0 of image 0 at row 1, column 2 is not a codebook index (a whole number in [0, 64))"),
                range.getMessage());
        v[6] = 2.5f;
        assertThrows(IllegalArgumentException.class, () -> vae.decodeRaw(cpu.upload(new FloatTensor(Shape.of(1, 1, 4, 4), v))));
        var latent = assertThrows(IllegalArgumentException.class, () -> vae.decodeRaw(cpu.upload(FloatTensor.zeros(Shape.of(1, 8, 4, 4)))));
        assertTrue(latent.getMessage().contains("index map [1, 8, 4, 4] must be [N, 1, h, w] (token ids in [0, 64))"), latent.getMessage());
    }

    @Test
    void checkpointsAreReadUnderLlamaGensNames() {
        var e = assertThrows(WeightsException.class, () -> VaeDecoder.load(VaeConfig.tinyVq(), WeightSource.of(Map.of(
                "decoder.conv_in.weight", FloatTensor.zeros(Shape.of(64, 64, 3, 3)),
                "quantize.embedding.weight", FloatTensor.zeros(Shape.of(32, 8)),
                "decoder.mid.block_1.norm1.weight", FloatTensor.zeros(Shape.of(64))), "vq.safetensors"), cpu));
        String m = e.getMessage();
        assertTrue(m.contains("post_quant_conv.weight [64, 8, 1, 1]"), m);
        assertTrue(m.contains("decoder.mid.0.norm1.weight [64]"), m);
        assertTrue(m.contains("wrong shape (1): quantize.embedding.weight: stored [32, 8], expected [64, 8]"), m);
        assertTrue(m.contains("unexpected (1): decoder.mid.block_1.norm1.weight"), m);
    }

    @Test
    void theCountingBackendDecodesTokenZeroEverywhere() {
        CountingBackend counter = new CountingBackend();
        VaeDecoder.load(VaeConfig.tinyVq(), new RandomWeights(1), counter).decodeRaw(counter.zeros(Shape.of(1, 1, 4, 4)));
        assertTrue(counter.report("decode", 1).macsPerImage() > 0);
    }

    @Test
    void vq16DecodeAt256CountsAsItsClosedForm() {
        for (VaeConfig c : new VaeConfig[]{VaeConfig.vq16(), VaeConfig.kl16()}) {
            CountingBackend counter = new CountingBackend();
            VaeDecoder.load(c, new RandomWeights(1), counter).decodeRaw(counter.zeros(Shape.of(1, c.inputChannels(), 16, 16)));
            double macs = counter.report("decode", 1).macsPerImage();
            System.out.printf("%s decode, 16² to 256²: %.2f GMAC%n", c.name(), macs / 1e9);
            assertEquals(closedFormMacs(c, 16), macs, 1.0, c.name());
        }
    }

    /** The decoder's multiply-accumulates summed by hand: 1×1 and 3×3 convolutions, and attention's QKᵀ and PV. */
    private static double closedFormMacs(VaeConfig c, int side) {
        int[] mult = c.chMult();
        int top = mult.length - 1, in = c.ch() * mult[top];
        double hw = (double) side * side;
        double macs = hw * c.embedDim() * c.zChannels() + 9 * hw * c.zChannels() * in;
        macs += 2 * resnet(in, in, hw) + attention(in, hw);
        for (int i = top; i >= 0; i--) {
            int out = c.ch() * mult[i];
            for (int j = 0; j <= c.numResBlocks(); j++) {
                macs += resnet(in, out, hw);
                in = out;
                if (c.attentionAt(c.resolution() >> i)) macs += attention(in, hw);
            }
            if (i > 0) {
                hw *= 4;
                macs += 9 * hw * in * in;
            }
        }
        return macs + 9 * hw * in * 3;
    }

    private static double resnet(int in, int out, double hw) {
        return 9 * hw * in * out + 9 * hw * out * out + (in == out ? 0 : hw * in * out);
    }

    private static double attention(int c, double hw) {
        return 4 * hw * c * c + 2 * hw * hw * c;
    }

    @Test
    void indexMapsAreRasterOrderedFloats() {
        FloatTensor m = IndexMap.of(new int[]{1, 2, 3, 4, 5, 6, 7, 8}, 2, 2);
        assertEquals(Shape.of(2, 1, 2, 2), m.shape());
        assertArrayEquals(new float[]{1, 2, 3, 4, 5, 6, 7, 8}, m.data());
        assertThrows(IllegalArgumentException.class, () -> IndexMap.of(new int[5], 1, 2));
        assertThrows(IllegalArgumentException.class, () -> IndexMap.of(new int[]{-1}, 1, 1));
    }
}
