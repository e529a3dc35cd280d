// Hopper (sm_90a) building blocks shared by kernels/gemm_sm90.cu and kernels/attention_sm90.cu: mbarriers, TMA tensor
// copies, wgmma matrix descriptors, the m64n128k16 and m64n256k16 shared-memory wgmmas, register reallocation. Every wrapper is one PTX
// instruction; what the instruction does is written above it, and tools/emulate_gemm_sm90.py replays the same
// semantics in numpy. Compiled only for sm_90a (the header's body is empty elsewhere).
#pragma once
#include "common.cuh"

namespace ecar {
namespace sm90 {

// An encoded CUtensorMap (cuTensorMapEncodeTiled's output), opaque to the kernel.
struct alignas(64) TensorMap {
    unsigned long long opaque[16];
};

#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL)

// ------------------------------------------------------------------ mbarrier

__device__ __forceinline__ void mbar_init(uint32_t bar, uint32_t count) {
    asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(bar), "r"(count) : "memory");
}
// The producer's arrival, announcing the bytes the TMA copies will complete on this barrier.
__device__ __forceinline__ void mbar_arrive_expect_tx(uint32_t bar, uint32_t bytes) {
    asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(bar), "r"(bytes) : "memory");
}
__device__ __forceinline__ void mbar_arrive(uint32_t bar) {
    asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" ::"r"(bar) : "memory");
}
// True once the phase of parity `parity` has completed (a fresh barrier is in phase 0, so parity 1 passes at once).
__device__ __forceinline__ bool mbar_try_wait(uint32_t bar, uint32_t parity) {
    uint32_t done;
    asm volatile(
        "{\n .reg .pred p;\n mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\n selp.u32 %0, 1, 0, p;\n}\n"
        : "=r"(done)
        : "r"(bar), "r"(parity)
        : "memory");
    return done != 0;
}
__device__ __forceinline__ void mbar_wait(uint32_t bar, uint32_t parity) {
    while (!mbar_try_wait(bar, parity)) {
    }
}

// ------------------------------------------------------------------ clusters (gemm_sm90c: two CTAs sharing W's tile)

// This CTA's rank in its cluster (0 or 1 for clusters of two).
__device__ __forceinline__ uint32_t cluster_ctarank() {
    uint32_t r;
    asm volatile("mov.u32 %0, %%cluster_ctarank;\n" : "=r"(r));
    return r;
}
// Every thread of every CTA of the cluster arrives, then waits for all: the barriers a peer will signal are initialised
// (at the start), and no peer still signals this CTA's barriers or writes its shared memory (at the end).
__device__ __forceinline__ void cluster_sync() {
    __syncwarp();   // .aligned: the warp converged (its thread 0 may come from the producer's loop)
    asm volatile("barrier.cluster.arrive.release.aligned;\nbarrier.cluster.wait.acquire.aligned;\n" ::: "memory");
}
// An arrival on the mbarrier at the same shared-memory offset in the cluster's CTA `rank` (mapa: this CTA's address to
// the peer's), with release semantics at cluster scope: this thread's reads of its stage are done before the peer's
// producer, which waits on that barrier, overwrites the stage here by multicast.
__device__ __forceinline__ void mbar_arrive_cluster(uint32_t bar, uint32_t rank) {
    asm volatile(
        "{\n .reg .b32 remote;\n mapa.shared::cluster.u32 remote, %0, %1;\n"
        " mbarrier.arrive.release.cluster.shared::cluster.b64 _, [remote];\n}\n"
        ::"r"(bar), "r"(rank)
        : "memory");
}
// mbar_wait with acquire semantics at cluster scope: the arrivals it waits for may come from the peer CTA.
__device__ __forceinline__ void mbar_wait_cluster(uint32_t bar, uint32_t parity) {
    uint32_t done = 0;
    while (!done) {
        asm volatile(
            "{\n .reg .pred p;\n mbarrier.try_wait.parity.acquire.cluster.shared::cta.b64 p, [%1], %2;\n selp.u32 %0, 1, 0, p;\n}\n"
            : "=r"(done)
            : "r"(bar), "r"(parity)
            : "memory");
    }
}

