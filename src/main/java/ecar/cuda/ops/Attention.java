package ecar.cuda.ops;

import ecar.cuda.DeviceAddress;
import ecar.cuda.Kernel;
import ecar.cuda.KernelModule;
import ecar.cuda.LaunchShape;
import ecar.cuda.Stream;

/**
 * Launches of kernels/attention.cu. The pure parts (which kernel, the launch shape, the checks) need no GPU.
 * Operands are bf16 [B, L, ·] with rows {@code ld*} elements apart and samples {@code *BatchStride} elements apart.
 */
public final class Attention {
    private Attention() {}

    public static final int BLOCK_N = 64, THREADS = 128;
    public static final String FAMILY = "attention";

    static final String KV_APPEND = "kv_append(ptr cache_k, ptr cache_v, ptr k, ptr v, i32 batch, i32 l_new, i32 width, i32 ld, i32 pos, i32 cap, "
            + "i32 head_dim, ptr? rope_cos, ptr? rope_sin, ptr? rows, i32 table_rows, ptr? q, ptr? q_out)";
    static final String ROPE2D = "rope2d_f32(ptr out, ptr x, i32 batch, i32 l, i32 width, i32 ld_x, i32 head_dim, ptr rope_cos, ptr rope_sin)";
    static final String ROPE2D_BF16 = "rope2d_bf16(ptr out, ptr x, i32 batch, i32 l, i32 width, i32 ld_x, i32 head_dim, ptr rope_cos, ptr rope_sin)";
    static final String QKV_TO_BF16 = "qkv_to_bf16(ptr out, ptr qkv, i32 batch, i32 l, i32 width, i32 head_dim, ptr? rope_cos, ptr? rope_sin)";
    static final String CAST_TO_BF16 = "cast_f32_bf16(ptr out, ptr in, i64 n)";
    static final String CAST_TO_F32 = "cast_bf16_f32(ptr out, ptr in, i64 n)";

    /** Every signature this class launches (checked against the PTX parameter lists by a test). */
    static java.util.List<String> signatures() {
        java.util.List<String> all = new java.util.ArrayList<>(java.util.List.of(KV_APPEND, ROPE2D, ROPE2D_BF16, QKV_TO_BF16, CAST_TO_BF16, CAST_TO_F32));
        for (int d : new int[]{64, 72, 96, 128}) {
            all.add(signature(d, false));
            all.add(signature(d, true));
        }
        for (int d : new int[]{64, 72}) {
            all.add(signature(d, false, 1));
            all.add(signature(d, true, 1));
        }
        return all;
    }

    /** The shape of one attention call, in elements. */
    public record Problem(int batch, int heads, int headDim, int lq, int lk,
                          long qBatchStride, long kvBatchStride, long oBatchStride, int ldQ, int ldKv, int ldO) {

        /** Contiguous q [B, Lq, H·d] and k, v, o [B, Lk|Lq, H·d]. */
        public static Problem dense(int batch, int heads, int headDim, int lq, int lk) {
            int w = heads * headDim;
            return new Problem(batch, heads, headDim, lq, lk, (long) lq * w, (long) lk * w, (long) lq * w, w, w, w);
        }

        /** Queries against the first lk tokens of a KV cache of {@code capacity} tokens a sample. */
        public static Problem cached(int batch, int heads, int headDim, int lq, int lk, int capacity) {
            int w = heads * headDim;
            return new Problem(batch, heads, headDim, lq, lk, (long) lq * w, (long) capacity * w, (long) lq * w, w, w, w);
        }

        public Problem {
            paddedHeadDim(headDim);
            if (batch < 1 || batch > 65535 || heads < 1 || heads > 65535 || lq < 1 || lk < 1) {
                throw new IllegalArgumentException("attention: batch " + batch + ", heads " + heads + ", lq " + lq + ", lk " + lk
                        + "; expected batch and heads in 1..65535 and both lengths ≥ 1");
            }
            if (ldQ % 8 != 0 || ldKv % 8 != 0 || ldO % 2 != 0 || qBatchStride % 8 != 0 || kvBatchStride % 8 != 0) {
                throw new IllegalArgumentException("attention: row strides (" + ldQ + ", " + ldKv + ") and batch strides must be multiples of 8 elements (16-byte rows)");
            }
            if (ldQ < heads * headDim || ldKv < heads * headDim || ldO < heads * headDim) {
                throw new IllegalArgumentException("attention: row strides " + ldQ + "/" + ldKv + "/" + ldO + " are narrower than " + heads + " heads × " + headDim);
            }
        }

        /** Multiply-adds of q·kᵀ and p·v, ×2 for FLOPs (no mask). */
        public double flops() {
            return 4.0 * batch * heads * (double) lq * lk * headDim;
        }
    }

