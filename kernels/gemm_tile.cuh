// The bf16 tensor-core tile shared by gemm.cu and conv.cu: Y[M, N] = A[M, K] · W[N, K]ᵀ with fp32 accumulation,
// a multi-stage cp.async pipeline into XOR-swizzled shared memory, ldmatrix fragment loads, mma.sync m16n8k16,
// and a fused epilogue (bias, activation, gated multiply or gated residual). Where A's rows come from is a
// policy (a plain matrix for the GEMM, an implicit im2col gather for the 3×3 convolution); everything else is
// this file.
//
// Limits every caller must respect (checked on the Java side):
//   - K % 8 == 0: a 16-byte cp.async chunk (8 bf16) is either wholly inside K or wholly past it (zero filled).
//   - A's rows, W and the output are 16-byte aligned; a row of A and W is K contiguous bf16.
//   - M and N are arbitrary (loads predicated with zero fill, stores guarded).
#pragma once
#include "common.cuh"

namespace ecar {
namespace tile {

// ------------------------------------------------------------------ PTX primitives

// 16 bytes global → shared, asynchronous, bypassing L1. valid == false writes 16 zero bytes (src-size 0)
// without reading src, which must still be a mapped address (callers pass the matrix base).
__device__ __forceinline__ void cp_async16(uint32_t smem, const void* gmem, bool valid) {
    int src_bytes = valid ? 16 : 0;
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem), "l"(gmem), "r"(src_bytes) : "memory");
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }
template <int PENDING>
__device__ __forceinline__ void cp_async_wait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(PENDING) : "memory"); }

// Four 8×8 b16 matrices; lanes 8i..8i+7 give the row addresses of matrix i; lane l receives row l/4,
// columns 2(l%4), 2(l%4)+1 of each matrix in r0..r3.
__device__ __forceinline__ void ldmatrix_x4(uint32_t& r0, uint32_t& r1, uint32_t& r2, uint32_t& r3, uint32_t smem) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r0), "=r"(r1), "=r"(r2), "=r"(r3)
                 : "r"(smem));
}

// D = A·B + D on a 16×8×16 tile. a: (row g, k 0-7), (g+8, 0-7), (g, 8-15), (g+8, 8-15); b: (k 0-7, n g), (k 8-15, n g);
// d: (g, 2t..2t+1), (g+8, 2t..2t+1) with g = lane/4, t = lane%4 (PTX ISA, "Matrix fragments for mma.m16n8k16").
__device__ __forceinline__ void mma_16816(float* d, const uint32_t* a, const uint32_t* b) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
        "{%0, %1, %2, %3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

// ------------------------------------------------------------------ shared-memory layout

// A tile row is BK = 32 bf16 = 64 bytes = four 16-byte chunks. Two rows share a 128-byte bank line, so the
// chunk index is XORed with (row / 2) % 4: the 8 row addresses of one ldmatrix matrix (rows r..r+7, one logical
// chunk) then land on 8 distinct 16-byte bank groups, and so do cp.async's writes. Returns a byte offset.
constexpr int BK = 32;
__device__ __forceinline__ uint32_t swizzle(int row, int chunk) {
    return (uint32_t)(row * (BK * 2) + ((chunk ^ ((row >> 1) & 3)) << 4));
}

// ------------------------------------------------------------------ epilogue

// act: the ordinal of ecar.backend.Activation.  post: what follows the activation.
enum Act { ACT_NONE = 0, ACT_GELU_TANH = 1, ACT_GELU_ERF = 2, ACT_SILU = 3 };
enum Post {
    POST_STORE = 0,     // y
    POST_MUL = 1,       // y ⊙ mul[m, n], mul bf16     (a product gated by another tensor; the gated MLPs use GATE_PAIRS)
    POST_RESIDUAL = 2,  // res[m, n] + gate[m / gateRatio, n] · y   (adaLN-Zero; gate null = 1; res may alias Y;
                        //   gate rows gateLd floats apart: one chunk of an adaLN modulation read in place)
    POST_DISCARD = 3,   // nothing: Y is not written. For measurement only (GemmBench's -nostore paths): the kernel's time
                        //   without its output, which tells the main loop's cost from the epilogue's
    POST_GATE_PAIRS = 4,  // Y[m, n / 2] = act(y[n] + bias[n]) · (y[n + 1] + bias[n + 1]) for even n: a gated MLP's hidden
                          //   layer from interleaved gate and value rows of W (N even, Y [M, N / 2]); act on the gate only
};

