package ecar.cuda.ops;

import ecar.cuda.CudaContext;
import ecar.cuda.CudaProbe;
import ecar.cuda.DeviceBuffer;
import ecar.cuda.Stream;
import ecar.io.Bf16;
import org.junit.jupiter.api.Assumptions;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * What the GPU op tests share: the skip (with CudaProbe's reason) on machines without a GPU or built kernels,
 * device buffers from host arrays, NaN-poisoned outputs, and the comparison with the CPU backend.
 */
final class GpuOps implements AutoCloseable {
    /** Relative tolerance for bf16 results (fixtures/README.md's bf16 bound), and for float32 results. */
    static final double BF16_TOL = 2e-2, F32_TOL = 1e-3;

    private static volatile boolean said;

    static void assume(String family) {
        if (!CudaProbe.available() && !said) {
            said = true;
            System.err.println("[gpu op tests] skipped: no GPU: " + CudaProbe.probe().reason());
        }
        Assumptions.assumeTrue(CudaProbe.available(), () -> "no GPU: " + CudaProbe.probe().reason());
        Assumptions.assumeTrue(GpuOps.class.getResource("/kernels/" + family + ".fatbin") != null,
                "kernels/" + family + ".fatbin was not built (nvcc was missing at build time)");
    }

    final Stream stream = new Stream();
    final Launcher launcher = Launcher.on(stream);
    private final List<DeviceBuffer> buffers = new ArrayList<>();

    int multiprocessors() {
        return CudaContext.get().device().multiprocessors();
    }

    private DeviceBuffer alloc(long bytes, String label) {
        DeviceBuffer b = DeviceBuffer.allocate((bytes + 15) / 16 * 16, label);
        buffers.add(b);
        return b;
    }

    DeviceBuffer f32(float[] data, String label) {
        DeviceBuffer b = alloc(4L * data.length, label);
        b.upload(data);
        return b;
    }

    /** data rounded to bf16 on upload (callers give the CPU reference the same rounded values). */
    DeviceBuffer bf16(float[] data, String label) {
        short[] h = new short[data.length];
        for (int i = 0; i < h.length; i++) h[i] = Bf16.fromFloat(data[i]);
        DeviceBuffer b = alloc(2L * data.length, label);
        b.upload(h);
        return b;
    }

    /** An output buffer filled with NaN (f32) or bf16 NaN pairs, so that an element the kernel skips fails the check. */
    DeviceBuffer poisoned(long count, Precision p, String label) {
        DeviceBuffer b = alloc(p.bytes * count, label);
        b.fill32(p == Precision.F32 ? Float.floatToRawIntBits(Float.NaN) : 0x7FC07FC0, stream);
        return b;
    }

    DeviceBuffer scratch(long bytes, String label) {
        return alloc(bytes, label);
    }

    /** Waits for the stream and reads count elements. */
    float[] read(DeviceBuffer b, long count, Precision p) {
        stream.synchronize();
        float[] out = new float[(int) count];
        if (p == Precision.F32) {
            b.download(out);
        } else {
            short[] h = new short[(int) count];
            b.download(h);
            for (int i = 0; i < out.length; i++) out[i] = Bf16.toFloat(h[i]);
        }
        return out;
    }

    @Override
    public void close() {
        try {
            stream.synchronize();
        } finally {
            for (DeviceBuffer b : buffers) b.close();
            stream.close();
        }
    }

    // ------------------------------------------------------------------ data and comparison

    /** Uniform in [-scale, scale), seeded. */
    static float[] random(long seed, int n, float scale) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) ((r.nextDouble() * 2 - 1) * scale);
        return a;
    }

    static float[] bf16Round(float[] a) {
        float[] o = new float[a.length];
        for (int i = 0; i < a.length; i++) o[i] = Bf16.round(a[i]);
        return o;
    }

    /**
     * Every element finite (a NaN means the kernel never wrote it, or computed garbage) and within
     * tol·(|expected| + rms(expected)) of the reference, and the relative L2 error within tol.
     */
    static void assertClose(String what, float[] expected, float[] actual, double tol) {
        assertTrue(expected.length == actual.length, what + ": " + actual.length + " elements, expected " + expected.length);
        double ss = 0, se = 0;
        for (float e : expected) ss += (double) e * e;
        double rms = Math.sqrt(ss / Math.max(1, expected.length));
        int bad = -1, badCount = 0;
        for (int i = 0; i < expected.length; i++) {
            float a = actual[i], e = expected[i];
            if (!Float.isFinite(a)) fail(what + ": element " + i + " is " + a + " (never written, or not finite); expected " + e);
            double d = (double) a - e;
            se += d * d;
            if (Math.abs(d) > tol * (Math.abs(e) + rms)) {
                if (bad < 0) bad = i;
                badCount++;
            }
        }
        double rel = Math.sqrt(se / Math.max(ss, 1e-30));
        if (bad >= 0) {
            fail(what + ": " + badCount + " elements off by more than " + tol + "·(|e| + rms); first at " + bad + ": got " + actual[bad]
                    + ", expected " + expected[bad] + " (relative L2 " + rel + ")");
        }
        assertTrue(rel <= tol, what + ": relative L2 error " + rel + " above " + tol);
    }
}
