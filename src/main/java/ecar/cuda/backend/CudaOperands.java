package ecar.cuda.backend;

import ecar.cuda.CudaTensor;
import ecar.cuda.DeviceAddress;
import ecar.cuda.Stream;
import ecar.cuda.ops.Attention;
import ecar.tensor.DType;
import ecar.tensor.Shape;
import ecar.tensor.Tensor;

import java.util.Map;
import java.util.WeakHashMap;

/**
 * The tensors CudaBackend's ops are given, as the operands its kernels read: checked to be its own, float32 (bf16
 * weights widened once), bf16 (cast in scratch for the tensor cores), and K padded to the GEMM's and the
 * convolution's chunks of 8. No CPU twin: the CPU backend reads every tensor as it is.
 *
 * <p>K padding: the GEMM and the convolution read K (Ci) in chunks of 8. A weight whose last dimension is not a
 * multiple of 8 (FlowAR's MLP hidden 2730, the VAE's 4 latent channels) gets a zero-padded bf16 twin on first use,
 * kept while the weight lives, and the activation is padded with zero columns in scratch at each call: the extra
 * products are exact zeros.
 */
final class CudaOperands {
    private final CudaMemory memory;
    private final Stream stream;
    // Derived copies of constants, made once and kept while the constant lives (identity keys: CudaTensor has no equals).
    private final Map<CudaTensor, CudaTensor> paddedWeights = new WeakHashMap<>(), widened = new WeakHashMap<>();

    CudaOperands(CudaMemory memory, Stream stream) {
        this.memory = memory;
        this.stream = stream;
    }

    static CudaTensor c(Tensor t, String op) {
        if (t instanceof CudaTensor ct) return ct;
        throw new IllegalArgumentException(op + ": the CUDA backend was given a " + (t == null ? "null" : t.getClass().getSimpleName())
                + "; expected a tensor it made (upload host tensors first)");
    }

    static CudaTensor f32(Tensor t, String op) {
        CudaTensor ct = c(t, op);
        if (ct.dtype() != DType.F32) throw new IllegalArgumentException(op + ": expected a float32 tensor, got " + ct.dtype() + " " + ct.shape());
        return ct;
    }

    /** t in bf16: itself when it is, else a cast into the current scope. */
    CudaTensor bf16(Tensor t, String op) {
        CudaTensor ct = c(t, op);
        if (ct.dtype() == DType.BF16) return ct;
        CudaTensor o = memory.alloc(ct.shape(), DType.BF16, op + " bf16 operand");
        Attention.castToBf16(stream, o.buffer(), ct.buffer(), ct.shape().numel());
        return o;
    }

    /** K rounded up to the GEMM's and the convolution's 8-element (16-byte) chunks. */
    static int padTo8(int k) {
        return (k + 7) / 8 * 8;
    }

    /**
     * The activation [rows, k] as the bf16 operand [rows, kp] in the current scope: zero columns past k, so that with
     * the weight's zero columns they add exact zeros (FlowAR's hidden 2730, the VAE's 4 latent channels).
     */
    CudaTensor gemmInput(Tensor x, int rows, int k, int kp, String op) {
        CudaTensor xb = bf16(x, op);
        return kp == k ? xb : padColumns(xb.view(Shape.of(rows, k)), kp, false, op);
    }

    /**
     * The weight as bf16 with its last dimension (K, or Ci of a [Co, 3, 3, Ci] kernel) padded to kp with zeros. A bf16
     * weight that needs padding gets a padded twin once, kept as long as the weight lives; a float32 tensor (one made
     * with upload) is converted for this call only.
     */
    CudaTensor gemmWeight(Tensor w, int kp, String op) {
        CudaTensor wt = c(w, op);
        int k = wt.shape().last();
        if (wt.dtype() == DType.F32) {
            CudaTensor wb = bf16(wt, op);
            return kp == k ? wb : padColumns(wb, kp, false, op);
        }
        if (kp == k) return wt;
        return paddedWeights.computeIfAbsent(wt, t -> padColumns(t, kp, true, op));
    }

    /** src bf16 [.., k] copied into zeros [.., kp]: in the current scope, or in an allocation of its own when {@code keep}. */
    private CudaTensor padColumns(CudaTensor src, int kp, boolean keep, String op) {
        Shape s = src.shape();
        int k = s.last();
        Shape ps = s.withLast(kp);
        String label = op + " operand padded to K = " + kp;
        CudaTensor o = keep ? memory.allocOwned(ps, DType.BF16, label) : memory.alloc(ps, DType.BF16, label);
        o.buffer().fill32(0, stream);
        o.buffer().copy2dFrom(src.buffer(), 0, 2L * k, 0, 2L * kp, 2L * k, s.rows(), stream);
        return o;
    }

    /** An optional float32 operand's device range (bias, norm weight), or null. */
    DeviceAddress address(Tensor t, String op) {
        return t == null ? null : f32In(t, op).buffer();
    }

    /**
     * t as float32: itself; for a bf16 weight (a position embedding or a table) a float32 twin made once and kept as long
     * as t lives; for a bf16 activation (a matmul operand read by something else) a float32 copy in the current scope.
     * Only in-place ops need {@link #f32} instead.
     */
    CudaTensor f32In(Tensor t, String op) {
        CudaTensor ct = c(t, op);
        if (ct.dtype() == DType.F32) return ct;
        if (!ct.constant()) return widen(ct, memory.alloc(ct.shape(), DType.F32, op + " operand widened to f32"));
        return widened.computeIfAbsent(ct, b -> widen(b, memory.allocOwned(b.shape(), DType.F32, op + " weight widened to f32")));
    }

    private CudaTensor widen(CudaTensor bf16, CudaTensor o) {
        if (bf16.shape().numel() > 0) Attention.castToF32(stream, o.buffer(), bf16.buffer(), bf16.shape().numel());
        return o;
    }
}