struct Epilogue {
    const float* bias;             // [N] or null
    const float* res;              // [M, N] f32 (POST_RESIDUAL)
    const float* gate;             // [M / gateRatio, N] f32, rows gateLd ≥ N apart, or null (POST_RESIDUAL)
    const __nv_bfloat16* mul;      // [M, N] bf16 (POST_MUL)
    int act, post, gateRatio, gateLd;
    // RoPE on projected queries and keys (POST_STORE, no activation), or none (rope_cos null: every other caller,
    // whose brace initialisers leave these zero): after the bias, columns n < rope_cols rotate in pairs (n, n + 1) by
    // (cos, sin)[r, (n % rope_head) / 2] of tables [rows, rope_head / 2], row r of token t = m % rope_tokens of its
    // sample: t itself (FlowAR's 2D tables of the stage, as qkv_to_bf16 rotates), or rope_rows[t] where given (ARPG's
    // tables of rope_table_rows rows, as rope_rows_f32 rotates; a row outside the table writes NaN). rope_cols and
    // rope_head even, rope_cols a multiple of rope_head, M a multiple of rope_tokens.
    const float* rope_cos;
    const float* rope_sin;
    int rope_tokens, rope_head, rope_cols;
    const float* rope_rows;
    int rope_table_rows;
};

// The kernel parameters that fill an Epilogue's RoPE fields, and the arguments that pass them on.
#define ECAR_ROPE_PARAMS                                                                                             \
    const float* __restrict__ rope_cos, const float* __restrict__ rope_sin, int rope_tokens, int rope_head, int rope_cols, \
    const float* __restrict__ rope_rows, int rope_table_rows
#define ECAR_ROPE_ARGS rope_cos, rope_sin, rope_tokens, rope_head, rope_cols, rope_rows, rope_table_rows

// The activations; their CPU twins are ecar.backend.cpu.Activations.{geluTanh, geluErf, silu}.
__device__ __forceinline__ float gelu_tanh(float v) { return 0.5f * v * (1.f + tanhf(0.7978845608028654f * v * (1.f + 0.044715f * v * v))); }
__device__ __forceinline__ float gelu_erf(float v) { return 0.5f * v * (1.f + erff(v * 0.7071067811865476f)); }
__device__ __forceinline__ float silu(float v) { return v / (1.f + expf(-v)); }

__device__ __forceinline__ float activate(float v, int act) {
    switch (act) {
        case ACT_GELU_TANH: return gelu_tanh(v);
        case ACT_GELU_ERF: return gelu_erf(v);
        case ACT_SILU: return silu(v);
        default: return v;
    }
}

// activate() on eight values at once, the gates (even j) only where gate_only: one switch, then eight independent
// copies of the activation, which the scheduler interleaves. In a loop of one value at a time (as store_row8_staged
// had it) each step waits for the last: GemmBench on the H100 (2026-11-28) ran DiT-XL/2's fc1 + GELU at 282 TFLOP/s
// against 542 for its qkv without one, and ECAR-L's GATE_PAIRS fc1 slower with row stores than with pairs.
__device__ __forceinline__ void activate8(float (&v)[8], int act, bool gate_only) {
#define ECAR_ACTIVATE8(F)                                                                                            \
    _Pragma("unroll") for (int j = 0; j < 8; j++) if (!(gate_only && (j & 1))) v[j] = F(v[j]);                      \
    break;
    switch (act) {
        case ACT_GELU_TANH: ECAR_ACTIVATE8(gelu_tanh)
        case ACT_GELU_ERF: ECAR_ACTIVATE8(gelu_erf)
        case ACT_SILU: ECAR_ACTIVATE8(silu)
        default: break;
    }
#undef ECAR_ACTIVATE8
}

// What follows the activation of output (m, n): the MUL or RESIDUAL step, or nothing.
__device__ __forceinline__ float post_step(float v, int m, int n, int N, const Epilogue& e) {
    size_t i = (size_t)m * N + n;
    if (e.post == POST_MUL) v *= bf2f(e.mul[i]);
    else if (e.post == POST_RESIDUAL) v = e.res[i] + (e.gate ? e.gate[(size_t)(m / e.gateRatio) * e.gateLd + n] : 1.f) * v;
    return v;
}