    /** The head size the kernel works in: a multiple of 16 (72 → 80); only compiled sizes are accepted. */
    /** True when kernels/attention.cu has a kernel for head size d (callers route other sizes elsewhere). */
    public static boolean hasKernel(int d) {
        return d == 64 || d == 72 || d == 96 || d == 128;
    }

    public static int paddedHeadDim(int d) {
        return switch (d) {
            case 64 -> 64;
            case 72 -> 80;
            case 96 -> 96;
            case 128 -> 128;
            default -> throw new IllegalArgumentException("attention: head size " + d + " has no compiled kernel; kernels/attention.cu has 64, 72, 96 and 128");
        };
    }

    /** Query m-tiles (16 rows) per warp of the default kernel: 2 for head sizes 64 and 72, else 1. */
    public static int defaultMTiles(int d) {
        paddedHeadDim(d);
        return d == 64 || d == 72 ? 2 : 1;
    }

    static void checkMTiles(int d, int mTiles) {
        if (mTiles != defaultMTiles(d) && !(mTiles == 1 && (d == 64 || d == 72))) {
            throw new IllegalArgumentException("attention: no kernel for head size " + d + " with " + mTiles + " m-tiles a warp");
        }
    }

    /** Query rows a CTA: 4 warps × 16 rows × m-tiles. */
    public static int blockM(int mTiles) {
        return 64 * mTiles;
    }

    /** Dynamic shared memory of attention_fwd: the Q tile and two K and two V tiles of 64 rows, (DP + 8) bf16 a row. */
    public static int sharedBytes(int d, int mTiles) {
        return (blockM(mTiles) + 4 * BLOCK_N) * (paddedHeadDim(d) + 8) * 2;
    }

    public static int sharedBytes(int d) {
        return sharedBytes(d, defaultMTiles(d));
    }

    public static LaunchShape shape(Problem p, int mTiles) {
        int bm = blockM(mTiles);
        return LaunchShape.of((p.lq() + bm - 1) / bm, p.heads(), p.batch(), THREADS, sharedBytes(p.headDim(), mTiles));
    }

    public static LaunchShape shape(Problem p) {
        return shape(p, defaultMTiles(p.headDim()));
    }

    public static String signature(int d, boolean bf16Out, int mTiles) {
        checkMTiles(d, mTiles);
        return "attention_fwd_d" + d + (mTiles == defaultMTiles(d) ? "" : "_m" + mTiles) + "_" + (bf16Out ? "bf16" : "f32")
                + "(ptr q, ptr k, ptr v, ptr o, i32 lq, i32 lk, i64 q_bstride, i64 kv_bstride, "
                + "i64 o_bstride, i32 ld_q, i32 ld_kv, i32 ld_o, f32 scale_log2, ptr? rope_cos, ptr? rope_sin, i32 rope_q, i32 rope_k, "
                + "ptr? stage_ends, i32 n_stages, i32 q_pos0)";
    }

    public static String signature(int d, boolean bf16Out) {
        return signature(d, bf16Out, defaultMTiles(d));
    }

    /** log2(e)/√d: the kernel's softmax works in base 2. */
    public static float scaleLog2(int d) {
        return (float) (1.0 / Math.sqrt(d) / Math.log(2.0));
    }

