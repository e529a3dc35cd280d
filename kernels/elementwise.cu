// Elementwise ops on float32 activations, one thread per output element, output float32 or bf16 (bf16 when the
// next op is a GEMM). Broadcasting as Backend's class comment defines it: "per group" operand row r/ratio
// (same shape: ratio 1; per sample modulation [B, D] over [B, L, D]: ratio L), "tiled" element i % count.
// CPU twin: src/main/java/ecar/backend/CpuBackend.java (add, addTiled, mul, silu, gatedResidual) and
// Activations.silu.
#include "common.cuh"

using namespace ecar;

template <bool OUT_BF16>
__device__ __forceinline__ void put(void* out, long long i, float v) {
    if (OUT_BF16) reinterpret_cast<__nv_bfloat16*>(out)[i] = f2bf(v);
    else reinterpret_cast<float*>(out)[i] = v;
}

// Every kernel: launch grid ceil(n / 256), block 256; n = rows·width elements of out (and a). Limits: ratio ≥ 1.
// out may be a (f32 only: Backend.addInPlace), so a is not __restrict__.
#define EW_PAIR(NAME, BODY)                                                                                          \
    template <bool OUT_BF16>                                                                                         \
    __device__ __forceinline__ void NAME##_impl(void* out, const float* a, const float* __restrict__ b,               \
                                                long long n, int width, int ratio) {                                 \
        long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;                                              \
        if (i >= n) return;                                                                                          \
        long long bi = (i / width / ratio) * width + i % width;                                                      \
        (void)bi;                                                                                                    \
        put<OUT_BF16>(out, i, BODY);                                                                                 \
    }                                                                                                                \
    ECAR_KERNEL void NAME##_f32(void* out, const float* a, const float* __restrict__ b, long long n,                 \
                                int width, int ratio) { pdl_enter(); NAME##_impl<false>(out, a, b, n, width, ratio); }            \
    ECAR_KERNEL void NAME##_bf16(void* out, const float* a, const float* __restrict__ b, long long n,                \
                                 int width, int ratio) { pdl_enter(); NAME##_impl<true>(out, a, b, n, width, ratio); }

// add_grouped: out = a + b[row / ratio]  (Backend.add).            b: [rows / ratio, width]
EW_PAIR(add_grouped, __fadd_rn(a[i], b[bi]))
// mul: out = a ⊙ b, same shape (Backend.mul; width = n, ratio = 1).
EW_PAIR(mul, __fmul_rn(a[i], b[i]))

// add_tiled: out[i] = a[i] + b[i % count]  (Backend.addTiled: a position embedding [L, D] over [B, L, D]).
template <bool OUT_BF16>
__device__ __forceinline__ void add_tiled_impl(void* out, const float* __restrict__ a, const float* __restrict__ b,
                                               long long n, long long count) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) put<OUT_BF16>(out, i, __fadd_rn(a[i], b[i % count]));
}
ECAR_KERNEL void add_tiled_f32(void* out, const float* __restrict__ a, const float* __restrict__ b, long long n, long long count) {
    pdl_enter();
    add_tiled_impl<false>(out, a, b, n, count);
}
ECAR_KERNEL void add_tiled_bf16(void* out, const float* __restrict__ a, const float* __restrict__ b, long long n, long long count) {
    pdl_enter();
    add_tiled_impl<true>(out, a, b, n, count);
}

// silu: out = x · sigmoid(x) = x / (1 + e^−x)  (Backend.silu; adaLN's SiLU(c) feeding the modulation GEMM).
template <bool OUT_BF16>
__device__ __forceinline__ void silu_impl(void* out, const float* __restrict__ x, long long n) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        float v = x[i];
        put<OUT_BF16>(out, i, v / (1.f + expf(-v)));
    }
}
ECAR_KERNEL void silu_f32(void* out, const float* __restrict__ x, long long n) { pdl_enter(); silu_impl<false>(out, x, n); }
ECAR_KERNEL void silu_bf16(void* out, const float* __restrict__ x, long long n) { pdl_enter(); silu_impl<true>(out, x, n); }

// gated_residual: out = x + gate[row / ratio] ⊙ y  (Backend.gatedResidual; adaLN-Zero). out may be x.
//   x, y: [rows, width] f32; gate: [rows / ratio, width] f32. Output f32 (the residual stream).
ECAR_KERNEL void gated_residual(float* out, const float* x, const float* __restrict__ gate, const float* __restrict__ y,
                                long long n, int width, int ratio) {
    pdl_enter();
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    long long gi = (i / width / ratio) * width + i % width;
    out[i] = __fadd_rn(x[i], __fmul_rn(gate[gi], y[i]));
}

// spin_gate: holds its stream for ns nanoseconds of the GPU's global timer, doing nothing else, so that the host can
// queue what follows before the device reaches it: ecar profile's device timer (CudaBackend.DeviceTimer) opens each
// op's interval with it, and the events around the op then time its kernels back to back, without the host's launch
// gaps. launch: grid 1, block 1. Limits: ns ≥ 0 (a few ms at most is meant; the wait is bounded by ns alone).
ECAR_KERNEL void spin_gate(long long ns) {
    pdl_enter();
    unsigned long long t0, t;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t0));
    do {
        __nanosleep(1000);
        asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
    } while ((long long)(t - t0) < ns);
}
