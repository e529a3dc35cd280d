// Attention forward for Hopper (sm_90a) in the style of FlashAttention-3: out = softmax(q·kᵀ·scale) · v per (batch,
// head), non-causal, for self-attention, cross-attention (lq ≠ lk) and a KV cache (lk = the tokens held, the rows a
// cache's stride apart). Same function as kernels/attention.cu's attention_fwd without RoPE and stage masks (the caller
// rotates q and k while casting them to bf16, and sends stage-masked problems to attention.cu); CPU twin:
// src/main/java/ecar/backend/CpuAttention.java.
//
// How: TMA copies 128-byte-swizzled tiles of one head's Q (once) and of K and V (a ring of STAGES stages, each guarded
// by a full and an empty mbarrier) straight from the [batch, tokens, heads·d] layout, through 4D tensor maps of dims
// {d, heads, tokens, batch}. Warp group 0 is the producer (one thread issues the copies); warp groups 1 and 2 are
// consumers, each owning 64 query rows of the CTA's 128 and consuming every K/V tile: S = Q·Kᵀ by wgmma with both
// operands in shared memory (K-major, as gemm_sm90's), the online softmax on S's accumulator fragments in registers
// (base 2, scale·log2 e folded in), P rounded to bf16 and kept in registers, where it is exactly the A fragment of
// O += P·V by wgmma with A from registers and V from shared memory read MN-major (imm-trans-b; smem_desc_mn). While one
// consumer runs its softmax the other's wgmmas keep the tensor cores busy (the two warp groups interleave freely).
//
// Persistent: a CTA takes work items blockIdx.x, blockIdx.x + gridDim.x, ... of the qtiles·heads·batch items (128
// query rows of one head of one sample; item w is query tile w % qtiles of head (w / qtiles) % heads of sample
// w / (qtiles·heads)), so that while the consumers finish one item the producer already loads the next one's Q (two Q
// buffers, each guarded by a qfull and a qempty mbarrier) and first K/V tiles (the ring runs on across items: the j-th
// item's tile t is ring position j·tiles + t). A grid of one CTA per item runs each CTA once, as before.
//
// Entry points: attention_sm90_d{64,128}_{f32,bf16}
//   (TensorMap tmQ, TensorMap tmK, TensorMap tmV, OutT* o, int lq, int lk, long long o_bstride, int ld_o, float scale_log2,
//   int heads, int batch)
//   and attention_sm90_d72_{f32,bf16}(tmQ, tmK, tmV, TensorMap tmQt, TensorMap tmKt, TensorMap tmVt, o, lq, lk, o_bstride,
//   ld_o, scale_log2, heads, batch): the *t maps read the 72-dimension head's tail, as the others but with box
//   {16, 1, 128, 1} and SWIZZLE_32B (the kernel reads it at dimension 64; 72..79 arrive as zeros).
//   tmQ/tmK/tmV: bf16, dims {D, heads, tokens (lq or lk), batch}, strides {2D, 2·ld, 2·batch stride} bytes, box
//   {64, 1, 128, 1}, SWIZZLE_128B, OOB fill zero (rows past lq or lk arrive as zeros; keys past lk are masked).
//   o: [batch, lq, ld_o] rows with the head's D outputs at column h·D, f32 or bf16.
//   Launch: grid (min(items, SMs)) (any count from 1 works), block 384 (3 warp groups), dynamic shared memory
//   SMEM_BYTES<D> (D 64: 99,392; D 72: 123,968; D 128: 197,696; the launcher raises
//   CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES). One CTA an SM.
//   Registers: 168 at entry (__launch_bounds__(384, 1)); setmaxnreg gives the producer 40 and the consumers 232.
// Limits (checked in ecar.cuda.ops.AttentionSm90): compute capability 9.0 (other architectures' copies trap); D ∈ {64, 72, 128};
//   lq, lk ≥ 1; q, k, v 16-byte aligned with ld and the batch strides multiples of 8 elements (TMA strides are
//   multiples of 16 bytes); o's row pairs 8-byte aligned (ld_o even); items = ceil(lq / 128)·heads·batch and the
//   ring positions, (items per CTA)·ceil(lk / 128), below 2^31.
// The index arithmetic (4D box → swizzled tile, both descriptors, the fragment ↔ (row, column) maps, P as the A
// fragment, the ring's phases) is replayed in numpy by tools/emulate_attention_sm90.py.
#include "sm90.cuh"

