// Skinny GEMM for the few rows of batch-1 sampling: Y[M, N] = X[M, K] · W[N, K]ᵀ (+ bias) → activation → post, 16 rows a block,
// bf16 operands, fp32 accumulation on the CUDA cores, output fp32 or bf16; the same epilogue code as gemm.cu
// (kernels/gemm_tile.cuh's Epilogue and store_pair). CPU twin: src/main/java/ecar/backend/CpuGemm.java through
// CpuBackend.linear (with mul and gatedResidual for the fused epilogues).
//
// Why: with M = 2 (ECAR's first stage, guided) a 64 × 64 tensor-core tile is 97% padding and a grid of N / 64 tiles
// leaves most SMs idle, so the layer runs far below the memory bandwidth that bounds it: each weight is used M times.
// Here every warp streams two rows of W (two adjacent outputs) with 16-byte loads, four K steps in flight at once,
// and multiplies them by the M rows of X (read through the cache: every warp reads the same X), then the warp reduces
// its 2·M sums; lane m stores row m. All of W is read once, by every SM.
// Split K: the layer's time is the bytes of W in flight, about 4 KB a warp, so a layer with few columns (ARPG-L's
// fc2, N = 1024: 512 pairs, 512 warps, 4 an SM) cannot fill the memory pipe. With ksplit 2 or 4 that many warps of a
// block share one pair, each a contiguous range of K's chunks, and the block adds their sums in range order through
// shared memory (deterministic) before the first warp runs the epilogue. GemmKernels picks ksplit for about 16 warps
// an SM (ecar.cuda.ops.GemmKernels.skinnySplit).
// Programmatic launch (ECAR_PDL=on): each warp prefetches its range of its two W rows into L2 before it waits for the
// kernel before it (griddepcontrol.wait), so at batch 1 the weights stream while that kernel ends.
// Norm prologue (gemm_skinny_norm_*): X is norm_rows' bf16 output — RMSNorm or LayerNorm of f32 rows, times a weight or
// adaLN-modulated — which the block computes itself, with norm_row.cuh's code (the bits norm_rows writes), into shared
// memory, a warp a row, while W's prefetches stream; the main loop then reads X from there. That removes the norm's
// own launch in front of each of batch 1's skinny GEMMs (ECAR-L's normModulate and ARPG-L's normForMatmul). Every
// block reads its rows of x whole (from L2 or L1 after the first), so the launcher gives it few rows
// (ecar.cuda.ops.GemmKernels.NORM_PROLOGUE_MAX_M, 8) and the CUDA backend takes it only with ECAR_NORM_PROLOGUE=on.
// Replayed (the prologue's rows, warps and shared rows): tools/emulate_gemm_skinny.py.
//
// Entry points: gemm_skinny_{f32,bf16}
//   (void* Y, const bf16* X, const bf16* W, const float* bias, const float* res, const float* gate, const bf16* mul,
//    int M, int N, int K, int act, int post, int gateRatio, int gateLd, int ksplit,
//    const float* rope_cos, const float* rope_sin, int rope_tokens, int rope_head, int rope_cols,
//    const float* rope_rows, int rope_table_rows)
//   launch: block 128 (4 warps), grid (ceil(ceil(N / 2) / (4 / ksplit)), ceil(M / 16)): ksplit warps per pair of
//   output columns, a block row per 16 rows of X (each reads W again, from L2 after the first: 17 to 63 rows, where
//   gemm.cu's 64-row tiles would give a 1024-column layer 16 CTAs).
// Limits: M ≥ 1, ceil(M / 16) ≤ 65535; K % 8 == 0, K ≥ 8; ksplit 1, 2 or 4; X, W 16-byte aligned (rows of K bf16, K a
//   multiple of 8, stay aligned); N ≥ 1; act, post, gateRatio as in gemm.cu; Y may be res.
//
// Entry points: gemm_skinny_norm_{f32,bf16}
//   (void* Y, const float* nx, const bf16* W, bias, res, gate, mul, M, N, K, act, post, gateRatio, gateLd, ksplit,
//    const float* nweight, const float* nshift, const float* nscale, int modStride, int kind, float eps, int ratio,
//    rope params as above)
//   X = norm_rows(nx [M, K] f32, nweight | nshift, nscale, modStride, kind, eps, ratio) in bf16 (kernels/norm.cu).
//   launch: as above, with min(M, 16) · K · 2 bytes of dynamic shared memory (M ≤ 8 by default, 16 when asked: up to
//   64 KiB at K = 2048, past the 48 KiB default, which the launcher raises).
// Limits: as above, and norm_row.cuh's: K ≤ 2048; nx, nweight, nshift, nscale 16-byte aligned, modStride % 4 == 0;
//   ratio ≥ 1 divides M; Y, res do not overlap nx (other blocks still read its rows while one stores).
#include "gemm_tile.cuh"
#include "norm_row.cuh"

using namespace ecar;
using namespace ecar::tile;

