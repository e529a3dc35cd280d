package ecar.flowar;

/**
 * What one stage of a multistage token sampler does, computed once from a schedule: how the state starts
 * (fresh noise, or the ECAR jump α·up2(x) + β·block noise), then Euler steps x += dt·v with the head evaluated
 * at time t (as float32, the value the reference passes), guided or not, with the stage's guidance weight.
 *
 * @param side    token-grid side of the stage
 * @param jump    true: start from the previous stage by the ECAR jump; false: from N(0, I) noise
 * @param alpha   jump coefficient of up2(x)
 * @param beta    jump coefficient of the block noise
 * @param gamma   block-noise correlation
 * @param t       the head's time input per step
 * @param dt      the Euler increment per step (negative: towards data)
 * @param guided  per step: classifier-free guidance applies
 * @param cfg     guidance weight of this stage
 */
public record StagePlan(int side, boolean jump, float alpha, float beta, float gamma, float[] t, float[] dt, boolean[] guided, float cfg) {

    public int steps() {
        return t.length;
    }
}
