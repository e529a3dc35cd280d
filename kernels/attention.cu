// Attention (MODELS.md §2): flash-attention forward on tensor cores, the KV-cache append of stage-wise decoding,
// and the f32 <-> bf16 casts around them.
// CPU twin: src/main/java/ecar/backend/CpuAttention.java (attention = softmax(q·kᵀ/√d)·v, rope2d).
//
// Layout everywhere: tokens row-major with the heads side by side, q [B, Lq, H·d], k/v [B, Lk, H·d] (rows may be
// wider than H·d: ld_* is the row stride in elements, so a fused [B, L, 3·H·d] qkv works without a copy).
#include "common.cuh"

using namespace ecar;

namespace {

constexpr int BN = 64;        // keys per tile (the query rows per CTA, 64·MT, depend on the head size)
constexpr int THREADS = 128;

// ---------------------------------------------------------------- PTX wrappers (sm_80+)

__device__ __forceinline__ uint32_t smem_addr(const void* p) {
    return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

// 16-byte async copy global -> shared; with valid = false nothing is read and the 16 bytes are zero-filled.
__device__ __forceinline__ void cp_async16(uint32_t dst, const void* src, bool valid) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src), "r"(valid ? 16 : 0));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
__device__ __forceinline__ void cp_async_wait_all() { asm volatile("cp.async.wait_group 0;\n" ::: "memory"); }

// Four 8×8 b16 matrices; lane l gives the address of row l % 8 of matrix l / 8; register i holds matrix i, lane l
// getting its row l / 4, columns 2(l % 4) and 2(l % 4) + 1 (with .trans: the transposed matrix).
__device__ __forceinline__ void ldsm_x4(uint32_t& r0, uint32_t& r1, uint32_t& r2, uint32_t& r3, uint32_t addr) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r0), "=r"(r1), "=r"(r2), "=r"(r3) : "r"(addr) : "memory");
}
__device__ __forceinline__ void ldsm_x4_trans(uint32_t& r0, uint32_t& r1, uint32_t& r2, uint32_t& r3, uint32_t addr) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r0), "=r"(r1), "=r"(r2), "=r"(r3) : "r"(addr) : "memory");
}

