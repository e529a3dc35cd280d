// DiT's sampler updates on the [N, C, H, W] float32 state: classifier-free guidance over the first g channels,
// the DDPM posterior (learned or fixed variance), the ancestral sample and the DDIM (η = 0) update, separately and
// fused into one pass per step. Philox noise is generated in the kernel that consumes it (element index = flat
// index of x), so a seed gives the same image as the CPU backend.
// CPU twin: src/main/java/ecar/backend/cpu/CpuDiffusion.java (Backend.cfgCombineChannels, diffusionPosterior,
// ddpmSample, ddimSample); the fused kernels equal cfgCombineChannels → diffusionPosterior → ddpmSample/ddimSample.
//
// Launch shape (every kernel): one thread per element of its output, block 256, grid ceil(elements / 256) in x
// (elements < 2^31·256). No shared memory.
// Limits: the guided channels g ≤ C, an even batch when guided; the model output mo is [N, 2C, HW] with
//   variance 0 and [N, C, HW] with 1 or 2; coefficient buffers of the *_dev kernels hold 9 floats.
// variance (ecar.backend.PosteriorVariance.code): 0 LEARNED_RANGE: log σ² = f·maxLog + (1 − f)·minLog, f = (v + 1)/2
//   from the second half of mo; 1 FIXED_LARGE: log σ² = largeLog; 2 FIXED_SMALL: log σ² = minLog.
// Coefficients (DiffusionCoefficients.floats(), in this order): a = √(1/ᾱ_t), b = √(1/ᾱ_t − 1), c1, c2 (posterior
// mean), minLog, maxLog, sqrtPrev = √ᾱ_{t−1}, sqrt1mPrev = √(1 − ᾱ_{t−1}), largeLog.
#include "common.cuh"

using namespace ecar;

struct Coef {
    float a, b, c1, c2, minLog, maxLog, sqrtPrev, sqrt1mPrev, largeLog;
};
// Kernels take the coefficients as nine float parameters (the launcher passes scalars, not structs).
#define COEF_PARAMS float ka, float kb, float kc1, float kc2, float kminLog, float kmaxLog, float ksqrtPrev, float ksqrt1mPrev, \
    float klargeLog
#define COEF Coef{ka, kb, kc1, kc2, kminLog, kmaxLog, ksqrtPrev, ksqrt1mPrev, klargeLog}

enum Variance { LEARNED_RANGE = 0, FIXED_LARGE = 1, FIXED_SMALL = 2 };

// Channels of the model output for C latent channels: ε and v, or ε alone.
__device__ __forceinline__ int model_channels(int variance, int c) {
    return variance == LEARNED_RANGE ? 2 * c : c;
}

// cfg_combine_channels: out [2N, Co, HW]: channels < g of both halves ← u + s·(c − u).
//   launch: grid ceil(N·g·HW / 256), block 256.
ECAR_KERNEL void cfg_combine_channels(float* __restrict__ out, int n, int co, int hw, int g, float s) {
    pdl_enter();
    long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (long long)n * g * hw) return;
    int i = (int)(idx % hw);
    long long r = idx / hw;
    int ch = (int)(r % g), b = (int)(r / g);
    size_t oc = ((size_t)b * co + ch) * hw + i, ou = ((size_t)(b + n) * co + ch) * hw + i;
    float cv = out[oc], uv = out[ou];
    float e = __fadd_rn(uv, __fmul_rn(s, __fsub_rn(cv, uv)));
    out[oc] = e;
    out[ou] = e;
}

// The posterior of one element: pred_x0 = a·x − b·ε, mean = c1·pred_x0 + c2·x, and log σ² by the variance kind
// (v, the model's interpolation, is only read with LEARNED_RANGE).
__device__ __forceinline__ void posterior(float xv, float eps, float v, int variance, const Coef& k, float& mean, float& logVar, float& x0) {
    float p = __fsub_rn(__fmul_rn(k.a, xv), __fmul_rn(k.b, eps));
    x0 = p;
    mean = __fadd_rn(__fmul_rn(k.c1, p), __fmul_rn(k.c2, xv));
    if (variance == LEARNED_RANGE) {
        float f = __fdiv_rn(__fadd_rn(v, 1.f), 2.f);
        logVar = __fadd_rn(__fmul_rn(f, k.maxLog), __fmul_rn(__fsub_rn(1.f, f), k.minLog));
    } else {
        logVar = variance == FIXED_LARGE ? k.largeLog : k.minLog;
    }
}

