// bf16 GEMM for Hopper (sm_90a): Y[M, N] = X[M, K] · W[N, K]ᵀ (+ bias) → activation → post, fp32 accumulation,
// output fp32 or bf16. The same function as gemm.cu (same epilogue code, kernels/gemm_tile.cuh's Epilogue and
// store_pair); CPU twin: src/main/java/ecar/backend/CpuGemm.java through CpuBackend.linear.
//
// How: TMA (cp.async.bulk.tensor) copies 128-byte-swizzled tiles of X and W into a ring of shared-memory stages,
// each guarded by two mbarriers (full: the copy landed; empty: its consumer is done with it); wgmma.mma_async
// (m64n128k16, both operands from shared memory through matrix descriptors) accumulates in registers; a persistent
// grid walks the output tiles. Warp-specialised, "ping-pong": warp group 0 is the producer (one thread issues every
// TMA copy), warp groups 1 and 2 are consumers that take alternate tiles of their CTA, so one consumer's epilogue
// overlaps the other's main loop. The ring is consumed in tile order: a consumer starts a tile's main loop when the
// other has passed every wait of the previous tile (turn barriers), which keeps the mbarrier parity waits sound.
//
// Split K: with few output tiles (batch-1 sampling: M = 2·tokens of an early stage) a grid of tiles leaves most SMs
// idle, so the K loop may be cut into `splits` ranges of kPer k-tiles each: work unit u is tile u / splits, range
// u % splits. With splits > 1 a unit stores its raw fp32 partial sums in ws[range][M][N] (no epilogue) and
// gemm_splitk_reduce_* adds the ranges in order and applies the epilogue: deterministic, and the same epilogue code.
//
// Programmatic launch (ECAR_PDL=on): the CTA may start while the kernel before it still runs; thread 0 then prefetches
// into L2 the W k-tiles of the CTA's first unit (cp.async.bulk.prefetch.tensor: W does not depend on that kernel, and
// a prefetch changes no value anyway) before every thread waits for it (griddepcontrol.wait).
//
// Clusters (gemm_sm90c, ECAR_GEMM_CLUSTER=on): two CTAs on vertically adjacent tiles of the same columns; each loads its
// X tile and one half of the W tile, multicast into both CTAs' stage, so each W tile leaves L2 once for two output
// tiles (a quarter less operand traffic from L2 per FLOP). Both CTAs' consumers release every stage in both CTAs.
//
// Entry points: gemm_sm90_bf16_{f32,bf16} (128 × 128 tiles), gemm_sm90w_bf16_{f32,bf16} (the wide 128 × 256 tile,
// cooperative; its W tensor map has boxes of 256 rows) and gemm_sm90c_bf16_{f32,bf16} (clusters of two, ping-pong; W's
// boxes of 64 rows; an even grid), the same parameters:
//   (TensorMap tmX, TensorMap tmW, void* Y, const float* bias, const float* res, const float* gate, const bf16* mul,
//    int M, int N, int K, int act, int post, int gateRatio, int gateLd, float* ws, int splits, int kPer, int epi, int coop,
//    const float* rope_cos, const float* rope_sin, int rope_tokens, int rope_head, int rope_cols,
//    const float* rope_rows, int rope_table_rows)
//   tmX: 2D tensor map of X, dims {K, M}, row stride 2K bytes, box {64, 128}, bf16, SWIZZLE_128B, OOB fill zero;
//   tmW: the same for W with dims {K, N} (box {64, 256} for the wide tile). Both passed by value (__grid_constant__,
//   128 bytes, 64-byte aligned).
//   Launch: block 384 threads (3 warp groups), grid min(units, SMs) with units = ceil(M/128)·ceil(N/BN)·splits,
//   dynamic shared memory SMEM_BYTES = 218368 (1 KiB alignment slack, a 192 KiB ring: 6 stages × 32 KiB, or 4 × 48 KiB
//   for the wide tile, 256 bytes of barriers, 8 consumer warps × 2560 bytes of epilogue staging; the launcher raises
//   CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES). One CTA per SM.
//   Tile 128 × 128 × 64 (BM × BN × BK), each ping-pong consumer holding a 128 × 128 fp32 accumulator (2 × 64
//   registers); or 128 × 256 × 64, each consumer 64 × 256 (128 registers).
//   Registers: 168 at entry (__launch_bounds__(384, 1)); setmaxnreg gives the producer 40 and the consumers 232.
// Limits (checked on the Java side, ecar.cuda.ops.GemmKernels): a device of compute capability 9.0 (the SASS is
//   sm_90a; every other architecture's copy of this kernel traps); K % 8 == 0 (a TMA row stride is a multiple of
//   16 bytes), K ≥ 8; X and W 16-byte aligned (TMA global address); Y, res, mul 16-byte aligned as in gemm.cu;
//   M, N ≥ 1 and otherwise arbitrary, K need not be a multiple of 64: TMA fills the part of a box outside the matrix
//   with zeros and the epilogue's stores are guarded; M, N < 2^31; act, post, gateRatio as in gemm.cu; Y may be res.
//   splits ≥ 1, kPer ≥ 1, splits·kPer ≥ ceil(K/64) > (splits − 1)·kPer (no empty range; the last may run past K,
//   where TMA reads zeros); ws: splits·M·N floats when splits > 1 (else unused, may be null). epi: 0 stores the
//   epilogue two outputs at a time (store_pair), 1 eight at a time (store_row8_staged: 16-byte accesses, GATE_PAIRS
//   four hidden units as two words) where row8_ok (N % 8 == 0 and the operands 16-byte aligned; for GATE_PAIRS N % 4
//   == 0 and Y 8-byte aligned), else two at a time; the same values. coop: 0 ping-pong (the consumers take alternate
//   units, one's epilogue overlapping the other's main loop), 1 cooperative (both consumers take every unit, consumer c
//   the 64 rows 64c.. of its tile: for grids where a CTA gets one tile, which ping-pong leaves to one consumer); the
//   same float operations either way.
//   rope_*: RoPE on projected queries and keys (gemm_tile.cuh's Epilogue: FlowAR's 2D tables or ARPG's by table rows), rope_cos null for none.
//   gemm_splitk_reduce_{f32,bf16}(void* Y, const float* ws, int splits, bias, res, gate, mul, M, N, act, post, gateRatio,
//   gateLd, rope_cos, rope_sin, rope_tokens, rope_head, rope_cols, rope_rows, rope_table_rows): the epilogue, RoPE included, on the summed ranges;
//   block 256, grid (ceil(ceil(N/2)/256), M) with M ≤ 65535; any architecture.
// Falls back to gemm.cu's mma.sync kernels (GemmKernels decides): other GPUs, K % 8 != 0, M or N below 64 (a tile
//   would be mostly padding), or ECAR_GEMM=mma.sync / -Decar.gemm=mma.sync.
// The index arithmetic (swizzle, descriptors, fragment → (row, col), ring positions and phases) is replayed in numpy
// by tools/emulate_gemm_sm90.py; GemmSm90SassTest checks the compiled code holds HGMMA and UTMALDG and no spills.
#include "gemm_tile.cuh"
#include "sm90.cuh"

