// Embeddings and layouts: the timestep sinusoid, DiT's patchify/unpatchify, NCHW↔NHWC, and the bicubic and area
// resizes exactly as PyTorch's interpolate computes them (FlowAR's stage input). One thread per output element.
// CPU twin: src/main/java/ecar/backend/CpuEmbed.java (same float operations in the same order).
#include "common.cuh"

using namespace ecar;

template <bool OUT_BF16>
__device__ __forceinline__ void put(void* out, size_t i, float v) {
    if (OUT_BF16) reinterpret_cast<__nv_bfloat16*>(out)[i] = f2bf(v);
    else reinterpret_cast<float*>(out)[i] = v;
}

// timestep_embedding: out[n, i] = cos(t[n]·f_i), out[n, half + i] = sin(t[n]·f_i), f_i = exp(−ln(10⁴)·i/half)
//   with every product rounded to float32 (PyTorch), the transcendental in double then rounded (CpuEmbed.timestep).
//   out: [count, 2·half] f32. launch: grid ceil(count·half / 256), block 256. Limits: half ≥ 1.
__device__ __forceinline__ void sinusoid(float* __restrict__ out, int n, int i, int half, float t) {
    const float negLog = (float)-9.210340371976184;   // (float) −ln(10000)
    float freq = (float)exp((double)(__fdiv_rn(__fmul_rn(negLog, (float)i), (float)half)));
    float arg = __fmul_rn(t, freq);
    out[(size_t)n * 2 * half + i] = (float)cos((double)arg);
    out[(size_t)n * 2 * half + half + i] = (float)sin((double)arg);
}

ECAR_KERNEL void timestep_embedding(float* __restrict__ out, const float* __restrict__ t, int count, int half) {
    pdl_enter();
    long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (long long)count * half) return;
    int n = (int)(idx / half), i = (int)(idx % half);
    sinusoid(out, n, i, half, t[n]);
}

// timestep_embedding_dev: every one of the count rows embeds the one time *t read from device memory (a captured
//   sampling step: all samples share the step's time, written before each replay). Launch as timestep_embedding.
ECAR_KERNEL void timestep_embedding_dev(float* __restrict__ out, const float* __restrict__ t, int count, int half) {
    pdl_enter();
    long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (long long)count * half) return;
    sinusoid(out, (int)(idx / half), (int)(idx % half), half, *t);
}

// patchify: [N, C, H, W] f32 → [N, (H/p)(W/p), C·p·p] (f32 or bf16, the x_embedder GEMM's input), features in
//   (c, kh, kw) order. One thread per output element. launch: grid ceil(total / 256), block 256.
//   Limits: H % p == W % p == 0.
template <bool OUT_BF16>
__device__ __forceinline__ void patchify(void* out, const float* __restrict__ x, int n, int c, int h, int w, int p) {
    long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    long long total = (long long)n * c * h * w;
    if (idx >= total) return;
    int dIn = c * p * p, wp = w / p, tokens = (h / p) * wp;
    int feat = (int)(idx % dIn);
    long long r = idx / dIn;
    int token = (int)(r % tokens), s = (int)(r / tokens);
    int ch = feat / (p * p), ky = (feat / p) % p, kx = feat % p;
    int y = (token / wp) * p + ky, xx = (token % wp) * p + kx;
    put<OUT_BF16>(out, idx, x[(((size_t)s * c + ch) * h + y) * w + xx]);
}
ECAR_KERNEL void patchify_f32(void* out, const float* __restrict__ x, int n, int c, int h, int w, int p) {
    pdl_enter();
    patchify<false>(out, x, n, c, h, w, p);
}
ECAR_KERNEL void patchify_bf16(void* out, const float* __restrict__ x, int n, int c, int h, int w, int p) {
    pdl_enter();
    patchify<true>(out, x, n, c, h, w, p);
}

// unpatchify: [N, h·w, p·p·C] f32 in (kh, kw, c) order → [N, C, h·p, w·p] f32. One thread per output element.
//   launch: grid ceil(total / 256), block 256.
ECAR_KERNEL void unpatchify(float* __restrict__ out, const float* __restrict__ x, int n, int p, int c, int h, int w) {
    pdl_enter();
    long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    int hh = h * p, ww = w * p;
    long long total = (long long)n * c * hh * ww;
    if (idx >= total) return;
    int ox = (int)(idx % ww);
    long long r = idx / ww;
    int oy = (int)(r % hh);
    r /= hh;
    int ch = (int)(r % c), s = (int)(r / c);
    int ty = oy / p, ky = oy % p, tx = ox / p, kx = ox % p;
    out[idx] = x[((size_t)s * h * w + (size_t)ty * w + tx) * (p * p * c) + (ky * p + kx) * c + ch];
}

