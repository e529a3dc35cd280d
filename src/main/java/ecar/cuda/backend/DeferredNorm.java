package ecar.cuda.backend;

import ecar.cuda.CudaTensor;
import ecar.cuda.ops.NormInput;
import ecar.tensor.Tensor;

import java.util.function.BiConsumer;
import java.util.function.Predicate;

/**
 * A norm that the op after it may compute in its GEMM's prologue (gemm_skinny's norm entries,
 * GemmKernels.linearNormed), which removes the norm's own launch at batch 1.
 *
 * <p>normForMatmul and normModulate {@link #hold} such a norm here: its output allocated, not yet written. The
 * backend's next op then either {@link #take}s it (a linear whose GEMM fuses it, reading x where the norm would have)
 * or, whatever that op is, {@link #flush}es it first: norm_rows is launched just before the op's own kernels. So the
 * stream holds the same work in the same order as without the deferral, and every value is the same; nothing runs in
 * between that could change the norm's inputs, since every other op flushes when it starts. A taken norm's output is
 * never written: it is marked so (CudaTensor.neverWritten), and any later use of it fails, naming the reason; models read
 * a norm's result once (Backend.normForMatmul).
 *
 * <p>Host-side bookkeeping only (no device calls of its own), so DeferredNormTest checks it without a GPU.
 */
final class DeferredNorm {
    private final BiConsumer<CudaTensor, NormInput> launch;
    private CudaTensor out;
    private NormInput in;
    /** The tensors whose memory the held norm reads: kept reachable until it runs (their storage is freed when unreachable). */
    private Object[] operands;
    /** Norms taken by GEMMs so far. */
    private long taken;

    /** @param launch runs a norm into its output (NormKernels.rows in bf16) */
    DeferredNorm(BiConsumer<CudaTensor, NormInput> launch) {
        this.launch = launch;
    }

    /** Holds the norm {@code in} whose output is {@code out} (running any norm held before it first). */
    void hold(CudaTensor out, NormInput in, Object... operands) {
        flush();
        this.out = out;
        this.in = in;
        this.operands = operands;
    }

    /** Runs the held norm, if any, into its output. */
    void flush() {
        if (out == null) return;
        CudaTensor o = out;
        NormInput i = in;
        clear();
        launch.accept(o, i);
    }

    /**
     * The held norm's input where {@code x} is its output and {@code fuses} accepts it: the caller then computes it in
     * its GEMM, and the output is marked never written ({@code consumer} names the op, for the message of a later use).
     * Otherwise null, after running the held norm (if any).
     */
    NormInput take(Tensor x, Predicate<NormInput> fuses, String consumer) {
        if (out != null && x == out && fuses.test(in)) {
            NormInput i = in;
            out.neverWritten("its norm ran in the prologue of the GEMM of " + consumer + ", which read it; a norm's result is read once "
                    + "(Backend.normForMatmul), or set " + ecar.cuda.ops.GemmKernels.NORM_PROLOGUE_ENV + "=off");
            clear();
            taken++;
            return i;
        }
        flush();
        return null;
    }

    /** How many norms GEMMs have taken so far (each a norm_rows launch fewer). */
    long taken() {
        return taken;
    }

    /** Whether a norm is held (tests). */
    boolean holding() {
        return out != null;
    }

    private void clear() {
        out = null;
        in = null;
        operands = null;
    }
}