using namespace ecar;
using namespace ecar::tile;

namespace ecar {
namespace sm90 {

constexpr int BM = 128, BK = 64, CONSUMERS = 2;
constexpr int THREADS = 128 * (1 + CONSUMERS);
constexpr int A_BYTES = BM * BK * 2;
constexpr int BARRIER_BYTES = 256;
// The two tile shapes. Plain: 128 × 128, a ring of 6 stages; the consumers ping-pong (each a whole tile: two m64n128
// accumulators, 128 registers) or cooperate (coop = 1). Wide: 128 × 256, a ring of 4 stages, always cooperative:
// consumer c holds rows 64c.. of the tile as one m64n256 accumulator, the same 128 registers. Per k-tile a wide tile
// reads 48 KiB from L2 for 4.2 MFLOP where two plain tiles read 64 KiB: its operand traffic per FLOP is 3/4 of the
// plain tile's (README: gemm_sm90's main loop ran out of L2 bandwidth near 630 TFLOP/s with 128 × 128 tiles).
constexpr int BN_PLAIN = 128, STAGES_PLAIN = 6, BN_WIDE = 256, STAGES_WIDE = 4;
template <bool WIDE>
struct Tile {
    static constexpr int BN = WIDE ? BN_WIDE : BN_PLAIN, STAGES = WIDE ? STAGES_WIDE : STAGES_PLAIN;
    static constexpr int B_BYTES = BN * BK * 2, STAGE_BYTES = A_BYTES + B_BYTES;
    static_assert(STAGE_BYTES % 1024 == 0, "every tile starts on a 1024-byte swizzle atom");
    static_assert((2 * STAGES + CONSUMERS) * 8 <= BARRIER_BYTES, "barriers fit their area");
};
constexpr int RING_BYTES = STAGES_PLAIN * Tile<false>::STAGE_BYTES;
static_assert(Tile<true>::STAGES * Tile<true>::STAGE_BYTES == RING_BYTES, "both tiles' rings take the same shared memory");
// Epilogue staging: each consumer warp owns 16 rows × EPI_COLS columns of fp32, rows EPI_PITCH floats apart.
constexpr int EPI_COLS = 32, EPI_PITCH = 40, STAGE_FLOATS = 16 * EPI_PITCH;
constexpr int EPI_BYTES = CONSUMERS * 4 * STAGE_FLOATS * 4;
static_assert(128 % EPI_COLS == 0 && EPI_PITCH >= EPI_COLS && EPI_PITCH % 2 == 0, "staging rows hold a column block");
constexpr int SMEM_BYTES = 1024 + RING_BYTES + BARRIER_BYTES + EPI_BYTES;
constexpr int PRODUCER_REGS = 40, CONSUMER_REGS = 232;
static_assert(CONSUMERS == 2, "the turn barriers alternate two consumers");
static_assert(A_BYTES % 1024 == 0, "the W tile starts on a 1024-byte swizzle atom");
static_assert(BK * 2 == 128, "a tile row is one 128-byte swizzle span");
static_assert(PRODUCER_REGS * 128 + CONSUMER_REGS * 128 * CONSUMERS <= 65536, "register file");
static_assert(SMEM_BYTES <= 227 * 1024, "shared memory per block");

#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL)

// ------------------------------------------------------------------ the kernel

// Shared memory, from a 1024-aligned base: stage s holds the X tile [128 rows × 64 k] at s·STAGE_BYTES and the W tile
// [128 rows × 64 k] A_BYTES after it, each row 128 bytes with 16-byte chunk c stored at chunk c ^ (row % 8) (TMA's
// 128-byte swizzle); then the mbarriers full[STAGES], empty[STAGES] and turn[2] (8 bytes each); then the epilogue
// staging of the 8 consumer warps.
// Ring positions: the CTA's j-th unit (unit blockIdx.x + j·gridDim.x, taken by consumer j % 2) uses positions
// j·kPer .. j·kPer + kPer-1; position p is stage p % STAGES in phase (p / STAGES) & 1.
// COOP: cooperative consumers (a compile-time choice: the ping-pong and cooperative main loops keep their accumulators
// in different registers, and one instantiation holding both had ptxas serialize its wgmmas, C7520, or fence them, C7519).
// CLUSTER: clusters of two CTAs (gemm_sm90c) work on vertically adjacent tiles of the same columns, rank r on m-tile
// 2i + r: each loads its X tile and half of the W tile (64 rows, tmW's box), multicast into both CTAs' stage, so W's
// tile is read from L2 once for two tiles. A stage is free again when both CTAs' consumers have released it (each
// arrives on both CTAs' empty barriers); the work units are pairs of tiles, the same sequence in both CTAs.
template <bool OUT_BF16, bool WIDE, bool COOP, bool CLUSTER = false>
__device__ __forceinline__ void gemm(const TensorMap* tmX, const TensorMap* tmW, void* Y, int M, int N, int K,
                                     const Epilogue& e, float* ws, int splits, int kPer, int epi) {
    static_assert(COOP || !WIDE, "a wide tile's consumers share it");
    static_assert(!(CLUSTER && WIDE), "clusters share the plain tile's W");
    constexpr int BN = Tile<WIDE>::BN, STAGES = Tile<WIDE>::STAGES, STAGE_BYTES = Tile<WIDE>::STAGE_BYTES;
    constexpr bool coop = COOP;
    extern __shared__ unsigned char smem_raw[];
    const uint32_t raw = (uint32_t)__cvta_generic_to_shared(smem_raw);
    const uint32_t base = (raw + 1023u) & ~1023u;
    const uint32_t bars = base + STAGES * STAGE_BYTES;
    auto full = [&](int s) { return bars + 8u * s; };
    auto empty = [&](int s) { return bars + 8u * (STAGES + s); };
    auto turn = [&](int c) { return bars + 8u * (2 * STAGES + c); };

    // Work units: (group of CL m-tiles of one column tile) × K range; a CTA's group is its cluster (or itself)
    constexpr int CL = CLUSTER ? 2 : 1;
    const uint32_t rank = CLUSTER ? cluster_ctarank() : 0u;
    const int group = blockIdx.x / CL, groups = gridDim.x / CL;
    const int tilesN = (N + BN - 1) / BN, units = (((M + BM - 1) / BM + CL - 1) / CL) * tilesN * splits;
    const int myUnits = group < units ? (units - 1 - group) / groups + 1 : 0;
    const int wg = threadIdx.x / 128;
    // unit u's rows and columns for this CTA: m-tile CL·(t / tilesN) + rank (past M for the second of an odd count: TMA
    // reads zeros there and the epilogue stores nothing), column tile t % tilesN
    auto tileRow = [&](int t) { return (CL * (t / tilesN) + (int)rank) * BM; };
    // W's rows this CTA loads: the whole tile, or in a cluster its half, multicast to both
    constexpr int W_ROWS = BN / CL;
    constexpr uint32_t W_PART_BYTES = W_ROWS * BK * 2;
    static_assert(W_PART_BYTES % 1024 == 0, "each half of W's tile starts on a swizzle atom");
    // a consumer warp's release of a stage: to this CTA's producer, and in a cluster to the peer's, whose half of W
    // lands in this stage too
    auto release = [&](uint32_t bar) {
        mbar_arrive(bar);
        if (CLUSTER) mbar_arrive_cluster(bar, rank ^ 1u);
    };

    // Launched programmatically, the kernel before this one may still run (pdl_launch_dependents in the entry): W's
    // k-tiles of this CTA's first unit go to L2 meanwhile, then every thread waits for that kernel before reading X or
    // touching Y, res or the workspace. With an ordinary launch the wait passes at once.
    if (threadIdx.x == 0 && myUnits > 0) {
        tma_prefetch_map(tmW);
        const int t = group / splits, k0 = (group % splits) * kPer, n0 = (t % tilesN) * BN + (int)rank * W_ROWS;
        for (int kt = k0; kt < k0 + kPer && kt * BK < K; kt++) tma_prefetch_l2_2d(tmW, kt * BK, n0);
    }
    pdl_wait();

    if (threadIdx.x == 0) {
        for (int s = 0; s < STAGES; s++) {
            mbar_init(full(s), 1);   // the producer's arrive.expect_tx; the copies complete the bytes
            mbar_init(empty(s), (coop ? 8 : 4) * CL);   // one arrival per warp of each consumer that read the stage, in each CTA
        }
        for (int c = 0; c < CONSUMERS; c++) mbar_init(turn(c), 4);   // one arrival per warp of the other consumer
        asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
    }
    if (CLUSTER) cluster_sync();   // the peer signals these barriers only once they exist
    else __syncthreads();

    if (wg == 0) {
        setmaxnreg_dec<PRODUCER_REGS>();
        if (threadIdx.x == 0) {
            tma_prefetch_map(tmX);
            tma_prefetch_map(tmW);
            int p = 0;
            for (int j = 0; j < myUnits; j++) {
                const int u = group + j * groups, t = u / splits, k0 = (u % splits) * kPer;
                const int m0 = tileRow(t), n0 = (t % tilesN) * BN;
                for (int kt = k0; kt < k0 + kPer; kt++, p++) {
                    const int s = p % STAGES;
                    const uint32_t phase = (p / STAGES) & 1;
                    const uint32_t a = base + s * STAGE_BYTES;
                    if constexpr (CLUSTER) {
                        // released by the consumers of both CTAs: the peer's half of W lands here too, and ours there
                        mbar_wait_cluster(empty(s), phase ^ 1);
                        // the whole stage's bytes: X, our half of W and the peer's (which may land before this arrival;
                        // the phase cannot complete while this arrival is pending)
                        mbar_arrive_expect_tx(full(s), STAGE_BYTES);
                        tma_load_2d(a, tmX, full(s), kt * BK, m0);
                        tma_load_2d_multicast(a + A_BYTES + rank * W_PART_BYTES, tmW, full(s), kt * BK, n0 + (int)rank * W_ROWS, 0x3);
                    } else {
                        mbar_wait(empty(s), phase ^ 1);   // the stage's previous use (phase - 1) was released
                        mbar_arrive_expect_tx(full(s), STAGE_BYTES);
                        tma_load_2d(a, tmX, full(s), kt * BK, m0);
                        tma_load_2d(a + A_BYTES, tmW, full(s), kt * BK, n0);
                    }
                }
            }
        }
    } else {
        setmaxnreg_inc<CONSUMER_REGS>();
        const int consumer = wg - 1, t128 = threadIdx.x % 128, warp = t128 / 32, lane = t128 % 32;
        // Ping-pong: acc[0..63] rows 0-63 of the tile, acc[64..127] rows 64-127. Cooperative: acc[0..63] rows
        // 64·consumer.. (the row offset is in the descriptor of X, so both consumers run the same instructions: a
        // wgmma under a condition on the consumer is one ptxas serializes, C7520). Wide: acc[0..127], rows 64·consumer..
        float acc[128];   // scaleD = 0 on a tile's first wgmma overwrites them; zeroed once so none is read unset
#pragma unroll
        for (int i = 0; i < 128; i++) acc[i] = 0.f;
        // ping-pong: consumer c takes units c, c + 2, ...; cooperative: both take every unit, each its 64-row half
        const int first = coop ? 0 : consumer, stride = coop ? 1 : CONSUMERS;
        for (int j = first, round = 0; j < myUnits; j += stride, round++) {
            const int u = group + j * groups, t = u / splits, range = u % splits;
            const int m0 = tileRow(t), n0 = (t % tilesN) * BN;
            // Wait for the turn (this consumer's round-th tile): the other consumer has passed every full-barrier wait
            // of tile j - 1. A parity wait cannot tell phase p from phase p + 2, so the ring's waits must come in
            // position order; without this, consumer 1 would wait on position kPer of a stage whose earlier phase
            // has not even started, and pass (tools/emulate_gemm_sm90.py shows it).
            if (j > 0 && !coop) {
                mbar_wait(turn(consumer), (consumer == 0 ? round - 1 : round) & 1);
                __syncwarp();
            }
            int p = j * kPer;
            for (int kt = 0; kt < kPer; kt++, p++) {
                const int s = p % STAGES;
                mbar_wait(full(s), (p / STAGES) & 1);
                __syncwarp();   // converged again before the .aligned wgmma instructions
                const uint32_t a = base + s * STAGE_BYTES, b = a + A_BYTES;
                wgmma_fence();
#pragma unroll
                for (int kk = 0; kk < BK / 16; kk++) {
                    const uint64_t db = smem_desc(b + kk * 32);
                    const int scale = (kt > 0 || kk > 0) ? 1 : 0;
                    if constexpr (WIDE) {
                        wgmma_m64n256k16(acc, smem_desc(a + consumer * 64 * 128 + kk * 32), db, scale);
                    } else if constexpr (COOP) {
                        wgmma_m64n128k16(acc, smem_desc(a + consumer * 64 * 128 + kk * 32), db, scale);
                    } else {
                        wgmma_m64n128k16(acc, smem_desc(a + kk * 32), db, scale);
                        wgmma_m64n128k16(acc + 64, smem_desc(a + 64 * 128 + kk * 32), db, scale);
                    }
                }
                wgmma_commit();
                fence_regs<128>(acc);
                // The group before this one has finished reading its stage: release it to the producer.
                wgmma_wait<1>();
                if (kt > 0 && lane == 0) release(empty((p - 1) % STAGES));
            }
            // Every full wait of this tile passed: the other consumer's turn (it issues while this one drains).
            if (lane == 0 && !coop) mbar_arrive(turn(1 - consumer));
            wgmma_wait<0>();
            fence_regs<128>(acc);
            if (lane == 0) release(empty((p - 1) % STAGES));

            // Epilogue through the warp's staging tile, 32 columns at a time: the fragments d[4c + r] hold (row
            // g + 8·(r / 2), column 8c + 2q + r % 2) of the warp's 16 rows, g = lane / 4, q = lane % 4; they are
            // written to stage[row][col] (pitch 40 floats: the float2 writes of a half warp hit 32 distinct banks).
            // Pairs (epi 0): each lane reads two adjacent columns of rows lane / 16 + 2i and stores them through
            // store_pair (bias, activation, post step, bounds), a warp covering two row segments per store. Rows of
            // eight (epi 1, where row8_ok): each lane reads eight adjacent columns (two float4) of row lane / 4 + 8i,
            // columns 8·(lane % 4), and stores them through store_row8_staged with 16-byte accesses: a quarter of the
            // loads, stores and index arithmetic per output (the float4 reads of a quarter warp meet 2-way bank
            // conflicts). On the H100 (2026-11-27) rows took DiT-XL/2's batch-64 qkv from 303 to 581 TFLOP/s.
            if (e.post == POST_DISCARD) continue;   // measurement only: the main loops without the epilogue
            const bool rows8 = epi == 1 && splits == 1 && row8_ok(Y, N, e);
            const int g = lane >> 2, q = lane & 3;
            float* stage = reinterpret_cast<float*>(smem_raw + (base - raw) + STAGES * STAGE_BYTES + BARRIER_BYTES)
                           + (consumer * 4 + warp) * STAGE_FLOATS;
            // Blocks of 16 rows × 32 columns: the 64-row halves this consumer's registers hold (two for ping-pong, one
            // cooperative or wide) times the tile's column blocks. A rolled loop: only the staging is one copy per
            // block (stage_block), the stores after it are one copy for all.
            constexpr int COL_BLOCKS = BN / EPI_COLS, BLOCKS = (COOP ? 1 : 2) * COL_BLOCKS;
#pragma unroll 1
            for (int blk = 0; blk < BLOCKS; blk++) {
                const int cb = blk % COL_BLOCKS, h = coop ? consumer : blk / COL_BLOCKS;   // rows 64h.. of the tile
                __syncwarp();
                stage_block<BLOCKS>(blk, [&](int b) {
                    const float* d = acc + 64 * (b / COL_BLOCKS);
#pragma unroll
                    for (int c = 0; c < EPI_COLS / 8; c++) {
                        const int i = 4 * ((b % COL_BLOCKS) * (EPI_COLS / 8) + c);
                        *reinterpret_cast<float2*>(stage + g * EPI_PITCH + c * 8 + 2 * q) = make_float2(d[i], d[i + 1]);
                        *reinterpret_cast<float2*>(stage + (g + 8) * EPI_PITCH + c * 8 + 2 * q) = make_float2(d[i + 2], d[i + 3]);
                    }
                });
                __syncwarp();
                if (rows8) {
                    const int col = 8 * (lane & 3), n = n0 + cb * EPI_COLS + col;
#pragma unroll 1
                    for (int pass = 0; pass < 2; pass++) {
                        const int r = pass * 8 + (lane >> 2), m = m0 + h * 64 + warp * 16 + r;
                        if (m < M && n < N) store_row8_staged<OUT_BF16>(Y, m, n, stage + r * EPI_PITCH + col, N, e);
                    }
                    continue;
                }
                const int col = 2 * (lane & 15), n = n0 + cb * EPI_COLS + col;
#pragma unroll 1
                for (int r = lane >> 4; r < 16; r += 2) {
                    const float2 v = *reinterpret_cast<const float2*>(stage + r * EPI_PITCH + col);
                    const int m = m0 + h * 64 + warp * 16 + r;
                    if (splits == 1) {
                        store_pair<OUT_BF16>(Y, m, n, v.x, v.y, M, N, e);
                    } else if (m < M && n < N) {   // a partial sum: gemm_splitk_reduce applies the epilogue
                        float* w = ws + ((size_t)range * M + m) * N + n;
                        w[0] = v.x;
                        if (n + 1 < N) w[1] = v.y;
                    }
                }
            }
        }
    }
    // a CTA leaves only when its peer can no longer signal its barriers or write its stages
    if (CLUSTER) cluster_sync();
}

#endif  // sm_90a

}  // namespace sm90
}  // namespace ecar