// transpose_batched: [N, A, B] f32 → [N, B, A] (f32, or bf16 with the _bf16 entry: Vᵀ as the W operand of the VAE
//   attention's P·V GEMM). NCHW → NHWC with (A, B) = (C, HW), back with (HW, C).
//   32×32 tiles through shared memory (padded against bank conflicts).
//   launch: block (32, 8), grid (ceil(B / 32), ceil(A / 32), N).
template <bool OUT_BF16>
__device__ __forceinline__ void transpose_tile(void* out, const float* __restrict__ x, int a, int b) {
    __shared__ float tile[32][33];
    size_t base = (size_t)blockIdx.z * a * b;
    int b0 = blockIdx.x * 32, a0 = blockIdx.y * 32;
    for (int r = threadIdx.y; r < 32; r += 8) {
        int i = a0 + r, j = b0 + threadIdx.x;
        if (i < a && j < b) tile[r][threadIdx.x] = x[base + (size_t)i * b + j];
    }
    __syncthreads();
    for (int r = threadIdx.y; r < 32; r += 8) {
        int j = b0 + r, i = a0 + threadIdx.x;
        if (i < a && j < b) put<OUT_BF16>(out, base + (size_t)j * a + i, tile[threadIdx.x][r]);
    }
}
ECAR_KERNEL void transpose_batched(void* out, const float* __restrict__ x, int a, int b) { pdl_enter(); transpose_tile<false>(out, x, a, b); }
ECAR_KERNEL void transpose_batched_bf16(void* out, const float* __restrict__ x, int a, int b) { pdl_enter(); transpose_tile<true>(out, x, a, b); }

// ------------------------------------------------------------------ resize, channels-last, as PyTorch

// Cubic convolution weights, A = −0.75 (PyTorch's upsample_bicubic2d).
__device__ __forceinline__ float cubic1(float x) { return __fadd_rn(__fmul_rn(__fmul_rn(__fsub_rn(__fmul_rn(1.25f, x), 2.25f), x), x), 1.f); }
__device__ __forceinline__ float cubic2(float x) {
    const float A = -0.75f;
    return __fsub_rn(__fmul_rn(__fadd_rn(__fmul_rn(__fsub_rn(__fmul_rn(A, x), 5.f * A), x), 8.f * A), x), 4.f * A);
}
__device__ __forceinline__ int clampi(int i, int size) { return max(0, min(size - 1, i)); }

// Source index i0 and weights w[0..3] for taps i0−1 .. i0+2 (align_corners=False: real = scale·(o + ½) − ½).
__device__ __forceinline__ int cubic_taps(int in, int outSize, int o, float* w) {
    float scale = __fdiv_rn((float)in, (float)outSize);
    float real = __fsub_rn(__fmul_rn(scale, __fadd_rn((float)o, 0.5f)), 0.5f);
    int i0 = (int)floorf(real);
    float t = __fsub_rn(real, (float)i0);
    w[0] = cubic2(__fadd_rn(t, 1.f));
    w[1] = cubic1(t);
    w[2] = cubic1(__fsub_rn(1.f, t));
    w[3] = cubic2(__fsub_rn(2.f, t));
    return i0;
}

// resize_bicubic: [N, H, W, C] → [N, OH, OW, C] f32, border taps clamped; rows of 4 taps along x, then along y.
//   launch: grid ceil(N·OH·OW·C / 256), block 256.
ECAR_KERNEL void resize_bicubic(float* __restrict__ out, const float* __restrict__ x, int n, int h, int w, int c, int oh, int ow) {
    pdl_enter();
    long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (long long)n * oh * ow * c) return;
    int ch = (int)(idx % c);
    long long r = idx / c;
    int xo = (int)(r % ow);
    r /= ow;
    int yo = (int)(r % oh), s = (int)(r / oh);
    float wy[4], wx[4];
    int iy = cubic_taps(h, oh, yo, wy), ix = cubic_taps(w, ow, xo, wx);
    float v = 0.f;
    for (int k = 0; k < 4; k++) {
        int yy = clampi(iy - 1 + k, h);
        float acc = 0.f;
        for (int m = 0; m < 4; m++) {
            int xx = clampi(ix - 1 + m, w);
            acc = __fadd_rn(acc, __fmul_rn(x[(((size_t)s * h + yy) * w + xx) * c + ch], wx[m]));
        }
        v = __fadd_rn(v, __fmul_rn(acc, wy[k]));
    }
    out[idx] = v;
}

