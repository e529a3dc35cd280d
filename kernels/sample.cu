// ARPG's token sampling (MODELS.md §5): guidance and temperature on logits, LlamaGen's top_k_top_p_filtering, and one
// categorical draw per token from a Philox uniform. One idea per kernel; logits are float32 rows of V entries.
// CPU twin: src/main/java/ecar/backend/cpu/CpuSampling.java (same semantics; where the twin sums in order, the kernels
// sum per thread and combine, so a draw can differ only when u·Σe lies within rounding of a running sum).
#include "common.cuh"

using namespace ecar;

namespace {

constexpr int THREADS = 256;   // every per-row kernel: one block of 256 threads per row
constexpr int BINS = 256;      // radix select: 8 bits a pass, 4 passes over a 32-bit key

// Keys that order like the floats they come from (−∞ lowest, +∞ highest; NaN sorts above +∞ and is left to the draw).
__device__ __forceinline__ uint32_t key_of(float f) {
    uint32_t u = __float_as_uint(f);
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

// Block-wide reductions over THREADS threads through shared scratch of THREADS entries; every thread gets the result.
template <class T, class Op>
__device__ __forceinline__ T block_reduce(T v, T* scratch, Op op) {
    scratch[threadIdx.x] = v;
    __syncthreads();
    for (int s = THREADS / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) scratch[threadIdx.x] = op(scratch[threadIdx.x], scratch[threadIdx.x + s]);
        __syncthreads();
    }
    T r = scratch[0];
    __syncthreads();
    return r;
}

// Exclusive prefix of per-thread values in thread order (thread 0 adds them up: THREADS values, once per row).
template <class T>
__device__ __forceinline__ T block_exclusive(T v, T* scratch) {
    scratch[threadIdx.x] = v;
    __syncthreads();
    if (threadIdx.x == 0) {
        T run = 0;
        for (int t = 0; t < THREADS; t++) {
            T x = scratch[t];
            scratch[t] = run;
            run += x;
        }
    }
    __syncthreads();
    T r = scratch[threadIdx.x];
    __syncthreads();
    return r;
}

// A token's probability as the twin computes it: float(e / Σe) with e = float(exp(x − max)) and Σe in double.
__device__ __forceinline__ float prob(float x, float m, double sum) {
    return (float)((double)(float)exp((double)(x - m)) / sum);
}

// The contiguous index range [a, b) of a row of v entries that thread t walks in order.
__device__ __forceinline__ void chunk(int v, int t, int& a, int& b) {
    int per = (v + THREADS - 1) / THREADS;
    a = min(v, t * per);
    b = min(v, a + per);
}

}  // namespace

// guide_logits: out[i] = (u + (c − u)·cfg) / t with c = logits[i], u = logits[half + i] (conditional half first) and
//   t = max(temperature, 1e-5) given by the host; each operation rounded as the Java twin does (no fused multiply-add).
//   out: [half] f32. launch: grid ceil(half / 256), block 256. Limits: half ≥ 1.
__device__ __forceinline__ void guide(float* __restrict__ out, const float* __restrict__ logits, long long half, float cfg, float t) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= half) return;
    float c = logits[i], u = logits[half + i];
    out[i] = __fdiv_rn(__fadd_rn(u, __fmul_rn(__fsub_rn(c, u), cfg)), t);
}
ECAR_KERNEL void guide_logits(float* __restrict__ out, const float* __restrict__ logits, long long half, float cfg, float t) {
    pdl_enter();
    guide(out, logits, half, cfg, t);
}
// guide_logits_dev: the same with cfg = *cfg read from device memory (a captured ARPG step replayed with each step's
//   guidance weight); the temperature stays an argument, as it is fixed for a generation. Launch as guide_logits.
ECAR_KERNEL void guide_logits_dev(float* __restrict__ out, const float* __restrict__ logits, long long half, const float* __restrict__ cfg,
                                  float t) {
    pdl_enter();
    guide(out, logits, half, *cfg, t);
}

