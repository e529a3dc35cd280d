package ecar.dit;

import ecar.backend.PosteriorVariance;
import ecar.backend.cpu.CpuBackend;
import ecar.family.Preset;
import ecar.io.Json;
import ecar.model.Progress;
import ecar.model.RandomWeights;
import ecar.model.Weights;
import ecar.tensor.FloatTensor;
import ecar.tensor.Shape;
import ecar.vae.VaeConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * DiT without learned variance (learn_sigma=False: C output channels) samples with DDPM and DDIM, guided and not,
 * with the variance create_diffusion would pick: FIXED_LARGE, or FIXED_SMALL with sigma_small. The numbers against
 * the reference are the bundled fixtures' (BundledFixturesTest); this is the generator around them.
 */
class DiTVarianceTest {
    private final CpuBackend cpu = new CpuBackend();

    private static DiTConfig tiny(boolean learnSigma, boolean sigmaSmall) {
        return new DiTConfig(8, 4, 4, 64, 1, 4, 4.0, 10, learnSigma, sigmaSmall);
    }

    private FloatTensor sample(DiTConfig cfg, DiTSampler.Method method, float guidance) {
        Preset preset = new Preset("dit-test", DiTFamily.INSTANCE, 64, cfg, VaeConfig.tiny(4, 8),
                new DiTSampling(6, guidance, method, Guidance.OFFICIAL_3_CHANNELS), "test");
        var g = DiTFamily.INSTANCE.load(preset, new Weights(new RandomWeights(3), cpu));
        return cpu.download(g.sample(new int[]{2, 5}, preset.sampling(), 17, Progress.NONE));
    }

    @Test
    void theVarianceFollowsLearnSigmaAndSigmaSmall() {
        assertEquals(PosteriorVariance.LEARNED_RANGE, tiny(true, false).variance());
        assertEquals(PosteriorVariance.FIXED_LARGE, tiny(false, false).variance());
        assertEquals(PosteriorVariance.FIXED_SMALL, tiny(false, true).variance());
        assertEquals(8, tiny(true, false).outChannels());
        assertEquals(4, tiny(false, false).outChannels());
        var e = assertThrows(IllegalArgumentException.class, () -> tiny(true, true));
        assertTrue(e.getMessage().contains("sigma_small") && e.getMessage().contains("learn_sigma is true"), e.getMessage());
        DiTConfig fromJson = DiTConfig.fromJson(Json.Obj.parse("{\"input_size\": 8, \"patch_size\": 4, \"hidden_size\": 64, \"depth\": 1, "
                + "\"num_heads\": 4, \"learn_sigma\": false, \"sigma_small\": true}", "test"));
        assertEquals(PosteriorVariance.FIXED_SMALL, fromJson.variance());
    }

    @ParameterizedTest(name = "{0} cfg {1}")
    @CsvSource({"DDPM, 1", "DDPM, 4", "DDIM, 1", "DDIM, 4"})
    void fixedVarianceSamples(DiTSampler.Method method, float guidance) {
        FloatTensor z = sample(tiny(false, false), method, guidance);
        assertEquals(Shape.of(2, 4, 8, 8), z.shape());
        for (float v : z.data()) assertTrue(Float.isFinite(v), "finite latents");
        assertFalse(Arrays.equals(z.data(), new float[z.data().length]), "not all zero");
    }

    @Test
    void ddpmTakesTheVarianceKindAndDdimIgnoresIt() {
        FloatTensor large = sample(tiny(false, false), DiTSampler.Method.DDPM, 4f), small = sample(tiny(false, true), DiTSampler.Method.DDPM, 4f);
        assertFalse(Arrays.equals(large.data(), small.data()), "β_t and β̃_t noise scales give other samples");
        assertArrayEquals(sample(tiny(false, false), DiTSampler.Method.DDIM, 4f).data(), sample(tiny(false, true), DiTSampler.Method.DDIM, 4f).data(),
                "DDIM (η = 0) has no variance");
    }

    @Test
    void aFixedVarianceModelIsCounted() {
        Preset preset = new Preset("dit-test", DiTFamily.INSTANCE, 64, tiny(false, false), VaeConfig.tiny(4, 8), DiTSampling.defaults().withSteps(3), "test");
        Preset learned = new Preset("dit-test", DiTFamily.INSTANCE, 64, tiny(true, false), VaeConfig.tiny(4, 8), DiTSampling.defaults().withSteps(3), "test");
        // the final linear is p·p·C wide instead of p·p·2C: 64·(16·4) fewer multiply-accumulates per token, 4 tokens
        assertEquals(64.0 * 16 * 4 * 4, learned.flops().forwardMacs() - preset.flops().forwardMacs(), 0.5);
    }
}
