package ecar.backend;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The device layout of a step's scalars (what kernels/*_dev read) and the keys' validation. */
class StepScalarsTest {
    private static final DiffusionCoefficients K = new DiffusionCoefficients(1.5f, 0.25f, 0.125f, 0.875f, -3f, -2f, 0.5f, 0.75f, -2.5f);

    @Test
    void flowWordsPutDtAndWeightFirstAsTheGuidedEulerKernelReadsThem() {
        int[] w = StepScalars.flow(999f, -0.125f, 2.5f).words();
        assertEquals(StepScalars.WORDS, w.length);
        assertEquals(-0.125f, Float.intBitsToFloat(w[0]));   // flow_euler_guided_dev: scalars[0] = dt
        assertEquals(2.5f, Float.intBitsToFloat(w[1]));      // scalars[1] = w
        assertEquals(999f, Float.intBitsToFloat(w[StepScalars.TIME]));
        for (int i = StepScalars.COEFFICIENTS; i < StepScalars.WORDS; i++) assertEquals(0, w[i], "word " + i);
    }

    @Test
    void diffusionWordsHoldTheCoefficientsInOrderAndTheSplitSeed() {
        long seed = 0x1234_5678_9abc_def0L;
        int[] w = StepScalars.diffusion(250f, 4f, K, seed, 7).words();
        float[] k = {1.5f, 0.25f, 0.125f, 0.875f, -3f, -2f, 0.5f, 0.75f, -2.5f};
        for (int i = 0; i < k.length; i++) assertEquals(k[i], Float.intBitsToFloat(w[StepScalars.COEFFICIENTS + i]), "coefficient " + i);
        assertEquals(0x9abc_def0, w[StepScalars.SEED_LOW]);
        assertEquals(0x1234_5678, w[StepScalars.SEED_HIGH]);
        assertEquals(seed, ((long) w[StepScalars.SEED_HIGH] << 32) | (w[StepScalars.SEED_LOW] & 0xffff_ffffL));
        assertEquals(7, w[StepScalars.NOISE_STREAM]);
        assertEquals(4f, Float.intBitsToFloat(w[StepScalars.CFG]));
        assertEquals(0f, Float.intBitsToFloat(w[StepScalars.DT]));
    }

    @Test
    void sameComparesBits() {
        assertTrue(StepScalars.same(0.1f, 0.1f));
        assertFalse(StepScalars.same(0f, -0f), "a captured kernel would read the step's -0, not the given 0");
        assertTrue(StepScalars.same(Float.NaN, Float.NaN));
    }

    @Test
    void keysNameWhatIsWrong() {
        Object model = new Object();
        assertEquals(new StepKey(model, "ddpm", 0, 2), new StepKey(model, "ddpm", 0, 2));
        assertFalse(new StepKey(model, "ddpm", 0, 2).equals(new StepKey(new Object(), "ddpm", 0, 2)), "models compare by identity");
        assertFalse(new StepKey(model, "ddpm", 0, 2).equals(new StepKey(model, "ddpm last", 0, 2)));
        String msg = assertThrows(IllegalArgumentException.class, () -> new StepKey(model, "flow", 0, 0)).getMessage();
        assertTrue(msg.contains("StepKey") && msg.contains("batch 0"), msg);
        assertThrows(IllegalArgumentException.class, () -> new StepKey(null, "flow", 0, 1));
        assertThrows(IllegalArgumentException.class, () -> StepScalars.diffusion(1f, 1f, null, 0, 0));
    }
}
