package ecar.cuda.ops;

import ecar.backend.Norm;
import ecar.cuda.DeviceAddress;

import static ecar.cuda.ops.OpCheck.buffer;
import static ecar.cuda.ops.OpCheck.optional;
import static ecar.cuda.ops.OpCheck.positive;
import static ecar.cuda.ops.OpCheck.that;

/**
 * What kernels/norm.cu's norm_rows normalises: x [rows, d] f32, times {@code weight} [d] (or null), or adaLN-modulated
 * by {@code shift} and {@code scale} (rows / ratio rows of {@code modStride} floats, the d used starting at the
 * addresses), RMSNorm or LayerNorm with {@code eps}. {@link NormKernels#rows} writes the result; gemm_skinny's norm
 * entries compute it in their prologue instead ({@link GemmKernels#linearNormed}).
 */
public record NormInput(DeviceAddress x, DeviceAddress weight, DeviceAddress shift, DeviceAddress scale, int modStride, int rows, int d, Norm kind,
                        float eps, int ratio) {

    /** out = norm(x) · weight (weight may be null). */
    public static NormInput weighted(DeviceAddress x, DeviceAddress weight, int rows, int d, Norm kind, float eps) {
        return new NormInput(x, weight, null, null, d, rows, d, kind, eps, 1);
    }

    /** out = norm(x) · (1 + scale[r / ratio]) + shift[r / ratio]. */
    public static NormInput modulated(DeviceAddress x, DeviceAddress shift, DeviceAddress scale, int modStride, int rows, int d, Norm kind, float eps,
                                      int ratio) {
        that(shift != null && scale != null, "normModulate", "shift and scale must both be given");
        return new NormInput(x, null, shift, scale, modStride, rows, d, kind, eps, ratio);
    }

    /** The op's name in messages: norm or normModulate. */
    String op() {
        return shift == null ? "norm" : "normModulate";
    }

    /** Every operand's size and alignment, and the parameters' ranges, named in the message of the first that is wrong. */
    void check() {
        String op = op();
        positive(op, "rows", rows);
        positive(op, "d", d);
        that(kind != null, op, "the norm kind must be given");
        that(eps >= 0 && Float.isFinite(eps), op, "eps = " + eps + ", expected a finite value ≥ 0");
        buffer(op, "x", x, 4L * rows * d, 4, "[" + rows + ", " + d + "] f32");
        optional(op, "weight", weight, 4L * d, 4, "[" + d + "] f32");
        if (shift != null) {
            that(ratio >= 1 && rows % ratio == 0, op, "ratio = " + ratio + " must be at least 1 and divide rows = " + rows);
            that(modStride >= d, op, "modStride = " + modStride + " is less than d = " + d);
            long need = 4L * ((long) (rows / ratio - 1) * modStride + d);
            String layout = (rows / ratio) + " rows of stride " + modStride + " f32";
            buffer(op, "shift", shift, need, 4, layout);
            buffer(op, "scale", scale, need, 4, layout);
        }
    }

    /**
     * Whether norm_row.cuh's register path takes these rows (d % 4 == 0, d ≤ 2048, every operand 16-byte aligned, the
     * modulation's stride a multiple of 4): what a norm prologue requires, as it has no other path.
     */
    boolean rowsFitRegisters() {
        return d % 4 == 0 && d <= ROW_COLUMNS && modStride % 4 == 0 && aligned16(x) && aligned16(weight) && aligned16(shift) && aligned16(scale);
    }

    /** The longest row norm_row.cuh holds in a warp's registers: 32 lanes × 4 floats × its ROW_VECS. */
    static final int ROW_COLUMNS = 32 * 4 * 16;

    private static boolean aligned16(DeviceAddress a) {
        return a == null || a.address() % 16 == 0;
    }
}