// ------------------------------------------------------------------ TMA

__device__ __forceinline__ void tma_prefetch_map(const TensorMap* map) {
    asm volatile("prefetch.tensormap [%0];\n" ::"l"(reinterpret_cast<uint64_t>(map)) : "memory");
}
// The box at element coordinates (c0 = column, the contiguous dimension; c1 = row) into shared memory at dst,
// completing `bar`'s transaction count. Parts of the box outside the tensor arrive as zeros.
__device__ __forceinline__ void tma_load_2d(uint32_t dst, const TensorMap* map, uint32_t bar, int c0, int c1) {
    asm volatile(
        "cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes [%0], [%1, {%3, %4}], [%2];\n"
        ::"r"(dst), "l"(reinterpret_cast<uint64_t>(map)), "r"(bar), "r"(c0), "r"(c1)
        : "memory");
}

// tma_load_2d into the shared memory of every CTA of the cluster in ctaMask (bit r: rank r), at the same offset dst in
// each, completing the bytes on the barrier at offset `bar` in each: one read of global memory (and of L2) for them all.
__device__ __forceinline__ void tma_load_2d_multicast(uint32_t dst, const TensorMap* map, uint32_t bar, int c0, int c1, uint16_t ctaMask) {
    asm volatile(
        "cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes.multicast::cluster [%0], [%1, {%3, %4}], [%2], %5;\n"
        ::"r"(dst), "l"(reinterpret_cast<uint64_t>(map)), "r"(bar), "r"(c0), "r"(c1), "h"(ctaMask)
        : "memory");
}

// The box at (c0, c1) of a 2D tensor map into L2 only: no shared memory, no barrier (a hint: no value changes).
__device__ __forceinline__ void tma_prefetch_l2_2d(const TensorMap* map, int c0, int c1) {
    asm volatile("cp.async.bulk.prefetch.tensor.2d.L2.global.tile [%0, {%1, %2}];\n"
                 ::"l"(reinterpret_cast<uint64_t>(map)), "r"(c0), "r"(c1)
                 : "memory");
}

// The same for a 4D tensor map (coordinates innermost first): attention_sm90 reads one head's rows of q, k or v
// [batch, tokens, heads·d] as the box {64, 1, rows, 1} of dims {d, heads, tokens, batch}.
__device__ __forceinline__ void tma_load_4d(uint32_t dst, const TensorMap* map, uint32_t bar, int c0, int c1, int c2, int c3) {
    asm volatile(
        "cp.async.bulk.tensor.4d.shared::cluster.global.tile.mbarrier::complete_tx::bytes [%0], [%1, {%3, %4, %5, %6}], [%2];\n"
        ::"r"(dst), "l"(reinterpret_cast<uint64_t>(map)), "r"(bar), "r"(c0), "r"(c1), "r"(c2), "r"(c3)
        : "memory");
}

// ------------------------------------------------------------------ wgmma

// Matrix descriptor of a K-major operand tile in the 128-byte swizzled layout TMA wrote: rows of 128 bytes (64 bf16),
// 8-row groups 1024 bytes apart (SBO), LBO unused for this layout (1 by convention), swizzle mode 1 = 128B.
// `addr` is the shared-memory byte address of the k16 slice: the tile base (1024-aligned) plus 32 bytes per k16 step;
// the hardware applies the XOR swizzle to the final addresses, so the step stays a plain offset.
__device__ __forceinline__ uint64_t smem_desc(uint32_t addr) {
    return (uint64_t)((addr & 0x3FFFF) >> 4) | ((uint64_t)1 << 16) | ((uint64_t)(1024 >> 4) << 32) | ((uint64_t)1 << 62);
}

