package ecar.cuda.backend;

import ecar.backend.Activation;
import ecar.backend.Backend;
import ecar.backend.Check;
import ecar.backend.RopeTables;

import ecar.cuda.CudaTensor;
import ecar.cuda.DeviceBuffer;
import ecar.cuda.Stream;
import ecar.cuda.TensorMapEncoder;
import ecar.cuda.ops.Attention;
import ecar.cuda.ops.AttentionSm90;
import ecar.cuda.ops.EmbedKernels;
import ecar.cuda.ops.GemmKernels;
import ecar.cuda.ops.Launcher;
import ecar.cuda.ops.NormKernels;
import ecar.cuda.ops.Precision;
import ecar.tensor.DType;
import ecar.tensor.Shape;
import ecar.tensor.Tensor;

import java.util.HashMap;
import java.util.Map;

/**
 * CudaBackend's attention, once its arguments are checked: on Hopper, attention_sm90 (TMA + wgmma) where it takes the
 * problem (head size 64, 72 or 128, no stage mask, at least 128 queries; the 2D RoPE applied to q and k before the bf16
 * cast); else the flash kernel of attention.cu (bf16 operands in scratch, the 2D RoPE and the stage-block-causal mask
 * applied inside it) where the head size has one; else GEMMs and a row softmax per sample and head; the 2D RoPE on
 * its own; and the RoPE tables, uploaded once. CPU twin: CpuAttention.
 *
 * @param backend opens the scratch scopes and applies the RoPE for the GEMM fallback
 * @param gemm the GEMM fallback's kernels, with {@code norms} and {@code embed}
 * @param launcher queues attention_sm90
 * @param hopperMaps encodes attention_sm90's tensor maps; null where the backend does not run the Hopper kernels
 * @param ropeTables cos, sin per (side, span, d), uploaded on first use and kept while the backend lives
 */
