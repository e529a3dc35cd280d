// The per-stage flow ODE step and the ECAR stage jump (MODELS.md §3). The ODE state stays float32.
// CPU twin: src/main/java/ecar/backend/CpuFlow.java (and CpuDiffusion.cfgCombine for cfg_combine_channels).
// Every sum and product here is rounded separately (__fadd_rn, __fmul_rn: nvcc would otherwise fuse them into FMAs)
// in the order Java evaluates the twin, so a step gives the CPU's result to the bit.
#include "common.cuh"

using namespace ecar;

namespace {
__device__ __forceinline__ float add(float a, float b) { return __fadd_rn(a, b); }
__device__ __forceinline__ float sub(float a, float b) { return __fsub_rn(a, b); }
__device__ __forceinline__ float mul(float a, float b) { return __fmul_rn(a, b); }
// v_u + w (v_c - v_u), as CpuFlow.eulerStep
__device__ __forceinline__ float guide(float vc, float vu, float w) { return add(vu, mul(w, sub(vc, vu))); }
}  // namespace

// flow_euler_guided: x += dt * (v_u + w (v_c - v_u)) on both halves of the batch, in one pass.
//   x, v: [2N, L, C] float32, halves (cond, uncond) of `half` = N·L·C elements each.
//   launch: grid ceil(half / (4·256)), block 256; each thread updates 4 consecutive pairs with float4
//   when half % 4 == 0 and x, v are 16-byte aligned (vec4 = 1), else one pair per thread (vec4 = 0, grid ceil(half / 256)).
__device__ __forceinline__ void euler_guided(float* __restrict__ x, const float* __restrict__ v, long long half,
                                             float dt, float w, int vec4) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (vec4) {
        if (4 * i >= half) return;
        float4* xc = reinterpret_cast<float4*>(x) + i;
        float4* xu = reinterpret_cast<float4*>(x + half) + i;
        float4 vc = reinterpret_cast<const float4*>(v)[i];
        float4 vu = reinterpret_cast<const float4*>(v + half)[i];
        float4 d = {guide(vc.x, vu.x, w), guide(vc.y, vu.y, w), guide(vc.z, vu.z, w), guide(vc.w, vu.w, w)};
        float4 u = {mul(dt, d.x), mul(dt, d.y), mul(dt, d.z), mul(dt, d.w)};
        float4 a = *xc, b = *xu;
        *xc = {add(a.x, u.x), add(a.y, u.y), add(a.z, u.z), add(a.w, u.w)};
        *xu = {add(b.x, u.x), add(b.y, u.y), add(b.z, u.z), add(b.w, u.w)};
    } else {
        if (i >= half) return;
        float u = mul(dt, guide(v[i], v[half + i], w));
        x[i] = add(x[i], u);
        x[half + i] = add(x[half + i], u);
    }
}

ECAR_KERNEL void flow_euler_guided(float* __restrict__ x, const float* __restrict__ v, long long half,
                                   float dt, float w, int vec4) {
    pdl_enter();
    euler_guided(x, v, half, dt, w, vec4);
}

// flow_euler_guided_dev: the same step with dt = scalars[0] and w = scalars[1] read from device memory, so that
//   a step captured once in a CUDA graph is replayed with each step's dt and guidance weight (the host updates the
//   two floats on the stream before each replay). Launch as flow_euler_guided.
ECAR_KERNEL void flow_euler_guided_dev(float* __restrict__ x, const float* __restrict__ v, long long half,
                                       const float* __restrict__ scalars, int vec4) {
    pdl_enter();
    euler_guided(x, v, half, scalars[0], scalars[1], vec4);
}

// flow_euler: x += dt * v without guidance (cfg 1, or t above the guidance interval).
//   x, v: n float32. launch: grid ceil(n / 256), block 256.
ECAR_KERNEL void flow_euler(float* __restrict__ x, const float* __restrict__ v, long long n, float dt) {
    pdl_enter();
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] = add(x[i], mul(dt, v[i]));
}

// flow_euler_dev: flow_euler with dt = scalars[0] read from device memory (a captured step replayed with each
//   step's dt; StepScalars.words() lays the buffer out). Launch as flow_euler.
ECAR_KERNEL void flow_euler_dev(float* __restrict__ x, const float* __restrict__ v, long long n, const float* __restrict__ scalars) {
    pdl_enter();
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] = add(x[i], mul(scalars[0], v[i]));
}

// flow_heun_combine: the second stage of Heun's method, x = x0 + dt/2 (d0 + d1), with d0 and d1 already
// guided velocities (callers combine guidance with flow_cfg_combine first).
//   x0, d0, d1, x: n float32. launch: grid ceil(n / 256), block 256.
ECAR_KERNEL void flow_heun_combine(float* __restrict__ x, const float* __restrict__ x0, const float* __restrict__ d0,
                                   const float* __restrict__ d1, long long n, float dt) {
    pdl_enter();
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] = add(x0[i], mul(mul(0.5f, dt), add(d0[i], d1[i])));
}

