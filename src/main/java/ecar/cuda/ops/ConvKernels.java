package ecar.cuda.ops;

import ecar.backend.Activation;
import ecar.cuda.DeviceAddress;
import ecar.cuda.LaunchShape;

import static ecar.cuda.ops.OpCheck.buffer;
import static ecar.cuda.ops.OpCheck.optional;
import static ecar.cuda.ops.OpCheck.positive;
import static ecar.cuda.ops.OpCheck.that;

/**
 * kernels/conv.cu on channels-last images: the implicit-GEMM 3×3 convolution (stride 1, zero padding 1) on tensor
 * cores and nearest ×2 upsampling. A 1×1 convolution is {@link GemmKernels#linear} on [N·H·W, Ci]. CPU twins:
 * {@code Backend.conv3x3} and {@code Backend.upsampleNearest2x}.
 *
 * <p>Limits, checked here: Ci a multiple of 8 (pad 4 latent channels to 8 with zeros in both X and W), 16-byte
 * aligned operands.
 */
public final class ConvKernels {
    private final Launcher launcher;
    private final int multiprocessors;

    public ConvKernels(Launcher launcher, int multiprocessors) {
        this.launcher = launcher;
        this.multiprocessors = multiprocessors;
    }

    /**
     * Y [N, H, W, Co] = conv3x3(X [N, H, W, Ci] bf16, W [Co, 3, 3, Ci] bf16) + bias [Co] f32 → act, plus res
     * [N, H, W, Co] f32 when not null (a ResnetBlock's skip; may be Y).
     */
    public void conv3x3(DeviceAddress y, Precision out, DeviceAddress x, DeviceAddress w, DeviceAddress bias, DeviceAddress res,
                        int n, int h, int wd, int ci, int co, Activation act) {
        String op = "conv3x3";
        positive(op, "N", n);
        positive(op, "H", h);
        positive(op, "W", wd);
        positive(op, "Ci", ci);
        positive(op, "Co", co);
        that(ci % 8 == 0, op, "Ci = " + ci + " is not a multiple of 8 (a 16-byte chunk of 8 channels must stay in one tap; pad with zero channels)");
        long pixels = (long) n * h * wd;
        that(pixels <= Integer.MAX_VALUE, op, pixels + " pixels exceed 2^31-1");
        int m = (int) pixels;
        GemmKernels.Tile tile = GemmKernels.Tile.choose(m, co, multiprocessors);
        that(OpCheck.ceilDiv(m, tile.size) <= 65535, op, m + " pixels need more than 65535 row tiles of " + tile.size);
        String img = "[" + n + ", " + h + ", " + wd + ", ";
        buffer(op, "X", x, 2L * pixels * ci, 16, img + ci + "] bf16");
        buffer(op, "W", w, 2L * co * 9 * ci, 16, "[" + co + ", 3, 3, " + ci + "] bf16");
        buffer(op, "Y", y, out.bytes * pixels * co, 16, img + co + "] " + out.suffix);
        optional(op, "bias", bias, 4L * co, 4, "[" + co + "] f32");
        optional(op, "res", res, 4L * pixels * co, 16, img + co + "] f32");
        that(act != null, op, "activation must be given (Activation.NONE for none)");
        OpCheck.disjoint(op, "Y", y, "X", x);
        OpCheck.disjoint(op, "Y", y, "W", w);
        String kernel = "conv3x3_bf16_" + tile.name().toLowerCase() + "_" + out.suffix;
        launcher.launch("conv", kernel + "(ptr y, ptr x, ptr w, ptr? bias, ptr? res, i32 n, i32 h, i32 w, i32 ci, i32 co, i32 act)",
                tile.shape(m, co), y, x, w, bias, res, n, h, wd, ci, co, act.ordinal());
    }

    /** [N, H, W, C] → [N, 2H, 2W, C], elements f32 or bf16 (both buffers the same precision). */
    public void upsampleNearest2x(DeviceAddress y, DeviceAddress x, Precision p, int n, int h, int w, int c) {
        String op = "upsampleNearest2x";
        positive(op, "N", n);
        positive(op, "H", h);
        positive(op, "W", w);
        positive(op, "C", c);
        long in = (long) n * h * w * c;
        buffer(op, "x", x, p.bytes * in, p.bytes, "[" + n + ", " + h + ", " + w + ", " + c + "] " + p.suffix);
        buffer(op, "y", y, p.bytes * 4 * in, p.bytes, "[" + n + ", " + 2 * h + ", " + 2 * w + ", " + c + "] " + p.suffix);
        launcher.launch("conv", "upsample_nearest2x_" + p.suffix + "(ptr y, ptr x, i32 n, i32 h, i32 w, i32 c)",
                LaunchShape.linear(4 * in, 256), y, x, n, h, w, c);
    }
}
