// The per-stage flow ODE step and the ECAR stage jump (MODELS.md §3). The ODE state stays float32.
// CPU twin: src/main/java/ecar/backend/CpuFlow.java.
#include "common.cuh"

using namespace ecar;

// flow_euler_guided: x += dt * (v_u + w (v_c - v_u)) on both halves of the batch, in one pass.
//   x, v: [2N, L, C] float32, halves (cond, uncond) of `half` = N·L·C elements each.
//   launch: grid ceil(half / (4·256)), block 256; each thread updates 4 consecutive pairs with float4
//   when half % 4 == 0 (vec4 = 1), else one pair per thread (vec4 = 0, grid ceil(half / 256)).
ECAR_KERNEL void flow_euler_guided(float* __restrict__ x, const float* __restrict__ v, long long half,
                                   float dt, float w, int vec4) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (vec4) {
        if (4 * i >= half) return;
        float4* xc = reinterpret_cast<float4*>(x) + i;
        float4* xu = reinterpret_cast<float4*>(x + half) + i;
        float4 vc = reinterpret_cast<const float4*>(v)[i];
        float4 vu = reinterpret_cast<const float4*>(v + half)[i];
        float4 d = {vu.x + w * (vc.x - vu.x), vu.y + w * (vc.y - vu.y), vu.z + w * (vc.z - vu.z), vu.w + w * (vc.w - vu.w)};
        float4 a = *xc, b = *xu;
        *xc = {a.x + dt * d.x, a.y + dt * d.y, a.z + dt * d.z, a.w + dt * d.w};
        *xu = {b.x + dt * d.x, b.y + dt * d.y, b.z + dt * d.z, b.w + dt * d.w};
    } else {
        if (i >= half) return;
        float d = v[half + i] + w * (v[i] - v[half + i]);
        x[i] += dt * d;
        x[half + i] += dt * d;
    }
}

// flow_euler: x += dt * v without guidance (cfg 1, or t above the guidance interval).
//   x, v: n float32. launch: grid ceil(n / 256), block 256.
ECAR_KERNEL void flow_euler(float* __restrict__ x, const float* __restrict__ v, long long n, float dt) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] += dt * v[i];
}

// flow_heun_combine: the second stage of Heun's method, x = x0 + dt/2 (d0 + d1), with d0 and d1 already
// guided velocities (callers combine guidance with flow_cfg_combine first).
//   x0, d0, d1, x: n float32. launch: grid ceil(n / 256), block 256.
ECAR_KERNEL void flow_heun_combine(float* __restrict__ x, const float* __restrict__ x0, const float* __restrict__ d0,
                                   const float* __restrict__ d1, long long n, float dt) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] = x0[i] + 0.5f * dt * (d0[i] + d1[i]);
}

// flow_cfg_combine: v_half[i] = v_u + w (v_c - v_u), written to both halves (the guided velocity as a tensor).
//   v: [2·half] float32. launch: grid ceil(half / 256), block 256.
ECAR_KERNEL void flow_cfg_combine(float* __restrict__ v, long long half, float w) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= half) return;
    float d = v[half + i] + w * (v[i] - v[half + i]);
    v[i] = d;
    v[half + i] = d;
}

// stage_jump: out = alpha * up2(x) + beta * sqrt(1+gamma) * (eps - c * mean2x2(eps)), c = 1 - sqrt((1-3g)/(1+g)).
//   x: [B, r, r, C] float32 (tokens row-major), out: [B, 2r, 2r, C]. eps is element-indexed standard normal:
//   from `eps` when non-null (a fixture's draws), else Philox(seed, stream, flat index of out).
//   One thread per (b, block y, block x, channel): it reads one x value and the block's four eps values and
//   writes the four outputs. launch: grid ceil(B·r·r·C / 256), block 256.
ECAR_KERNEL void stage_jump(float* __restrict__ out, const float* __restrict__ x, const float* __restrict__ eps,
                            int batch, int side, int channels, float alpha, float beta, float gamma,
                            unsigned long long seed, unsigned int stream) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    long long total = (long long)batch * side * side * channels;
    if (i >= total) return;
    int ch = (int)(i % channels);
    long long t = i / channels;
    int bx = (int)(t % side); t /= side;
    int by = (int)(t % side);
    int b = (int)(t / side);
    int s2 = 2 * side;
    long long base = (long long)b * s2 * s2 * channels + ch;
    long long idx[4] = {
        base + ((long long)(2 * by) * s2 + 2 * bx) * channels,
        base + ((long long)(2 * by) * s2 + 2 * bx + 1) * channels,
        base + ((long long)(2 * by + 1) * s2 + 2 * bx) * channels,
        base + ((long long)(2 * by + 1) * s2 + 2 * bx + 1) * channels};
    float e[4];
#pragma unroll
    for (int k = 0; k < 4; k++) e[k] = eps ? eps[idx[k]] : philox_normal(seed, stream, (uint64_t)idx[k]);
    float mean = 0.25f * (e[0] + e[1] + e[2] + e[3]);
    float c = 1.0f - sqrtf(fmaxf(0.0f, (1.0f - 3.0f * gamma) / (1.0f + gamma)));
    float amp = beta * sqrtf(1.0f + gamma);
    float up = alpha * x[i];
#pragma unroll
    for (int k = 0; k < 4; k++) out[idx[k]] = up + amp * (e[k] - c * mean);
}

// randn: out[i] = Philox normal (seed, stream, i). launch: grid ceil(n / 256), block 256.
ECAR_KERNEL void randn(float* __restrict__ out, long long n, unsigned long long seed, unsigned int stream) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = philox_normal(seed, stream, (uint64_t)i);
}