// flow_cfg_combine: v_half[i] = v_u + w (v_c - v_u), written to both halves (the guided velocity as a tensor).
//   v: [2·half] float32. launch: grid ceil(half / 256), block 256.
ECAR_KERNEL void flow_cfg_combine(float* __restrict__ v, long long half, float w) {
    pdl_enter();
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= half) return;
    float d = guide(v[i], v[half + i], w);
    v[i] = d;
    v[half + i] = d;
}

// stage_jump: out = alpha * up2(x) + (beta * amp) * (eps - c * mean2x2(eps)), the block noise of MODELS.md §3 with
//   amp = sqrt(1 + gamma) and c = 1 - sqrt((1 - 3 gamma) / (1 + gamma)) computed on the host in double and rounded to
//   float, exactly as CpuFlow.stageJump does (so the kernel needs no gamma).
//   x: [B, r, r, C] float32 (tokens row-major), out: [B, 2r, 2r, C]. eps is element-indexed standard normal:
//   from `eps` when non-null (a fixture's draws, laid out as out), else Philox(seed, stream, noise_index(flat index of
//   out, firstImage, perImage)): perImage 0 numbers out flat, perImage = 4r²C draws image firstImage + b for row b.
//   One thread per (b, block y, block x, channel): it reads one x value and the block's four eps values and
//   writes the four outputs. launch: grid ceil(B·r·r·C / 256), block 256.
ECAR_KERNEL void stage_jump(float* __restrict__ out, const float* __restrict__ x, const float* __restrict__ eps,
                            int batch, int side, int channels, float alpha, float beta, float amp, float c,
                            unsigned long long seed, unsigned int stream, unsigned int firstImage, long long perImage) {
    pdl_enter();
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
    for (int k = 0; k < 4; k++) e[k] = eps ? eps[idx[k]] : philox_normal(seed, stream, noise_index(idx[k], firstImage, perImage));
    float mean = mul(0.25f, add(add(add(e[0], e[1]), e[2]), e[3]));
    float ba = mul(beta, amp);
    float up = mul(alpha, x[i]);
#pragma unroll
    for (int k = 0; k < 4; k++) out[idx[k]] = add(up, mul(ba, sub(e[k], mul(c, mean))));
}

// cfg_combine_channels: DiT's guidance on a model output [2N, Co, HW] (halves cond, uncond), in place: channels
//   [0, guided) of both halves become u + s (c - u); the others stay. One thread per (sample < N, channel < guided,
//   pixel). launch: grid ceil(N·guided·HW / 256), block 256. Twin: CpuDiffusion.cfgCombine.
__device__ __forceinline__ void combine_channels(float* __restrict__ out, int n, int co, int hw, int guided, float s) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (long long)n * guided * hw) return;
    int p = (int)(i % hw);
    long long r = i / hw;
    int ch = (int)(r % guided), b = (int)(r / guided);
    long long oc = ((long long)b * co + ch) * hw + p, ou = ((long long)(b + n) * co + ch) * hw + p;
    float e = guide(out[oc], out[ou], s);
    out[oc] = e;
    out[ou] = e;
}

ECAR_KERNEL void cfg_combine_channels(float* __restrict__ out, int n, int co, int hw, int guided, float s) {
    pdl_enter();
    combine_channels(out, n, co, hw, guided, s);
}

// cfg_combine_channels_dev: the same with the scale s = *scale read from device memory (a captured DiT step).
//   Launch as cfg_combine_channels.
ECAR_KERNEL void cfg_combine_channels_dev(float* __restrict__ out, int n, int co, int hw, int guided, const float* __restrict__ scale) {
    pdl_enter();
    combine_channels(out, n, co, hw, guided, *scale);
}

// first_nonfinite: *first = min(*first, step) when any of the n floats is NaN or ±Inf (the host sets *first to INT_MAX
//   and reads it after the sampling loop: the earliest step whose state went bad). One idea, no reduction: the few
//   threads that see a bad value race to atomicMin, and none writes when all is well.
//   launch: grid ceil(n / 256), block 256.
ECAR_KERNEL void first_nonfinite(const float* __restrict__ x, long long n, int step, int* __restrict__ first) {
    pdl_enter();
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n && !isfinite(x[i])) atomicMin(first, step);
}

// cond_twice: out = [x[0:half]; x[0:half]] (the model input of a guided step). launch: grid ceil(half / 256), block 256.
ECAR_KERNEL void cond_twice(float* __restrict__ out, const float* __restrict__ x, long long half) {
    pdl_enter();
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= half) return;
    float v = x[i];
    out[i] = v;
    out[half + i] = v;
}

// randn: out[i] = Philox normal (seed, stream, noise_index(i, firstImage, perImage)): flat when perImage is 0, else
//   image firstImage + i / perImage. launch: grid ceil(n / 256), block 256.
ECAR_KERNEL void randn(float* __restrict__ out, long long n, unsigned long long seed, unsigned int stream,
                       unsigned int firstImage, long long perImage) {
    pdl_enter();
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = philox_normal(seed, stream, noise_index(i, firstImage, perImage));
}