// Outputs (m, n) and (m, n + 1), n even, rotated as one pair by the epilogue's RoPE where it has one and n is a
// rotated column (the same float operations as qkv_to_bf16 or rope_rows_f32 on the stored float32 pair).
__device__ __forceinline__ void rope_pair(float& v0, float& v1, int m, int n, const Epilogue& e) {
    if (e.rope_cos == nullptr || n >= e.rope_cols) return;
    const int r = rope_row(e.rope_rows, m % e.rope_tokens, e.rope_table_rows);
    if (r < 0) {
        v0 = v1 = __int_as_float(0x7fc00000);
        return;
    }
    const size_t ti = (size_t)r * (e.rope_head / 2) + (n % e.rope_head) / 2;
    const float2 q = rotate(make_float2(v0, v1), e.rope_cos[ti], e.rope_sin[ti]);
    v0 = q.x;
    v1 = q.y;
}

// Two adjacent outputs (m, n) and (m, n+1) of one accumulator fragment; n is even. Each gets its bias, then the
// activation, then (a pair) the RoPE, then the post step. For GATE_PAIRS the pair is one hidden unit: the activated
// first times the second. (The activation is written twice, once per output, for all post steps: its code is inlined
// at every call site.)
template <bool OUT_BF16>
__device__ __forceinline__ void store_pair(void* Y, int m, int n, float v0, float v1, int M, int N, const Epilogue& e) {
    if (m >= M || n >= N || e.post == POST_DISCARD) return;
    const bool second = n + 1 < N;   // always, for GATE_PAIRS (N even)
    if (e.bias) {
        v0 += e.bias[n];
        if (second) v1 += e.bias[n + 1];
    }
    v0 = activate(v0, e.act);
    if (e.post == POST_GATE_PAIRS) {
        const float h = v0 * v1;
        const size_t o = (size_t)m * (N / 2) + n / 2;
        if (OUT_BF16) reinterpret_cast<__nv_bfloat16*>(Y)[o] = f2bf(h);
        else reinterpret_cast<float*>(Y)[o] = h;
        return;
    }
    size_t i = (size_t)m * N + n;
    if (second) {
        v1 = activate(v1, e.act);
        rope_pair(v0, v1, m, n, e);
    }
    v0 = post_step(v0, m, n, N, e);
    if (second) v1 = post_step(v1, m, n + 1, N, e);
    if (OUT_BF16) {
        __nv_bfloat16* y = reinterpret_cast<__nv_bfloat16*>(Y);
        if (second && (N % 2 == 0)) {
            *reinterpret_cast<__nv_bfloat162*>(y + i) = __floats2bfloat162_rn(v0, v1);
        } else {
            y[i] = f2bf(v0);
            if (second) y[i + 1] = f2bf(v1);
        }
    } else {
        float* y = reinterpret_cast<float*>(Y);
        if (second && (N % 2 == 0)) {
            *reinterpret_cast<float2*>(y + i) = make_float2(v0, v1);
        } else {
            y[i] = v0;
            if (second) y[i + 1] = v1;
        }
    }
}

// Whether an epilogue may take eight adjacent staged outputs at a time (store_row8_staged). Uniform over a launch.
// GATE_PAIRS: N a multiple of 4 (so every group of eight columns holds two or four whole hidden units, and each unit
// pair of Y's row starts on a 4-byte bf16 or 8-byte float boundary) and Y 8-byte aligned. Otherwise: N a multiple of
// 8 and every operand it reads or writes 16-byte aligned (null is), the gate's rows too.
__device__ __forceinline__ bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }
__device__ __forceinline__ bool row8_ok(const void* Y, int N, const Epilogue& e) {
    if (e.post == POST_GATE_PAIRS) return N % 4 == 0 && (reinterpret_cast<uintptr_t>(Y) & 7) == 0;
    return N % 8 == 0 && aligned16(Y) && aligned16(e.bias) && aligned16(e.res) && aligned16(e.gate) && aligned16(e.mul) && e.gateLd % 4 == 0;
}

