package ecar.family;

import ecar.fixture.FixtureKind;
import ecar.flops.FlopsReport;
import ecar.model.Weights;
import ecar.tensor.Shape;
import ecar.vae.VaeConfig;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A preset whose generator emits token ids ([N, 1, h, w] index maps) fits a VQ decoder: the preset's check takes
 * the decoder's input channels, and the FLOP counter decodes token id 0 everywhere. The generator here is a stand-in
 * that only returns its grid (ARPG's own presets live in its family).
 */
class PresetVqTest {

    /** An architecture of side² token ids per image. */
    private record TokenGrid(int latentChannels, int latentSide) implements Architecture {
        public int numClasses() {
            return 10;
        }

        public Architecture atImageSize(int imageSize, int decoderFactor) {
            return new TokenGrid(latentChannels, imageSize / decoderFactor);
        }

        public String describe() {
            return latentSide + "² grid of " + latentChannels + "-channel tokens";
        }
    }

    private static final Sampling NONE = new Sampling() {
        public Sampling with(SamplingOverrides overrides) {
            return this;
        }

        public String describe() {
            return "no settings";
        }
    };

    /** A family whose generator does no work: it hands back an index map of token 0. */
    private static final ModelFamily TOKENS = new ModelFamily() {
        public String id() {
            return "tokens";
        }

        public String kind() {
            return "index maps of token 0";
        }

        public List<Preset> presets() {
            return List.of();
        }

        public Generator load(Preset preset, Weights weights) {
            int side = preset.architecture().latentSide();
            return (labels, sampling, seed, progress) -> weights.backend().zeros(Shape.of(labels.length, 1, side, side));
        }

        public Sampling warmup(Sampling full) {
            return full;
        }

        public List<FixtureKind> fixtures() {
            return List.of();
        }
    };

    @Test
    void aTokenGeneratorFitsTheVqDecoderAndNotAKlOne() {
        new Preset("t", TOKENS, 16, new TokenGrid(1, 4), VaeConfig.tinyVq(), NONE, "test");
        var kl = assertThrows(IllegalArgumentException.class, () -> new Preset("t", TOKENS, 16, new TokenGrid(1, 4), VaeConfig.tiny(8, 4), NONE, "test"));
        assertTrue(kl.getMessage().contains("does not fit 1-channel 4² latents of 16² images"), kl.getMessage());
        var codebookWidth = assertThrows(IllegalArgumentException.class, () -> new Preset("t", TOKENS, 16, new TokenGrid(8, 4), VaeConfig.tinyVq(), NONE, "test"));
        assertTrue(codebookWidth.getMessage().contains("does not fit 8-channel"), codebookWidth.getMessage());
    }

    @Test
    void theFlopCounterDecodesTokenIdsWithTheVq16Decoder() {
        FlopsReport r = new Preset("t", TOKENS, 256, new TokenGrid(1, 16), VaeConfig.vq16(), NONE, "test").flops();
        assertEquals(126.36e9, r.decodeMacs(), 0.01e9);   // VqDecoderTest sums the same decoder by hand
        assertEquals(0, r.macsPerImage(), 0);
    }
}
