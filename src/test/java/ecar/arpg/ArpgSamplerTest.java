package ecar.arpg;

import ecar.backend.cpu.CpuBackend;
import ecar.family.Preset;
import ecar.family.SamplingOption;
import ecar.family.SamplingOverrides;
import ecar.flops.FlopsReport;
import ecar.model.RandomWeights;
import ecar.model.Weights;
import ecar.sample.Presets;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ARPG's sampler on arpg-tiny (random weights, CPU), its settings and its FLOP count. */
class ArpgSamplerTest {
    private final CpuBackend cpu = new CpuBackend();
    private final Preset tiny = Presets.get("arpg-tiny");

    private int[][] sample(ArpgSampling s, long seed, int[] order, int... labels) {
        Weights w = new Weights(new RandomWeights(3), cpu);
        ArpgTransformer m = ArpgTransformer.load((ArpgConfig) tiny.architecture(), w);
        return new ArpgSampler(m, cpu).sample(labels, s, seed, order, ArpgSampler.Observer.NONE);
    }

    @Test
    void theSeedDecidesTheOrderAndTheDraws() {
        ArpgSampling s = (ArpgSampling) tiny.sampling();
        int[][] a = sample(s, 7, null, 1, 4), b = sample(s, 7, null, 1, 4), c = sample(s, 8, null, 1, 4);
        assertTrue(Arrays.deepEquals(a, b), "same seed, same tokens");
        assertFalse(Arrays.deepEquals(a, c), "another seed, other tokens");
        for (int[] row : a) for (int id : row) assertTrue(id >= 0 && id < 64, "token " + id);
        int[] order = GenerationOrder.philox(7, 256), again = GenerationOrder.philox(7, 256);
        assertArrayEquals(order, again);
        GenerationOrder.check(order, 256);
        assertFalse(Arrays.equals(order, GenerationOrder.philox(8, 256)));
    }

    /** With top-k 1 a step's draws are its argmax: feeding the same tokens in another order changes the logits (RoPE), not the rules. */
    @Test
    void aGivenOrderIsFollowedAndCheckedFirst() {
        ArpgSampling greedy = ((ArpgSampling) tiny.sampling()).withFilter(new ecar.backend.LogitFilter(1, 1f));
        int[] order = new int[256];
        for (int i = 0; i < 256; i++) order[i] = 256 - i;
        int[][] a = sample(greedy, 1, order, 2), b = sample(greedy, 99, order, 2);
        assertTrue(Arrays.deepEquals(a, b), "greedy with a given order ignores the seed");
        int[] bad = order.clone();
        bad[3] = bad[4];
        var e = assertThrows(IllegalArgumentException.class, () -> sample(greedy, 1, bad, 2));
        assertTrue(e.getMessage().contains("is not a permutation of the positions 1..256"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> sample(greedy, 1, null, 10));
        assertTrue(e.getMessage().contains("class label 10 outside [0, 9]"), e.getMessage());
    }

    @Test
    void settingsTakeArpgsOptionsAndRefuseOthers() {
        ArpgSampling s = ArpgSampling.defaults(5f).with(SamplingOverrides.NONE.with(SamplingOption.CFG_SCHEDULE, "constant")
                .with(SamplingOption.ORDER_SCHEDULE, "cosine").with(SamplingOption.TEMPERATURE, 0.9f).with(SamplingOption.TOP_K, 100)
                .with(SamplingOption.TOP_P, 0.95f).with(SamplingOption.STEPS, 32));
        assertEquals(new ArpgSampling(32, 5f, DecodeSchedule.Guidance.CONSTANT, DecodeSchedule.Reveal.COSINE, 0.9f, new ecar.backend.LogitFilter(100, 0.95f)), s);
        var e = assertThrows(IllegalArgumentException.class, () -> s.with(SamplingOverrides.NONE.with(SamplingOption.GAMMA, 0.3)));
        assertTrue(e.getMessage().contains("--gamma does not apply to ARPG") && e.getMessage().contains("--top-p"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> s.with(SamplingOverrides.NONE.with(SamplingOption.ORDER_SCHEDULE, "linear")));
        assertTrue(e.getMessage().contains("expected arccos or cosine"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Presets.get("arpg-l").settings(SamplingOverrides.NONE.with(SamplingOption.STEPS, 300)));
        assertTrue(e.getMessage().contains("(at most 256 steps work)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Presets.get("dit-tiny").settings(SamplingOverrides.NONE.with(SamplingOption.TOP_K, 5)));
        assertTrue(e.getMessage().contains("--top-k does not apply to DiT"), e.getMessage());
    }

    /**
     * The counter against the sum written out: per step, the self blocks on the fed tokens (4d² + 3dh per token and
     * attention over the cache), the shared k/v, the cross blocks on the queries (2d² + 3dh and attention), the head;
     * all twice for guidance. ARPG-L at 64 arccos steps: 149.07 GMAC per image.
     */
    @Test
    void arpgLFlopsAreTheSumOverItsSteps() {
        Preset p = Presets.get("arpg-l");
        ArpgConfig c = (ArpgConfig) p.architecture();
        DecodeSchedule s = ((ArpgSampling) p.sampling()).schedule(c.tokens());
        double d = c.dim(), h = c.ffnHidden(), layers = c.halfDepth(), macs = 0;
        for (int k = 0; k < s.steps(); k++) {
            int fed = k == 0 ? 1 : s.count(k - 1), queries = s.count(k), cached = 1 + s.doneBefore(k);
            macs += layers * (fed * (4 * d * d + 3 * d * h) + 2.0 * fed * cached * d);
            macs += fed * 2 * d * d;
            macs += layers * (queries * (2 * d * d + 3 * d * h) + 2.0 * queries * cached * d);
            macs += queries * d * c.vocab();
        }
        FlopsReport r = p.flops();
        assertEquals(2 * macs, r.macsPerImage(), 1e-6 * macs);
        assertEquals(149.07e9, r.macsPerImage(), 0.01e9);
        assertEquals(128, r.evaluationsPerImage(), 0);
        assertEquals(126.36e9, r.decodeMacs(), 0.01e9);
    }
}