// d += a·b, a 16×16 (row), b 16×8 (col), bf16 in, f32 accumulate. Fragments (g = lane / 4, t = lane % 4):
// a0 (g, 2t..2t+1), a1 (g+8, 2t..), a2 (g, 2t+8..), a3 (g+8, 2t+8..); b0 (k 2t..2t+1, n g), b1 (k 2t+8.., n g);
// d0,d1 (g, 2t..2t+1), d2,d3 (g+8, 2t..2t+1).
__device__ __forceinline__ void mma_bf16(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
    asm("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// Two floats as a bf16x2 register: lo in the low half (the lower column index).
__device__ __forceinline__ uint32_t pack_bf16(float lo, float hi) {
    __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<uint32_t*>(&v);
}


// ---------------------------------------------------------------- tiles in shared memory

// Rows [row0, row0 + ROWS) of one head (D bf16 each, 16-byte chunks) into a [ROWS][LD] tile; rows at or past `rows`
// are zero-filled. Columns D..LD stay as they are (the pad is zeroed once).
template <int D, int LD, int ROWS>
__device__ __forceinline__ void load_tile(__nv_bfloat16* tile, const __nv_bfloat16* base, int ld, int row0, int rows, int tid) {
    constexpr int CHUNKS = D / 8;
#pragma unroll 4
    for (int c = tid; c < ROWS * CHUNKS; c += THREADS) {
        int r = c / CHUNKS, ch = c % CHUNKS;
        bool valid = row0 + r < rows;
        const __nv_bfloat16* src = base + (valid ? (long long)(row0 + r) * ld + ch * 8 : 0);
        cp_async16(smem_addr(tile + r * LD + ch * 8), src, valid);
    }
}

// FlowAR's 2D RoPE on a tile, in place: token row0 + r uses row (row0 + r) of the tables cos/sin [*, D/2], pair p of
// the head (dims 2p, 2p+1) rotating by angle p of that row: (x0 c − x1 s, x1 c + x0 s), in f32, rounded to bf16.
template <int D, int LD, int ROWS>
__device__ __forceinline__ void rope_tile(__nv_bfloat16* tile, const float* __restrict__ cos_t, const float* __restrict__ sin_t,
                                          int row0, int rows, int tid) {
    constexpr int CHUNKS = D / 8, HALF = D / 2;
    for (int c = tid; c < ROWS * CHUNKS; c += THREADS) {
        int r = c / CHUNKS, ch = c % CHUNKS;
        if (row0 + r >= rows) continue;
        uint4* p = reinterpret_cast<uint4*>(tile + r * LD + ch * 8);
        uint4 raw = *p;
        __nv_bfloat162* x = reinterpret_cast<__nv_bfloat162*>(&raw);
        const float* cr = cos_t + (long long)(row0 + r) * HALF + ch * 4;
        const float* sr = sin_t + (long long)(row0 + r) * HALF + ch * 4;
#pragma unroll
        for (int k = 0; k < 4; k++) {
            float2 v = __bfloat1622float2(x[k]);
            float cs = cr[k], sn = sr[k];
            x[k] = __floats2bfloat162_rn(__fsub_rn(__fmul_rn(v.x, cs), __fmul_rn(v.y, sn)), __fadd_rn(__fmul_rn(v.y, cs), __fmul_rn(v.x, sn)));
        }
        *p = raw;
    }
}

// The keys a query at sequence position `pos` may see: all `lk` without stages; with stage-block-causal masking
// (stage_ends = cumulative token counts, increasing) the end of the query's own stage.
__device__ __forceinline__ int key_limit(int pos, const int* __restrict__ stage_ends, int n_stages, int lk) {
    if (stage_ends == nullptr) return lk;
    int lim = lk;
    for (int s = n_stages - 1; s >= 0; s--)
        if (pos < stage_ends[s]) lim = stage_ends[s];
    return min(lim, lk);
}

// ---------------------------------------------------------------- flash attention forward

// out = softmax(q·kᵀ·scale [masked]) · v for one (query tile, head, batch) per CTA.
//   launch: grid (ceil(lq / BM), heads, batch), block 128 (4 warps), BM = 64·MT query rows a CTA, each warp owning
//           MT m-tiles of 16 rows (MT = 2 for D 64 and 72: every K/V fragment loaded from shared memory feeds two
//           MMAs; MT = 1 for D 96 and 128, whose accumulators would not fit the registers twice).
//           dynamic shared memory (BM + 4·64) · (DP + 8) · 2 bytes (Q, K×2, V×2), DP = D rounded up to 16:
//           D 64: 55296 (MT 1: 46080), D 72 (DP 80): 67584 (MT 1: 56320), D 96: 66560, D 128: 87040
//           (more than 48 KiB: set MAX_DYNAMIC_SHARED_SIZE_BYTES).
//   limits: D ∈ {64, 72, 96, 128}; lq, lk ≥ 1; q, k, v 16-byte aligned, ld_* multiples of 8; batch ≤ 65535.
//   Non-causal when stage_ends is null; else stage-block-causal: query i sits at position q_pos0 + i and sees keys
//   [0, end of its stage). RoPE on load: rope_q / rope_k rotate Q rows i / K rows j with table rows i / j.
//   Scores and the running softmax stay in f32 registers (online softmax, base-2 with scale·log2 e); P is rounded
//   to bf16 for the P·V product; no score matrix touches memory. K/V tiles are double-buffered with cp.async.
template <int D, int MT, typename OutT>
__device__ __forceinline__ void attention_fwd(const __nv_bfloat16* __restrict__ q, const __nv_bfloat16* __restrict__ k,
                                              const __nv_bfloat16* __restrict__ v, OutT* __restrict__ o, int lq, int lk,
                                              long long q_bstride, long long kv_bstride, long long o_bstride,
                                              int ld_q, int ld_kv, int ld_o, float scale_log2,
                                              const float* __restrict__ rope_cos, const float* __restrict__ rope_sin,
                                              int rope_q, int rope_k, const int* __restrict__ stage_ends, int n_stages,
                                              int q_pos0) {
    constexpr int BM = 64 * MT;         // query rows of the CTA
    constexpr int DP = (D + 15) / 16 * 16;
    constexpr int LD = DP + 8;          // +16 bytes a row: ldmatrix rows fall in distinct banks
    constexpr int KSTEPS = DP / 16;     // k-steps of q·kᵀ over the head dims
    constexpr int NT_D = DP / 8;        // n-tiles of the output over the head dims
    constexpr int NT_K = BN / 8;        // n-tiles of the scores over the keys of a tile

    extern __shared__ __align__(16) unsigned char smem_raw[];
    __nv_bfloat16* sQ = reinterpret_cast<__nv_bfloat16*>(smem_raw);
    __nv_bfloat16* sK = sQ + BM * LD;
    __nv_bfloat16* sV = sK + 2 * BN * LD;

    const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
    const int q0 = blockIdx.x * BM, h = blockIdx.y, b = blockIdx.z;
    const __nv_bfloat16* qb = q + b * q_bstride + h * D;
    const __nv_bfloat16* kb = k + b * kv_bstride + h * D;
    const __nv_bfloat16* vb = v + b * kv_bstride + h * D;
    const bool do_rope_q = rope_cos != nullptr && rope_q, do_rope_k = rope_cos != nullptr && rope_k;

    // Launched programmatically, the kernel before this one may still run (pdl_launch_dependents in the entry). With one
    // query tile (decoding: a few queries against a KV cache, its keys mostly older tokens long out of L2) this head's
    // key and value rows go to L2 meanwhile (a prefetch changes no value); then the wait.
    if (gridDim.x == 1) {
        for (int r = tid; r < lk; r += THREADS) {
#pragma unroll
            for (int e = 0; e < D; e += 64) {   // a 128-byte line a 64 dimensions (the head's rows are 16-byte aligned)
                prefetch_l2(kb + (long long)r * ld_kv + e);
                prefetch_l2(vb + (long long)r * ld_kv + e);
            }
        }
    }
    pdl_wait();

    const int q_last = min(q0 + BM, lq) - 1;
    const int n_tiles = (key_limit(q_pos0 + q_last, stage_ends, n_stages, lk) + BN - 1) / BN;

    if constexpr (DP > D) {             // zero the pad columns of all tiles once (cp.async never writes them)
        for (int r = tid; r < BM + 4 * BN; r += THREADS) {
#pragma unroll
            for (int c = D; c < DP; c += 8) *reinterpret_cast<uint4*>(sQ + r * LD + c) = make_uint4(0, 0, 0, 0);
        }
    }
    load_tile<D, LD, BM>(sQ, qb, ld_q, q0, lq, tid);
    load_tile<D, LD, BN>(sK, kb, ld_kv, 0, lk, tid);
    load_tile<D, LD, BN>(sV, vb, ld_kv, 0, lk, tid);
    cp_async_commit();
    cp_async_wait_all();
    __syncthreads();
    if (do_rope_q || do_rope_k) {
        if (do_rope_q) rope_tile<D, LD, BM>(sQ, rope_cos, rope_sin, q0, lq, tid);
        if (do_rope_k) rope_tile<D, LD, BN>(sK, rope_cos, rope_sin, 0, lk, tid);
        __syncthreads();
    }

    // this warp's MT·16 query rows as A fragments, for every k-step
    uint32_t qf[MT][KSTEPS][4];
#pragma unroll
    for (int mt = 0; mt < MT; mt++)
#pragma unroll
        for (int ks = 0; ks < KSTEPS; ks++)
            ldsm_x4(qf[mt][ks][0], qf[mt][ks][1], qf[mt][ks][2], qf[mt][ks][3],
                    smem_addr(sQ + (warp * 16 * MT + mt * 16 + (lane & 15)) * LD + ks * 16 + (lane >> 4) * 8));

    // this thread's rows: g and g + 8 of each of the warp's m-tiles ([mt][0] and [mt][1])
    int row[MT][2], lim[MT][2];
    float m[MT][2], l[MT][2];
    float acc[MT][NT_D][4];
#pragma unroll
    for (int mt = 0; mt < MT; mt++) {
#pragma unroll
        for (int j = 0; j < 2; j++) {
            row[mt][j] = q0 + warp * 16 * MT + mt * 16 + (lane >> 2) + 8 * j;
            lim[mt][j] = key_limit(q_pos0 + min(row[mt][j], q_last), stage_ends, n_stages, lk);
            m[mt][j] = -INFINITY;
            l[mt][j] = 0.f;
        }
#pragma unroll
        for (int n = 0; n < NT_D; n++) acc[mt][n][0] = acc[mt][n][1] = acc[mt][n][2] = acc[mt][n][3] = 0.f;
    }
    int lim_min = lim[0][0];
#pragma unroll
    for (int mt = 0; mt < MT; mt++) lim_min = min(lim_min, min(lim[mt][0], lim[mt][1]));

    for (int t = 0; t < n_tiles; t++) {
        const int buf = t & 1;
        if (t + 1 < n_tiles) {          // prefetch the next tile into the other buffer
            load_tile<D, LD, BN>(sK + (buf ^ 1) * BN * LD, kb, ld_kv, (t + 1) * BN, lk, tid);
            load_tile<D, LD, BN>(sV + (buf ^ 1) * BN * LD, vb, ld_kv, (t + 1) * BN, lk, tid);
        }
        cp_async_commit();
        const __nv_bfloat16* cK = sK + buf * BN * LD;
        const __nv_bfloat16* cV = sV + buf * BN * LD;

        // S = Q·Kᵀ for MT·16 rows × 64 keys; each K fragment serves every m-tile
        float s[MT][NT_K][4];
#pragma unroll
        for (int mt = 0; mt < MT; mt++)
#pragma unroll
            for (int n = 0; n < NT_K; n++) s[mt][n][0] = s[mt][n][1] = s[mt][n][2] = s[mt][n][3] = 0.f;
#pragma unroll
        for (int ks = 0; ks < KSTEPS; ks++) {
#pragma unroll
            for (int np = 0; np < NT_K / 2; np++) {
                uint32_t b0, b1, b2, b3;   // keys np·16 + 0..7 (b0 dims +0, b1 dims +8), keys +8..15 (b2, b3)
                ldsm_x4(b0, b1, b2, b3, smem_addr(cK + (np * 16 + (lane & 7) + ((lane >> 4) << 3)) * LD + ks * 16 + ((lane >> 3) & 1) * 8));
#pragma unroll
                for (int mt = 0; mt < MT; mt++) {
                    mma_bf16(s[mt][2 * np], qf[mt][ks], b0, b1);
                    mma_bf16(s[mt][2 * np + 1], qf[mt][ks], b2, b3);
                }
            }
        }

        // mask keys past each row's limit (the sequence end, or the end of the query's stage)
        const int kbase = t * BN;
        if (kbase + BN > lim_min) {
#pragma unroll
            for (int mt = 0; mt < MT; mt++)
#pragma unroll
                for (int n = 0; n < NT_K; n++) {
                    int key = kbase + n * 8 + (lane & 3) * 2;
                    if (key >= lim[mt][0]) s[mt][n][0] = -INFINITY;
                    if (key + 1 >= lim[mt][0]) s[mt][n][1] = -INFINITY;
                    if (key >= lim[mt][1]) s[mt][n][2] = -INFINITY;
                    if (key + 1 >= lim[mt][1]) s[mt][n][3] = -INFINITY;
                }
        }

        // online softmax: new row maxima over the 4 threads that share a row, rescale what came before
#pragma unroll
        for (int mt = 0; mt < MT; mt++) {
            float mx0 = m[mt][0], mx1 = m[mt][1];
#pragma unroll
            for (int n = 0; n < NT_K; n++) {
                mx0 = fmaxf(mx0, fmaxf(s[mt][n][0], s[mt][n][1]));
                mx1 = fmaxf(mx1, fmaxf(s[mt][n][2], s[mt][n][3]));
            }
            mx0 = fmaxf(mx0, __shfl_xor_sync(0xffffffffu, mx0, 1));
            mx0 = fmaxf(mx0, __shfl_xor_sync(0xffffffffu, mx0, 2));
            mx1 = fmaxf(mx1, __shfl_xor_sync(0xffffffffu, mx1, 1));
            mx1 = fmaxf(mx1, __shfl_xor_sync(0xffffffffu, mx1, 2));
            const float base0 = mx0 == -INFINITY ? 0.f : mx0 * scale_log2;
            const float base1 = mx1 == -INFINITY ? 0.f : mx1 * scale_log2;
            const float corr0 = exp2f(m[mt][0] * scale_log2 - base0), corr1 = exp2f(m[mt][1] * scale_log2 - base1);
            m[mt][0] = mx0;
            m[mt][1] = mx1;
            l[mt][0] *= corr0;
            l[mt][1] *= corr1;
#pragma unroll
            for (int n = 0; n < NT_D; n++) {
                acc[mt][n][0] *= corr0;
                acc[mt][n][1] *= corr0;
                acc[mt][n][2] *= corr1;
                acc[mt][n][3] *= corr1;
            }
#pragma unroll
            for (int n = 0; n < NT_K; n++) {
                s[mt][n][0] = exp2f(fmaf(s[mt][n][0], scale_log2, -base0));
                s[mt][n][1] = exp2f(fmaf(s[mt][n][1], scale_log2, -base0));
                s[mt][n][2] = exp2f(fmaf(s[mt][n][2], scale_log2, -base1));
                s[mt][n][3] = exp2f(fmaf(s[mt][n][3], scale_log2, -base1));
                l[mt][0] += s[mt][n][0] + s[mt][n][1];
                l[mt][1] += s[mt][n][2] + s[mt][n][3];
            }
        }

        // O += P·V: the score accumulators of key n-tiles 2kk, 2kk+1 are exactly the A fragment of k-step kk;
        // each V fragment serves every m-tile
#pragma unroll
        for (int kk = 0; kk < BN / 16; kk++) {
            uint32_t pa[MT][4];
#pragma unroll
            for (int mt = 0; mt < MT; mt++) {
                pa[mt][0] = pack_bf16(s[mt][2 * kk][0], s[mt][2 * kk][1]);
                pa[mt][1] = pack_bf16(s[mt][2 * kk][2], s[mt][2 * kk][3]);
                pa[mt][2] = pack_bf16(s[mt][2 * kk + 1][0], s[mt][2 * kk + 1][1]);
                pa[mt][3] = pack_bf16(s[mt][2 * kk + 1][2], s[mt][2 * kk + 1][3]);
            }
#pragma unroll
            for (int np = 0; np < NT_D / 2; np++) {
                uint32_t b0, b1, b2, b3;   // V rows (keys) kk·16 + 0..7 / 8..15 for dims np·16 + 0..7 (b0, b1), +8..15 (b2, b3)
                ldsm_x4_trans(b0, b1, b2, b3, smem_addr(cV + (kk * 16 + (lane & 7) + ((lane >> 3) & 1) * 8) * LD + np * 16 + (lane >> 4) * 8));
#pragma unroll
                for (int mt = 0; mt < MT; mt++) {
                    mma_bf16(acc[mt][2 * np], pa[mt], b0, b1);
                    mma_bf16(acc[mt][2 * np + 1], pa[mt], b2, b3);
                }
            }
        }

        cp_async_wait_all();            // the next tile has landed
        __syncthreads();                // and every warp is done with this one
        if (do_rope_k && t + 1 < n_tiles) {
            rope_tile<D, LD, BN>(sK + (buf ^ 1) * BN * LD, rope_cos, rope_sin, (t + 1) * BN, lk, tid);
            __syncthreads();
        }
    }

    // normalize by the row sums (partial per thread until now) and write the rows that exist
    OutT* ob = o + b * o_bstride + h * D + (lane & 3) * 2;
#pragma unroll
    for (int mt = 0; mt < MT; mt++) {
        float inv[2];
#pragma unroll
        for (int j = 0; j < 2; j++) {
            float sum = l[mt][j];
            sum += __shfl_xor_sync(0xffffffffu, sum, 1);
            sum += __shfl_xor_sync(0xffffffffu, sum, 2);
            inv[j] = 1.f / sum;
        }
#pragma unroll
        for (int n = 0; n < NT_D; n++) {
            if (n * 8 >= D) break;
            if (row[mt][0] < lq) store2(ob + (long long)row[mt][0] * ld_o + n * 8, acc[mt][n][0] * inv[0], acc[mt][n][1] * inv[0]);
            if (row[mt][1] < lq) store2(ob + (long long)row[mt][1] * ld_o + n * 8, acc[mt][n][2] * inv[1], acc[mt][n][3] * inv[1]);
        }
    }
}

}  // namespace

// Entry points attention_fwd_d<D>[_m<MT>]_<out>: the default m-tiles per warp has no _m suffix; D 64 and 72 also
// come with MT = 1 (_m1: half the registers, twice the CTAs a wave) so a GPU run can measure which is faster.
#define ECAR_ATTENTION(NAME, D, MT, OUT)                                                                                 \
    ECAR_KERNEL void __launch_bounds__(THREADS) NAME(                                                                    \
        const __nv_bfloat16* q, const __nv_bfloat16* k, const __nv_bfloat16* v, OUT* o, int lq, int lk,                  \
        long long q_bstride, long long kv_bstride, long long o_bstride, int ld_q, int ld_kv, int ld_o, float scale_log2, \
        const float* rope_cos, const float* rope_sin, int rope_q, int rope_k, const int* stage_ends, int n_stages,       \
        int q_pos0) { pdl_launch_dependents();   /* pdl_wait: in attention_fwd, after the K/V prefetch */            \
        attention_fwd<D, MT, OUT>(q, k, v, o, lq, lk, q_bstride, kv_bstride, o_bstride, ld_q, ld_kv, ld_o, scale_log2,   \
                                  rope_cos, rope_sin, rope_q, rope_k, stage_ends, n_stages, q_pos0);                     \
    }

ECAR_ATTENTION(attention_fwd_d64_f32, 64, 2, float)
ECAR_ATTENTION(attention_fwd_d64_bf16, 64, 2, __nv_bfloat16)
ECAR_ATTENTION(attention_fwd_d64_m1_f32, 64, 1, float)
ECAR_ATTENTION(attention_fwd_d64_m1_bf16, 64, 1, __nv_bfloat16)
ECAR_ATTENTION(attention_fwd_d72_f32, 72, 2, float)
ECAR_ATTENTION(attention_fwd_d72_bf16, 72, 2, __nv_bfloat16)
ECAR_ATTENTION(attention_fwd_d72_m1_f32, 72, 1, float)
ECAR_ATTENTION(attention_fwd_d72_m1_bf16, 72, 1, __nv_bfloat16)
ECAR_ATTENTION(attention_fwd_d96_f32, 96, 1, float)
ECAR_ATTENTION(attention_fwd_d96_bf16, 96, 1, __nv_bfloat16)
ECAR_ATTENTION(attention_fwd_d128_f32, 128, 1, float)
ECAR_ATTENTION(attention_fwd_d128_bf16, 128, 1, __nv_bfloat16)

// ---------------------------------------------------------------- RoPE and KV cache

// rope2d_f32 / rope2d_bf16: out = FlowAR's 2D RoPE of x [B, L, width] (heads of head_dim dims; x's rows ld_x floats
//   apart: width, or 3·width for the queries of a fused qkv read in place), token t using row t of the tables cos/sin
//   [L, head_dim/2] (CpuAttention.ropeTables, uploaded once), out [B, L, width] in f32 (bit-exact with
//   CpuAttention.rope2d) or rounded to bf16 (the rotated operand of attention in one pass: read f32, write bf16).
//   One thread per pair of adjacent elements. launch: grid ceil(B·L·width/2 / 256), block 256.
//   limits: head_dim a multiple of 4, width a multiple of head_dim, ld_x ≥ width and even.
template <typename OutT>
__device__ __forceinline__ void rope2d(OutT* __restrict__ out, const float* __restrict__ x, int batch, int l, int width, int ld_x, int head_dim,
                                       const float* __restrict__ rope_cos, const float* __restrict__ rope_sin) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    const int pairs = width / 2;
    if (i >= (long long)batch * l * pairs) return;
    const int pr = (int)(i % pairs);
    const long long row = i / pairs;
    const int t = (int)(row % l), col = 2 * pr;
    long long ti = (long long)t * (head_dim / 2) + (col % head_dim) / 2;
    float2 v = rotate(*reinterpret_cast<const float2*>(x + row * ld_x + col), rope_cos[ti], rope_sin[ti]);
    store2(out + row * width + col, v.x, v.y);
}