#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define GEMM_SM90_BODY(OUT_BF16, WIDE)                                                                               \
    Epilogue e{bias, res, gate, mul, act, post, gateRatio, gateLd, ECAR_ROPE_ARGS};                                  \
    if (WIDE) sm90::gemm<OUT_BF16, true, true>(&tmX, &tmW, Y, M, N, K, e, ws, splits, kPer, epi);                   \
    else if (coop) sm90::gemm<OUT_BF16, false, true>(&tmX, &tmW, Y, M, N, K, e, ws, splits, kPer, epi);             \
    else sm90::gemm<OUT_BF16, false, false>(&tmX, &tmW, Y, M, N, K, e, ws, splits, kPer, epi);
#define GEMM_SM90_CLUSTER_BODY(OUT_BF16)                                                                             \
    Epilogue e{bias, res, gate, mul, act, post, gateRatio, gateLd, ECAR_ROPE_ARGS};                                  \
    sm90::gemm<OUT_BF16, false, false, true>(&tmX, &tmW, Y, M, N, K, e, ws, splits, kPer, epi);
#else
// Not Hopper's sm_90a: wgmma and setmaxnreg do not exist here. GemmKernels never launches this copy; trap if it is.
#define GEMM_SM90_BODY(OUT_BF16, WIDE) pdl_wait(); __trap();
#define GEMM_SM90_CLUSTER_BODY(OUT_BF16) pdl_wait(); __trap();
#endif
// Clusters of two CTAs for gemm_sm90c (compile-time: a plain launch makes them); sm_80 has none, and traps anyway.
#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 900
#define GEMM_SM90_CLUSTER_DIMS __cluster_dims__(2, 1, 1)
#else
#define GEMM_SM90_CLUSTER_DIMS
#endif