using namespace ecar;

namespace ecar {
namespace sm90att {

constexpr int BM = 128, BN = 128, STAGES = 2, CONSUMERS = 2, QBUFS = 2, THREADS = 128 * (1 + CONSUMERS);
constexpr int PRODUCER_REGS = 40, CONSUMER_REGS = 232;
constexpr int SLAB_ROW = 128;   // bytes in a 128-byte-swizzled row: 64 bf16 head dimensions
constexpr int TAIL_ROW = 32;    // bytes in a 32-byte-swizzled tail row: 16 bf16 (head size 72: dimensions 64..71, zeros)

// Shared memory from a 1024-aligned base: QBUFS buffers of Q, each as D/64 slabs [128 rows][128 B] and, for a head size
// that is not a multiple of 64 (72), a tail [128 rows][32 B]; then per stage K then V, each as D/64 slabs [BN rows][128 B]
// and the tail [BN rows][32 B]; then the barriers qfull[QBUFS], qempty[QBUFS], full[STAGES], empty[STAGES].
template <int D>
struct Smem {
    static constexpr int SLABS = D / 64, TAIL = D % 64 != 0;
    static constexpr int Q_SLAB = BM * SLAB_ROW, KV_SLAB = BN * SLAB_ROW, Q_TAIL = BM * TAIL_ROW, KV_TAIL = BN * TAIL_ROW;
    static constexpr int Q_BYTES = SLABS * Q_SLAB + TAIL * Q_TAIL, TILE_BYTES = SLABS * KV_SLAB + TAIL * KV_TAIL;
    static constexpr int STAGE_BYTES = 2 * TILE_BYTES;
    static constexpr int BARRIERS = QBUFS * Q_BYTES + STAGES * STAGE_BYTES, BARRIER_BYTES = 64;
    static constexpr int BYTES = 1024 + BARRIERS + BARRIER_BYTES;
    static_assert(D % 64 == 0 || (D % 64 <= 16 && D % 8 == 0), "whole 128-byte slabs, and at most a 16-wide tail");
    static_assert(Q_SLAB % 1024 == 0 && KV_SLAB % 1024 == 0 && Q_TAIL % 1024 == 0 && KV_TAIL % 1024 == 0,
                  "every slab and tail starts on a swizzle atom");
    static_assert((2 * QBUFS + 2 * STAGES) * 8 <= BARRIER_BYTES, "barriers fit their area");
    static_assert(BYTES <= 227 * 1024, "shared memory per block");
};
static_assert(PRODUCER_REGS * 128 + CONSUMER_REGS * 128 * CONSUMERS <= 65536, "register file");

#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL)

using namespace ecar::sm90;

__device__ __forceinline__ uint32_t pack_bf16(float lo, float hi) {
    __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<uint32_t*>(&v);
}

// O[64 × 64·SLABS] += P · V for one k16 step of keys over the 128-byte slabs: n64 or n128.
template <int SLABS>
__device__ __forceinline__ void pv(float* o, const uint32_t* a, uint64_t descV) {
    if constexpr (SLABS == 1) wgmma_m64n64k16_rs_tb(o, a, descV);
    else wgmma_m64n128k16_rs_tb(o, a, descV);
}

// Accumulator fragments (wgmma .m64nN .f32, thread t of the warp group, warp w = t / 32, g = (t % 32) / 4, q = t % 4):
// element i sits at row 16w + g + 8·((i / 2) % 2), column 8·(i / 4) + 2q + i % 2. So S's 64 elements (BN = 128 keys)
// and O's D/2 hold two rows per thread, r = (i >> 1) & 1 choosing g or g + 8, and a row's values are spread over the
// four threads of a quad (shuffles xor 1 and 2 reduce it).
// The tail of a head size of 72 (dimensions 64..71) is a fourth k16 step of Q·Kᵀ... read through 32-byte-swizzled
// tiles of its own (tmQt, tmKt, tmVt: boxes {16, 1, 128, 1} at dimension 64, the eight past the head arriving as zeros),
// and an n8 wgmma of P·V whose four accumulators are the output's columns 64..71.
template <int D, typename OutT, bool OVERLAP>
__device__ __forceinline__ void attention(const TensorMap* tmQ, const TensorMap* tmK, const TensorMap* tmV, const TensorMap* tmQt,
                                          const TensorMap* tmKt, const TensorMap* tmVt, OutT* o, int lq, int lk, long long o_bstride,
                                          int ld_o, float scale_log2, int heads, int batch) {
    using L = Smem<D>;
    constexpr int MAIN = 32 * L::SLABS;   // accumulators a thread over the slabs (64·SLABS columns)
    extern __shared__ unsigned char smem_raw[];
    const uint32_t raw = (uint32_t)__cvta_generic_to_shared(smem_raw);
    const uint32_t base = (raw + 1023u) & ~1023u;
    const uint32_t bars = base + L::BARRIERS;
    auto qfull = [&](int qb) { return bars + 8u * qb; };
    auto qempty = [&](int qb) { return bars + 8u * (QBUFS + qb); };
    auto full = [&](int s) { return bars + 8u * (2 * QBUFS + s); };
    auto empty = [&](int s) { return bars + 8u * (2 * QBUFS + STAGES + s); };
    auto qslab = [&](int qb, int i) { return base + qb * L::Q_BYTES + i * L::Q_SLAB; };   // i == SLABS: the tail
    auto kslab = [&](int s, int i) { return base + QBUFS * L::Q_BYTES + s * L::STAGE_BYTES + i * L::KV_SLAB; };
    auto vslab = [&](int s, int i) { return kslab(s, i) + L::TILE_BYTES; };

    const int qtiles = (lq + BM - 1) / BM, items = qtiles * heads * batch;
    const int tiles = (lk + BN - 1) / BN;
    const int wg = threadIdx.x / 128;

    if (threadIdx.x == 0) {
        for (int qb = 0; qb < QBUFS; qb++) {
            mbar_init(qfull(qb), 1);                 // the producer's arrive.expect_tx; the copies complete the bytes
            mbar_init(qempty(qb), 4 * CONSUMERS);    // one arrival per consumer warp, once its last Q·Kᵀ has read Q
        }
        for (int s = 0; s < STAGES; s++) {
            mbar_init(full(s), 1);                  // the producer's arrive.expect_tx; the copies complete the bytes
            mbar_init(empty(s), 4 * CONSUMERS);     // one arrival per consumer warp: both consumers read every tile
        }
        asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
    }
    __syncthreads();

    if (wg == 0) {
        setmaxnreg_dec<PRODUCER_REGS>();
        if (threadIdx.x == 0) {
            tma_prefetch_map(tmQ);
            tma_prefetch_map(tmK);
            tma_prefetch_map(tmV);
            for (int j = 0, w = blockIdx.x; w < items; j++, w += gridDim.x) {
                const int q0 = (w % qtiles) * BM, h = (w / qtiles) % heads, b = w / (qtiles * heads), qb = j % QBUFS;
                mbar_wait(qempty(qb), ((j / QBUFS) & 1) ^ 1);   // both consumers are done with the buffer's last item
                mbar_arrive_expect_tx(qfull(qb), L::Q_BYTES);
                for (int i = 0; i < L::SLABS; i++) tma_load_4d(qslab(qb, i), tmQ, qfull(qb), 64 * i, h, q0, b);
                if constexpr (L::TAIL) tma_load_4d(qslab(qb, L::SLABS), tmQt, qfull(qb), 64 * L::SLABS, h, q0, b);
                for (int t = 0; t < tiles; t++) {
                    const int p = j * tiles + t, s = p % STAGES;
                    mbar_wait(empty(s), ((p / STAGES) & 1) ^ 1);   // both consumers released the stage's previous tile
                    mbar_arrive_expect_tx(full(s), L::STAGE_BYTES);
                    for (int i = 0; i < L::SLABS; i++) {
                        tma_load_4d(kslab(s, i), tmK, full(s), 64 * i, h, t * BN, b);
                        tma_load_4d(vslab(s, i), tmV, full(s), 64 * i, h, t * BN, b);
                    }
                    if constexpr (L::TAIL) {
                        tma_load_4d(kslab(s, L::SLABS), tmKt, full(s), 64 * L::SLABS, h, t * BN, b);
                        tma_load_4d(vslab(s, L::SLABS), tmVt, full(s), 64 * L::SLABS, h, t * BN, b);
                    }
                }
            }
        }
        return;
    }

    setmaxnreg_inc<CONSUMER_REGS>();
    const int consumer = wg - 1, t128 = threadIdx.x % 128, warp = t128 / 32, lane = t128 % 32, g = lane >> 2, q = lane & 3;
    const uint32_t qrows = 64 * consumer * SLAB_ROW;   // this consumer's 64 rows in each Q slab (8 atoms in)
    const uint32_t qtail = 64 * consumer * TAIL_ROW;   // and in the Q tail (8 of its 256-byte atoms in)

    float sc[64], acc[MAIN], tacc[4];
#pragma unroll
    for (int i = 0; i < 64; i++) sc[i] = 0.f;   // scale-d = 0 overwrites them; zeroed once so none is read unset
    uint32_t pa[BN / 16][4];

    for (int j = 0, w = blockIdx.x; w < items; j++, w += gridDim.x) {
        const int q0 = (w % qtiles) * BM, h = (w / qtiles) % heads, b = w / (qtiles * heads), qb = j % QBUFS;
        float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.f, 0.f}, corr[2];
#pragma unroll
        for (int i = 0; i < MAIN; i++) acc[i] = 0.f;
#pragma unroll
        for (int i = 0; i < 4; i++) tacc[i] = 0.f;

        // S = Q · Kᵀ of the tile in stage s: 64 rows × 128 keys, k16 steps over the head dimensions, slab by slab (issued)
        auto issueS = [&](int s) {
#pragma unroll
            for (int kk = 0; kk < 4 * L::SLABS; kk++) {
                const uint32_t at = (kk % 4) * 32;
                wgmma_m64n128k16(sc, smem_desc(qslab(qb, kk / 4) + qrows + at), smem_desc(kslab(s, kk / 4) + at), kk > 0 ? 1 : 0);
            }
            if constexpr (L::TAIL) wgmma_m64n128k16(sc, smem_desc_32b(qslab(qb, L::SLABS) + qtail), smem_desc_32b(kslab(s, L::SLABS)), 1);
        };
        // The online softmax of tile t's S, on its registers only: keys past lk (zeros from TMA's fill) take no weight;
        // the rows' new maxima; corr rescales what came before (l here, O by rescaleO); S becomes P = 2^(s·scale·log2 e − max).
        auto softmax = [&](int t) {
            if ((t + 1) * BN > lk) {
#pragma unroll
                for (int i = 0; i < 64; i++)
                    if (t * BN + 8 * (i / 4) + 2 * q + (i & 1) >= lk) sc[i] = -INFINITY;
            }
            float mx[2] = {m[0], m[1]};
#pragma unroll
            for (int i = 0; i < 64; i++) mx[(i >> 1) & 1] = fmaxf(mx[(i >> 1) & 1], sc[i]);
#pragma unroll
            for (int r = 0; r < 2; r++) {
                mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 1));
                mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 2));
            }
            float top[2];