ECAR_KERNEL void rope2d_f32(float* __restrict__ out, const float* __restrict__ x, int batch, int l, int width, int ld_x, int head_dim,
                            const float* __restrict__ rope_cos, const float* __restrict__ rope_sin) {
    pdl_enter();
    rope2d(out, x, batch, l, width, ld_x, head_dim, rope_cos, rope_sin);
}

ECAR_KERNEL void rope2d_bf16(__nv_bfloat16* __restrict__ out, const float* __restrict__ x, int batch, int l, int width, int ld_x, int head_dim,
                             const float* __restrict__ rope_cos, const float* __restrict__ rope_sin) {
    pdl_enter();
    rope2d(out, x, batch, l, width, ld_x, head_dim, rope_cos, rope_sin);
}

// qkv_to_bf16: a fused projection qkv [B, L, 3·width] (q, k, v side by side) as the bf16 operands of attention in one
//   pass: q and k rotated by FlowAR's 2D RoPE (table row = token index, head_dim dims per head) when rope_cos is
//   non-null, v (and q, k without RoPE) only rounded. The attention kernels then read q, k and v from it with row
//   stride 3·width, so the fused tensor is neither split nor cast again. Rounding as rope2d_bf16 and cast_f32_bf16.
//   One thread per pair of adjacent elements. launch: grid ceil(B·L·3·width/2 / 256), block 256.
//   limits: width a multiple of head_dim, head_dim a multiple of 4 when rotating.
ECAR_KERNEL void qkv_to_bf16(__nv_bfloat16* __restrict__ out, const float* __restrict__ qkv, int batch, int l, int width, int head_dim,
                             const float* __restrict__ rope_cos, const float* __restrict__ rope_sin) {
    pdl_enter();
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    const int pairs = 3 * width / 2;
    if (i >= (long long)batch * l * pairs) return;
    const int col = 2 * (int)(i % pairs);
    const long long row = i / pairs;
    float2 v = *reinterpret_cast<const float2*>(qkv + row * 3 * width + col);
    if (rope_cos != nullptr && col < 2 * width) {   // q or k
        const int t = (int)(row % l), c = col % width;
        const long long ti = (long long)t * (head_dim / 2) + (c % head_dim) / 2;
        v = rotate(v, rope_cos[ti], rope_sin[ti]);
    }
    store2(out + row * 3 * width + col, v.x, v.y);
}