// Matrix descriptor of an MN-major operand in the 128-byte swizzled layout (CUTLASS's canonical
// ((T,8,m),(8,k)):((1,T,LBO),(8T,SBO)), T = 8 bf16): each 128-byte row holds 64 consecutive N indices for one k, rows
// are consecutive k, 8-row groups SBO = 1024 bytes apart along k, and blocks of 64 N indices `lbo` bytes apart. A V tile
// [keys][64 head dims] written by TMA is exactly that with k = key: the k16 step kk starts kk·2048 bytes in.
__device__ __forceinline__ uint64_t smem_desc_mn(uint32_t addr, uint32_t lbo) {
    return (uint64_t)((addr & 0x3FFFF) >> 4) | ((uint64_t)((lbo & 0x3FFFF) >> 4) << 16) | ((uint64_t)(1024 >> 4) << 32) | ((uint64_t)1 << 62);
}

// Either layout with the 32-byte swizzle (mode 3; TMA's CU_TENSOR_MAP_SWIZZLE_32B, 16-byte chunk bit 4 ^= bit 7): rows of
// 32 bytes (16 bf16), 8-row groups SBO = 256 bytes apart. K-major, a k16 step is one whole row; MN-major, a row holds 16
// consecutive N indices for one k (an n8 operand uses the first 8). LBO is not used at these sizes. attention_sm90
// keeps a head size of 72 as a 64-wide 128-byte slab and this 16-wide tail (dimensions 64..71, then zeros).
__device__ __forceinline__ uint64_t smem_desc_32b(uint32_t addr) {
    return (uint64_t)((addr & 0x3FFFF) >> 4) | ((uint64_t)1 << 16) | ((uint64_t)(256 >> 4) << 32) | ((uint64_t)3 << 62);
}