#pragma unroll
            for (int r = 0; r < 2; r++) {
                top[r] = mx[r] == -INFINITY ? 0.f : mx[r] * scale_log2;
                corr[r] = exp2f(m[r] * scale_log2 - top[r]);
                m[r] = mx[r];
                l[r] *= corr[r];
            }
#pragma unroll
            for (int i = 0; i < 64; i++) {
                sc[i] = exp2f(fmaf(sc[i], scale_log2, -top[(i >> 1) & 1]));
                l[(i >> 1) & 1] += sc[i];
            }
        };
        auto rescaleO = [&]() {
#pragma unroll
            for (int i = 0; i < MAIN; i++) acc[i] *= corr[(i >> 1) & 1];
#pragma unroll
            for (int i = 0; i < 4; i++) tacc[i] *= corr[(i >> 1) & 1];
        };
        // P's k16 step kk (keys 16kk..16kk+15) is S's elements 8kk..8kk+7: the A fragment of the P·V wgmma
        auto packP = [&]() {
#pragma unroll
            for (int kk = 0; kk < BN / 16; kk++) {
                pa[kk][0] = pack_bf16(sc[8 * kk + 0], sc[8 * kk + 1]);
                pa[kk][1] = pack_bf16(sc[8 * kk + 2], sc[8 * kk + 3]);
                pa[kk][2] = pack_bf16(sc[8 * kk + 4], sc[8 * kk + 5]);
                pa[kk][3] = pack_bf16(sc[8 * kk + 6], sc[8 * kk + 7]);
            }
        };
        // O += P · V (issued): V's k16 step kk is rows 16kk.. of the tile, 2048 bytes in; its 64-dimension slabs KV_SLAB
        // apart; the tail's rows are 32 bytes, so its step kk starts kk·512 bytes in
        auto issuePV = [&](int s) {
#pragma unroll
            for (int kk = 0; kk < BN / 16; kk++) {
                pv<L::SLABS>(acc, pa[kk], smem_desc_mn(vslab(s, 0) + kk * 16 * SLAB_ROW, L::KV_SLAB));
                if constexpr (L::TAIL) wgmma_m64n8k16_rs_tb(tacc, pa[kk], smem_desc_32b(vslab(s, L::SLABS) + kk * 16 * TAIL_ROW));
            }
        };
        auto waitFull = [&](int t) {
            const int p = j * tiles + t;
            mbar_wait(full(p % STAGES), (p / STAGES) & 1);
            __syncwarp();   // converged again before the .aligned wgmma instructions
        };

        // One tile's S in full, then its softmax, O rescaled and P packed; and one tile's P·V in full, then the stage's release.
        auto sThenP = [&](int t, int s) {
            wgmma_fence();
            issueS(s);
            wgmma_commit();
            wgmma_wait<0>();
            fence_regs<64>(sc);
            softmax(t);
            rescaleO();
            packP();
        };
        auto pvThenRelease = [&](int s) {
            wgmma_fence();
            issuePV(s);
            wgmma_commit();
            wgmma_wait<0>();
            fence_regs<MAIN>(acc);
            fence_regs<4>(tacc);
            if (lane == 0) mbar_arrive(empty(s));   // this warp is done with the stage's K and V
        };
        auto stage = [&](int t) { return (j * tiles + t) % STAGES; };

        mbar_wait(qfull(qb), (j / QBUFS) & 1);
        if constexpr (!OVERLAP) {
            // each tile in turn: S, its softmax, P·V (the other consumer's wgmmas fill the tensor cores meanwhile)
            for (int t = 0; t < tiles; t++) {
                waitFull(t);
                sThenP(t, stage(t));
                pvThenRelease(stage(t));
            }
        } else {
            // FlashAttention-3's intra-warpgroup overlap: tile t + 1's S is issued before tile t's P·V, so that its
            // softmax runs while P·V(t) is in flight; O is rescaled and P repacked only once P·V(t) has completed (it
            // reads O and P's registers). The same float operations in the same order as above, so the same bits.
            waitFull(0);
            sThenP(0, stage(0));
            // (the last tile's P·V peeled off: no wgmma under a condition, which ptxas would serialize)
            int t = 0;
            for (; t + 1 < tiles; t++) {
                waitFull(t + 1);           // (before the fence: a spin between it and the wgmma makes ptxas add one, C7519)
                wgmma_fence();
                issueS(stage(t + 1));
                wgmma_commit();
                issuePV(stage(t));
                wgmma_commit();
                wgmma_wait<1>();           // S(t + 1) has completed; P·V(t) may still run
                fence_regs<64>(sc);
                softmax(t + 1);
                wgmma_wait<0>();           // P·V(t) has completed: O, P's registers and the stage are free
                fence_regs<MAIN>(acc);
                fence_regs<4>(tacc);
                fence_regs<64>(sc);        // keeps P's packing below the wait
                if (lane == 0) mbar_arrive(empty(stage(t)));
                rescaleO();
                packP();
            }
            pvThenRelease(stage(t));
        }
        // every Q·Kᵀ of the item completed before its softmax: the producer may load the next item but one into this buffer
        if (lane == 0) mbar_arrive(qempty(qb));

        // normalize by the row sums (partial per thread until now) and store the rows that exist
