package ecar.backend.cpu;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class VecMathTest {
    private static final int V = VecMath.S.length();

    /** Runs the vector function over x and checks every lane against the scalar twin (same bits) and a reference. */
    private static void check(java.util.function.UnaryOperator<FloatVector> vec, java.util.function.DoubleUnaryOperator scalar,
                              java.util.function.DoubleUnaryOperator ref, double lo, double hi, double relTol, double absTol) {
        float[] x = new float[V], y = new float[V];
        for (double start = lo; start < hi; start += V * (hi - lo) / 20000) {
            for (int i = 0; i < V; i++) x[i] = (float) (start + i * (hi - lo) / 20000);
            vec.apply(FloatVector.fromArray(VecMath.S, x, 0)).intoArray(y, 0);
            for (int i = 0; i < V; i++) {
                assertEquals(Float.floatToIntBits((float) scalar.applyAsDouble(x[i])), Float.floatToIntBits(y[i]), "lane and scalar differ at " + x[i]);
                double r = ref.applyAsDouble(x[i]);
                assertEquals(r, y[i], Math.max(absTol, relTol * Math.abs(r)), "at " + x[i]);
            }
        }
    }

    @Test
    void expIsWithinTwoUlp() {
        check(VecMath::exp, x -> VecMath.exp((float) x), Math::exp, -87, 88, 2.5e-7, 0);
    }

    @Test
    void tanhSigmoidErfAreWithinThreeTenMillionths() {
        check(VecMath::tanh, x -> VecMath.tanh((float) x), Math::tanh, -12, 12, 0, 3e-7);
        check(VecMath::sigmoid, x -> VecMath.sigmoid((float) x), x -> 1 / (1 + Math.exp(-x)), -30, 30, 0, 3e-7);
        check(VecMath::erf, x -> VecMath.erf((float) x), Activations::erf, -6, 6, 0, 3e-7);
    }
}