// resize_area: adaptive average pooling, window [⌊o·in/out⌋, ⌈(o+1)·in/out⌉) on each axis, summed row by row.
//   [N, H, W, C] → [N, OH, OW, C] f32. launch: grid ceil(N·OH·OW·C / 256), block 256.
ECAR_KERNEL void resize_area(float* __restrict__ out, const float* __restrict__ x, int n, int h, int w, int c, int oh, int ow) {
    pdl_enter();
    long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (long long)n * oh * ow * c) return;
    int ch = (int)(idx % c);
    long long r = idx / c;
    int xo = (int)(r % ow);
    r /= ow;
    int yo = (int)(r % oh), s = (int)(r / oh);
    int y0 = (yo * h) / oh, y1 = ((yo + 1) * h + oh - 1) / oh;
    int x0 = (xo * w) / ow, x1 = ((xo + 1) * w + ow - 1) / ow;
    float sum = 0.f;
    for (int yy = y0; yy < y1; yy++)
        for (int xx = x0; xx < x1; xx++) sum = __fadd_rn(sum, x[(((size_t)s * h + yy) * w + xx) * c + ch]);
    out[idx] = __fdiv_rn(sum, (float)((y1 - y0) * (x1 - x0)));
}

// ------------------------------------------------------------------ embedding lookup

// embedding: out[i, :] = table[ids[i], :] as float32 (Backend.embedding: the class table, [V, D] in bf16 or f32).
//   An id outside [0, rows) writes NaN (the Java side checks host ids first; this makes a slip visible to watchFinite).
//   launch: grid ceil(count·width / 256), block 256.
// embedding_ids: the same with the ids in device memory as float32 exact integers (the ids sampleTokens drew, read
//   inside a captured ARPG generation that the host cannot check between steps): an id that is not an integer in
//   [0, rows) (the draw's −1 for logits without finite probabilities) writes a row of NaN, which the logits carry on.
__device__ __forceinline__ int row_of(int id) { return id; }
__device__ __forceinline__ int row_of(float id) { return id >= 0.f && id < 2147483648.f && id == truncf(id) ? (int)id : -1; }
template <class T, class I>
__device__ __forceinline__ void embedding(float* __restrict__ out, const T* __restrict__ table, const I* __restrict__ ids,
                                          int count, int rows, int width) {
    long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (long long)count * width) return;
    int i = (int)(idx / width), c = (int)(idx % width), id = row_of(ids[i]);
    out[idx] = (id >= 0 && id < rows) ? (float)table[(size_t)id * width + c] : __int_as_float(0x7fc00000);
}
ECAR_KERNEL void embedding_f32(float* out, const float* table, const int* ids, int count, int rows, int width) {
    pdl_enter();
    embedding(out, table, ids, count, rows, width);
}
ECAR_KERNEL void embedding_bf16(float* out, const __nv_bfloat16* table, const int* ids, int count, int rows, int width) {
    pdl_enter();
    embedding(out, table, ids, count, rows, width);
}
ECAR_KERNEL void embedding_ids_f32(float* out, const float* table, const float* ids, int count, int rows, int width) {
    pdl_enter();
    embedding(out, table, ids, count, rows, width);
}
ECAR_KERNEL void embedding_ids_bf16(float* out, const __nv_bfloat16* table, const float* ids, int count, int rows, int width) {
    pdl_enter();
    embedding(out, table, ids, count, rows, width);
}

// ------------------------------------------------------------------ RoPE by table rows (ARPG)

// rope_rows_f32: out = x [B, L, width] (heads of head_dim dims) with pair p of each head of token t rotated by
//   (cos, sin)[rows[t], p] of tables [table_rows, head_dim/2]: (x0 c − x1 s, x1 c + x0 s), each product and sum rounded
//   as CpuAttention.ropeRows does. rows: [L] f32 holding exact integers, the same for every sample; a row outside the
//   table writes NaN (the Java side cannot see device-side rows; allFinite shows the slip). The GEMM epilogue's RoPE
//   (gemm_tile.cuh) rotates ARPG's queries the same way as they are projected.
//   One thread per pair of adjacent elements. launch: grid ceil(B·L·width/2 / 256), block 256.
//   Limits: head_dim even, width a multiple of head_dim.
ECAR_KERNEL void rope_rows_f32(float* __restrict__ out, const float* __restrict__ x, const float* __restrict__ rows, int batch, int l,
                               int width, int head_dim, const float* __restrict__ rope_cos, const float* __restrict__ rope_sin, int table_rows) {
    pdl_enter();
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    const int pairs = width / 2;
    if (i >= (long long)batch * l * pairs) return;
    const int pr = (int)(i % pairs);
    const long long token = i / pairs;
    const int col = 2 * pr;
    const int r = rope_row(rows, (int)(token % l), table_rows);
    float2 v = *reinterpret_cast<const float2*>(x + token * width + col);
    float2 o;
    if (r >= 0) {
        long long ti = (long long)r * (head_dim / 2) + (col % head_dim) / 2;
        o = rotate(v, rope_cos[ti], rope_sin[ti]);
    } else {
        o = make_float2(__int_as_float(0x7fc00000), __int_as_float(0x7fc00000));
    }
    store2(out + token * width + col, o.x, o.y);
}
