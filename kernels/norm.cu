// LayerNorm / RMSNorm over the last dimension, fused with adaLN modulation; GroupNorm (+SiLU) on channels-last
// images. Statistics in fp32 (rows) or fp64 (groups, which span up to 2^23 elements); input fp32, output fp32
// or bf16 (bf16 when the next op is a GEMM or a convolution).
// CPU twin: src/main/java/ecar/backend/CpuNorm.java (rows: Backend.norm and normModulate; group: groupNorm).
#include "norm_row.cuh"

using namespace ecar;

template <bool OUT_BF16>
__device__ __forceinline__ void put(void* out, size_t i, float v) {
    if (OUT_BF16) reinterpret_cast<__nv_bfloat16*>(out)[i] = f2bf(v);
    else reinterpret_cast<float*>(out)[i] = v;
}

// norm_rows: out[r] = norm(x[r]) · weight, or norm(x[r]) · (1 + scale[r/ratio]) + shift[r/ratio] (adaLN).
//   x: [rows, d] f32. weight: [d] f32 or null. shift, scale: rows of modStride floats, the d used start at the
//   pointers (so chunks of an adaLN output [B, 6d] are addressed in place with modStride = 6d); both null for
//   no modulation. kind: 0 LayerNorm (x − mean), 1 RMSNorm. var = mean((x − mean)²), inv = 1/√(var + eps).
//   One warp per row. Where the row fits a warp's registers (d % 4 == 0, d ≤ 32·4·ROW_VECS = 2048) and every
//   operand is 16-byte aligned (8 for a bf16 out), the row is read once, 16 bytes a load, all loads in flight
//   together (norm_row_in_registers); else two passes over x, four bytes a load (the second from L1/L2).
//   launch: block 256 (8 rows), grid ceil(rows / 8). Limits: rows, d ≥ 1; ratio ≥ 1 divides rows.
// tools/emulate_norm_rows.py replays the register path lane by lane (NormEmulationTest).
// Why the register path: at batch 1 a norm has a few rows (ARPG-L: 6 × 1024), so its time is latency; the loop of
// four-byte loads waited on one round trip after another (step 12 on the H100, 2026-11-28: 8 to 10 µs a call,
// normForMatmul 21% of ARPG-L's device time at batch 1).
template <bool OUT_BF16>
__device__ __forceinline__ void norm_rows(void* out, const float* __restrict__ x, const float* __restrict__ weight,
                                          const float* __restrict__ shift, const float* __restrict__ scale, int modStride,
                                          int rows, int d, int kind, float eps, int ratio) {
    int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32, lane = threadIdx.x & 31;
    if (row >= rows) return;
    const float* xr = x + (size_t)row * d;
    // uniform over the launch: the row's 16-byte pieces line up in x, weight, the modulation rows and out
    const bool vec = d % 4 == 0 && d <= 128 * ROW_VECS && modStride % 4 == 0 && aligned16(x) && aligned16(weight)
                     && aligned16(shift) && aligned16(scale) && (reinterpret_cast<uintptr_t>(out) & (OUT_BF16 ? 7 : 15)) == 0;
    if (vec) {
        const size_t mo = (size_t)(row / ratio) * modStride;
        norm_row_in_registers<OUT_BF16>(out, xr, weight, shift ? shift + mo : nullptr, scale ? scale + mo : nullptr,
                                        (size_t)row * d, d, kind, eps, lane);
        return;
    }
    float mean = 0.f;
    if (kind == NORM_LAYER) {
        float s = 0.f;
        for (int i = lane; i < d; i += 32) s += xr[i];
        mean = warp_sum(s) / d;
    }
    float ss = 0.f;
    for (int i = lane; i < d; i += 32) {
        float c = xr[i] - mean;
        ss += c * c;
    }
    float inv = rsqrtf(warp_sum(ss) / d + eps);
    size_t mo = (size_t)(row / ratio) * modStride;
    for (int i = lane; i < d; i += 32) {
        float v = (xr[i] - mean) * inv;
        if (weight) v *= weight[i];
        if (scale) v = v * (1.f + scale[mo + i]) + shift[mo + i];
        put<OUT_BF16>(out, (size_t)row * d + i, v);
    }
}

#define NORM_ENTRY(NAME, OUT_BF16)                                                                                   \
    ECAR_KERNEL void __launch_bounds__(256) NAME(void* out, const float* __restrict__ x, const float* __restrict__ weight, \
                                                 const float* __restrict__ shift, const float* __restrict__ scale,      \
                                                 int modStride, int rows, int d, int kind, float eps, int ratio) { pdl_enter();      \
        norm_rows<OUT_BF16>(out, x, weight, shift, scale, modStride, rows, d, kind, eps, ratio);                        \
    }
NORM_ENTRY(norm_rows_f32, false)
NORM_ENTRY(norm_rows_bf16, true)

// ------------------------------------------------------------------ GroupNorm, channels-last [N, HW, C]

