package ecar.cuda.ops;

import ecar.cuda.DeviceAddress;
import ecar.cuda.LaunchShape;
import ecar.cuda.TensorMap;
import ecar.cuda.TensorMapEncoder;
import ecar.cuda.TensorMapSpec;

import java.util.ArrayList;
import java.util.List;

/**
 * Launches of kernels/attention_sm90.cu, the FlashAttention-3-style Hopper kernel (TMA + wgmma, a producer and two
 * consumer warp groups): out = softmax(q·kᵀ/√d)·v, non-causal, without RoPE (the caller rotates first), for head sizes
 * 64, 72 (a 64-wide slab and a 32-byte-swizzled tail) and 128 on compute capability 9.0. Everything else (stage masks,
 * head size 96, other GPUs) stays with {@link Attention}'s kernels/attention.cu. The pure parts (choice, tensor maps,
 * launch shape, checks) need no GPU.
 */
public final class AttentionSm90 {
    private AttentionSm90() {}

    public static final String FAMILY = "attention_sm90";
    /** Query rows a work item (two consumer warp groups of 64), key rows a K/V tile, rows a TMA box; Q buffers. */
    public static final int BLOCK_M = 128, BLOCK_N = 128, THREADS = 384, STAGES = 2, Q_BUFFERS = 2;

    /** {@code ECAR_ATTENTION_PERSISTENT}: {@code on} (the default) or {@code off} (one CTA per work item, as before). */
    public static final String PERSISTENT_ENV = "ECAR_ATTENTION_PERSISTENT", PERSISTENT_PROPERTY = "ecar.attention.persistent";
    public static final ecar.cuda.Switch PER_ITEM = new ecar.cuda.Switch(PERSISTENT_PROPERTY, PERSISTENT_ENV, "on", "off");
    /**
     * {@code ECAR_ATTENTION_OVERLAP}: {@code off} (the default) or {@code on}: FlashAttention-3's intra-warpgroup overlap
     * (kernel argument overlap): each consumer issues the next K/V tile's S = Q·Kᵀ before this tile's P·V and runs that
     * S's softmax while P·V is in flight, rescaling O and repacking P once P·V has completed. The same float operations
     * in the same order, so the same bits. Off: on the H100 of 2026-11-28 (AttentionGpuBench's sm90-overlap kernel)
     * it was slower at all four shapes (240.4 against 260.5 TFLOP/s at B 64, L 256, d 64).
     */
    public static final String OVERLAP_ENV = "ECAR_ATTENTION_OVERLAP", OVERLAP_PROPERTY = "ecar.attention.overlap";
    public static final ecar.cuda.Switch OVERLAP = new ecar.cuda.Switch(OVERLAP_PROPERTY, OVERLAP_ENV, "off", "on");

    /** Whether the kernel has a copy for head size d. */
    public static boolean hasKernel(int d) {
        return d == 64 || d == 72 || d == 128;
    }

    /**
     * Whether a problem may go to this kernel on a Hopper GPU: a compiled head size, no stage mask, and at least one
     * whole CTA of queries (below 128 queries most of its rows would be padding; attention.cu's 64-row CTAs waste less).
     */
    public static boolean takes(Attention.Problem p, boolean staged) {
        return hasKernel(p.headDim()) && !staged && p.lq() >= BLOCK_M;
    }

    /** Whether the head size has a tail past its 64-wide slabs (72: dimensions 64..71), read through maps of its own. */
    static boolean hasTail(int d) {
        return d % 64 != 0;
    }

    /**
     * Dynamic shared memory: 1 KiB of alignment slack, two buffers of Q (each d/64 slabs of 128 rows × 128 bytes, and a
     * tail of 128 rows × 32 bytes for 72), two stages of K and V (the same per 128 keys), 64 bytes of barriers.
     */
    public static int sharedBytes(int d) {
        check(hasKernel(d), "head size " + d + " has no Hopper kernel; kernels/attention_sm90.cu has 64, 72 and 128");
        int tile = (d / 64) * 128 * 128 + (hasTail(d) ? 128 * 32 : 0);
        return 1024 + Q_BUFFERS * tile + STAGES * 2 * tile + 64;
    }

    /**
     * The CTAs a launch may have: one per SM (persistent: each CTA takes every gridDim-th work item, loading the next
     * item's Q and K/V while it finishes one), or with {@link #PERSISTENT_ENV}=off no cap (a CTA per item). Anything but
     * on or off is refused.
     */
    public static int ctas(int multiprocessors) {
        return PER_ITEM.flipped() ? Integer.MAX_VALUE : multiprocessors;
    }

    /** Work items of a problem: 128 query rows of one head of one sample. */
    static long items(Attention.Problem p) {
        return (long) ((p.lq() + BLOCK_M - 1) / BLOCK_M) * p.heads() * p.batch();
    }

    static String signature(int d, boolean bf16Out) {
        check(hasKernel(d), "head size " + d + " has no Hopper kernel");
        return "attention_sm90_d" + d + "_" + (bf16Out ? "bf16" : "f32") + "(tmap tmQ, tmap tmK, tmap tmV, "
                + (hasTail(d) ? "tmap tmQt, tmap tmKt, tmap tmVt, " : "") + "ptr o, i32 lq, i32 lk, i64 o_bstride, i32 ld_o, f32 scale_log2, "
                + "i32 heads, i32 batch, i32 overlap)";
    }

    /** Every signature this class launches (checked against the PTX parameter lists by a test). */
    static List<String> signatures() {
        List<String> all = new ArrayList<>();
        for (int d : new int[]{64, 72, 128}) {
            all.add(signature(d, false));
            all.add(signature(d, true));
        }
        return all;
    }

