package ecar.sample;

import ecar.dit.DiTSampler;
import ecar.family.Preset;
import ecar.family.SamplingOption;
import ecar.family.SamplingOverrides;
import ecar.flowar.FlowArConfig;
import ecar.flowar.FlowArSampling;
import ecar.dit.Guidance;
import ecar.model.Progress;

import ecar.backend.cpu.CpuBackend;
import ecar.model.RandomWeights;
import ecar.model.WeightSource;
import ecar.model.WeightsException;
import ecar.tensor.FloatTensor;
import ecar.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PipelineTest {
    private final CpuBackend cpu = new CpuBackend();

    @Test
    void sameSeedSameLatentsForEveryFamily() {
        for (String name : new String[]{"dit-tiny", "flowar-tiny", "ecar-tiny"}) {
            Pipeline p = Pipeline.random(Presets.get(name), 3, cpu);
            FloatTensor a = p.sampleLatents(GenerateRequest.of(1, 7).seed(11), Progress.NONE);
            FloatTensor b = p.sampleLatents(GenerateRequest.of(1, 7).seed(11), Progress.NONE);
            FloatTensor c = p.sampleLatents(GenerateRequest.of(1, 7).seed(12), Progress.NONE);
            assertArrayEquals(a.data(), b.data(), name);
            assertFalse(java.util.Arrays.equals(a.data(), c.data()), name + ": another seed gives other latents");
            int side = name.startsWith("dit") ? 8 : 4, ch = name.startsWith("dit") ? 4 : 16;
            assertEquals(Shape.of(2, ch, side, side), a.shape(), name);
            for (float v : a.data()) assertTrue(Float.isFinite(v));
        }
    }

    @Test
    void ditDdpmAndAllChannelGuidanceAreDistinctAndDeterministic() {
        Pipeline p = Pipeline.random(Presets.get("dit-tiny"), 5, cpu);
        GenerateRequest ddpm = GenerateRequest.of(3).seed(2).steps(20).ditMethod(DiTSampler.Method.DDPM);
        FloatTensor a = p.sampleLatents(ddpm, Progress.NONE);
        assertArrayEquals(a.data(), p.sampleLatents(ddpm, Progress.NONE).data());
        FloatTensor all = p.sampleLatents(ddpm.ditGuidance(Guidance.ALL_CHANNELS), Progress.NONE);
        FloatTensor ddim = p.sampleLatents(ddpm.ditMethod(DiTSampler.Method.DDIM), Progress.NONE);
        assertFalse(java.util.Arrays.equals(a.data(), all.data()), "guiding the 4th channel changes it");
        assertFalse(java.util.Arrays.equals(a.data(), ddim.data()));
        // the official mode guides channels 0..2 only: with guidance off nothing is mixed and the modes agree
        FloatTensor off3 = p.sampleLatents(ddpm.cfg(1f), Progress.NONE);
        FloatTensor offAll = p.sampleLatents(ddpm.cfg(1f).ditGuidance(Guidance.ALL_CHANNELS), Progress.NONE);
        assertArrayEquals(off3.data(), offAll.data());
    }

    @Test
    void progressCountsEveryStep() {
        Pipeline p = Pipeline.random(Presets.get("ecar-tiny"), 0, cpu);
        int[] last = {0, 0};
        p.sampleLatents(GenerateRequest.of(2).stageSteps(1, 2, 3), (phase, done, total) -> {
            assertEquals(last[0] + 1, done);
            last[0] = done;
            last[1] = total;
        });
        assertEquals(6, last[0]);
        assertEquals(6, last[1]);
    }

    @Test
    void nanInAStepNamesTheStageAndStep() {
        RandomWeights random = new RandomWeights(1);
        WeightSource poisoned = WeightSource.peeking(random, (name, t) -> {
            if (name.equals("flownet.final_layer.linear.bias")) java.util.Arrays.fill(t.data(), Float.NaN);
        });
        Pipeline p = Pipeline.of(Presets.get("ecar-tiny"), poisoned, cpu);
        var e = assertThrows(ArithmeticException.class, () -> p.sampleLatents(GenerateRequest.of(3), Progress.NONE));
        assertTrue(e.getMessage().contains("stage 0") && e.getMessage().contains("step 1 of 3"), e.getMessage());
    }

    @Test
    void labelsOutsideTheClassesAreRefused() {
        Pipeline p = Pipeline.random(Presets.get("flowar-tiny"), 0, cpu);
        var e = assertThrows(IllegalArgumentException.class, () -> p.sampleLatents(GenerateRequest.of(10), Progress.NONE));
        assertEquals("class label 10 outside [0, 9] for flowar-tiny", e.getMessage());
    }

    @Test
    void mismatchedWeightsListEveryProblem() {
        RandomWeights rnd = new RandomWeights(0);
        java.util.Map<String, FloatTensor> tensors = new java.util.LinkedHashMap<>();
        tensors.put("x_embedder.proj.bias", rnd.get("x_embedder.proj.bias", Shape.of(50)));   // wrong shape
        tensors.put("extra.weight", FloatTensor.zeros(Shape.of(2)));
        var e = assertThrows(WeightsException.class, () -> Pipeline.of(Presets.get("dit-tiny"), WeightSource.of(tensors, "test.safetensors"), cpu));
        String m = e.getMessage();
        assertTrue(m.startsWith("weights from test.safetensors do not fit the model:"), m);
        assertTrue(m.contains("missing (") && m.contains("x_embedder.proj.weight [96, 4, 2, 2]"), m);
        assertTrue(m.contains("wrong shape (1): x_embedder.proj.bias: stored [50], expected [96]"), m);
        assertTrue(m.contains("unexpected (1): extra.weight"), m);
    }

    @Test
    void samplingSettingsAreValidated() {
        FlowArSampling ecar = FlowArSampling.ecarDefaults();
        assertThrows(IllegalArgumentException.class, () -> ecar.withSteps(0));
        assertThrows(IllegalArgumentException.class, () -> ecar.with(SamplingOverrides.NONE.with(SamplingOption.GAMMA, 0.34)));
        assertThrows(IllegalArgumentException.class, () -> ecar.withCfg(0.9f));
        Preset tiny = Presets.get("ecar-tiny");
        var e = assertThrows(IllegalArgumentException.class, () -> tiny.settings(SamplingOverrides.NONE.with(SamplingOption.STAGE_STEPS, new int[]{1, 2})));
        assertEquals("2 per-stage step counts for a model of 3 stages", e.getMessage());
        assertTrue(Set.of(Presets.names().toArray()).contains("ecar-l"));
    }

    @Test
    void aFamilyRefusesAnOptionItDoesNotUseAndNamesThoseItDoes() {
        Pipeline dit = Pipeline.random(Presets.get("dit-tiny"), 0, new CpuBackend());
        var e = assertThrows(IllegalArgumentException.class, () -> dit.check(GenerateRequest.of(1).gamma(0.25)));
        assertEquals("--gamma does not apply to DiT (its sampling options: --steps, --cfg, --sampler, --guide-all-channels)", e.getMessage());
        var f = assertThrows(IllegalArgumentException.class, () -> Presets.get("flowar-tiny").settings(SamplingOverrides.NONE.with(SamplingOption.GAMMA, 0.25)));
        assertTrue(f.getMessage().startsWith("--gamma does not apply to FlowAR"), f.getMessage());
    }

    @Test
    void requestsAreImmutable() {
        int[] labels = {1, 2};
        GenerateRequest r = GenerateRequest.of(labels).stageSteps(1, 2, 3);
        labels[0] = 9;
        r.labels()[1] = 9;
        assertArrayEquals(new int[]{1, 2}, r.labels());
        int[] steps = r.overrides().get(SamplingOption.STAGE_STEPS, int[].class);
        steps[0] = 7;
        assertArrayEquals(new int[]{1, 2, 3}, r.overrides().get(SamplingOption.STAGE_STEPS, int[].class));
    }

    @Test
    void presetsRebuildForOtherImageSizes() {
        Preset e = Presets.get("ecar-s").atImageSize(128);
        assertArrayEquals(new int[]{1, 2, 4, 8}, ((FlowArConfig) e.architecture()).scales());
        assertEquals(16, Presets.get("dit-xl-2").atImageSize(128).architecture().latentSide());
        assertThrows(IllegalArgumentException.class, () -> Presets.get("ecar-s").atImageSize(200));
    }
}