// groupnorm_stats: stats[n][g] += (Σ x, Σ x²) over a chunk of `pixels` pixels of sample n (stats zeroed first).
//   One thread per channel: thread c sums its channel over the chunk (coalesced: a pixel's C channels are
//   contiguous), the block folds channels into groups in shared memory, one fp64 atomic per group and block.
//   launch: block C threads, grid (ceil(HW / pixels), N), shared memory 2·C floats.
//   Limits: 1 ≤ C ≤ 1024, C % groups == 0.
ECAR_KERNEL void __launch_bounds__(1024) groupnorm_stats(double* __restrict__ stats, const float* __restrict__ x,
                                                        int hw, int c, int groups, int pixels) {
    pdl_enter();
    extern __shared__ float part[];   // [2][C]
    int ch = threadIdx.x, n = blockIdx.y;
    int p0 = blockIdx.x * pixels, p1 = min(hw, p0 + pixels);
    const float* xs = x + (size_t)n * hw * c;
    float s = 0.f, q = 0.f;
    for (int p = p0; p < p1; p++) {
        float v = xs[(size_t)p * c + ch];
        s += v;
        q += v * v;
    }
    part[ch] = s;
    part[c + ch] = q;
    __syncthreads();
    int cg = c / groups;
    if (ch < groups) {
        double gs = 0, gq = 0;
        for (int i = ch * cg; i < (ch + 1) * cg; i++) {
            gs += part[i];
            gq += part[c + i];
        }
        atomicAdd(&stats[((size_t)n * groups + ch) * 2], gs);
        atomicAdd(&stats[((size_t)n * groups + ch) * 2 + 1], gq);
    }
}

// groupnorm_zero: stats[i] = 0 for i < count (before groupnorm_stats). launch: grid ceil(count / 256), block 256.
ECAR_KERNEL void groupnorm_zero(double* stats, int count) {
    pdl_enter();
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < count) stats[i] = 0.0;
}

// groupnorm_apply: out = x · mul[c] + add[c] (then SiLU), with mean, var = E[x²] − mean² (clamped at 0),
//   inv = 1/√(var + eps), mul = inv·w, add = b − mean·inv·w computed once per thread in fp64 as the CPU does.
//   launch: block C threads, grid (ceil(HW / pixels), N). Limits as groupnorm_stats.
template <bool OUT_BF16>
__device__ __forceinline__ void groupnorm_apply(void* out, const float* __restrict__ x, const double* __restrict__ stats,
                                                const float* __restrict__ w, const float* __restrict__ b,
                                                int hw, int c, int groups, int pixels, float eps, int silu) {
    int ch = threadIdx.x, n = blockIdx.y, g = ch / (c / groups);
    double count = (double)hw * (c / groups);
    double mean = stats[((size_t)n * groups + g) * 2] / count;
    double var = fmax(0.0, stats[((size_t)n * groups + g) * 2 + 1] / count - mean * mean);
    double inv = 1.0 / sqrt(var + (double)eps);
    float mul = (float)(inv * w[ch]), add = (float)(b[ch] - mean * inv * w[ch]);
    int p0 = blockIdx.x * pixels, p1 = min(hw, p0 + pixels);
    size_t base = (size_t)n * hw * c;
    for (int p = p0; p < p1; p++) {
        size_t i = base + (size_t)p * c + ch;
        float v = x[i] * mul + add;
        if (silu) v = v / (1.f + expf(-v));
        put<OUT_BF16>(out, i, v);
    }
}

#define GN_ENTRY(NAME, OUT_BF16)                                                                                     \
    ECAR_KERNEL void __launch_bounds__(1024) NAME(void* out, const float* __restrict__ x, const double* __restrict__ stats, \
                                                  const float* __restrict__ w, const float* __restrict__ b, int hw, int c, \
                                                  int groups, int pixels, float eps, int silu) { pdl_enter();           \
        groupnorm_apply<OUT_BF16>(out, x, stats, w, b, hw, c, groups, pixels, eps, silu);                                 \
    }
GN_ENTRY(groupnorm_apply_f32, false)
GN_ENTRY(groupnorm_apply_bf16, true)

// ------------------------------------------------------------------ row softmax

// softmax_rows: out[r] = softmax(scale · x[r]) = exp((x − max)·scale) / Σ, the score rows of a single-head attention
//   done with GEMMs (the VAE's mid AttnBlock: 512 channels over H·W tokens). CPU twin: CpuAttention.softmaxRow.
//   x: [rows, n] f32, out f32 or bf16 (bf16 when P feeds the P·V GEMM). One warp per row, fp32 reductions.
//   launch: block 256 (8 rows), grid ceil(rows / 8). Limits: rows, n ≥ 1; scale > 0.
template <bool OUT_BF16>
__device__ __forceinline__ void softmax_rows(void* out, const float* __restrict__ x, int rows, int n, float scale) {
    int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32, lane = threadIdx.x & 31;
    if (row >= rows) return;
    const float* xr = x + (size_t)row * n;
    float m = -INFINITY;
    for (int i = lane; i < n; i += 32) m = fmaxf(m, xr[i]);
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, o));
    float s = 0.f;
    for (int i = lane; i < n; i += 32) s += expf((xr[i] - m) * scale);
    float inv = 1.f / warp_sum(s);
    for (int i = lane; i < n; i += 32) put<OUT_BF16>(out, (size_t)row * n + i, expf((xr[i] - m) * scale) * inv);
}
ECAR_KERNEL void __launch_bounds__(256) softmax_rows_f32(void* out, const float* __restrict__ x, int rows, int n, float scale) {
    pdl_enter();
    softmax_rows<false>(out, x, rows, n, scale);
}
ECAR_KERNEL void __launch_bounds__(256) softmax_rows_bf16(void* out, const float* __restrict__ x, int rows, int n, float scale) {
    pdl_enter();
    softmax_rows<true>(out, x, rows, n, scale);
}