// Eight adjacent outputs (m, n..n+7): the function of four store_pair calls without activation (the same float
// operations in the same order, the same rounding), each operand read and the output written 16 bytes at a time.
// Requires row8_ok, no activation, not GATE_PAIRS (store_row8_staged sees to both), n % 8 == 0, m < M and n < N (so
// n + 8 <= N); POST_DISCARD is the caller's.
template <bool OUT_BF16>
__device__ __forceinline__ void store_row8(void* Y, int m, int n, float (&v)[8], int N, const Epilogue& e) {
    const size_t i = (size_t)m * N + n;
    if (e.bias) {
        const float4 b0 = *reinterpret_cast<const float4*>(e.bias + n), b1 = *reinterpret_cast<const float4*>(e.bias + n + 4);
        v[0] += b0.x; v[1] += b0.y; v[2] += b0.z; v[3] += b0.w;
        v[4] += b1.x; v[5] += b1.y; v[6] += b1.z; v[7] += b1.w;
    }
    if (e.rope_cos != nullptr) {
#pragma unroll
        for (int j = 0; j < 4; j++) rope_pair(v[2 * j], v[2 * j + 1], m, n + 2 * j, e);
    }
    if (e.post == POST_MUL) {
        const uint4 u = *reinterpret_cast<const uint4*>(e.mul + i);
        const __nv_bfloat162* h = reinterpret_cast<const __nv_bfloat162*>(&u);
#pragma unroll
        for (int j = 0; j < 4; j++) {
            const float2 f = __bfloat1622float2(h[j]);
            v[2 * j] *= f.x;
            v[2 * j + 1] *= f.y;
        }
    } else if (e.post == POST_RESIDUAL) {
        const float4 r0 = *reinterpret_cast<const float4*>(e.res + i), r1 = *reinterpret_cast<const float4*>(e.res + i + 4);
        const float r[8] = {r0.x, r0.y, r0.z, r0.w, r1.x, r1.y, r1.z, r1.w};
        if (e.gate) {
            const float* gp = e.gate + (size_t)(m / e.gateRatio) * e.gateLd + n;
            const float4 g0 = *reinterpret_cast<const float4*>(gp), g1 = *reinterpret_cast<const float4*>(gp + 4);
            const float g[8] = {g0.x, g0.y, g0.z, g0.w, g1.x, g1.y, g1.z, g1.w};
#pragma unroll
            for (int j = 0; j < 8; j++) v[j] = r[j] + g[j] * v[j];
        } else {
#pragma unroll
            for (int j = 0; j < 8; j++) v[j] = r[j] + 1.f * v[j];
        }
    }
    if (OUT_BF16) {
        auto word = [](float a, float b) {   // two outputs rounded as store_pair rounds them, as one 32-bit word
            __nv_bfloat162 h = __floats2bfloat162_rn(a, b);
            return *reinterpret_cast<const uint32_t*>(&h);
        };
        *reinterpret_cast<uint4*>(reinterpret_cast<__nv_bfloat16*>(Y) + i) =
            make_uint4(word(v[0], v[1]), word(v[2], v[3]), word(v[4], v[5]), word(v[6], v[7]));
    } else {
        float* y = reinterpret_cast<float*>(Y) + i;
        *reinterpret_cast<float4*>(y) = make_float4(v[0], v[1], v[2], v[3]);
        *reinterpret_cast<float4*>(y + 4) = make_float4(v[4], v[5], v[6], v[7]);
    }
}

// GATE_PAIRS from eight adjacent columns n..n+7 (n % 8 == 0) already biased and with the gates (even columns)
// activated: hidden units n/2 .. n/2+3 of row m, h = gate · value, stored as two words of two units (bf16x2 or
// float2); only the first word where the row ends after four columns (N % 8 == 4). The same rounding as store_pair.
template <bool OUT_BF16>
__device__ __forceinline__ void store_gate_row8(void* Y, int m, int n, const float (&v)[8], int N) {
    const size_t o = (size_t)m * (N / 2) + n / 2;   // even: N % 4 == 0 and n % 8 == 0
    const bool both = n + 8 <= N;
    if (OUT_BF16) {
        __nv_bfloat162* y = reinterpret_cast<__nv_bfloat162*>(reinterpret_cast<__nv_bfloat16*>(Y) + o);
        y[0] = __floats2bfloat162_rn(v[0] * v[1], v[2] * v[3]);
        if (both) y[1] = __floats2bfloat162_rn(v[4] * v[5], v[6] * v[7]);
    } else {
        float2* y = reinterpret_cast<float2*>(reinterpret_cast<float*>(Y) + o);
        y[0] = make_float2(v[0] * v[1], v[2] * v[3]);
        if (both) y[1] = make_float2(v[4] * v[5], v[6] * v[7]);
    }
}

