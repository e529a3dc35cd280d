package ecar.cuda.ops;

import ecar.backend.Norm;
import ecar.cuda.DeviceAddress;
import ecar.cuda.LaunchShape;

import static ecar.cuda.ops.OpCheck.buffer;
import static ecar.cuda.ops.OpCheck.positive;
import static ecar.cuda.ops.OpCheck.that;

/**
 * kernels/norm.cu: LayerNorm/RMSNorm over rows fused with adaLN modulation, and GroupNorm(+SiLU) on channels-last
 * images. CPU twins: {@code Backend.norm}, {@code normModulate}, {@code groupNorm}.
 */
public final class NormKernels {
    /** Pixels per block of the GroupNorm kernels. */
    static final int GROUP_PIXELS = 64;
    private static final int ROWS_PER_BLOCK = 8;

    private final Launcher launcher;

    public NormKernels(Launcher launcher) {
        this.launcher = launcher;
    }

    /**
     * out[r] = norm(x[r]) · weight (weight may be null), x [rows, d] f32. The un-modulated form of
     * {@link #rowsModulated}.
     */
    public void rows(DeviceAddress out, Precision p, DeviceAddress x, DeviceAddress weight, int rows, int d, Norm kind, float eps) {
        rows(out, p, NormInput.weighted(x, weight, rows, d, kind, eps));
    }

    /**
     * out[r] = norm(x[r]) · (1 + scale[r / ratio]) + shift[r / ratio]: adaLN. shift and scale are rows of
     * {@code modStride} floats (so a chunk of an adaLN output [B, 6d] is passed in place with modStride = 6d and
     * the chunk's first element as the address), rows / ratio of them.
     */
    public void rowsModulated(DeviceAddress out, Precision p, DeviceAddress x, DeviceAddress shift, DeviceAddress scale, int modStride,
                              int rows, int d, Norm kind, float eps, int ratio) {
        rows(out, p, NormInput.modulated(x, shift, scale, modStride, rows, d, kind, eps, ratio));
    }

    /** out = what {@code in} describes, in {@code p}: one norm_rows launch. */
    public void rows(DeviceAddress out, Precision p, NormInput in) {
        in.check();
        buffer(in.op(), "out", out, (long) p.bytes * in.rows() * in.d(), p.bytes, "[" + in.rows() + ", " + in.d() + "] " + p.suffix);
        launcher.launch("norm", "norm_rows_" + p.suffix
                        + "(ptr out, ptr x, ptr? weight, ptr? shift, ptr? scale, i32 modStride, i32 rows, i32 d, i32 kind, f32 eps, i32 ratio)",
                new LaunchShape(OpCheck.ceilDiv(in.rows(), ROWS_PER_BLOCK), 1, 1, 32 * ROWS_PER_BLOCK, 1, 1, 0),
                out, in.x(), in.weight(), in.shift(), in.scale(), in.modStride(), in.rows(), in.d(), in.kind().ordinal(), in.eps(), in.ratio());
    }

    /**
     * out[r] = softmax(scale · x[r]) over rows of n f32 (the score rows of a single-head attention done with GEMMs,
     * e.g. the VAE's mid AttnBlock), output f32 or bf16.
     */
    public void softmaxRows(DeviceAddress out, Precision p, DeviceAddress x, int rows, int n, float scale) {
        String op = "softmaxRows";
        positive(op, "rows", rows);
        positive(op, "n", n);
        that(scale > 0 && Float.isFinite(scale), op, "scale = " + scale + ", expected a finite value > 0");
        buffer(op, "x", x, 4L * rows * n, 4, "[" + rows + ", " + n + "] f32");
        buffer(op, "out", out, (long) p.bytes * rows * n, p.bytes, "[" + rows + ", " + n + "] " + p.suffix);
        launcher.launch("norm", "softmax_rows_" + p.suffix + "(ptr out, ptr x, i32 rows, i32 n, f32 scale)",
                new LaunchShape(OpCheck.ceilDiv(rows, ROWS_PER_BLOCK), 1, 1, 32 * ROWS_PER_BLOCK, 1, 1, 0), out, x, rows, n, scale);
    }

    /** Bytes of the fp64 statistics scratch buffer {@link #groupNorm} needs. */
    public static long statsBytes(int n, int groups) {
        return 16L * n * groups;
    }

    /**
     * GroupNorm over x [N, H·W, C] f32 with affine weight and bias [C] f32, then SiLU when asked: three launches
     * (zero the statistics, accumulate them, apply). {@code stats} is scratch of {@link #statsBytes} bytes.
     */
    public void groupNorm(DeviceAddress out, Precision p, DeviceAddress x, DeviceAddress stats, DeviceAddress weight, DeviceAddress bias,
                          int n, int hw, int c, int groups, float eps, boolean silu) {
        String op = "groupNorm";
        positive(op, "N", n);
        positive(op, "H·W", hw);
        positive(op, "C", c);
        positive(op, "groups", groups);
        that(c % groups == 0, op, c + " channels do not split into " + groups + " groups");
        that(c <= 1024, op, "C = " + c + " exceeds 1024 (one thread per channel)");
        that(n <= 65535, op, "N = " + n + " exceeds 65535");
        String img = "[" + n + ", " + hw + ", " + c + "] ";
        buffer(op, "x", x, 4L * n * hw * c, 4, img + "f32");
        buffer(op, "out", out, (long) p.bytes * n * hw * c, p.bytes, img + p.suffix);
        buffer(op, "stats", stats, statsBytes(n, groups), 8, "[" + n + ", " + groups + ", 2] f64");
        buffer(op, "weight", weight, 4L * c, 4, "[" + c + "] f32");
        buffer(op, "bias", bias, 4L * c, 4, "[" + c + "] f32");
        int count = 2 * n * groups;
        launcher.launch("norm", "groupnorm_zero(ptr stats, i32 count)", LaunchShape.linear(count, 256), stats, count);
        LaunchShape perChannel = new LaunchShape(OpCheck.ceilDiv(hw, GROUP_PIXELS), n, 1, c, 1, 1, 0);
        launcher.launch("norm", "groupnorm_stats(ptr stats, ptr x, i32 hw, i32 c, i32 groups, i32 pixels)",
                new LaunchShape(perChannel.gridX(), n, 1, c, 1, 1, 8 * c), stats, x, hw, c, groups, GROUP_PIXELS);
        launcher.launch("norm", "groupnorm_apply_" + p.suffix
                        + "(ptr out, ptr x, ptr stats, ptr w, ptr b, i32 hw, i32 c, i32 groups, i32 pixels, f32 eps, i32 silu)",
                perChannel, out, x, stats, weight, bias, hw, c, groups, GROUP_PIXELS, eps, silu ? 1 : 0);
    }
}