// filter_top_k_top_p: top_k_top_p_filtering in place on rows [rows, v] f32. Top-k (top_k > 0): the k-th largest key
//   by radix select (4 passes of 256-bin counts), then every logit below it becomes −∞ (ties with it stay). Top-p
//   (top_p < 1): p = softmax of what is left (see prob); a weighted radix select finds the key K of the last token kept, the
//   lowest whose larger keys hold mass ≤ top_p, then logits below K become −∞ and the tokens equal to K are kept in
//   index order while the mass before them stays ≤ top_p (a stable descending sort's order).
//   launch: grid (rows), block 256. Limits: 1 ≤ v < 2^31; top_k ≥ 0; 0 < top_p ≤ 1.
ECAR_KERNEL void filter_top_k_top_p(float* __restrict__ logits, int rows, int v, int top_k, float top_p) {
    pdl_enter();
    __shared__ uint32_t counts[BINS];
    __shared__ double mass[BINS];
    __shared__ float fscratch[THREADS];
    __shared__ double dscratch[THREADS];
    __shared__ uint32_t chosen_bin;
    __shared__ int chosen_count;    // top-k: tokens in the bins above the chosen one
    __shared__ double chosen_above; // top-p: their probability mass
    if ((int)blockIdx.x >= rows) return;
    float* x = logits + (long long)blockIdx.x * v;
    const int tid = threadIdx.x;

    if (top_k > 0 && top_k < v) {
        uint32_t prefix = 0, mask = 0;
        int remaining = top_k;   // rank of the wanted key among those matching the prefix, from the top
        for (int shift = 24; shift >= 0; shift -= 8) {
            for (int b = tid; b < BINS; b += THREADS) counts[b] = 0;
            __syncthreads();
            for (int i = tid; i < v; i += THREADS) {
                uint32_t k = key_of(x[i]);
                if ((k & mask) == prefix) atomicAdd(&counts[(k >> shift) & 0xFF], 1u);
            }
            __syncthreads();
            if (tid == 0) {
                int above = 0, b = BINS - 1;
                for (; b > 0; b--) {
                    if (above + (int)counts[b] >= remaining) break;
                    above += counts[b];
                }
                chosen_bin = b;
                chosen_count = above;
            }
            __syncthreads();
            prefix |= chosen_bin << shift;
            mask |= 0xFFu << shift;
            remaining -= chosen_count;
            __syncthreads();
        }
        for (int i = tid; i < v; i += THREADS)
            if (key_of(x[i]) < prefix) x[i] = -INFINITY;
        __syncthreads();
    }

    if (top_p < 1.f) {
        // probabilities as the twin computes them: e in float from a double exp, Σe in double, p = float(e / Σe); masses
        // are summed in double and rounded to float before each comparison with top_p, as torch.cumsum's float output is
        float m = -INFINITY;
        for (int i = tid; i < v; i += THREADS) m = fmaxf(m, x[i]);
        m = block_reduce(m, fscratch, [](float a, float b) { return fmaxf(a, b); });
        if (!(m > -INFINITY)) return;   // nothing finite: nothing to keep or remove
        double s = 0.0;
        for (int i = tid; i < v; i += THREADS) s += (float)exp((double)(x[i] - m));
        s = block_reduce(s, dscratch, [](double a, double b) { return a + b; });
        uint32_t prefix = 0, mask = 0;
        double above_all = 0.0;   // mass of the keys above the prefix region
        for (int shift = 24; shift >= 0; shift -= 8) {
            for (int b = tid; b < BINS; b += THREADS) {
                counts[b] = 0;
                mass[b] = 0.0;
            }
            __syncthreads();
            for (int i = tid; i < v; i += THREADS) {
                uint32_t k = key_of(x[i]);
                if ((k & mask) == prefix) {
                    atomicAdd(&counts[(k >> shift) & 0xFF], 1u);
                    atomicAdd(&mass[(k >> shift) & 0xFF], (double)prob(x[i], m, s));
                }
            }
            __syncthreads();
            if (tid == 0) {
                double above = 0.0, kept_above = 0.0;
                int kept = -1;
                for (int b = BINS - 1; b >= 0; b--) {
                    if (counts[b] == 0) continue;
                    if ((float)(above_all + above) <= top_p) {
                        kept = b;
                        kept_above = above;
                    } else {
                        break;
                    }
                    above += mass[b];
                }
                chosen_bin = (uint32_t)max(kept, 0);
                chosen_above = kept_above;
            }
            __syncthreads();
            prefix |= chosen_bin << shift;
            mask |= 0xFFu << shift;
            above_all += chosen_above;
            __syncthreads();
        }
        // the tie group at the boundary key, in index order: each thread's chunk, after the mass of the chunks before it
        int a, b;
        chunk(v, tid, a, b);
        double tie = 0.0;
        for (int i = a; i < b; i++)
            if (key_of(x[i]) == prefix) tie += prob(x[i], m, s);
        double before = above_all + block_exclusive(tie, dscratch);
        for (int i = a; i < b; i++) {
            uint32_t k = key_of(x[i]);
            if (k < prefix) {
                x[i] = -INFINITY;
            } else if (k == prefix) {
                float p = prob(x[i], m, s);
                if ((float)before > top_p) x[i] = -INFINITY;
                before += p;
            }
        }
    }
}