record CudaAttention(Backend backend, CudaMemory memory, CudaOperands operands, CudaSteps steps, Stream stream, GemmKernels gemm,
                     NormKernels norms, EmbedKernels embed, Launcher launcher, TensorMapEncoder hopperMaps, Map<String, CudaTensor[]> ropeTables) {

    CudaAttention(Backend backend, CudaMemory memory, CudaOperands operands, CudaSteps steps, Stream stream, GemmKernels gemm, NormKernels norms,
                  EmbedKernels embed, Launcher launcher, TensorMapEncoder hopperMaps) {
        this(backend, memory, operands, steps, stream, gemm, norms, embed, launcher, hopperMaps, new HashMap<>());
    }

    /** Whether attention_sm90 runs this problem: a backend on the Hopper kernels and a problem the kernel takes. */
    boolean hopper(Attention.Problem p, boolean staged) {
        return hopperMaps != null && AttentionSm90.takes(p, staged);
    }

    /** attention_sm90's CTA cap: one per SM (persistent), unless ECAR_ATTENTION_PERSISTENT=off. */
    static int hopperCtas() {
        return AttentionSm90.ctas(ecar.cuda.CudaContext.get().device().multiprocessors());
    }

    /** attention_sm90 on q, k, v (f32 or bf16 tensors; q and k rotated by the 2D RoPE as they become bf16, where asked) into out. */
    void hopper(String op, Attention.Problem p, Tensor q, Tensor k, Tensor v, CudaTensor out, int heads, int side, int span, boolean ropeQ, boolean ropeK) {
        CudaTensor qb = ropeQ ? rope2dBf16(operands.f32In(q, op), heads, side, span) : operands.bf16(q, op);
        CudaTensor kb = ropeK ? rope2dBf16(operands.f32In(k, op), heads, side, span) : operands.bf16(k, op), vb = operands.bf16(v, op);
        AttentionSm90.forward(launcher, hopperMaps, hopperCtas(), p, qb.buffer(), kb.buffer(), vb.buffer(), out.buffer(), true);
    }

    /**
     * Attention's output [B, Lq, W] in bf16: every model projects it next, and the projection's GEMM reads bf16, so the
     * kernels round it as they write it instead of a separate cast pass (Backend: a matmul operand).
     */
    CudaTensor output(Shape s, String op) {
        return memory.alloc(s, DType.BF16, op + " out (bf16)");
    }

    /** q, k, v as CudaBackend.attend has checked them. */
    Tensor attend(String op, Tensor q, Tensor k, Tensor v, int heads, int side, int span, boolean ropeQ, boolean ropeK, int[] stageTokens) {
        Shape sq = q.shape(), sk = k.shape();
        int d = sq.last() / heads;
        if (!Attention.hasKernel(d)) return attendWithGemms(op, q, k, v, heads, side, span, ropeQ, ropeK, stageTokens);
        Attention.Problem p = Attention.Problem.dense(sq.dim(0), heads, d, sq.dim(1), sk.dim(1));
        CudaTensor out = output(sq, op);
        try (Backend.Scope scratch = backend.scope()) {
            if (hopper(p, stageTokens != null)) {
                hopper(op, p, q, k, v, out, heads, side, span, ropeQ, ropeK);
                return out;
            }
            CudaTensor qb = operands.bf16(q, op), kb = operands.bf16(k, op), vb = operands.bf16(v, op);
            Attention.Rope rope = null;
            if (ropeQ) {
                CudaTensor[] cs = ropeTable(side, span, d);
                rope = new Attention.Rope(cs[0].buffer(), cs[1].buffer(), side * side, true, ropeK);
            }
            Attention.Stages stages = null;
            if (stageTokens != null) {
                steps.noHostTraffic(op + " with stage ends");
                int[] ends = new int[stageTokens.length];
                for (int i = 0, acc = 0; i < ends.length; i++) ends[i] = acc += stageTokens[i];
                DeviceBuffer e = memory.arena().allocate(4L * ends.length, "stage ends");
                e.upload(ends, stream);
                stages = new Attention.Stages(e, ends.length, 0);
            }
            Attention.forward(stream, p, qb.buffer(), kb.buffer(), vb.buffer(), out.buffer(), true, rope, stages);
        }
        return out;
    }

    /**
     * Attention for head sizes without a flash kernel (the VAE's one head of C channels; tiny test models): the RoPE
     * applied first, then per sample and head S = Q·Kᵀ (GEMM, f32), P = softmax(S/√d) (bf16), O = P·V (GEMM on Vᵀ), with
     * d and Lk padded to multiples of 8 by zero columns, which add nothing. B·H small launches: a fallback, not a
     * fast path.
     */
    private Tensor attendWithGemms(String op, Tensor q, Tensor k, Tensor v, int heads, int side, int span, boolean ropeQ, boolean ropeK,
                                   int[] stageTokens) {
        Check.that(stageTokens == null, op, "head size " + q.shape().last() / heads + " has no flash kernel, and the GEMM fallback has no stage mask");
        Shape sq = q.shape(), sk = k.shape();
        int batch = sq.dim(0), lq = sq.dim(1), lk = sk.dim(1), width = sq.last(), d = width / heads, dp = CudaOperands.padTo8(d), lkp = CudaOperands.padTo8(lk);
        CudaTensor out = memory.alloc(sq, DType.F32, op + " out");
        try (Backend.Scope scratch = backend.scope()) {
            CudaTensor qb = operands.bf16(ropeQ ? backend.rope2d(q, heads, side, span) : q, op),
                    kb = operands.bf16(ropeK ? backend.rope2d(k, heads, side, span) : k, op);
            CudaTensor vf = operands.f32In(v, op);
            CudaTensor qh = memory.zeroed(Shape.of(lq, dp), DType.BF16, op + " q head"), kh = memory.zeroed(Shape.of(lk, dp), DType.BF16, op + " k head");
            CudaTensor vh = memory.zeroed(Shape.of(lkp, d), DType.F32, op + " v head"), vt = memory.alloc(Shape.of(d, lkp), DType.BF16, op + " v head transposed");
            CudaTensor s = memory.alloc(Shape.of(lq, lk), DType.F32, op + " scores"), p = memory.zeroed(Shape.of(lq, lkp), DType.BF16, op + " probabilities");
            CudaTensor pr = lkp == lk ? p : memory.alloc(Shape.of(lq, lk), DType.BF16, op + " probability rows");
            CudaTensor o = memory.alloc(Shape.of(lq, d), DType.F32, op + " head out");
            GemmKernels.Epilogue plain = GemmKernels.Epilogue.of(null, Activation.NONE);
            for (int b = 0; b < batch; b++) {
                for (int h = 0; h < heads; h++) {
                    long qAt = (long) b * lq * width + (long) h * d, kAt = (long) b * lk * width + (long) h * d;
                    qh.buffer().copy2dFrom(qb.buffer(), 2 * qAt, 2L * width, 0, 2L * dp, 2L * d, lq, stream);
                    kh.buffer().copy2dFrom(kb.buffer(), 2 * kAt, 2L * width, 0, 2L * dp, 2L * d, lk, stream);
                    vh.buffer().copy2dFrom(vf.buffer(), 4 * kAt, 4L * width, 0, 4L * d, 4L * d, lk, stream);
                    embed.transpose(vt.buffer(), Precision.BF16, vh.buffer(), 1, lkp, d);
                    gemm.linear(s.buffer(), Precision.F32, qh.buffer(), kh.buffer(), lq, lk, dp, plain);
                    norms.softmaxRows(pr.buffer(), Precision.BF16, s.buffer(), lq, lk, (float) (1 / Math.sqrt(d)));
                    if (pr != p) p.buffer().copy2dFrom(pr.buffer(), 0, 2L * lk, 0, 2L * lkp, 2L * lk, lq, stream);
                    gemm.linear(o.buffer(), Precision.F32, p.buffer(), vt.buffer(), lq, d, lkp, plain);
                    out.buffer().copy2dFrom(o.buffer(), 0, 4L * d, 4 * qAt, 4L * width, 4L * d, lq, stream);
                }
            }
        }
        return out;
    }

    /**
     * Self-attention of a fused qkv [B, L, 3·W] (CudaBackend.selfAttention has checked it and that the head size has a
     * kernel): qkv_to_bf16 makes the bf16 operands in one pass (q and k rotated when {@code rope}), and the kernel reads
     * q, k and v from it at column offsets 0, W and 2W with row stride 3·W — no split, no second cast.
     */
    Tensor selfAttention(Tensor qkv, int heads, int side, int span, boolean rope) {
        String op = "selfAttention";
        Shape s = qkv.shape();
        int batch = s.dim(0), l = s.dim(1), w = s.last() / 3, d = w / heads;
        CudaTensor out = output(Shape.of(batch, l, w), op);
        try (Backend.Scope scratch = backend.scope()) {
            CudaTensor b16;
            if (!rope && qkv instanceof CudaTensor t && t.dtype() == DType.BF16) {
                b16 = t;   // a matmul operand (linearOperand, linearRope): already what qkv_to_bf16 would make of it
            } else {
                b16 = qkvToBf16(op, qkv, heads, rope ? side : 0, span);
            }
            long rowStride = 3L * w, bytes = b16.buffer().bytes();
            Attention.Problem p = new Attention.Problem(batch, heads, d, l, l, l * rowStride, l * rowStride, (long) l * w, 3 * w, 3 * w, w);
            DeviceBuffer q = b16.buffer(), k = q.slice(2L * w, bytes - 2L * w, op + " k"), v = q.slice(4L * w, bytes - 4L * w, op + " v");
            if (hopper(p, false)) {
                AttentionSm90.forward(launcher, hopperMaps, hopperCtas(), p, q, k, v, out.buffer(), true);
            } else {
                Attention.forward(stream, p, q, k, v, out.buffer(), true, null, null);
            }
        }
        return out;
    }

    /**
     * A fused qkv [B, L, 3·W] in bf16 by one qkv_to_bf16 pass, q and k rotated by the 2D RoPE of a side×side grid (side
     * 0: none): Backend.rope2dQk, and selfAttention's operand.
     */
    CudaTensor qkvToBf16(String op, Tensor qkv, int heads, int side, int span) {
        Shape s = qkv.shape();
        int batch = s.dim(0), l = s.dim(1), w = s.last() / 3, d = w / heads;
        CudaTensor f = operands.f32In(qkv, op), b16 = memory.alloc(s, DType.BF16, op + " qkv in bf16");
        CudaTensor[] cs = side > 0 ? ropeTable(side, span, d) : null;
        Attention.qkvToBf16(stream, b16.buffer(), f.buffer(), batch, l, w, d, cs == null ? null : cs[0].buffer(), cs == null ? null : cs[1].buffer());
        return b16;
    }

    /** cos, sin [side², d/2] of RopeTables.flowAr, uploaded once per (side, span, d). */
    CudaTensor[] ropeTable(int side, int span, int d) {
        return ropeTables.computeIfAbsent(side + "/" + span + "/" + d, key -> {
            steps.noHostTraffic("RoPE table " + key + " (first use)");
            float[][] cs = RopeTables.flowAr(side, span, d);
            CudaTensor[] t = new CudaTensor[2];
            for (int i = 0; i < 2; i++) {
                DeviceBuffer b = memory.keep(DeviceBuffer.allocate(4L * cs[i].length, "rope " + (i == 0 ? "cos " : "sin ") + key));
                b.upload(cs[i], stream);
                t[i] = new CudaTensor(Shape.of(side * side, d / 2), DType.F32, b, null);
            }
            return t;
        });
    }

    /** x rotated by the 2D RoPE and rounded to bf16 in one pass, in the current scope. */
    CudaTensor rope2dBf16(CudaTensor t, int heads, int side, int span) {
        Shape s = t.shape();
        int d = s.last() / heads;
        CudaTensor[] cs = ropeTable(side, span, d);
        CudaTensor o = memory.alloc(s, DType.BF16, "rope2d bf16");
        Attention.rope2d(stream, o.buffer(), true, t.buffer(), s.dim(0), s.dim(1), s.last(), s.last(), d, cs[0].buffer(), cs[1].buffer());
        return o;
    }

    /** x rotated by the 2D RoPE (CudaBackend.rope2d has checked the shapes). */
    CudaTensor rope2d(CudaTensor t, int heads, int side, int span) {
        Shape s = t.shape();
        int d = s.last() / heads;
        CudaTensor[] cs = ropeTable(side, span, d);
        CudaTensor o = memory.alloc(s, DType.F32, "rope2d");
        Attention.rope2d(stream, o.buffer(), t.buffer(), s.dim(0), s.dim(1), s.last(), d, cs[0].buffer(), cs[1].buffer());
        return o;
    }
}