// kv_append: writes new tokens' keys and values (f32 [B, l_new, width], rows ld floats apart: width, or 2·width or
// 3·width for those of a fused kv or qkv read in place) into bf16 caches [B, cap, width] at token positions
// [pos, pos + l_new), rotating the keys by RoPE when rope_cos is non-null: tables cos/sin [table_rows, head_dim/2],
// token t by table row rope_row(rows, t) — t itself (FlowAR's 2D tables of the stage) or rows[t] (ARPG's, a row
// outside the table writes NaN). Where q_out is non-null it also writes the queries q (same rows and stride)
// rotated the same way and rounded to bf16, [B, l_new, width]: attention's operand, in the same pass.
// Rotation and rounding as rope2d_bf16 / rope_rows_f32 then cast_f32_bf16, so the result is bit-identical to those
// passes run one after another. The decoder then attends with lk = pos + l_new.
//   One thread per pair of adjacent elements. launch: grid ceil(B·l_new·width/2 / 256), block 256.
//   limits: width and ld even, ld ≥ width; head_dim even, width a multiple of it when rotating; pos + l_new ≤ cap;
//   rows (if given) [l_new]; q given where q_out is.
ECAR_KERNEL void kv_append(__nv_bfloat16* __restrict__ cache_k, __nv_bfloat16* __restrict__ cache_v, const float* __restrict__ k,
                           const float* __restrict__ v, int batch, int l_new, int width, int ld, int pos, int cap, int head_dim,
                           const float* __restrict__ rope_cos, const float* __restrict__ rope_sin, const float* __restrict__ rows,
                           int table_rows, const float* __restrict__ q, __nv_bfloat16* __restrict__ q_out) {
    pdl_enter();
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    const int pairs = width / 2;
    if (i >= (long long)batch * l_new * pairs) return;
    const int pr = (int)(i % pairs);
    const long long row = i / pairs;            // b · l_new + t
    const int t = (int)(row % l_new), b = (int)(row / l_new);
    const int col = 2 * pr;
    float2 kv = *reinterpret_cast<const float2*>(k + row * ld + col);
    float2 vv = *reinterpret_cast<const float2*>(v + row * ld + col);
    float2 qv = q_out != nullptr ? *reinterpret_cast<const float2*>(q + row * ld + col) : make_float2(0.f, 0.f);
    if (rope_cos != nullptr) {
        const int r = rope_row(rows, t, table_rows);
        if (r >= 0) {
            const long long ti = (long long)r * (head_dim / 2) + (col % head_dim) / 2;   // pair index within the head
            const float c = rope_cos[ti], s = rope_sin[ti];
            kv = rotate(kv, c, s);
            qv = rotate(qv, c, s);
        } else {
            kv = qv = make_float2(__int_as_float(0x7fc00000), __int_as_float(0x7fc00000));
        }
    }
    long long dst = ((long long)b * cap + pos + t) * width + col;
    *reinterpret_cast<__nv_bfloat162*>(cache_k + dst) = __floats2bfloat162_rn(kv.x, kv.y);
    *reinterpret_cast<__nv_bfloat162*>(cache_v + dst) = __floats2bfloat162_rn(vv.x, vv.y);
    if (q_out != nullptr) store2(q_out + row * width + col, qv.x, qv.y);
}

// ---------------------------------------------------------------- casts

// cast_f32_bf16: out[i] = bf16(in[i]), round to nearest even (as ecar.io.Bf16). launch: grid ceil(n / 256), block 256.
ECAR_KERNEL void cast_f32_bf16(__nv_bfloat16* __restrict__ out, const float* __restrict__ in, long long n) {
    pdl_enter();
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = f2bf(in[i]);
}

// cast_bf16_f32: out[i] = float(in[i]). launch: grid ceil(n / 256), block 256.
ECAR_KERNEL void cast_bf16_f32(float* __restrict__ out, const __nv_bfloat16* __restrict__ in, long long n) {
    pdl_enter();
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = bf2f(in[i]);
}
