package ecar.cuda.ops;

import ecar.cuda.DeviceAddress;
import ecar.cuda.LaunchShape;

import static ecar.cuda.ops.OpCheck.buffer;
import static ecar.cuda.ops.OpCheck.positive;
import static ecar.cuda.ops.OpCheck.that;

/**
 * kernels/elementwise.cu on float32 activations, output float32 or bf16. CPU twins: {@code Backend.add} (per group),
 * {@code addTiled}, {@code mul}, {@code silu}, {@code gatedResidual}.
 */
public final class ElementwiseKernels {
    private final String family;
    private final Launcher launcher;

    public ElementwiseKernels(Launcher launcher) {
        this(launcher, "elementwise");
    }

    /** The same kernels from another fatbin of kernels/elementwise.cu (kernels/build.sh's zstd_probe: a compressed one). */
    ElementwiseKernels(Launcher launcher, String family) {
        this.launcher = launcher;
        this.family = family;
    }

    /** out = a + b[row / ratio]: a [rows, width], b [rows / ratio, width]. */
    public void add(DeviceAddress out, Precision p, DeviceAddress a, DeviceAddress b, int rows, int width, int ratio) {
        pair("add", "add_grouped", out, p, a, b, rows, width, ratio);
    }

    /** out = a ⊙ b, both [n]. */
    public void mul(DeviceAddress out, Precision p, DeviceAddress a, DeviceAddress b, long n) {
        positive("mul", "n", n);
        that(n <= Integer.MAX_VALUE, "mul", n + " elements exceed 2^31-1");
        pair("mul", "mul", out, p, a, b, 1, (int) n, 1);
    }

    private void pair(String op, String kernel, DeviceAddress out, Precision p, DeviceAddress a, DeviceAddress b, int rows, int width, int ratio) {
        positive(op, "rows", rows);
        positive(op, "width", width);
        that(ratio >= 1 && rows % ratio == 0, op, "ratio = " + ratio + " must be at least 1 and divide rows = " + rows);
        long n = (long) rows * width;
        buffer(op, "a", a, 4 * n, 4, "[" + rows + ", " + width + "] f32");
        buffer(op, "b", b, 4L * (rows / ratio) * width, 4, "[" + rows / ratio + ", " + width + "] f32");
        buffer(op, "out", out, p.bytes * n, p.bytes, "[" + rows + ", " + width + "] " + p.suffix);
        launcher.launch(family, kernel + "_" + p.suffix + "(ptr out, ptr a, ptr b, i64 n, i32 width, i32 ratio)",
                LaunchShape.linear(n, 256), out, a, b, n, width, ratio);
    }

    /** One thread that holds the stream for {@code nanos} ns (a profiler's gate: see kernels/elementwise.cu's spin_gate). */
    public void spinGate(long nanos) {
        that(nanos >= 0 && nanos <= 100_000_000L, "spinGate", "nanos = " + nanos + " must be in [0, 1e8] (at most 0.1 s)");
        launcher.launch(family, "spin_gate(i64 ns)", new LaunchShape(1, 1, 1, 1, 1, 1, 0), nanos);
    }

    /** out[i] = a[i] + b[i % count]: a position embedding of count elements tiled over a. */
    public void addTiled(DeviceAddress out, Precision p, DeviceAddress a, DeviceAddress b, long n, long count) {
        String op = "addTiled";
        positive(op, "n", n);
        positive(op, "count", count);
        that(n % count == 0, op, count + " elements cannot tile " + n);
        buffer(op, "a", a, 4 * n, 4, n + " f32");
        buffer(op, "b", b, 4 * count, 4, count + " f32");
        buffer(op, "out", out, p.bytes * n, p.bytes, n + " " + p.suffix);
        launcher.launch(family, "add_tiled_" + p.suffix + "(ptr out, ptr a, ptr b, i64 n, i64 count)", LaunchShape.linear(n, 256), out, a, b, n, count);
    }

    /** out = x · sigmoid(x), [n]. */
    public void silu(DeviceAddress out, Precision p, DeviceAddress x, long n) {
        String op = "silu";
        positive(op, "n", n);
        buffer(op, "x", x, 4 * n, 4, n + " f32");
        buffer(op, "out", out, p.bytes * n, p.bytes, n + " " + p.suffix);
        launcher.launch(family, "silu_" + p.suffix + "(ptr out, ptr x, i64 n)", LaunchShape.linear(n, 256), out, x, n);
    }

    /** out = x + gate[row / ratio] ⊙ y, float32, out may be x. x, y [rows, width], gate [rows / ratio, width]. */
    public void gatedResidual(DeviceAddress out, DeviceAddress x, DeviceAddress gate, DeviceAddress y, int rows, int width, int ratio) {
        String op = "gatedResidual";
        positive(op, "rows", rows);
        positive(op, "width", width);
        that(ratio >= 1 && rows % ratio == 0, op, "ratio = " + ratio + " must be at least 1 and divide rows = " + rows);
        long n = (long) rows * width;
        String st = "[" + rows + ", " + width + "] f32";
        buffer(op, "x", x, 4 * n, 4, st);
        buffer(op, "y", y, 4 * n, 4, st);
        buffer(op, "gate", gate, 4L * (rows / ratio) * width, 4, "[" + rows / ratio + ", " + width + "] f32");
        buffer(op, "out", out, 4 * n, 4, st);
        launcher.launch(family, "gated_residual(ptr out, ptr x, ptr gate, ptr y, i64 n, i32 width, i32 ratio)",
                LaunchShape.linear(n, 256), out, x, gate, y, n, width, ratio);
    }
}
