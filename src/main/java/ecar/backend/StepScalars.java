package ecar.backend;

/**
 * The values that change from one sampling step to the next, given to {@link Backend#step} alongside the body that
 * uses them. A GPU backend writes them, as {@link #words()}, into a small device buffer before each replay of a
 * captured step, and its captured kernels read them from there; the body must pass the same values to the ops, which
 * a capturing backend checks.
 *
 * @param time        the value given to timestepEmbedding for every sample (DiT's model timestep; the flow head's
 *                    ⌊t·1000⌋)
 * @param dt          the flow Euler increment (0 for diffusion steps)
 * @param cfg         the guidance weight (flowEulerStep's, or cfgCombineChannels' scale)
 * @param diffusion   the diffusion step's coefficients, or null for a flow step
 * @param seed        the Philox seed of the step's noise (DDPM)
 * @param noiseStream the Philox stream of the step's noise (DDPM)
 */
public record StepScalars(float time, float dt, float cfg, DiffusionCoefficients diffusion, long seed, int noiseStream) {
    /** Word offsets in {@link #words()}: dt and cfg first, as kernels/flow.cu's flow_euler_guided_dev reads them. */
    // CFG must follow DT: flow_euler_guided reads both from one pointer (dt at [0], cfg at [1])
    public static final int DT = 0, CFG = 1, TIME = 2, COEFFICIENTS = 3, SEED_LOW = COEFFICIENTS + DiffusionCoefficients.COUNT,
            SEED_HIGH = SEED_LOW + 1, NOISE_STREAM = SEED_LOW + 2, WORDS = SEED_LOW + 3;

    /** A flow-head Euler step at head time input {@code time}. */
    public static StepScalars flow(float time, float dt, float cfg) {
        return new StepScalars(time, dt, cfg, null, 0, 0);
    }

    /** A DiT step at model timestep {@code time} with its coefficients and its noise's Philox (seed, stream). */
    public static StepScalars diffusion(float time, float cfg, DiffusionCoefficients k, long seed, int noiseStream) {
        Check.that(k != null, "StepScalars.diffusion", "the step's coefficients are required");
        return new StepScalars(time, 0f, cfg, k, seed, noiseStream);
    }

    /** The device buffer's contents: 32-bit words, floats as their bits (the layout the *_dev kernels read). */
    public int[] words() {
        int[] w = new int[WORDS];
        w[DT] = Float.floatToRawIntBits(dt);
        w[CFG] = Float.floatToRawIntBits(cfg);
        w[TIME] = Float.floatToRawIntBits(time);
        if (diffusion != null) {
            float[] k = diffusion.floats();
            for (int i = 0; i < k.length; i++) w[COEFFICIENTS + i] = Float.floatToRawIntBits(k[i]);
        }
        w[SEED_LOW] = (int) seed;
        w[SEED_HIGH] = (int) (seed >>> 32);
        w[NOISE_STREAM] = noiseStream;
        return w;
    }

    /** Whether {@code given} is this step's value to the bit (a captured kernel reads the step's, not the given one). */
    public static boolean same(float given, float stepValue) {
        return Float.floatToRawIntBits(given) == Float.floatToRawIntBits(stepValue);
    }
}