    /** RoPE tables (cos, sin [rows, d/2] f32, CpuAttention.ropeTables) applied to Q rows and/or K rows on load. */
    public record Rope(DeviceAddress cos, DeviceAddress sin, int rows, boolean onQ, boolean onK) {}

    /** Stage-block-causal masking: cumulative stage ends (int32 on the device), query row i at position qPos0 + i. */
    public record Stages(DeviceAddress ends, int count, int qPos0) {}

    static void checkAligned(String what, DeviceAddress a, long elementOffset) {
        if (((a.address() + 2 * elementOffset) & 15) != 0) {
            throw new IllegalArgumentException("attention: " + what + " ('" + a.label() + "') is not 16-byte aligned");
        }
    }

    /** Checks everything a launch needs that can be known without the GPU. */
    public static void validate(Problem p, Rope rope, Stages stages) {
        if (rope != null) {
            if ((rope.onQ() && rope.rows() < p.lq()) || (rope.onK() && rope.rows() < p.lk())) {
                throw new IllegalArgumentException("attention: RoPE tables have " + rope.rows() + " rows but " + (rope.onQ() ? p.lq() + " queries" : "")
                        + (rope.onK() ? " " + p.lk() + " keys" : "") + " are rotated");
            }
            if (p.headDim() % 4 != 0) throw new IllegalArgumentException("attention: 2D RoPE needs a head size that is a multiple of 4");
        }
        if (stages != null && (stages.count() < 1 || stages.count() > 64 || stages.qPos0() < 0)) {
            throw new IllegalArgumentException("attention: " + stages.count() + " stages at query position " + stages.qPos0() + "; expected 1..64 stages");
        }
    }

    public static void forward(Stream stream, Problem p, DeviceAddress q, DeviceAddress k, DeviceAddress v, DeviceAddress o, boolean bf16Out,
                               Rope rope, Stages stages) {
        forward(stream, p, q, k, v, o, bf16Out, rope, stages, defaultMTiles(p.headDim()));
    }

    /** As above with an explicit kernel variant: {@code mTiles} query m-tiles a warp (2 or 1 for head sizes 64 and 72). */
    public static void forward(Stream stream, Problem p, DeviceAddress q, DeviceAddress k, DeviceAddress v, DeviceAddress o, boolean bf16Out,
                               Rope rope, Stages stages, int mTiles) {
        validate(p, rope, stages);
        checkAligned("q", q, 0);
        checkAligned("k", k, 0);
        checkAligned("v", v, 0);
        Kernel kernel = KernelModule.get(FAMILY).kernel(signature(p.headDim(), bf16Out, mTiles));
        kernel.launch(shape(p, mTiles), stream, q, k, v, o, p.lq(), p.lk(), p.qBatchStride(), p.kvBatchStride(), p.oBatchStride(),
                p.ldQ(), p.ldKv(), p.ldO(), scaleLog2(p.headDim()),
                rope == null ? null : rope.cos(), rope == null ? null : rope.sin(),
                rope != null && rope.onQ() ? 1 : 0, rope != null && rope.onK() ? 1 : 0,
                stages == null ? null : stages.ends(), stages == null ? 0 : stages.count(), stages == null ? 0 : stages.qPos0());
    }