#pragma unroll
        for (int r = 0; r < 2; r++) {
            l[r] += __shfl_xor_sync(0xffffffffu, l[r], 1);
            l[r] += __shfl_xor_sync(0xffffffffu, l[r], 2);
            l[r] = 1.f / l[r];
        }
        OutT* ob = o + b * o_bstride + h * D;
#pragma unroll
        for (int i = 0; i < MAIN; i += 2) {
            const int r = (i >> 1) & 1, row = q0 + 64 * consumer + 16 * warp + g + 8 * r, col = 8 * (i / 4) + 2 * q;
            if (row < lq) store2(ob + (long long)row * ld_o + col, acc[i] * l[r], acc[i + 1] * l[r]);
        }
        if constexpr (L::TAIL) {
#pragma unroll
            for (int r = 0; r < 2; r++) {
                const int row = q0 + 64 * consumer + 16 * warp + g + 8 * r;
                if (row < lq) store2(ob + (long long)row * ld_o + 64 * L::SLABS + 2 * q, tacc[2 * r] * l[r], tacc[2 * r + 1] * l[r]);
            }
        }
    }
}

#endif  // sm_90a

}  // namespace sm90att
}  // namespace ecar

#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define ATTENTION_SM90_BODY(D, OUT, ...)                                                                               \
    if (overlap) sm90att::attention<D, OUT, true>(&tmQ, &tmK, &tmV, __VA_ARGS__, o, lq, lk, o_bstride, ld_o, scale_log2, heads, batch); \
    else sm90att::attention<D, OUT, false>(&tmQ, &tmK, &tmV, __VA_ARGS__, o, lq, lk, o_bstride, ld_o, scale_log2, heads, batch);
