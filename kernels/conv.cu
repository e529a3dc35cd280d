// The VAE decoder's convolutions on channels-last images: an implicit-GEMM 3×3 convolution (stride 1, zero
// padding 1) on tensor cores, and nearest ×2 upsampling. A 1×1 convolution is the GEMM itself (gemm.cu with
// X = [N·H·W, Ci], W = [Co, Ci]); GroupNorm+SiLU is norm.cu.
// CPU twin: src/main/java/ecar/backend/CpuConv.java (Backend.conv3x3, upsampleNearest2x).
//
// conv3x3: Y[p, co] = Σ_{ky, kx, ci} X[n, y+ky−1, x+kx−1, ci] · W[co, ky, kx, ci] + bias[co], i.e. the GEMM
// Y[M = N·H·W, Co] = A[M, 9·Ci] · W[Co, 9·Ci]ᵀ where row p of A (the im2col patch) is never materialized: the
// tile loader gathers each 16-byte chunk (8 channels of one tap) straight from X, zero filling the padding.
// Entry points: conv3x3_bf16_{t128,t64}_{f32,bf16}
//   (void* Y, const bf16* X, const bf16* W, const float* bias, const float* res, int n, int h, int w, int ci, int co,
//    int act)
//   X [N, H, W, Ci] bf16, W [Co, 3, 3, Ci] bf16, bias [Co] f32 or null, Y [N, H, W, Co]; act as gemm.cu;
//   res [N, H, W, Co] f32 or null: Y = res + conv (the ResnetBlock's skip; may alias Y).
//   launch: as gemm.cu with M = N·H·W, N = Co (t128: 256 threads, 65536 B dynamic shared memory; t64: 128, 32768 B).
//   Limits: Ci % 8 == 0 (pad Ci = 4 to 8 with zero channels and zero weights), 16-byte aligned X, W, Y.
#include "gemm_tile.cuh"

using namespace ecar;
using namespace ecar::tile;

// A's rows for one thread: its A_CHUNKS tile rows are fixed, so their pixel coordinates are computed once.
template <int CHUNKS>
struct ConvPatches {
    const __nv_bfloat16* X;
    int h, w, ci, K;
    int py[CHUNKS], px[CHUNKS];
    size_t img[CHUNKS];   // first pixel of the row's image
    bool live[CHUNKS];

    __device__ __forceinline__ const __nv_bfloat16* src(int i, int /*row*/, int k, bool& valid) const {
        int tap = k / ci, c = k - tap * ci;
        int yy = py[i] + tap / 3 - 1, xx = px[i] + tap % 3 - 1;
        valid = live[i] && k < K && yy >= 0 && yy < h && xx >= 0 && xx < w;
        return valid ? X + (img[i] + (size_t)yy * w + xx) * ci + c : X;
    }
};

template <class C, bool OUT_BF16>
__device__ __forceinline__ void conv3x3(void* Y, const __nv_bfloat16* X, const __nv_bfloat16* W, const float* bias,
                                        const float* res, int n, int h, int w, int ci, int co, int act) {
    const int M = n * h * w, K = 9 * ci, m0 = blockIdx.y * C::BM;
    ConvPatches<C::A_CHUNKS> a;
    a.X = X; a.h = h; a.w = w; a.ci = ci; a.K = K;
#pragma unroll
    for (int i = 0; i < C::A_CHUNKS; i++) {
        int p = m0 + ((threadIdx.x + i * C::THREADS) >> 2);   // the row this thread's chunk i always lands in
        a.live[i] = p < M;
        int q = a.live[i] ? p : 0;
        int s = q / (h * w), r = q - s * (h * w);
        a.py[i] = r / w;
        a.px[i] = r - a.py[i] * w;
        a.img[i] = (size_t)s * h * w;
    }
    Epilogue e{bias, res, nullptr, nullptr, act, res ? POST_RESIDUAL : POST_STORE, 1, co};
    run<C, OUT_BF16>(Y, a, W, M, co, K, e);
}

#define CONV_ENTRY(NAME, CFG, MIN_BLOCKS, OUT_BF16)                                                                  \
    ECAR_KERNEL void __launch_bounds__(CFG::THREADS, MIN_BLOCKS)                                                     \
        NAME(void* Y, const __nv_bfloat16* __restrict__ X, const __nv_bfloat16* __restrict__ W,                    \
             const float* __restrict__ bias, const float* res, int n, int h, int w, int ci, int co, int act) { pdl_enter();        \
        conv3x3<CFG, OUT_BF16>(Y, X, W, bias, res, n, h, w, ci, co, act);                                              \
    }

CONV_ENTRY(conv3x3_bf16_t128_f32, Big, 2, false)
CONV_ENTRY(conv3x3_bf16_t128_bf16, Big, 2, true)
CONV_ENTRY(conv3x3_bf16_t64_f32, Small, 4, false)
CONV_ENTRY(conv3x3_bf16_t64_bf16, Small, 4, true)

// upsample_nearest2x: [N, H, W, C] → [N, 2H, 2W, C], out[s, oy, ox, c] = x[s, oy/2, ox/2, c], 4-byte elements
//   (f32) or, with the bf16 entry, 2-byte. One thread per output element.
//   launch: grid ceil(N·4HW·C / 256), block 256.
template <class T>
__device__ __forceinline__ void upsample2x(T* __restrict__ out, const T* __restrict__ x, int n, int h, int w, int c) {
    long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (long long)n * 4 * h * w * c) return;
    int ch = (int)(idx % c);
    long long r = idx / c;
    int ox = (int)(r % (2 * w));
    r /= 2 * w;
    int oy = (int)(r % (2 * h)), s = (int)(r / (2 * h));
    out[idx] = x[(((size_t)s * h + oy / 2) * w + ox / 2) * c + ch];
}
ECAR_KERNEL void upsample_nearest2x_f32(float* out, const float* x, int n, int h, int w, int c) { pdl_enter(); upsample2x(out, x, n, h, w, c); }
ECAR_KERNEL void upsample_nearest2x_bf16(__nv_bfloat16* out, const __nv_bfloat16* x, int n, int h, int w, int c) {
    pdl_enter();
    upsample2x(out, x, n, h, w, c);
}