    /**
     * The tensor map of one operand, q or k or v: bf16 [batch, tokens, heads·d] rows {@code ld} elements apart and samples
     * {@code batchStride} apart, seen as dims {d, heads, tokens, batch} and read in boxes {64, 1, 128, 1} (64 head
     * dimensions of 128 rows of one head), 128-byte swizzled; rows past {@code tokens} read as zeros.
     */
    public static TensorMapSpec operand(DeviceAddress base, int d, int heads, int tokens, int batch, int ld, long batchStride) {
        return operand(base, d, heads, tokens, batch, ld, batchStride, 64, TensorMapSpec.Swizzle.B128);
    }

    /** The same tensor read in boxes {16, 1, 128, 1}, 32-byte swizzled: a head size of 72's tail (the kernel reads it at 64). */
    public static TensorMapSpec tail(DeviceAddress base, int d, int heads, int tokens, int batch, int ld, long batchStride) {
        return operand(base, d, heads, tokens, batch, ld, batchStride, 16, TensorMapSpec.Swizzle.B32);
    }

    private static TensorMapSpec operand(DeviceAddress base, int d, int heads, int tokens, int batch, int ld, long batchStride, int boxDims,
                                         TensorMapSpec.Swizzle swizzle) {
        long e = TensorMapSpec.DataType.BFLOAT16.bytes;
        return new TensorMapSpec(TensorMapSpec.DataType.BFLOAT16, base.address(), new long[]{d, heads, tokens, batch},
                new long[]{d * e, ld * e, batchStride * e}, new int[]{boxDims, 1, BLOCK_N, 1}, new int[]{1, 1, 1, 1},
                TensorMapSpec.Interleave.NONE, swizzle, TensorMapSpec.L2Promotion.L2_256B, TensorMapSpec.OobFill.NONE);
    }

    /** A one-dimensional grid of min(items, ctas) CTAs (see {@link #ctas}). */
    public static LaunchShape shape(Attention.Problem p, int ctas) {
        check(ctas >= 1, "ctas = " + ctas + " must be at least 1");
        long items = items(p), grid = Math.min(items, ctas), perCta = (items + grid - 1) / grid;
        check(items <= Integer.MAX_VALUE && perCta * ((p.lk() + BLOCK_N - 1) / BLOCK_N) <= Integer.MAX_VALUE,
                p + ": " + items + " work items; the kernel counts them and its ring positions in 32 bits");
        return LaunchShape.of((int) grid, 1, 1, THREADS, sharedBytes(p.headDim()));
    }

    /**
     * Queues the kernel: q, k, v bf16 as the problem says (RoPE already applied), o f32 or bf16 [B, lq, ldO], on at
     * most {@code ctas} CTAs ({@link #ctas}: one per SM), overlapped as {@link #OVERLAP} says.
     */
    public static void forward(Launcher launcher, TensorMapEncoder maps, int ctas, Attention.Problem p, DeviceAddress q, DeviceAddress k,
                               DeviceAddress v, DeviceAddress o, boolean bf16Out) {
        forward(launcher, maps, ctas, p, q, k, v, o, bf16Out, OVERLAP.flipped());
    }

    /** As above, with each consumer's S of the next K/V tile overlapping this tile's P·V or not ({@link #OVERLAP}). */
    public static void forward(Launcher launcher, TensorMapEncoder maps, int ctas, Attention.Problem p, DeviceAddress q, DeviceAddress k,
                               DeviceAddress v, DeviceAddress o, boolean bf16Out, boolean overlap) {
        check(takes(p, false), "a problem it does not take: " + p + " (head size 64, 72 or 128, at least " + BLOCK_M + " queries)");
        LaunchShape shape = shape(p, ctas);
        Attention.checkAligned("q", q, 0);
        Attention.checkAligned("k", k, 0);
        Attention.checkAligned("v", v, 0);
        TensorMap tq = maps.encode(operand(q, p.headDim(), p.heads(), p.lq(), p.batch(), p.ldQ(), p.qBatchStride()));
        TensorMap tk = maps.encode(operand(k, p.headDim(), p.heads(), p.lk(), p.batch(), p.ldKv(), p.kvBatchStride()));
        TensorMap tv = maps.encode(operand(v, p.headDim(), p.heads(), p.lk(), p.batch(), p.ldKv(), p.kvBatchStride()));
        if (!hasTail(p.headDim())) {
            launcher.launch(FAMILY, signature(p.headDim(), bf16Out), shape, tq, tk, tv, o, p.lq(), p.lk(), p.oBatchStride(), p.ldO(),
                    Attention.scaleLog2(p.headDim()), p.heads(), p.batch(), overlap ? 1 : 0);
            return;
        }
        TensorMap tqt = maps.encode(tail(q, p.headDim(), p.heads(), p.lq(), p.batch(), p.ldQ(), p.qBatchStride()));
        TensorMap tkt = maps.encode(tail(k, p.headDim(), p.heads(), p.lk(), p.batch(), p.ldKv(), p.kvBatchStride()));
        TensorMap tvt = maps.encode(tail(v, p.headDim(), p.heads(), p.lk(), p.batch(), p.ldKv(), p.kvBatchStride()));
        launcher.launch(FAMILY, signature(p.headDim(), bf16Out), shape, tq, tk, tv, tqt, tkt, tvt, o, p.lq(), p.lk(), p.oBatchStride(),
                p.ldO(), Attention.scaleLog2(p.headDim()), p.heads(), p.batch(), overlap ? 1 : 0);
    }

    private static void check(boolean ok, String what) {
        if (!ok) throw new IllegalArgumentException("attention_sm90: " + what);
    }
}