#define GEMM_SM90_ENTRY(NAME, OUT_BF16, WIDE)                                                                        \
    ECAR_KERNEL void __launch_bounds__(sm90::THREADS, 1)                                                             \
        NAME(const __grid_constant__ sm90::TensorMap tmX, const __grid_constant__ sm90::TensorMap tmW, void* Y,      \
             const float* __restrict__ bias, const float* res, const float* __restrict__ gate,                       \
             const __nv_bfloat16* __restrict__ mul, int M, int N, int K, int act, int post, int gateRatio, int gateLd, \
             float* __restrict__ ws, int splits, int kPer, int epi, int coop, ECAR_ROPE_PARAMS) {                    \
        pdl_launch_dependents();   /* pdl_wait: in sm90::gemm, after W's first k-tiles are prefetched */            \
        GEMM_SM90_BODY(OUT_BF16, WIDE)                                                                               \
    }

GEMM_SM90_ENTRY(gemm_sm90_bf16_f32, false, false)
GEMM_SM90_ENTRY(gemm_sm90_bf16_bf16, true, false)
// The wide tile (128 × 256, cooperative; the argument coop is not read): gemm_sm90w_bf16_{f32,bf16}.
GEMM_SM90_ENTRY(gemm_sm90w_bf16_f32, false, true)
GEMM_SM90_ENTRY(gemm_sm90w_bf16_bf16, true, true)

