// bf16 tensor-core GEMM for every linear layer: Y[M, N] = X[M, K] · W[N, K]ᵀ (+ bias) → activation → post,
// fp32 accumulation, output fp32 or bf16. W is PyTorch's Linear weight layout, X the activations in bf16.
// CPU twin: src/main/java/ecar/backend/CpuGemm.java through CpuBackend.linear (bias, Activation), with
// CpuBackend.mul (POST_MUL, FlowAR's gated GELU MLP) and CpuBackend.gatedResidual (POST_RESIDUAL, adaLN-Zero).
// The tile machinery (cp.async pipeline, swizzle, ldmatrix, mma.sync) is kernels/gemm_tile.cuh. On compute capability
// 9.0, GemmKernels sends shapes with M, N >= 64 to kernels/gemm_sm90.cu (TMA + wgmma) instead; its epilogue is this one.
//
// Entry points: gemm_bf16_{t128,t64}_{f32,bf16}
//   (void* Y, const bf16* X, const bf16* W, const float* bias, const float* res, const float* gate,
//    const bf16* mul, int M, int N, int K, int act, int post, int gateRatio, int gateLd, int epi,
//    const float* rope_cos, const float* rope_sin, int rope_tokens, int rope_head, int rope_cols,
//    const float* rope_rows, int rope_table_rows)
//   t128: block 256 threads, grid (ceil(N/128), ceil(M/128)), dynamic shared memory 65536 bytes
//         (the launcher must raise CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES above 48 KiB).
//   t64:  block 128 threads, grid (ceil(N/64), ceil(M/64)), dynamic shared memory 32768 bytes.
// Limits: K % 8 == 0 and K > 0; X, W, Y, res, mul 16-byte aligned; M, N ≥ 1 and arbitrary; M ≤ 65535·tile rows;
// act ∈ {0 none, 1 GELU tanh, 2 GELU erf, 3 SiLU} (Activation's ordinals); post ∈ {0 store, 1 ⊙ mul, 2 residual, 3 discard: nothing stored, for measurement only, 4 gate
//   pairs: Y [M, N / 2] = act(gate) ⊙ value of interleaved columns (N even)};
// gateRatio ≥ 1 (rows of Y per row of gate); gateLd ≥ N (floats between gate rows: N for a gate of its own, chunks·N
// for one chunk of an adaLN modulation read in place). Y may be res (in-place residual update). epi: 0 stores two
// outputs at a time straight from the fragments (store_pair), 1 stages each warp's accumulators in the pipeline's
// shared memory and stores eight adjacent outputs a lane (store_row8_staged) where row8_ok, else pairs; the same values.
// rope_*: RoPE on projected queries and keys (gemm_tile.cuh's Epilogue: FlowAR's 2D tables or ARPG's by table rows), rope_cos null for none.
#include "gemm_tile.cuh"

using namespace ecar;
using namespace ecar::tile;

template <class C, bool OUT_BF16>
__device__ __forceinline__ void gemm(void* Y, const __nv_bfloat16* X, const __nv_bfloat16* W, const float* bias,
                                     const float* res, const float* gate, const __nv_bfloat16* mul,
                                     int M, int N, int K, int act, int post, int gateRatio, int gateLd, int epi, ECAR_ROPE_PARAMS) {
    MatrixRows a{X, M, K, (int)blockIdx.y * C::BM};
    Epilogue e{bias, res, gate, mul, act, post, gateRatio, gateLd, ECAR_ROPE_ARGS};
    run<C, OUT_BF16>(Y, a, W, M, N, K, e, epi == 1);
}

#define GEMM_ENTRY(NAME, CFG, MIN_BLOCKS, OUT_BF16)                                                                \
    ECAR_KERNEL void __launch_bounds__(CFG::THREADS, MIN_BLOCKS)                                                   \
        NAME(void* Y, const __nv_bfloat16* __restrict__ X, const __nv_bfloat16* __restrict__ W,                    \
             const float* __restrict__ bias, const float* res, const float* __restrict__ gate,                     \
             const __nv_bfloat16* __restrict__ mul, int M, int N, int K, int act, int post, int gateRatio, int gateLd, \
             int epi, ECAR_ROPE_PARAMS) { pdl_enter();                                                             \
        gemm<CFG, OUT_BF16>(Y, X, W, bias, res, gate, mul, M, N, K, act, post, gateRatio, gateLd, epi, ECAR_ROPE_ARGS); \
    }

GEMM_ENTRY(gemm_bf16_t128_f32, Big, 2, false)
GEMM_ENTRY(gemm_bf16_t128_bf16, Big, 2, true)
GEMM_ENTRY(gemm_bf16_t64_f32, Small, 4, false)
GEMM_ENTRY(gemm_bf16_t64_bf16, Small, 4, true)