    /**
     * Appends new f32 keys and values [B, lNew, width] (rows {@code ld} floats apart: width, or 2·width or 3·width read
     * from a fused kv or qkv) to bf16 caches [B, capacity, width] at token pos, the keys rotated by {@code rope} where
     * given; where {@code qOut} is given, also the queries {@code q} (same rows and stride), rotated the same way, as
     * bf16 [B, lNew, width] into it: attention's operand in the same pass.
     */
    public static void kvAppend(Stream stream, DeviceAddress cacheK, DeviceAddress cacheV, DeviceAddress k, DeviceAddress v,
                                int batch, int lNew, int width, int ld, int pos, int capacity, int headDim, RopeTable rope,
                                DeviceAddress q, DeviceAddress qOut) {
        if (pos < 0 || pos + lNew > capacity) {
            throw new IllegalArgumentException("kv_append: tokens [" + pos + ", " + (pos + lNew) + ") do not fit a cache of " + capacity);
        }
        if (width % 2 != 0 || headDim % 2 != 0 || width % headDim != 0) {
            throw new IllegalArgumentException("kv_append: width " + width + " is not whole heads of an even size " + headDim);
        }
        if (ld < width || ld % 2 != 0) throw new IllegalArgumentException("kv_append: row stride " + ld + " must be even and at least the width " + width);
        if ((q == null) != (qOut == null)) throw new IllegalArgumentException("kv_append: the queries and their output come together; got only one");
        if (rope != null && rope.tableRows() < 1) throw new IllegalArgumentException("kv_append: RoPE tables of " + rope.tableRows() + " rows");
        if (rope != null && rope.rows() == null && rope.tableRows() < lNew) {
            throw new IllegalArgumentException("kv_append: " + lNew + " tokens rotated by row index need tables of as many rows, got " + rope.tableRows());
        }
        KernelModule.get(FAMILY).kernel(KV_APPEND).launch(LaunchShape.linear((long) batch * lNew * width / 2, 256), stream, cacheK, cacheV, k, v,
                batch, lNew, width, ld, pos, capacity, headDim, rope == null ? null : rope.cos(), rope == null ? null : rope.sin(),
                rope == null ? null : rope.rows(), rope == null ? 0 : rope.tableRows(), q, qOut);
    }

    /** out = rope2d(x) for f32 [B, L, width], table rows = token index. */
    public static void rope2d(Stream stream, DeviceAddress out, DeviceAddress x, int batch, int l, int width, int headDim, DeviceAddress cos, DeviceAddress sin) {
        rope2d(stream, out, false, x, batch, l, width, width, headDim, cos, sin);
    }

    /**
     * As above with out in bf16 when {@code bf16Out} (the rotated, rounded operand of attention in one pass) and x's rows
     * {@code ldX} floats apart (3·width: the queries of a fused qkv read in place).
     */
    public static void rope2d(Stream stream, DeviceAddress out, boolean bf16Out, DeviceAddress x, int batch, int l, int width, int ldX, int headDim,
                              DeviceAddress cos, DeviceAddress sin) {
        if (ldX < width || ldX % 2 != 0) throw new IllegalArgumentException("rope2d: row stride " + ldX + " must be even and at least the width " + width);
        KernelModule.get(FAMILY).kernel(bf16Out ? ROPE2D_BF16 : ROPE2D)
                .launch(LaunchShape.linear((long) batch * l * width / 2, 256), stream, out, x, batch, l, width, ldX, headDim, cos, sin);
    }

    /** A fused f32 qkv [B, L, 3·width] as bf16 in one pass, q and k rotated by the 2D RoPE when the tables are given. */
    public static void qkvToBf16(Stream stream, DeviceAddress out, DeviceAddress qkv, int batch, int l, int width, int headDim, DeviceAddress cos,
                                 DeviceAddress sin) {
        if (width % headDim != 0 || width % 2 != 0) throw new IllegalArgumentException("qkv_to_bf16: width " + width + " is not whole heads of " + headDim);
        if (cos != null && headDim % 4 != 0) throw new IllegalArgumentException("qkv_to_bf16: 2D RoPE needs a head size that is a multiple of 4, got " + headDim);
        KernelModule.get(FAMILY).kernel(QKV_TO_BF16)
                .launch(LaunchShape.linear((long) batch * l * 3 * width / 2, 256), stream, out, qkv, batch, l, width, headDim, cos, sin);
    }

    public static void castToBf16(Stream stream, DeviceAddress out, DeviceAddress in, long n) {
        KernelModule.get(FAMILY).kernel(CAST_TO_BF16).launch(LaunchShape.linear(n, 256), stream, out, in, n);
    }

    public static void castToF32(Stream stream, DeviceAddress out, DeviceAddress in, long n) {
        KernelModule.get(FAMILY).kernel(CAST_TO_F32).launch(LaunchShape.linear(n, 256), stream, out, in, n);
    }
}