// x = mean + exp(½·logVar)·n; the exponential in double then rounded, as the CPU's (float) Math.exp.
__device__ __forceinline__ float ddpm_update(float mean, float logVar, float noise) {
    return __fadd_rn(mean, __fmul_rn((float)exp((double)__fmul_rn(0.5f, logVar)), noise));
}

// ε̂ = (a·x − x0)/b, x = x0·√ᾱ_prev + √(1 − ᾱ_prev)·ε̂.
__device__ __forceinline__ float ddim_update(float xv, float x0, const Coef& k) {
    float eps = __fdiv_rn(__fsub_rn(__fmul_rn(k.a, xv), x0), k.b);
    return __fadd_rn(__fmul_rn(x0, k.sqrtPrev), __fmul_rn(k.sqrt1mPrev, eps));
}

// One thread's element of diffusion_posterior (and its _dev twin): ε (and v) from the model output's channels.
__device__ __forceinline__ void posterior_at(float* __restrict__ mean, float* __restrict__ logVar, float* __restrict__ x0,
                                             const float* __restrict__ x, const float* __restrict__ mo, int n, int c, int hw,
                                             int variance, const Coef& k) {
    long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (long long)n * c * hw) return;
    int i = (int)(idx % hw);
    long long r = idx / hw;
    int ch = (int)(r % c), b = (int)(r / c), co = model_channels(variance, c);
    float eps = mo[((size_t)b * co + ch) * hw + i];
    float v = variance == LEARNED_RANGE ? mo[((size_t)b * co + c + ch) * hw + i] : 0.f;
    posterior(x[idx], eps, v, variance, k, mean[idx], logVar[idx], x0[idx]);
}

// diffusion_posterior: x [N, C, HW], mo [N, 2C, HW] (ε then v) or [N, C, HW] (ε) → mean, logVar, x0 [N, C, HW].
//   launch: grid ceil(N·C·HW / 256), block 256.
ECAR_KERNEL void diffusion_posterior(float* __restrict__ mean, float* __restrict__ logVar, float* __restrict__ x0,
                                     const float* __restrict__ x, const float* __restrict__ mo, int n, int c, int hw,
                                     int variance, COEF_PARAMS) {
    pdl_enter();
    posterior_at(mean, logVar, x0, x, mo, n, c, hw, variance, COEF);
}

// ddpm_sample: x = mean + exp(½·logVar)·n in place, n from `noise` when non-null, else Philox(seed, stream,
//   noise_index(i, firstImage, perImage)) (flat when perImage is 0, else per image); hasNoise == 0 (the last step) gives
//   x = mean. launch: grid ceil(count / 256), block 256.
ECAR_KERNEL void ddpm_sample(float* __restrict__ x, const float* __restrict__ mean, const float* __restrict__ logVar,
                             const float* __restrict__ noise, long long count, int hasNoise,
                             unsigned long long seed, unsigned int stream, unsigned int firstImage, long long perImage) {
    pdl_enter();
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= count) return;
    if (!hasNoise) { x[i] = mean[i]; return; }
    float n = noise ? noise[i] : philox_normal(seed, stream, noise_index(i, firstImage, perImage));
    x[i] = ddpm_update(mean[i], logVar[i], n);
}

// ddim_sample: x = √ᾱ_prev·x0 + √(1 − ᾱ_prev)·(a·x − x0)/b in place. launch: grid ceil(count / 256), block 256.
ECAR_KERNEL void ddim_sample(float* __restrict__ x, const float* __restrict__ x0, long long count, COEF_PARAMS) {
    pdl_enter();
    const Coef k = COEF;
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < count) x[i] = ddim_update(x[i], x0[i], k);
}

// Device-scalar variants for a captured DiT step (CUDA graph replayed with each step's values): the coefficients
// are 9 floats at coef (DiffusionCoefficients order), the noise (seed low word, seed high word, Philox stream) 3
// words at noise; StepScalars.words() lays them out. Launch shapes and results as the host-scalar kernels above.
__device__ __forceinline__ Coef load_coef(const float* __restrict__ c) {
    return Coef{c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8]};
}

