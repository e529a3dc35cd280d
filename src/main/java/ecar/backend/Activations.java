package ecar.backend;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** CPU activation functions on float arrays: the twins of the GPU epilogues. */
public final class Activations {
    private Activations() {}

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final float SQRT_2_OVER_PI = (float) Math.sqrt(2.0 / Math.PI);
    private static final double INV_SQRT2 = 1.0 / Math.sqrt(2.0);

    /** Applies act in place to x[off, off + n). */
    public static void apply(Activation act, float[] x, int off, int n) {
        switch (act) {
            case NONE -> {}
            case SILU -> silu(x, off, n);
            case GELU_TANH -> geluTanh(x, off, n);
            case GELU_ERF -> geluErf(x, off, n);
        }
    }

    static void silu(float[] x, int off, int n) {
        int i = 0;
        for (; i <= n - S.length(); i += S.length()) {
            FloatVector v = FloatVector.fromArray(S, x, off + i);
            FloatVector e = v.neg().lanewise(VectorOperators.EXP);
            v.div(e.add(1f)).intoArray(x, off + i);
        }
        for (; i < n; i++) x[off + i] = silu(x[off + i]);
    }

    public static float silu(float v) {
        return (float) (v / (1.0 + Math.exp(-v)));
    }

    static void geluTanh(float[] x, int off, int n) {
        int i = 0;
        for (; i <= n - S.length(); i += S.length()) {
            FloatVector v = FloatVector.fromArray(S, x, off + i);
            FloatVector inner = v.mul(v).mul(0.044715f).add(1f).mul(v).mul(SQRT_2_OVER_PI);
            v.mul(0.5f).mul(inner.lanewise(VectorOperators.TANH).add(1f)).intoArray(x, off + i);
        }
        for (; i < n; i++) x[off + i] = geluTanh(x[off + i]);
    }

    public static float geluTanh(float v) {
        double inner = SQRT_2_OVER_PI * (v + 0.044715 * v * v * v);
        return (float) (0.5 * v * (1.0 + Math.tanh(inner)));
    }

    static void geluErf(float[] x, int off, int n) {
        for (int i = 0; i < n; i++) x[off + i] = geluErf(x[off + i]);
    }

    public static float geluErf(float v) {
        return (float) (0.5 * v * (1.0 + erf(v * INV_SQRT2)));
    }

    /**
     * erf(x) from the Chebyshev-fitted erfc of Numerical Recipes (§6.2): relative error of erfc below 1.2e-7,
     * so erf is within 2.4e-7 everywhere, below float32 resolution for GELU. Java has no Math.erf.
     */
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