// categorical_draw: ids[r] = the first j whose running sum of e_j = exp(x_j − max x) (double) exceeds u·Σe, u =
//   philox_uniform(seed, stream, r); −1 when the row holds a NaN or +∞, or nothing above −∞. ids: [rows] f32 (exact
//   integers). Each thread sums a contiguous chunk; chunk prefixes in thread order locate the crossing.
//   launch: grid (rows), block 256. Limits: 1 ≤ v < 2^31.
__device__ __forceinline__ void draw(float* __restrict__ ids, const float* __restrict__ logits, int rows, int v, unsigned long long seed,
                                     unsigned int stream) {
    __shared__ float fscratch[THREADS];
    __shared__ double dscratch[THREADS];
    __shared__ int found;
    if ((int)blockIdx.x >= rows) return;
    const float* x = logits + (long long)blockIdx.x * v;
    const int tid = threadIdx.x;
    float m = -INFINITY, bad = 0.f;
    for (int i = tid; i < v; i += THREADS) {
        float xi = x[i];
        if (isnan(xi)) bad = 1.f;
        m = fmaxf(m, xi);
    }
    m = block_reduce(m, fscratch, [](float a, float b) { return fmaxf(a, b); });
    bad = block_reduce(bad, fscratch, [](float a, float b) { return fmaxf(a, b); });
    if (bad > 0.f || !(m > -INFINITY) || m == INFINITY) {
        if (tid == 0) ids[blockIdx.x] = -1.f;
        return;
    }
    int a, b;
    chunk(v, tid, a, b);
    double sum = 0.0;
    int last = -1;
    for (int i = a; i < b; i++) {
        float e = (float)exp((double)(x[i] - m));
        sum += e;
        if (e > 0.f) last = i;
    }
    double before = block_exclusive(sum, dscratch);
    double total = block_reduce(before + sum, dscratch, [](double p, double q) { return p > q ? p : q; });
    double target = (double)philox_uniform(seed, stream, (unsigned long long)blockIdx.x) * total;
    if (tid == 0) found = -1;
    __syncthreads();
    if (before <= target && before + sum > target) {
        double run = before;
        for (int i = a; i < b; i++) {
            run += (float)exp((double)(x[i] - m));
            if (run > target) {
                atomicMax(&found, i);
                break;
            }
        }
    }
    __syncthreads();
    // u·Σe rounded onto the total: the last token with any probability
    float last_f = block_reduce((float)last, fscratch, [](float p, float q) { return fmaxf(p, q); });
    if (tid == 0) ids[blockIdx.x] = found >= 0 ? (float)found : last_f;
}
ECAR_KERNEL void categorical_draw(float* __restrict__ ids, const float* __restrict__ logits, int rows, int v, unsigned long long seed,
                                  unsigned int stream) {
    pdl_enter();
    draw(ids, logits, rows, v, seed, stream);
}
// categorical_draw_dev: the same with the Philox (seed, stream) read from device memory, noise[0] and noise[1] the seed's
//   low and high words and noise[2] the stream (StepScalars' SEED_LOW onwards: a captured ARPG step replayed with each
//   step's stream). Launch as categorical_draw.
ECAR_KERNEL void categorical_draw_dev(float* __restrict__ ids, const float* __restrict__ logits, int rows, int v,
                                      const unsigned int* __restrict__ noise) {
    pdl_enter();
    draw(ids, logits, rows, v, ((unsigned long long)noise[1] << 32) | noise[0], noise[2]);
}
