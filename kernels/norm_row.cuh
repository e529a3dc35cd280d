// One row of LayerNorm / RMSNorm (+ adaLN modulation, or a weight) held in a warp's registers: the register path of
// norm.cu's norm_rows, and the prologue of gemm_skinny.cu's norm-fused entries (which write the bf16 rows into shared
// memory instead of global). One copy of the arithmetic, so a fused GEMM reads exactly the bf16 values norm_rows writes.
// CPU twin: src/main/java/ecar/backend/CpuNorm.java. Replayed lane by lane: tools/emulate_norm_rows.py.
// Limits (the caller checks them): d % 4 == 0, d <= 32 * 4 * ROW_VECS = 2048; xr, weight, shift, scale 16-byte aligned,
//   out + o 16-byte aligned for f32, 8 for bf16.
#pragma once
#include "common.cuh"

namespace ecar {

constexpr int NORM_LAYER = 0;   // ecar.backend.Norm's ordinals: 0 LAYER, 1 RMS

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

// How a row of d floats may go through norm_row_in_registers: lane l holds float4s l, l + 32, … of it.
constexpr int ROW_VECS = 16;

__device__ __forceinline__ bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }

template <bool OUT_BF16>
__device__ __forceinline__ void norm_row_in_registers(void* out, const float* __restrict__ xr, const float* __restrict__ weight,
                                                      const float* __restrict__ shift, const float* __restrict__ scale,
                                                      size_t o, int d, int kind, float eps, int lane) {
    // lane l holds the float4s l, l + 32, … of the row: columns 4l.., 128 + 4l.., …
    const int vecs = d / 4;
    float4 v[ROW_VECS];
#pragma unroll
    for (int j = 0; j < ROW_VECS; j++) {
        const int c = lane + 32 * j;
        v[j] = c < vecs ? reinterpret_cast<const float4*>(xr)[c] : make_float4(0.f, 0.f, 0.f, 0.f);
    }
    float mean = 0.f;
    if (kind == NORM_LAYER) {
        float s = 0.f;
#pragma unroll
        for (int j = 0; j < ROW_VECS; j++) s += (v[j].x + v[j].y) + (v[j].z + v[j].w);   // zeros past the row
        mean = warp_sum(s) / d;
    }
    float ss = 0.f;
#pragma unroll
    for (int j = 0; j < ROW_VECS; j++) {
        if (lane + 32 * j >= vecs) break;
        const float a = v[j].x - mean, b = v[j].y - mean, c = v[j].z - mean, e = v[j].w - mean;
        ss += (a * a + b * b) + (c * c + e * e);
    }
    const float inv = rsqrtf(warp_sum(ss) / d + eps);
#pragma unroll
    for (int j = 0; j < ROW_VECS; j++) {
        const int c = lane + 32 * j;
        if (c >= vecs) break;
        float r[4] = {(v[j].x - mean) * inv, (v[j].y - mean) * inv, (v[j].z - mean) * inv, (v[j].w - mean) * inv};
        if (weight) {
            const float4 w = reinterpret_cast<const float4*>(weight)[c];
            r[0] *= w.x; r[1] *= w.y; r[2] *= w.z; r[3] *= w.w;
        }
        if (scale) {
            const float4 sc = reinterpret_cast<const float4*>(scale)[c], sh = reinterpret_cast<const float4*>(shift)[c];
            r[0] = r[0] * (1.f + sc.x) + sh.x; r[1] = r[1] * (1.f + sc.y) + sh.y;
            r[2] = r[2] * (1.f + sc.z) + sh.z; r[3] = r[3] * (1.f + sc.w) + sh.w;
        }
        if (OUT_BF16) {
            __nv_bfloat162 lo = __floats2bfloat162_rn(r[0], r[1]), hi = __floats2bfloat162_rn(r[2], r[3]);
            reinterpret_cast<uint2*>(reinterpret_cast<__nv_bfloat16*>(out) + o)[c] =
                make_uint2(*reinterpret_cast<const uint32_t*>(&lo), *reinterpret_cast<const uint32_t*>(&hi));
        } else {
            reinterpret_cast<float4*>(reinterpret_cast<float*>(out) + o)[c] = make_float4(r[0], r[1], r[2], r[3]);
        }
    }
}

}  // namespace ecar