// Eight adjacent outputs (m, n..n+7) staged in shared memory at s (16-byte aligned, this lane's own): the function of
// four store_pair calls, the same float operations in the same order. With an activation or GATE_PAIRS, the bias and
// the activation (of the gates only, for GATE_PAIRS) are applied first, to the eight at once (activate8); then the
// post step and the stores go eight (or, for GATE_PAIRS, four) at a time. Columns past N (GATE_PAIRS with N % 8 == 4,
// at a row's end) read no bias and are not stored. Requires row8_ok, n % 8 == 0, m < M and n < N; POST_DISCARD is the
// caller's.
template <bool OUT_BF16>
__device__ __forceinline__ void store_row8_staged(void* Y, int m, int n, const float* s, int N, const Epilogue& e) {
    const bool gated = e.post == POST_GATE_PAIRS;
    const float4 a = *reinterpret_cast<const float4*>(s), b = *reinterpret_cast<const float4*>(s + 4);
    float v[8] = {a.x, a.y, a.z, a.w, b.x, b.y, b.z, b.w};
    Epilogue rest = e;
    if (e.act != ACT_NONE || gated) {
        if (e.bias) {
#pragma unroll
            for (int j = 0; j < 8; j++) if (n + j < N) v[j] += e.bias[n + j];
        }
        activate8(v, e.act, gated);
        rest.bias = nullptr;
        rest.act = ACT_NONE;
    }
    if (gated) store_gate_row8<OUT_BF16>(Y, m, n, v, N);
    else store_row8<OUT_BF16>(Y, m, n, v, N, rest);
}

// Calls stage(b) for the one b in [0, BLOCKS) equal to blk, b a compile-time constant in each copy. Accumulator
// fragments live in registers and need constant indices; with this, the code that stores a staged block sits once in
// a rolled loop over blk instead of once per block (fully unrolled, the stores made up most of gemm_sm90's 10,000
// instructions an instantiation, and the epilogue ran through them once per tile).
template <int BLOCKS, typename Stage>
__device__ __forceinline__ void stage_block(int blk, Stage&& stage) {
#pragma unroll
    for (int b = 0; b < BLOCKS; b++)
        if (b == blk) stage(b);
}

// ------------------------------------------------------------------ the tile

// A block of WARPS_M × WARPS_N warps computes a BM × BN tile of Y; each warp a (BM/WARPS_M) × (BN/WARPS_N)
// sub-tile of MI × NI mma tiles. Shared memory: STAGES × (BM + BN) × BK bf16, dynamic.
template <int BM_, int BN_, int WARPS_M_, int WARPS_N_, int STAGES_>
struct Config {
    static constexpr int BM = BM_, BN = BN_, WARPS_M = WARPS_M_, WARPS_N = WARPS_N_, STAGES = STAGES_;
    static constexpr int THREADS = 32 * WARPS_M * WARPS_N;
    static constexpr int WTM = BM / WARPS_M, WTN = BN / WARPS_N;
    static constexpr int MI = WTM / 16, NI = WTN / 8;
    static constexpr int A_BYTES = BM * BK * 2, B_BYTES = BN * BK * 2, STAGE_BYTES = A_BYTES + B_BYTES;
    static constexpr int SMEM_BYTES = STAGES * STAGE_BYTES;
    // 16-byte chunks each thread copies per stage
    static constexpr int A_CHUNKS = BM * (BK / 8) / THREADS, B_CHUNKS = BN * (BK / 8) / THREADS;
    static_assert(WTM % 16 == 0 && WTN % 16 == 0, "warp tile must be a multiple of 16×16");
    static_assert(A_CHUNKS * THREADS == BM * (BK / 8) && B_CHUNKS * THREADS == BN * (BK / 8), "chunks must divide");
    static_assert(STAGES >= 2, "at least double buffering");
};
// 128×128 tile, 8 warps (2 × 4), warp tile 64×32, 4 stages: 64 KiB shared memory (needs the opt-in above 48 KiB).
using Big = Config<128, 128, 2, 4, 4>;
// 64×64 tile, 4 warps (2 × 2), warp tile 32×32, 4 stages: 32 KiB. For small M or N, where the big tile leaves SMs idle.
using Small = Config<64, 64, 2, 2, 4>;

