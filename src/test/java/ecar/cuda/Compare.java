package ecar.cuda;

import ecar.tensor.FloatTensor;
import ecar.tensor.Shape;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Random inputs and element-by-element comparisons for the kernel tests. */
final class Compare {
    private Compare() {}

    static FloatTensor random(long seed, float scale, int... dims) {
        Shape s = Shape.of(dims);
        float[] d = new float[s.size()];
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < d.length; i++) d[i] = (float) (r.nextGaussian() * scale);
        return new FloatTensor(s, d);
    }

    /** As {@link #random}, rounded to bf16: inputs the GPU holds exactly, so a comparison measures the kernel, not the rounding. */
    static FloatTensor bf16Random(long seed, float scale, int... dims) {
        FloatTensor t = random(seed, scale, dims);
        float[] d = t.data();
        for (int i = 0; i < d.length; i++) d[i] = ecar.io.Bf16.round(d[i]);
        return t;
    }

    /**
     * Every element finite and within {@code elementTol}·max|expected| of the reference, and the whole within
     * {@code relL2} relative L2 error. Names the first bad element.
     */
    static void close(String what, FloatTensor expected, FloatTensor actual, double relL2, double elementTol) {
        assertEquals(expected.shape(), actual.shape(), what + ": shape");
        float[] e = expected.data(), a = actual.data();
        double max = 0, num = 0, den = 0;
        for (float v : e) max = Math.max(max, Math.abs(v));
        for (int i = 0; i < e.length; i++) {
            if (!Float.isFinite(a[i])) fail(what + ": element " + i + " of " + e.length + " is " + a[i] + " (expected " + e[i] + "): never written or overflowed");
            double d = a[i] - e[i];
            if (Math.abs(d) > elementTol * max + 1e-30) {
                fail(what + ": element " + i + " is " + a[i] + ", expected " + e[i] + " (|diff| " + Math.abs(d) + " > " + elementTol + " × max|expected| " + max + ")");
            }
            num += d * d;
            den += (double) e[i] * e[i];
        }
        double rel = den == 0 ? Math.sqrt(num) : Math.sqrt(num / den);
        assertTrue(rel <= relL2, what + ": relative L2 error " + rel + " > " + relL2);
    }

    /** Bit-for-bit equal, element by element. */
    static void exact(String what, FloatTensor expected, FloatTensor actual) {
        assertEquals(expected.shape(), actual.shape(), what + ": shape");
        float[] e = expected.data(), a = actual.data();
        for (int i = 0; i < e.length; i++) {
            if (Float.floatToRawIntBits(e[i]) != Float.floatToRawIntBits(a[i]) && !(e[i] == a[i])) {
                fail(what + ": element " + i + " of " + e.length + " is " + a[i] + ", expected exactly " + e[i]);
            }
        }
    }
}
