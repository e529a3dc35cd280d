package ecar.backend.cpu;

import ecar.backend.Activation;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * CPU activation functions on float arrays: the twins of the GPU epilogues. Deterministic (see {@link VecMath}):
 * each element gets the same bits whatever the JIT has compiled so far.
 */
public final class Activations {
    private Activations() {}

    static final VectorSpecies<Float> S = VecMath.S;
    private static final float SQRT_2_OVER_PI = (float) Math.sqrt(2.0 / Math.PI);
    private static final float INV_SQRT2 = (float) (1.0 / Math.sqrt(2.0));

    /** Applies act in place to x[off, off + n). */
    public static void apply(Activation act, float[] x, int off, int n) {
        int i = 0;
        switch (act) {
            case NONE -> {}
            case SILU -> {
                for (; i <= n - S.length(); i += S.length()) {
                    FloatVector v = FloatVector.fromArray(S, x, off + i);
                    v.mul(VecMath.sigmoid(v)).intoArray(x, off + i);
                }
                for (; i < n; i++) x[off + i] = silu(x[off + i]);
            }
            case GELU_TANH -> {
                for (; i <= n - S.length(); i += S.length()) {
                    FloatVector v = FloatVector.fromArray(S, x, off + i);
                    FloatVector inner = v.mul(v).mul(0.044715f).add(1f).mul(v).mul(SQRT_2_OVER_PI);
                    v.mul(0.5f).mul(VecMath.tanh(inner).add(1f)).intoArray(x, off + i);
                }
                for (; i < n; i++) x[off + i] = geluTanh(x[off + i]);
            }
            case GELU_ERF -> {
                for (; i <= n - S.length(); i += S.length()) {
                    FloatVector v = FloatVector.fromArray(S, x, off + i);
                    v.mul(0.5f).mul(VecMath.erf(v.mul(INV_SQRT2)).add(1f)).intoArray(x, off + i);
                }
                for (; i < n; i++) x[off + i] = geluErf(x[off + i]);
            }
        }
    }

    public static float silu(float v) {
        return v * VecMath.sigmoid(v);
    }

    public static float geluTanh(float v) {
        float inner = (v * v * 0.044715f + 1f) * v * SQRT_2_OVER_PI;
        return v * 0.5f * (VecMath.tanh(inner) + 1f);
    }

    public static float geluErf(float v) {
        return v * 0.5f * (VecMath.erf(v * INV_SQRT2) + 1f);
    }

    /** erf in double (Numerical Recipes' erfc, relative error below 1.2e-7), for references and tests. */
    public static double erf(double x) {
        double z = Math.abs(x);
        double t = 1.0 / (1.0 + 0.5 * z);
        double poly = -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
                + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
                + t * (-0.82215223 + t * 0.17087277))))))));
        double erfc = t * Math.exp(poly);
        return x >= 0 ? 1.0 - erfc : erfc - 1.0;
    }
}
