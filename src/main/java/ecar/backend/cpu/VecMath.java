package ecar.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * exp, tanh, sigmoid and erf for the CPU backend, built only from IEEE-exact vector operations (add, mul, fma,
 * min, max, integer shifts). The Vector API's own EXP/TANH and floating-point reductions give different bits
 * before and after the JIT compiles a loop, which would make the same seed give different images; these give
 * the same bits in every tier, and each scalar twin gives the same bits as a vector lane.
 * Accuracy: exp within 2 ulp on [-87, 88]; tanh, sigmoid, erf within 3e-7 absolute.
 */
final class VecMath {
    private VecMath() {}

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;
    private static final float ROUND = 12582912f;          // 1.5·2^23: adding and subtracting it rounds to an integer
    private static final float[] P = {1.9875691500e-4f, 1.3981999507e-3f, 8.3334519073e-3f, 4.1665795894e-2f, 1.6666665459e-1f, 5.0000001201e-1f};

    // ---------------------------------------------------------------- exp (Cephes expf: x = n·ln2 + r, |r| ≤ ln2/2)

    static FloatVector exp(FloatVector x) {
        x = x.max(-87.33654f).min(88.72283f);
        FloatVector n = x.mul(LOG2E).add(ROUND).sub(ROUND);
        FloatVector r = n.fma(FloatVector.broadcast(S, -LN2_HI), x);
        r = n.fma(FloatVector.broadcast(S, -LN2_LO), r);
        FloatVector p = FloatVector.broadcast(S, P[0]);
        for (int i = 1; i < P.length; i++) p = p.fma(r, FloatVector.broadcast(S, P[i]));
        FloatVector r2 = r.mul(r);
        p = p.fma(r2, r).add(1f);
        IntVector e = ((IntVector) n.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23);
        return p.mul(e.reinterpretAsFloats());
    }

    static float exp(float x) {
        x = Math.min(Math.max(x, -87.33654f), 88.72283f);
        float n = x * LOG2E + ROUND - ROUND;
        float r = Math.fma(n, -LN2_HI, x);
        r = Math.fma(n, -LN2_LO, r);
        float p = P[0];
        for (int i = 1; i < P.length; i++) p = Math.fma(p, r, P[i]);
        float r2 = r * r;
        p = Math.fma(p, r2, r) + 1f;
        return p * Float.intBitsToFloat(((int) n + 127) << 23);
    }

    // ---------------------------------------------------------------- tanh, sigmoid

    /** tanh(x) = sign(x)·(1 − e)/(1 + e), e = exp(−2|x|). */
    static FloatVector tanh(FloatVector x) {
        FloatVector e = exp(x.abs().mul(-2f));
        FloatVector t = FloatVector.broadcast(S, 1f).sub(e).div(e.add(1f));
        return t.blend(t.neg(), x.lt(0f));
    }

    static float tanh(float x) {
        float e = exp(Math.abs(x) * -2f);
        float t = (1f - e) / (e + 1f);
        return x < 0f ? -t : t;
    }

    static FloatVector sigmoid(FloatVector x) {
        return FloatVector.broadcast(S, 1f).div(exp(x.neg()).add(1f));
    }

    static float sigmoid(float x) {
        return 1f / (exp(-x) + 1f);
    }

    // ---------------------------------------------------------------- erf (Numerical Recipes' erfc, §6.2, in float)

    private static final float[] E = {0.17087277f, -0.82215223f, 1.48851587f, -1.13520398f, 0.27886807f, -0.18628806f,
            0.09678418f, 0.37409196f, 1.00002368f, -1.26551223f};

    static FloatVector erf(FloatVector x) {
        FloatVector z = x.abs();
        FloatVector t = FloatVector.broadcast(S, 1f).div(z.fma(0.5f, 1f));
        FloatVector p = FloatVector.broadcast(S, E[0]);
        for (int i = 1; i < E.length; i++) p = p.fma(t, FloatVector.broadcast(S, E[i]));
        FloatVector erfc = t.mul(exp(p.sub(z.mul(z))));
        FloatVector r = FloatVector.broadcast(S, 1f).sub(erfc);
        return r.blend(r.neg(), x.lt(0f));
    }

    static float erf(float x) {
        float z = Math.abs(x);
        float t = 1f / Math.fma(z, 0.5f, 1f);
        float p = E[0];
        for (int i = 1; i < E.length; i++) p = Math.fma(p, t, E[i]);
        float erfc = t * exp(p - z * z);
        float r = 1f - erfc;
        return x < 0f ? -r : r;
    }

    // ---------------------------------------------------------------- sums in a fixed order

    /** The lanes of v added left to right: the same bits in every JIT tier (reduceLanes(ADD) leaves the order open). */
    static float sumLanes(FloatVector v) {
        float[] lanes = LANES.get();
        v.intoArray(lanes, 0);
        float s = 0f;
        for (int i = 0; i < S.length(); i++) s += lanes[i];
        return s;
    }

    private static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[S.length()]);
}
