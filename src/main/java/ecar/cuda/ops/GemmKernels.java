package ecar.cuda.ops;

import ecar.backend.Activation;
import ecar.cuda.DeviceAddress;
import ecar.cuda.LaunchShape;

import static ecar.cuda.ops.OpCheck.buffer;
import static ecar.cuda.ops.OpCheck.optional;
import static ecar.cuda.ops.OpCheck.positive;
import static ecar.cuda.ops.OpCheck.that;

/**
 * kernels/gemm.cu: Y[M, N] = X[M, K] · W[N, K]ᵀ (+ bias) → activation → epilogue, bf16 operands, fp32 accumulation,
 * Y in float32 or bf16. The CPU twin is {@code Backend.linear} (with {@code mul} and {@code gatedResidual} for the
 * fused epilogues).
 *
 * <p>Limits, checked here: K a multiple of 8 (a 16-byte chunk of a row is wholly inside K or wholly past it), every
 * matrix 16-byte aligned, buffers large enough for their shapes, M ≤ 65535 tiles, Y disjoint from X, W, mul and gate
 * (Y may be res). FlowAR's MLP hidden width int(4d·2/3) = 2730 (d = 1024) is not a multiple of 8: pad it to 2736 when
 * loading the weights (zero rows of fc1_g/fc1_x and their biases, zero columns of fc2), which is exact;
 * GemmGpuTest.flowArGatedMlpPaddedHidden runs exactly that against the unpadded CPU MLP.
 */
public final class GemmKernels {

    /** What follows the activation (the {@code post} parameter of gemm.cu). */
    public enum Post {
        /** y */
        STORE,
        /** y ⊙ mul[m, n] (bf16): FlowAR's gated MLP, GELU(x·Wgᵀ + bg) ⊙ (x·Wxᵀ + bx). */
        MUL,
        /** res[m, n] + gate[m / gateRatio, n] · y (float32; gate null means 1; res may be Y): adaLN-Zero. */
        RESIDUAL
    }

    /** The fused epilogue: bias [N] f32 (or null), activation, and what follows it. */
    public record Epilogue(DeviceAddress bias, Activation act, Post post, DeviceAddress res, DeviceAddress gate, int gateRatio,
                           DeviceAddress mul) {
        public static Epilogue of(DeviceAddress bias, Activation act) {
            return new Epilogue(bias, act, Post.STORE, null, null, 1, null);
        }

        /** GELU(erf)(x·Wᵀ + bias) ⊙ mul. */
        public static Epilogue gatedGelu(DeviceAddress bias, DeviceAddress mul) {
            return gated(bias, Activation.GELU_ERF, mul);
        }

        /** act(x·Wᵀ + bias) ⊙ mul (mul bf16 [M, N]). */
        public static Epilogue gated(DeviceAddress bias, Activation act, DeviceAddress mul) {
            return new Epilogue(bias, act, Post.MUL, null, null, 1, mul);
        }

        /** res + gate[row / gateRatio] ⊙ (x·Wᵀ + bias). */
        public static Epilogue residual(DeviceAddress bias, DeviceAddress res, DeviceAddress gate, int gateRatio) {
            return new Epilogue(bias, Activation.NONE, Post.RESIDUAL, res, gate, gateRatio, null);
        }
    }

    /** The two tiles gemm.cu (and conv.cu) are compiled for. */
    public enum Tile {
        T128(128, 256, 65536),
        T64(64, 128, 32768);

        public final int size, threads, sharedBytes;

        Tile(int size, int threads, int sharedBytes) {
            this.size = size;
            this.threads = threads;
            this.sharedBytes = sharedBytes;
        }

        /** The big tile when it alone gives every SM a block; the small one otherwise (small M or N). */
        public static Tile choose(int m, int n, int multiprocessors) {
            long bigTiles = (long) OpCheck.ceilDiv(m, 128) * OpCheck.ceilDiv(n, 128);
            return bigTiles >= multiprocessors ? T128 : T64;
        }