#else
// Not Hopper's sm_90a: wgmma and setmaxnreg do not exist here. Attention never launches this copy; trap if it is.
#define ATTENTION_SM90_BODY(D, OUT, ...) __trap();
#endif

#define ATTENTION_SM90_ENTRY(NAME, D, OUT)                                                                             \
    ECAR_KERNEL void __launch_bounds__(sm90att::THREADS, 1)                                                          \
        NAME(const __grid_constant__ sm90::TensorMap tmQ, const __grid_constant__ sm90::TensorMap tmK,               \
             const __grid_constant__ sm90::TensorMap tmV, OUT* o, int lq, int lk, long long o_bstride, int ld_o,     \
             float scale_log2, int heads, int batch, int overlap) { pdl_enter();                                     \
        ATTENTION_SM90_BODY(D, OUT, nullptr, nullptr, nullptr)                                                       \
    }

// Head size 72 (DiT-XL/2): three more maps for the 32-byte-swizzled tails (tmQt, tmKt, tmVt).
#define ATTENTION_SM90_TAIL_ENTRY(NAME, D, OUT)                                                                        \
    ECAR_KERNEL void __launch_bounds__(sm90att::THREADS, 1)                                                          \
        NAME(const __grid_constant__ sm90::TensorMap tmQ, const __grid_constant__ sm90::TensorMap tmK,               \
             const __grid_constant__ sm90::TensorMap tmV, const __grid_constant__ sm90::TensorMap tmQt,              \
             const __grid_constant__ sm90::TensorMap tmKt, const __grid_constant__ sm90::TensorMap tmVt, OUT* o,     \
             int lq, int lk, long long o_bstride, int ld_o, float scale_log2, int heads, int batch, int overlap) { pdl_enter();   \
        ATTENTION_SM90_BODY(D, OUT, &tmQt, &tmKt, &tmVt)                                                             \
    }

ATTENTION_SM90_ENTRY(attention_sm90_d64_f32, 64, float)
ATTENTION_SM90_ENTRY(attention_sm90_d64_bf16, 64, __nv_bfloat16)
ATTENTION_SM90_TAIL_ENTRY(attention_sm90_d72_f32, 72, float)
ATTENTION_SM90_TAIL_ENTRY(attention_sm90_d72_bf16, 72, __nv_bfloat16)
ATTENTION_SM90_ENTRY(attention_sm90_d128_f32, 128, float)
ATTENTION_SM90_ENTRY(attention_sm90_d128_bf16, 128, __nv_bfloat16)
