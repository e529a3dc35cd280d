// Shared device helpers for every kernel family. Keep this small: what two or more .cu files need.
#pragma once
#include <cstdint>
#include <cuda_bf16.h>

#define ECAR_KERNEL extern "C" __global__

namespace ecar {

// ---------------------------------------------------------------- programmatic dependent launch
// Every entry point starts with pdl_enter, or with pdl_launch_dependents and, after L2 prefetches, pdl_wait (gemm_skinny,
// gemm_sm90, attention.cu); nothing touches memory before the wait (tests: ProgrammaticLaunchPtxTest). With ECAR_PDL=on
// a Hopper launch carries CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION (ecar.cuda.LaunchDriver), so the next
// kernel of the stream may be scheduled before this one ends: launch_dependents lets it be, now (it waits in its own pdl_enter), and wait holds
// this kernel until the one before it has finished and its writes are visible, before any of them is read or
// overwritten. The launch latency of each kernel then overlaps the tail of the one before. A kernel launched without
// the attribute passes both at once; below sm_90 they are compiled out. The prefetches between the two (weights, a KV
// cache) change no value anyone reads.
__device__ __forceinline__ void pdl_launch_dependents() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.launch_dependents;\n" ::: "memory");
#endif
}
__device__ __forceinline__ void pdl_wait() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.wait;\n" ::: "memory");
#endif
}
__device__ __forceinline__ void pdl_enter() {
    pdl_launch_dependents();
    pdl_wait();
}

// The 128-byte line holding p into L2 (a hint: no value changes, no wait).
__device__ __forceinline__ void prefetch_l2(const void* p) {
    asm volatile("prefetch.global.L2 [%0];\n" ::"l"(p));
}

// ---------------------------------------------------------------- Philox4x32-10 normal noise
// The CUDA twin of src/main/java/ecar/backend/Philox.java: element `index` of stream `stream` under `seed`
// is the same float on every backend, so a seed gives the same image on the CPU and on any GPU.

struct uint4x { uint32_t x, y, z, w; };

__device__ __forceinline__ uint4x philox4x32_10(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3,
                                                uint32_t k0, uint32_t k1) {
    const uint32_t M0 = 0xD2511F53u, M1 = 0xCD9E8D57u, W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;
#pragma unroll
    for (int round = 0; round < 10; round++) {
        uint32_t hi0 = __umulhi(M0, c0), lo0 = M0 * c0;
        uint32_t hi1 = __umulhi(M1, c2), lo1 = M1 * c2;
        uint32_t n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1;
        c0 = n0; c1 = lo1; c2 = n2; c3 = lo0;
        k0 += W0; k1 += W1;
    }
    return {c0, c1, c2, c3};
}

// Box-Muller on the first two words; u1 in (0, 1] keeps the log finite. Double precision matches the Java twin
// to the last float bit in practice (both round the same double to float).
__device__ __forceinline__ float philox_normal(uint64_t seed, uint32_t stream, uint64_t index) {
    uint4x r = philox4x32_10((uint32_t)index, (uint32_t)(index >> 32), stream, 0u, (uint32_t)seed, (uint32_t)(seed >> 32));
    float u1 = (float)((r.x >> 8) + 1u) * 0x1p-24f;
    float u2 = (float)(r.y >> 8) * 0x1p-24f;
    return (float)(sqrt(-2.0 * log((double)u1)) * cos(2.0 * 3.14159265358979323846 * (double)u2));
}

// A uniform float in [0, 1) on a grid of 2^-24 from the first word of the same block (Philox.uniform): token draws.
__device__ __forceinline__ float philox_uniform(uint64_t seed, uint32_t stream, uint64_t index) {
    uint4x r = philox4x32_10((uint32_t)index, (uint32_t)(index >> 32), stream, 0u, (uint32_t)seed, (uint32_t)(seed >> 32));
    return (float)(r.x >> 8) * 0x1p-24f;
}

// The Philox element index of element i of a launch: i itself when perImage == 0 (one stream over the tensor), else,
// for a launch over consecutive images firstImage, firstImage + 1, ... of perImage elements each, image * 2^32 +
// (i mod perImage): Philox.imageIndex's numbering, so an image draws the same numbers in any batch.
__device__ __forceinline__ uint64_t noise_index(long long i, unsigned int firstImage, long long perImage) {
    if (perImage <= 0) return (uint64_t)i;
    return ((uint64_t)(firstImage + (uint32_t)(i / perImage)) << 32) | (uint64_t)(i % perImage);
}

// ---------------------------------------------------------------- bf16

__device__ __forceinline__ float bf2f(__nv_bfloat16 v) { return __bfloat162float(v); }
__device__ __forceinline__ __nv_bfloat16 f2bf(float v) { return __float2bfloat16_rn(v); }

// Two adjacent outputs (8-byte or 4-byte aligned), as floats or rounded to bf16 (nearest even).
__device__ __forceinline__ void store2(float* p, float a, float b) { *reinterpret_cast<float2*>(p) = make_float2(a, b); }
__device__ __forceinline__ void store2(__nv_bfloat16* p, float a, float b) {
    *reinterpret_cast<__nv_bfloat162*>(p) = __floats2bfloat162_rn(a, b);
}

// ---------------------------------------------------------------- RoPE

// A pair (x0, x1) rotated as a complex number by the angle of (c, s): (x0 c − x1 s, x1 c + x0 s), each product and
// difference rounded separately as Java does (CpuAttention.rope2d, CpuAttention.ropeRows).
__device__ __forceinline__ float2 rotate(float2 x, float c, float s) {
    return make_float2(__fsub_rn(__fmul_rn(x.x, c), __fmul_rn(x.y, s)), __fadd_rn(__fmul_rn(x.y, c), __fmul_rn(x.x, s)));
}

// The RoPE table row of token t: rows[t] where a row list is given (ARPG: f32 exact integers), -1 when that is not a
// whole row of the table (the caller writes NaN: the Java side cannot see device-side rows); else t itself (FlowAR's
// 2D tables hold one row per token of the stage).
__device__ __forceinline__ int rope_row(const float* __restrict__ rows, int t, int table_rows) {
    if (rows == nullptr) return t;
    const float rf = rows[t];
    const int r = (int)rf;
    return r >= 0 && r < table_rows && (float)r == rf ? r : -1;
}

}  // namespace ecar
