package ecar.cuda;

import ecar.backend.Backend;
import ecar.backend.cpu.CpuBackend;
import ecar.cuda.backend.CudaBackend;
import ecar.dit.DiTConfig;
import ecar.dit.DiTSampler;
import ecar.family.Preset;
import ecar.fixture.Comparison;
import ecar.model.RandomWeights;
import ecar.sample.GenerateRequest;
import ecar.sample.Pipeline;
import ecar.sample.Presets;
import ecar.model.Progress;
import ecar.tensor.FloatTensor;
import ecar.vae.VaeConfig;
import ecar.vae.VaeDecoder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Whole pipelines on the GPU against the same pipelines on the CPU (issue 6): the tiny presets with the same seeded
 * random weights and the same request give sampled latents whose cosine is at least 0.99 (bf16 weights and GEMM
 * operands on the GPU, float32 on the CPU), and the tiny VAE decodes the same latents within 2e-2 relative L2.
 */
@GpuTest(arenaMiB = 512)
class CudaPipelineGpuTest {
    static CudaBackend gpu;   // set by @GpuTest
    static final CpuBackend cpu = new CpuBackend();

    @ParameterizedTest
    @ValueSource(strings = {"dit-tiny", "flowar-tiny", "ecar-tiny"})
    void sampledLatentsMatchTheCpu(String preset) {
        GenerateRequest r = GenerateRequest.of(1, 3).seed(5);
        FloatTensor expected = latents(preset, cpu, r), actual = latents(preset, gpu, r);
        assertTrue(expected.shape().equals(actual.shape()), preset + ": GPU latents " + actual.shape() + ", CPU " + expected.shape());
        double cos = Comparison.cosine(expected.data(), actual.data());
        assertTrue(cos >= 0.99, preset + ": cosine of the GPU's sampled latents with the CPU's is " + cos + ", expected ≥ 0.99");
    }

    private static FloatTensor latents(String preset, Backend b, GenerateRequest r) {
        return Pipeline.random(Presets.get(preset), 3, b).sampleLatents(r, Progress.NONE);
    }

    /**
     * ecar-tiny-v2: ECAR over FlowAR-L's kind of flow head (v2: cross-attention to the condition, per-sample attention
     * adaLN, per-token MLP adaLN), which ecar-tiny (v1) does not reach: three blocks of width 128 (heads of 64, the flash
     * kernels), batch 1 and 3 (the stacked MLP modulation; at batch 3 too, as its bytes stay small), against the CPU.
     */
    @ParameterizedTest(name = "batch {0}")
    @ValueSource(ints = {1, 3})
    void ecarWithAV2FlowHeadMatchesTheCpu(int batch) {
        Preset preset = Presets.get("ecar-tiny-v2");
        int[] labels = new int[batch];
        for (int i = 0; i < batch; i++) labels[i] = (3 * i + 1) % 10;
        GenerateRequest r = GenerateRequest.of(labels).seed(5);
        FloatTensor expected = Pipeline.random(preset, 3, cpu).sampleLatents(r, Progress.NONE), actual = Pipeline.random(preset, 3, gpu).sampleLatents(r, Progress.NONE);
        double cos = Comparison.cosine(expected.data(), actual.data());
        assertTrue(cos >= 0.99, "ECAR with a v2 head, batch " + batch + ": cosine of the GPU's sampled latents with the CPU's is " + cos + ", expected ≥ 0.99");
    }

    /** DiT without learned variance (C output channels, patch 4), FIXED_LARGE and FIXED_SMALL, DDPM and DDIM, guided. */
    @ParameterizedTest(name = "sigma_small {0}, {1}")
    @CsvSource({"false, DDPM", "true, DDPM", "false, DDIM"})
    void fixedVarianceDiTMatchesTheCpu(boolean sigmaSmall, DiTSampler.Method method) {
        Preset base = Presets.get("dit-tiny");
        DiTConfig c = new DiTConfig(16, 4, 4, 96, 2, 4, 4.0, 10, false, sigmaSmall);
        Preset preset = base.with(c, VaeConfig.tiny(4, 8));
        GenerateRequest r = GenerateRequest.of(1, 3).seed(5).steps(8).cfg(4f).ditMethod(method);
        FloatTensor expected = Pipeline.random(preset, 3, cpu).sampleLatents(r, Progress.NONE), actual = Pipeline.random(preset, 3, gpu).sampleLatents(r, Progress.NONE);
        double cos = Comparison.cosine(expected.data(), actual.data());
        assertTrue(cos >= 0.99, c.variance() + " " + method + ": cosine of the GPU's sampled latents with the CPU's is " + cos + ", expected ≥ 0.99");
    }

    @ParameterizedTest(name = "tiny VAE, {0} latent channels, ×{1}")
    @CsvSource({"4, 8", "16, 16"})
    void vaeDecodeMatchesTheCpu(int channels, int factor) {
        VaeConfig cfg = VaeConfig.tiny(channels, factor);
        FloatTensor z = Compare.random(17, 1f, 2, channels, 4, 4);
        FloatTensor expected = decode(cfg, cpu, z), actual = decode(cfg, gpu, z);
        Compare.close("tiny VAE decode (" + channels + " channels, ×" + factor + ")", expected, actual, 2e-2, 0.2);
    }

    private static FloatTensor decode(VaeConfig cfg, Backend b, FloatTensor z) {
        VaeDecoder d = VaeDecoder.load(cfg, new RandomWeights(11), b);
        try (Backend.Scope s = b.scope()) {
            return b.download(d.decodeRaw(b.upload(z)));
        }
    }
}