// A source for a plain row-major matrix X[M, K].
struct MatrixRows {
    const __nv_bfloat16* X;
    int M, K, m0;
    // i: which of this thread's A chunks (0..A_CHUNKS-1), row: its row in the tile
    __device__ __forceinline__ const __nv_bfloat16* src(int /*i*/, int row, int k, bool& valid) const {
        int m = m0 + row;
        valid = m < M && k < K;
        return valid ? X + (size_t)m * K + k : X;
    }
};

// Row-store staging of the tile kernels: after the main loop the pipeline's shared memory is free, and each warp
// stages 32 rows × 32 columns of its accumulators there at a time (fp32, rows STAGE_PITCH floats apart: the float2
// writes of a half warp hit 32 distinct banks, as in gemm_sm90), then stores them eight adjacent outputs a lane.
constexpr int STAGE_ROWS = 32, STAGE_COLS = 32, STAGE_PITCH = 40;

// Runs the main loop and the epilogue of one output tile (blockIdx.y → rows, blockIdx.x → columns). rows (uniform
// over the launch): store through the staging rows where row8_ok (store_row8_staged), else straight from the
// fragments two outputs at a time (store_pair); the same values either way.
template <class C, bool OUT_BF16, class ASource>
__device__ __forceinline__ void run(void* Y, const ASource& a, const __nv_bfloat16* __restrict__ W, int M, int N, int K,
                                    const Epilogue& e, bool rows = false) {
    extern __shared__ __align__(128) unsigned char smem[];
    const uint32_t smem0 = (uint32_t)__cvta_generic_to_shared(smem);
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int warp_m = warp / C::WARPS_N, warp_n = warp % C::WARPS_N;
    const int m0 = blockIdx.y * C::BM, n0 = blockIdx.x * C::BN;
    const int kTiles = (K + BK - 1) / BK;

    // Issue the copies of k-tile kt into stage s: chunk c of the tile is row c / 4, 16-byte chunk c % 4.
    auto load = [&](int s, int kt) {
        const uint32_t sa = smem0 + s * C::STAGE_BYTES, sb = sa + C::A_BYTES;
#pragma unroll
        for (int i = 0; i < C::A_CHUNKS; i++) {
            int c = tid + i * C::THREADS, row = c >> 2, ch = c & 3;
            bool valid;
            const __nv_bfloat16* p = a.src(i, row, kt * BK + ch * 8, valid);
            cp_async16(sa + swizzle(row, ch), p, valid);
        }
#pragma unroll
        for (int i = 0; i < C::B_CHUNKS; i++) {
            int c = tid + i * C::THREADS, row = c >> 2, ch = c & 3;
            int n = n0 + row, k = kt * BK + ch * 8;
            bool valid = n < N && k < K;
            cp_async16(sb + swizzle(row, ch), valid ? W + (size_t)n * K + k : W, valid);
        }
    };

    float acc[C::MI][C::NI][4];
#pragma unroll
    for (int i = 0; i < C::MI; i++)
#pragma unroll
        for (int j = 0; j < C::NI; j++)
#pragma unroll
            for (int r = 0; r < 4; r++) acc[i][j][r] = 0.f;

    // Prologue: STAGES-1 k-tiles in flight (empty groups past the end keep the group count uniform).
#pragma unroll
    for (int s = 0; s < C::STAGES - 1; s++) {
        if (s < kTiles) load(s, s);
        cp_async_commit();
    }

    for (int kt = 0; kt < kTiles; kt++) {
        // Groups committed so far: STAGES-1+kt; k-tile kt is group kt, so at most STAGES-2 may still be pending.
        cp_async_wait<C::STAGES - 2>();
        // Everyone's copies of tile kt are visible, and everyone finished computing on tile kt-1,
        // whose stage the next load overwrites.
        __syncthreads();
        int next = kt + C::STAGES - 1;
        if (next < kTiles) load(next % C::STAGES, next);
        cp_async_commit();

        const uint32_t sa = smem0 + (kt % C::STAGES) * C::STAGE_BYTES, sb = sa + C::A_BYTES;
#pragma unroll
        for (int kk = 0; kk < BK / 16; kk++) {
            uint32_t af[C::MI][4], bfr[C::NI][2];
#pragma unroll
            for (int i = 0; i < C::MI; i++) {
                // matrices: (rows 0-7, k 0-7), (rows 8-15, k 0-7), (rows 0-7, k 8-15), (rows 8-15, k 8-15)
                int row = warp_m * C::WTM + i * 16 + (lane & 15);
                int ch = kk * 2 + (lane >> 4);
                ldmatrix_x4(af[i][0], af[i][1], af[i][2], af[i][3], sa + swizzle(row, ch));
            }
#pragma unroll
            for (int j = 0; j < C::NI; j += 2) {
                // W is stored [n][k], the "col" operand as is: matrices (n 0-7, k 0-7), (n 0-7, k 8-15),
                // (n 8-15, k 0-7), (n 8-15, k 8-15) give b of n-tiles j and j+1.
                int row = warp_n * C::WTN + j * 8 + (lane & 7) + ((lane >> 4) << 3);
                int ch = kk * 2 + ((lane >> 3) & 1);
                ldmatrix_x4(bfr[j][0], bfr[j][1], bfr[j + 1][0], bfr[j + 1][1], sb + swizzle(row, ch));
            }
#pragma unroll
            for (int i = 0; i < C::MI; i++)
#pragma unroll
                for (int j = 0; j < C::NI; j++) mma_16816(acc[i][j], af[i], bfr[j]);
        }
    }
    cp_async_wait<0>();
    const int g = lane >> 2, t = lane & 3;

    if (rows && e.post != POST_DISCARD && row8_ok(Y, N, e)) {
        static_assert(C::WTN == STAGE_COLS && C::WTM % STAGE_ROWS == 0, "a warp's tile is whole blocks of 32 × 32");
        static_assert(C::THREADS / 32 * STAGE_ROWS * STAGE_PITCH * 4 <= C::SMEM_BYTES, "the staging fits the pipeline's memory");
        __syncthreads();   // every warp is done reading the pipeline's stages: they become the staging rows
        float* stage = reinterpret_cast<float*>(smem) + warp * STAGE_ROWS * STAGE_PITCH;
        const int col = 8 * (lane & 3), n = n0 + warp_n * C::WTN + col;
        constexpr int BLOCKS = C::WTM / STAGE_ROWS;
#pragma unroll 1
        for (int blk = 0; blk < BLOCKS; blk++) {   // rolled: one copy of the stores below (stage_block)
            stage_block<BLOCKS>(blk, [&](int b) {
                // the fragments of mma rows 2b, 2b + 1: (g, 8j + 2t..) and (g + 8, 8j + 2t..) of each 16 × 8 tile
#pragma unroll
                for (int ii = 0; ii < 2; ii++)
#pragma unroll
                    for (int j = 0; j < C::NI; j++) {
                        const float* d = acc[2 * b + ii][j];
                        *reinterpret_cast<float2*>(stage + (16 * ii + g) * STAGE_PITCH + 8 * j + 2 * t) = make_float2(d[0], d[1]);
                        *reinterpret_cast<float2*>(stage + (16 * ii + g + 8) * STAGE_PITCH + 8 * j + 2 * t) = make_float2(d[2], d[3]);
                    }
            });
            __syncwarp();
            // each lane: eight adjacent columns (8·(lane % 4)) of rows lane / 4 + 8·pass
#pragma unroll 1
            for (int pass = 0; pass < STAGE_ROWS / 8; pass++) {
                const int r = 8 * pass + (lane >> 2), m = m0 + warp_m * C::WTM + STAGE_ROWS * blk + r;
                if (m < M && n < N) store_row8_staged<OUT_BF16>(Y, m, n, stage + r * STAGE_PITCH + col, N, e);
            }
            __syncwarp();   // the next block's writes wait for these reads
        }
        return;
    }

    // Epilogue straight from the accumulator fragments: (g, 2t..2t+1) and (g+8, 2t..2t+1) of each mma tile.
#pragma unroll
    for (int i = 0; i < C::MI; i++)
#pragma unroll
        for (int j = 0; j < C::NI; j++) {
            int m = m0 + warp_m * C::WTM + i * 16 + g;
            int n = n0 + warp_n * C::WTN + j * 8 + 2 * t;
            store_pair<OUT_BF16>(Y, m, n, acc[i][j][0], acc[i][j][1], M, N, e);
            store_pair<OUT_BF16>(Y, m + 8, n, acc[i][j][2], acc[i][j][3], M, N, e);
        }
}

}  // namespace tile
}  // namespace ecar