namespace {

// WARPS: 4 a block, so that N / 8 blocks spread over the SMs (ARPG-L's fc2, N = 1024: 128 blocks; with 8 warps, 64 of
// 132 SMs streamed W)
constexpr int MAX_M = 16, WARPS = 4, UNROLL = 4, X_BATCH = 8;

// Eight bf16 (one 16-byte load) as floats.
__device__ __forceinline__ void unpack8(const uint4& u, float* f) {
    const __nv_bfloat162* h = reinterpret_cast<const __nv_bfloat162*>(&u);
#pragma unroll
    for (int i = 0; i < 4; i++) {
        float2 v = __bfloat1622float2(h[i]);
        f[2 * i] = v.x;
        f[2 * i + 1] = v.y;
    }
}

// What the norm entries normalise into X: norm_rows' operands (kernels/norm.cu).
struct NormIn {
    const float* x;
    const float* weight;
    const float* shift;
    const float* scale;
    int modStride, kind;
    float eps;
    int ratio;
};

// NORMED: X is computed by the block into dynamic shared memory (norm prologue) rather than read from global memory.
template <bool OUT_BF16, bool NORMED>
__device__ __forceinline__ void gemm_skinny(void* Y, const __nv_bfloat16* __restrict__ X, const __nv_bfloat16* __restrict__ W,
                                            int M, int N, int K, int ksplit, const Epilogue& e, const NormIn& nin) {
    __shared__ float partial[WARPS][MAX_M][2];   // each warp's sums of its range, row by row (ksplit > 1)
    extern __shared__ __align__(16) unsigned char normed[];   // NORMED: the block's rows of X, bf16 [rows, K]
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int range = warp % ksplit, n = 2 * (blockIdx.x * (WARPS / ksplit) + warp / ksplit);
    const int row0 = blockIdx.y * MAX_M, rows = min(MAX_M, M - row0);   // this block's rows of X and Y
    if (!NORMED) X += (size_t)row0 * K;
    const bool second = n + 1 < N;
    const int chunks = K / 8;   // 16-byte chunks in a row
    // this warp's chunks [c_begin, c_end); none for a pair past N (the warp still meets the block's barrier)
    const int per = (chunks + ksplit - 1) / ksplit, c_begin = range * per, c_end = n < N ? min(chunks, c_begin + per) : c_begin;
    const uint4* w0 = reinterpret_cast<const uint4*>(W + (size_t)min(n, N - 1) * K);
    const uint4* w1 = reinterpret_cast<const uint4*>(W + (size_t)(second ? n + 1 : min(n, N - 1)) * K);
    // Launched programmatically, the kernel before this one may still run: this warp's range of its two W rows goes to L2
    // meanwhile (a line of 8 chunks a lane), then the wait; with an ordinary launch the wait passes at once.
    for (int line = c_begin / 8 + lane; line * 8 < c_end; line += 32) {
        prefetch_l2(w0 + 8 * line);
        prefetch_l2(w1 + 8 * line);
    }
    pdl_wait();

    if (NORMED) {   // the block's rows of X, as norm_rows would write them: warp w normalises rows w, w + WARPS, …
        __nv_bfloat16* xs = reinterpret_cast<__nv_bfloat16*>(normed);
        for (int m = warp; m < rows; m += WARPS) {
            const int r = row0 + m;
            const size_t mo = (size_t)(r / nin.ratio) * nin.modStride;
            norm_row_in_registers<true>(xs, nin.x + (size_t)r * K, nin.weight, nin.shift ? nin.shift + mo : nullptr,
                                        nin.scale ? nin.scale + mo : nullptr, (size_t)m * K, K, nin.kind, nin.eps, lane);
        }
        __syncthreads();
        X = xs;
    }

    float acc[MAX_M][2];
#pragma unroll
    for (int m = 0; m < MAX_M; m++) acc[m][0] = acc[m][1] = 0.f;

    // lane l takes chunks c_begin + l, + 32, …; UNROLL of them are loaded before any is used (bytes in flight hide latency)
    for (int c0 = c_begin + lane; c0 < c_end; c0 += 32 * UNROLL) {
        uint4 a[UNROLL], b[UNROLL];
#pragma unroll
        for (int u = 0; u < UNROLL; u++) {
            const int c = c0 + 32 * u;
            if (c < c_end) {
                a[u] = __ldg(w0 + c);
                b[u] = __ldg(w1 + c);
            }
        }
#pragma unroll
        for (int u = 0; u < UNROLL; u++) {
            const int c = c0 + 32 * u;
            if (c >= c_end) break;
            float fa[8], fb[8];
            unpack8(a[u], fa);
            unpack8(b[u], fb);
            // chunk c of X's rows, eight rows' loads issued together before any is used (X comes from L2 the first
            // time an SM reads a chunk: a load used at once, row after row, waited M round trips per chunk). Eight,
            // not sixteen: sixteen chunks in registers made ptxas spill.
#pragma unroll
            for (int m0 = 0; m0 < MAX_M; m0 += X_BATCH) {
                if (m0 >= rows) break;
                uint4 xs[X_BATCH];
#pragma unroll
                for (int i = 0; i < X_BATCH; i++) {
                    if (m0 + i >= rows) continue;
                    const uint4* xr = reinterpret_cast<const uint4*>(X + (size_t)(m0 + i) * K) + c;
                    xs[i] = NORMED ? *xr : __ldg(xr);   // shared memory, or global through the read-only cache
                }
#pragma unroll
                for (int i = 0; i < X_BATCH; i++) {
                    const int m = m0 + i;
                    if (m >= rows) break;
                    float fx[8];
                    unpack8(xs[i], fx);
#pragma unroll
                    for (int t = 0; t < 8; t++) {
                        acc[m][0] = fmaf(fx[t], fa[t], acc[m][0]);
                        acc[m][1] = fmaf(fx[t], fb[t], acc[m][1]);
                    }
                }
            }
        }
    }

    // each row's two sums over the warp; lane m stores row m's pair
#pragma unroll
    for (int m = 0; m < MAX_M; m++) {
        if (m >= rows) break;
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) {
            acc[m][0] += __shfl_xor_sync(0xffffffffu, acc[m][0], o);
            acc[m][1] += __shfl_xor_sync(0xffffffffu, acc[m][1], o);
        }
    }
    // lane m picks row m's pair (selects, not a runtime-indexed array) and runs the epilogue once: one copy of its code
    float v0 = 0.f, v1 = 0.f;
#pragma unroll
    for (int m = 0; m < MAX_M; m++) {
        if (lane == m) {
            v0 = acc[m][0];
            v1 = acc[m][1];
        }
    }
    if (ksplit > 1) {   // uniform over the block: the pair's first warp adds the ranges' sums in range order
        if (lane < rows) {
            partial[warp][lane][0] = v0;
            partial[warp][lane][1] = v1;
        }
        __syncthreads();
        if (range > 0) return;
        for (int r = 1; r < ksplit; r++) {
            if (lane < rows) {
                v0 += partial[warp + r][lane][0];
                v1 += partial[warp + r][lane][1];
            }
        }
    }
    if (n < N && lane < rows) store_pair<OUT_BF16>(Y, row0 + lane, n, v0, v1, M, N, e);
}

}  // namespace