__device__ __forceinline__ void wgmma_fence() { asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory"); }
__device__ __forceinline__ void wgmma_commit() { asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory"); }
template <int PENDING>
__device__ __forceinline__ void wgmma_wait() { asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(PENDING) : "memory"); }

// Keeps the compiler from moving accumulator reads or writes across the asynchronous wgmma (the "+f" of an asm is
// only a compile-time dependence).
template <int N = 64>
__device__ __forceinline__ void fence_regs(float* d) {
#pragma unroll
    for (int i = 0; i < N; i++) asm volatile("" : "+f"(d[i])::"memory");
}

// The accumulator fragment as inline-asm outputs: ECAR_ACC32(d, i) binds d[i..i+31] to 32 consecutive "+f" operands,
// ECAR_ACC64(d) d[0..63] (a wgmma's D registers, listed in order as the instruction's braces number them).
#define ECAR_ACC8(d, i) "+f"(d[i]), "+f"(d[i + 1]), "+f"(d[i + 2]), "+f"(d[i + 3]), "+f"(d[i + 4]), "+f"(d[i + 5]), "+f"(d[i + 6]), "+f"(d[i + 7])
#define ECAR_ACC32(d, i) ECAR_ACC8(d, i), ECAR_ACC8(d, i + 8), ECAR_ACC8(d, i + 16), ECAR_ACC8(d, i + 24)
#define ECAR_ACC64(d) ECAR_ACC32(d, 0), ECAR_ACC32(d, 32)
#define ECAR_ACC128(d) ECAR_ACC32(d, 0), ECAR_ACC32(d, 32), ECAR_ACC32(d, 64), ECAR_ACC32(d, 96)
// ... and the braces of D in the instruction text: operands %0..%31 or %0..%63.
#define ECAR_D32 "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, " \
                 "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31}"
#define ECAR_D64 "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, " \
                 "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, " \
                 "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, " \
                 "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}"
#define ECAR_D128 "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, " \
                  "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, " \
                  "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, " \
                  "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63, " \
                  "%64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79, " \
                  "%80, %81, %82, %83, %84, %85, %86, %87, %88, %89, %90, %91, %92, %93, %94, %95, " \
                  "%96, %97, %98, %99, %100, %101, %102, %103, %104, %105, %106, %107, %108, %109, %110, %111, " \
                  "%112, %113, %114, %115, %116, %117, %118, %119, %120, %121, %122, %123, %124, %125, %126, %127}"

// D[64 × 128] (+)= A[64 × 16] · B[128 × 16]ᵀ, both K-major in shared memory. scaleD == 0 ignores D's old value.
// D fragment (PTX ISA, wgmma .m64nNk16 accumulator layout): thread t of the warp group holds d[i] at
// row 16·(t/32) + (t%32)/4 + 8·((i/2)%2), column 8·(i/4) + 2·(t%4) + i%2.
__device__ __forceinline__ void wgmma_m64n128k16(float* d, uint64_t descA, uint64_t descB, int scaleD) {
    asm volatile(
        "{\n .reg .pred p;\n setp.ne.b32 p, %66, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 "
        ECAR_D64 ", "
        "%64, %65, p, 1, 1, 0, 0;\n}\n"
        : ECAR_ACC64(d)
        : "l"(descA), "l"(descB), "r"(scaleD));
}

// The same with N = 256 (gemm_sm90's wide tile): D[64 × 256], B's 256 K-major rows in 32 8-row groups SBO apart;
// d[i] at the same row, column 8·(i/4) + 2·(t%4) + i%2 for i < 128.
__device__ __forceinline__ void wgmma_m64n256k16(float* d, uint64_t descA, uint64_t descB, int scaleD) {
    asm volatile(
        "{\n .reg .pred p;\n setp.ne.b32 p, %130, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n256k16.f32.bf16.bf16 "
        ECAR_D128 ", "
        "%128, %129, p, 1, 1, 0, 0;\n}\n"
        : ECAR_ACC128(d)
        : "l"(descA), "l"(descB), "r"(scaleD));
}

// D[64 × 64] += A[64 × 16] · B[64 × 16]ᵀ (accumulating) with A in registers (four bf16x2 per thread, the accumulator layout of a
// 64 × 16 slice: a[0] (row g, k 2t..2t+1), a[1] (row g+8, same k), a[2] (row g, k 2t+8..), a[3] (row g+8, k 2t+8..), rows
// 16·warp + g) and B from shared memory MN-major (imm-trans-b = 1: B's N index is the contiguous one, as in a V tile
// [keys][head dims]). D's fragment is the accumulator layout above; 32 floats a thread.
__device__ __forceinline__ void wgmma_m64n64k16_rs_tb(float* d, const uint32_t* a, uint64_t descB) {
    asm volatile(
        "{\n .reg .pred p;\n setp.ne.b32 p, %37, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 "
        ECAR_D32 ", "
        "{%32, %33, %34, %35}, %36, p, 1, 1, 1;\n}\n"
        : ECAR_ACC32(d, 0)
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(descB), "n"(1));
}

// The n64 form above with N = 128 (two 64-wide MN blocks of B, LBO apart): 64 floats a thread.
__device__ __forceinline__ void wgmma_m64n128k16_rs_tb(float* d, const uint32_t* a, uint64_t descB) {
    asm volatile(
        "{\n .reg .pred p;\n setp.ne.b32 p, %69, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 "
        ECAR_D64 ", "
        "{%64, %65, %66, %67}, %68, p, 1, 1, 1;\n}\n"
        : ECAR_ACC64(d)
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(descB), "n"(1));
}

// D[64 × 8] += A[64 × 16] · B[8 × 16]ᵀ, A from registers and B MN-major in shared memory, as the n64 form above; four
// floats a thread (row g and g + 8, columns 2q and 2q + 1).
__device__ __forceinline__ void wgmma_m64n8k16_rs_tb(float* d, const uint32_t* a, uint64_t descB) {
    asm volatile(
        "{\n .reg .pred p;\n setp.ne.b32 p, %9, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n8k16.f32.bf16.bf16 "
        "{%0, %1, %2, %3}, {%4, %5, %6, %7}, %8, p, 1, 1, 1;\n}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(descB), "n"(1));
}

template <int REGS>
__device__ __forceinline__ void setmaxnreg_dec() { asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;\n" ::"n"(REGS)); }
template <int REGS>
__device__ __forceinline__ void setmaxnreg_inc() { asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;\n" ::"n"(REGS)); }

#endif  // sm_90a

}  // namespace sm90
}  // namespace ecar