// Clusters of two CTAs sharing W's tile by multicast, ping-pong consumers (the argument coop is not read; tmW's box is
// {64, 64}: each CTA loads half the tile): gemm_sm90c_bf16_{f32,bf16}. The grid must be even.
#define GEMM_SM90_CLUSTER_ENTRY(NAME, OUT_BF16)                                                                      \
    ECAR_KERNEL void __launch_bounds__(sm90::THREADS, 1) GEMM_SM90_CLUSTER_DIMS                                      \
        NAME(const __grid_constant__ sm90::TensorMap tmX, const __grid_constant__ sm90::TensorMap tmW, void* Y,      \
             const float* __restrict__ bias, const float* res, const float* __restrict__ gate,                       \
             const __nv_bfloat16* __restrict__ mul, int M, int N, int K, int act, int post, int gateRatio, int gateLd, \
             float* __restrict__ ws, int splits, int kPer, int epi, int coop, ECAR_ROPE_PARAMS) {                    \
        pdl_launch_dependents();   /* pdl_wait: in sm90::gemm, after W's first k-tiles are prefetched */            \
        GEMM_SM90_CLUSTER_BODY(OUT_BF16)                                                                             \
    }

GEMM_SM90_CLUSTER_ENTRY(gemm_sm90c_bf16_f32, false)
GEMM_SM90_CLUSTER_ENTRY(gemm_sm90c_bf16_bf16, true)