#define GEMM_SKINNY_ENTRY(NAME, OUT_BF16)                                                                            \
    ECAR_KERNEL void __launch_bounds__(32 * WARPS)                                                                   \
        NAME(void* Y, const __nv_bfloat16* __restrict__ X, const __nv_bfloat16* __restrict__ W,                      \
             const float* __restrict__ bias, const float* res, const float* __restrict__ gate,                       \
             const __nv_bfloat16* __restrict__ mul, int M, int N, int K, int act, int post, int gateRatio, int gateLd,   \
             int ksplit, ECAR_ROPE_PARAMS) { pdl_launch_dependents();   /* pdl_wait: in gemm_skinny, after W's prefetch */ \
        Epilogue e{bias, res, gate, mul, act, post, gateRatio, gateLd, ECAR_ROPE_ARGS};                              \
        gemm_skinny<OUT_BF16, false>(Y, X, W, M, N, K, ksplit, e, NormIn{});                                         \
    }

GEMM_SKINNY_ENTRY(gemm_skinny_f32, false)
GEMM_SKINNY_ENTRY(gemm_skinny_bf16, true)

#define GEMM_SKINNY_NORM_ENTRY(NAME, OUT_BF16)                                                                       \
    ECAR_KERNEL void __launch_bounds__(32 * WARPS)                                                                   \
        NAME(void* Y, const float* __restrict__ nx, const __nv_bfloat16* __restrict__ W,                             \
             const float* __restrict__ bias, const float* res, const float* __restrict__ gate,                       \
             const __nv_bfloat16* __restrict__ mul, int M, int N, int K, int act, int post, int gateRatio, int gateLd,   \
             int ksplit, const float* __restrict__ nweight, const float* __restrict__ nshift,                        \
             const float* __restrict__ nscale, int modStride, int kind, float eps, int ratio, ECAR_ROPE_PARAMS) {      \
        pdl_launch_dependents();   /* pdl_wait: in gemm_skinny, after W's prefetch */                                \
        Epilogue e{bias, res, gate, mul, act, post, gateRatio, gateLd, ECAR_ROPE_ARGS};                              \
        gemm_skinny<OUT_BF16, true>(Y, nullptr, W, M, N, K, ksplit, e,                                               \
                                    NormIn{nx, nweight, nshift, nscale, modStride, kind, eps, ratio});               \
    }

GEMM_SKINNY_NORM_ENTRY(gemm_skinny_norm_f32, false)
GEMM_SKINNY_NORM_ENTRY(gemm_skinny_norm_bf16, true)