ECAR_KERNEL void diffusion_posterior_dev(float* __restrict__ mean, float* __restrict__ logVar, float* __restrict__ x0,
                                         const float* __restrict__ x, const float* __restrict__ mo, int n, int c, int hw,
                                         int variance, const float* __restrict__ coef) {
    pdl_enter();
    long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (long long)n * c * hw) return;   // no coefficient loads past the end
    posterior_at(mean, logVar, x0, x, mo, n, c, hw, variance, load_coef(coef));
}

// ddpm_sample_dev: ddpm_sample with Philox noise only (the sampler's), seed and stream from device memory; the images
//   (firstImage, perImage) stay launch arguments, as a run's rows do not change from step to step.
//   hasNoise == 0 (the last step) gives x = mean.
ECAR_KERNEL void ddpm_sample_dev(float* __restrict__ x, const float* __restrict__ mean, const float* __restrict__ logVar,
                                 long long count, int hasNoise, const unsigned int* __restrict__ noise,
                                 unsigned int firstImage, long long perImage) {
    pdl_enter();
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= count) return;
    if (!hasNoise) { x[i] = mean[i]; return; }
    unsigned long long seed = ((unsigned long long)noise[1] << 32) | noise[0];
    x[i] = ddpm_update(mean[i], logVar[i], philox_normal(seed, noise[2], noise_index(i, firstImage, perImage)));
}

ECAR_KERNEL void ddim_sample_dev(float* __restrict__ x, const float* __restrict__ x0, long long count, const float* __restrict__ coef) {
    pdl_enter();
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < count) x[i] = ddim_update(x[i], x0[i], load_coef(coef));
}

// ddpm_step / ddim_step: one whole sampler step in one pass, in place on x [B, C, HW] from the model output
//   mo [B, 2C, HW] (LEARNED_RANGE) or [B, C, HW] (fixed variance). With guidance (half = B/2 > 0) the first g
//   channels of ε are u + s·(c − u), taken from the two batch halves (cond, uncond) — exactly cfgCombineChannels
//   followed by the separate kernels; the variance channels are never guided (g ≤ C). half = 0: no guidance.
//   mo is only read. launch: grid ceil(B·C·HW / 256), block 256. Limits: g ≤ C; B even when guided.
__device__ __forceinline__ void guided_inputs(const float* __restrict__ mo, long long idx, int c, int hw, int variance,
                                              int half, int g, float s, float& eps, float& v) {
    int i = (int)(idx % hw);
    long long r = idx / hw;
    int ch = (int)(r % c), b = (int)(r / c), co = model_channels(variance, c);
    eps = mo[((size_t)b * co + ch) * hw + i];
    v = variance == LEARNED_RANGE ? mo[((size_t)b * co + c + ch) * hw + i] : 0.f;
    if (half > 0 && ch < g) {
        int bc = b < half ? b : b - half;
        float cv = mo[((size_t)bc * co + ch) * hw + i], uv = mo[((size_t)(bc + half) * co + ch) * hw + i];
        eps = __fadd_rn(uv, __fmul_rn(s, __fsub_rn(cv, uv)));
    }
}

ECAR_KERNEL void ddpm_step(float* __restrict__ x, const float* __restrict__ mo, int bsz, int c, int hw, int variance, int half, int g,
                           float s, COEF_PARAMS, int hasNoise, unsigned long long seed, unsigned int stream) {
    pdl_enter();
    const Coef k = COEF;
    long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (long long)bsz * c * hw) return;
    float eps, v, mean, logVar, x0;
    guided_inputs(mo, idx, c, hw, variance, half, g, s, eps, v);
    posterior(x[idx], eps, v, variance, k, mean, logVar, x0);
    x[idx] = hasNoise ? ddpm_update(mean, logVar, philox_normal(seed, stream, (uint64_t)idx)) : mean;
}

ECAR_KERNEL void ddim_step(float* __restrict__ x, const float* __restrict__ mo, int bsz, int c, int hw, int variance, int half, int g,
                           float s, COEF_PARAMS) {
    pdl_enter();
    const Coef k = COEF;
    long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (long long)bsz * c * hw) return;
    float eps, v, mean, logVar, x0;
    guided_inputs(mo, idx, c, hw, variance, half, g, s, eps, v);
    float xv = x[idx];
    posterior(xv, eps, v, variance, k, mean, logVar, x0);
    x[idx] = ddim_update(xv, x0, k);
}