// gemm_splitk_reduce: Y[m, n..n+1] = epilogue(Σ_range ws[range][m][n..n+1]), the ranges added in order (so the result
// does not depend on which CTA finished first). One thread per column pair. launch: block 256, grid (ceil(ceil(N/2)/256), M).
template <bool OUT_BF16>
__device__ __forceinline__ void splitk_reduce(void* Y, const float* ws, int splits, int M, int N, const Epilogue& e) {
    const int m = blockIdx.y, n = 2 * (blockIdx.x * blockDim.x + threadIdx.x);
    if (m >= M || n >= N) return;
    const bool second = n + 1 < N;
    float v0 = 0.f, v1 = 0.f;
    for (int r = 0; r < splits; r++) {
        const float* w = ws + ((size_t)r * M + m) * N + n;
        v0 += w[0];
        if (second) v1 += w[1];
    }
    store_pair<OUT_BF16>(Y, m, n, v0, v1, M, N, e);
}

#define SPLITK_REDUCE_ENTRY(NAME, OUT_BF16)                                                                          \
    ECAR_KERNEL void NAME(void* Y, const float* __restrict__ ws, int splits, const float* __restrict__ bias,         \
                          const float* res, const float* __restrict__ gate, const __nv_bfloat16* __restrict__ mul,   \
                          int M, int N, int act, int post, int gateRatio, int gateLd, ECAR_ROPE_PARAMS) { pdl_enter();            \
        Epilogue e{bias, res, gate, mul, act, post, gateRatio, gateLd, ECAR_ROPE_ARGS};                              \
        splitk_reduce<OUT_BF16>(Y, ws, splits, M, N, e);                                                             \
    }

SPLITK_REDUCE_ENTRY(gemm_splitk_reduce_f32, false)
SPLITK_REDUCE_ENTRY(gemm_splitk_reduce_bf16, true)