        LaunchShape shape(int m, int n) {
            return new LaunchShape(OpCheck.ceilDiv(n, size), OpCheck.ceilDiv(m, size), 1, threads, 1, 1, sharedBytes);
        }
    }

    static String signature(String kernel) {
        return kernel + "(ptr y, ptr x, ptr w, ptr? bias, ptr? res, ptr? gate, ptr? mul, i32 M, i32 N, i32 K, i32 act, i32 post, i32 gateRatio)";
    }

    private final Launcher launcher;
    private final int multiprocessors;

    /** @param multiprocessors the device's SM count, for the tile choice */
    public GemmKernels(Launcher launcher, int multiprocessors) {
        this.launcher = launcher;
        this.multiprocessors = multiprocessors;
    }

    /** Y = epilogue(X · Wᵀ) with the tile chosen for the shape. */
    public void linear(DeviceAddress y, Precision out, DeviceAddress x, DeviceAddress w, int m, int n, int k, Epilogue e) {
        linear(Tile.choose(m, n, multiprocessors), y, out, x, w, m, n, k, e);
    }

    public void linear(Tile tile, DeviceAddress y, Precision out, DeviceAddress x, DeviceAddress w, int m, int n, int k, Epilogue e) {
        String op = "gemm";
        positive(op, "M", m);
        positive(op, "N", n);
        positive(op, "K", k);
        that(k % 8 == 0, op, "K = " + k + " is not a multiple of 8 (rows of X and W are read in 16-byte chunks of 8 bf16)");
        that(OpCheck.ceilDiv(m, tile.size) <= 65535, op, "M = " + m + " needs more than 65535 row tiles of " + tile.size);
        buffer(op, "X", x, 2L * m * k, 16, "[" + m + ", " + k + "] bf16");
        buffer(op, "W", w, 2L * n * k, 16, "[" + n + ", " + k + "] bf16");
        buffer(op, "Y", y, (long) out.bytes * m * n, 16, "[" + m + ", " + n + "] " + out.suffix);
        checkEpilogue(op, e, m, n);
        OpCheck.disjoint(op, "Y", y, "X", x);
        OpCheck.disjoint(op, "Y", y, "W", w);
        OpCheck.disjoint(op, "Y", y, "mul", e.mul());
        OpCheck.disjoint(op, "Y", y, "gate", e.gate());
        launcher.launch("gemm", signature("gemm_bf16_" + tile.name().toLowerCase() + "_" + out.suffix), tile.shape(m, n),
                y, x, w, e.bias(), e.res(), e.gate(), e.mul(), m, n, k, e.act().ordinal(), e.post().ordinal(), e.gateRatio());
    }

    /** Shared with the convolution, whose epilogue is the same code. */
    static void checkEpilogue(String op, Epilogue e, int m, int n) {
        that(e != null && e.act() != null && e.post() != null, op, "epilogue, its activation and its post step must be given");
        optional(op, "bias", e.bias(), 4L * n, 4, "[" + n + "] f32");
        switch (e.post()) {
            case STORE -> that(e.res() == null && e.gate() == null && e.mul() == null, op, "a STORE epilogue takes no res, gate or mul");
            case MUL -> {
                buffer(op, "mul", e.mul(), 2L * m * n, 16, "[" + m + ", " + n + "] bf16");
                that(e.res() == null && e.gate() == null, op, "a MUL epilogue takes no res or gate");
            }
            case RESIDUAL -> {
                buffer(op, "res", e.res(), 4L * m * n, 16, "[" + m + ", " + n + "] f32");
                that(e.gateRatio() >= 1 && m % e.gateRatio() == 0, op,
                        "gateRatio = " + e.gateRatio() + " must be at least 1 and divide M = " + m + " (rows of Y per gate row)");
                optional(op, "gate", e.gate(), 4L * (m / e.gateRatio()) * n, 4, "[" + (m / e.gateRatio()) + ", " + n + "] f32");
                that(e.mul() == null, op, "a RESIDUAL epilogue takes no mul");
            }
        }
    }
}
