#!/usr/bin/env python3
"""Review aid for kernels/attention.cu on machines without a GPU: replays the kernel's per-lane index arithmetic
(ldmatrix addresses, mma fragments, masking, online softmax, output stores) for one CTA at a time with numpy, using
the PTX ISA's definitions of ldmatrix and mma.m16n8k16 (written here independently of the kernel), and compares the
result with plain softmax attention. It checks the fragment layouts and the tile logic, not the compiled code.

    python3 tools/emulate_attention.py        # a few shapes, including ragged, RoPE-less, block-causal

Keep the index formulas below in step with attention.cu when either changes.
"""
import numpy as np

BM, BN, THREADS = 64, 64, 128
LANES = np.arange(32)


def bf16(x):
    """Round float32 to bfloat16 (nearest even), returned as float32."""
    x = np.asarray(x, dtype=np.float32)
    b = x.view(np.uint32).astype(np.uint64)
    b = ((b + 0x7FFF + ((b >> 16) & 1)) >> 16) << 16
    return b.astype(np.uint32).view(np.float32)


# ---------------------------------------------------------------- PTX semantics (from the ISA, not from the kernel)

def ldmatrix_x4(smem, addr, trans=False):
    """addr[l] = element address of row l % 8 of matrix l // 8. Returns regs[i][lane] = (lo, hi)."""
    regs = np.zeros((4, 32, 2), dtype=np.float32)
    for i in range(4):
        mat = np.stack([smem[addr[8 * i + r]: addr[8 * i + r] + 8] for r in range(8)])  # [row][col]
        if trans:
            mat = mat.T
        for l in range(32):
            regs[i, l] = mat[l // 4, 2 * (l % 4): 2 * (l % 4) + 2]
    return regs


def mma_m16n8k16(d, a, b0, b1):
    """d[lane][4] += A·B with A from a[4][lane][2] (row), B from b0, b1 [lane][2] (col); PTX fragment layouts."""
    A = np.zeros((16, 16), np.float32)
    B = np.zeros((16, 8), np.float32)
    for l in range(32):
        g, t = l // 4, l % 4
        A[g, 2 * t: 2 * t + 2] = a[0][l]
        A[g + 8, 2 * t: 2 * t + 2] = a[1][l]
        A[g, 2 * t + 8: 2 * t + 10] = a[2][l]
        A[g + 8, 2 * t + 8: 2 * t + 10] = a[3][l]
        B[2 * t: 2 * t + 2, g] = b0[l]
        B[2 * t + 8: 2 * t + 10, g] = b1[l]
    C = A.astype(np.float64) @ B.astype(np.float64)
    for l in range(32):
        g, t = l // 4, l % 4
        d[l, 0] += C[g, 2 * t]
        d[l, 1] += C[g, 2 * t + 1]
        d[l, 2] += C[g + 8, 2 * t]
        d[l, 3] += C[g + 8, 2 * t + 1]


def shfl_xor_max(v, m):
    return np.maximum(v, v[LANES ^ m])


def shfl_xor_sum(v, m):
    return v + v[LANES ^ m]


# ---------------------------------------------------------------- the kernel, one CTA (transcribed index math)

def key_limit(pos, stage_ends, lk):
    if stage_ends is None:
        return lk
    lim = lk
    for e in reversed(stage_ends):
        if pos < e:
            lim = e
    return min(lim, lk)


def attention_cta(q, k, v, out, D, lq, lk, q0, scale_log2, stage_ends=None, q_pos0=0):
    """q [lq, D], k/v [lk, D] (bf16 values) of one (batch, head); writes out rows of this CTA."""
    DP = (D + 15) // 16 * 16
    LD = DP + 8
    KSTEPS, NT_D, NT_K = DP // 16, DP // 8, BN // 8
    smem = np.zeros(5 * 64 * LD, np.float32)
    sQ, sK, sV = 0, BM * LD, BM * LD + 2 * BN * LD

    def load_tile(tile, src, row0, rows):
        for r in range(64):
            for ch in range(D // 8):
                valid = row0 + r < rows
                smem[tile + r * LD + ch * 8: tile + r * LD + ch * 8 + 8] = src[row0 + r, ch * 8: ch * 8 + 8] if valid else 0

    q_last = min(q0 + BM, lq) - 1
    n_tiles = (key_limit(q_pos0 + q_last, stage_ends, lk) + BN - 1) // BN
    load_tile(sQ, q, q0, lq)
    load_tile(sK, k, 0, lk)
    load_tile(sV, v, 0, lk)

    for warp in range(4):
        qf = []
        for ks in range(KSTEPS):
            addr = [sQ + (warp * 16 + (l & 15)) * LD + ks * 16 + (l >> 4) * 8 for l in range(32)]
            qf.append(ldmatrix_x4(smem, addr))
        row_a = q0 + warp * 16 + (LANES >> 2)
        row_b = row_a + 8
        lim_a = np.array([key_limit(q_pos0 + min(r, q_last), stage_ends, lk) for r in row_a])
        lim_b = np.array([key_limit(q_pos0 + min(r, q_last), stage_ends, lk) for r in row_b])
        m_a = np.full(32, -np.inf, np.float32)
        m_b = np.full(32, -np.inf, np.float32)
        l_a = np.zeros(32, np.float32)
        l_b = np.zeros(32, np.float32)
        acc = np.zeros((NT_D, 32, 4), np.float32)
        for t in range(n_tiles):
            buf = t & 1
            # tile t sits in buffer t & 1 (the kernel's prologue or its prefetch during iteration t - 1 put it there);
            # reloaded here because this emulation runs the warps one after the other
            load_tile(sK + buf * BN * LD, k, t * BN, lk)
            load_tile(sV + buf * BN * LD, v, t * BN, lk)
            cK, cV = sK + buf * BN * LD, sV + buf * BN * LD
            s = np.zeros((NT_K, 32, 4), np.float32)
            for ks in range(KSTEPS):
                for np_ in range(NT_K // 2):
                    addr = [cK + (np_ * 16 + (l & 7) + ((l >> 4) << 3)) * LD + ks * 16 + ((l >> 3) & 1) * 8 for l in range(32)]
                    b = ldmatrix_x4(smem, addr)
                    a = [qf[ks][i] for i in range(4)]
                    mma_m16n8k16(s[2 * np_], a, b[0], b[1])
                    mma_m16n8k16(s[2 * np_ + 1], a, b[2], b[3])
            kbase = t * BN
            for n in range(NT_K):
                key = kbase + n * 8 + (LANES & 3) * 2
                s[n][:, 0][key >= lim_a] = -np.inf
                s[n][:, 1][key + 1 >= lim_a] = -np.inf
                s[n][:, 2][key >= lim_b] = -np.inf
                s[n][:, 3][key + 1 >= lim_b] = -np.inf
            mx_a, mx_b = m_a.copy(), m_b.copy()
            for n in range(NT_K):
                mx_a = np.maximum(mx_a, np.maximum(s[n][:, 0], s[n][:, 1]))
                mx_b = np.maximum(mx_b, np.maximum(s[n][:, 2], s[n][:, 3]))
            mx_a = shfl_xor_max(shfl_xor_max(mx_a, 1), 2)
            mx_b = shfl_xor_max(shfl_xor_max(mx_b, 1), 2)
            base_a = np.where(mx_a == -np.inf, 0, mx_a * scale_log2)
            base_b = np.where(mx_b == -np.inf, 0, mx_b * scale_log2)
            with np.errstate(invalid="ignore"):
                corr_a = np.exp2(m_a * scale_log2 - base_a)
                corr_b = np.exp2(m_b * scale_log2 - base_b)
            m_a, m_b = mx_a, mx_b
            l_a *= corr_a
            l_b *= corr_b
            acc[:, :, 0] *= corr_a
            acc[:, :, 1] *= corr_a
            acc[:, :, 2] *= corr_b
            acc[:, :, 3] *= corr_b
            for n in range(NT_K):
                s[n][:, 0:2] = np.exp2(s[n][:, 0:2] * scale_log2 - base_a[:, None])
                s[n][:, 2:4] = np.exp2(s[n][:, 2:4] * scale_log2 - base_b[:, None])
                l_a += s[n][:, 0] + s[n][:, 1]
                l_b += s[n][:, 2] + s[n][:, 3]
            for kk in range(BN // 16):
                pa = [bf16(s[2 * kk][:, 0:2]), bf16(s[2 * kk][:, 2:4]), bf16(s[2 * kk + 1][:, 0:2]), bf16(s[2 * kk + 1][:, 2:4])]
                for np_ in range(NT_D // 2):
                    addr = [cV + (kk * 16 + (l & 7) + ((l >> 3) & 1) * 8) * LD + np_ * 16 + (l >> 4) * 8 for l in range(32)]
                    b = ldmatrix_x4(smem, addr, trans=True)
                    mma_m16n8k16(acc[2 * np_], pa, b[0], b[1])
                    mma_m16n8k16(acc[2 * np_ + 1], pa, b[2], b[3])
        l_a = shfl_xor_sum(shfl_xor_sum(l_a, 1), 2)
        l_b = shfl_xor_sum(shfl_xor_sum(l_b, 1), 2)
        for n in range(NT_D):
            if n * 8 >= D:
                break
            for l in range(32):
                col = n * 8 + (l & 3) * 2
                if row_a[l] < lq:
                    out[row_a[l], col: col + 2] = acc[n, l, 0:2] / l_a[l]
                if row_b[l] < lq:
                    out[row_b[l], col: col + 2] = acc[n, l, 2:4] / l_b[l]


def reference(q, k, v, D, stage_ends=None):
    s = (q.astype(np.float64) @ k.T.astype(np.float64)) / np.sqrt(D)
    if stage_ends is not None:
        for i in range(q.shape[0]):
            s[i, key_limit(i, stage_ends, k.shape[0]):] = -np.inf
    s -= s.max(axis=1, keepdims=True)
    p = np.exp(s)
    return (p / p.sum(axis=1, keepdims=True)) @ v


def run(D, lq, lk, stage_ends=None, seed=0):
    rng = np.random.default_rng(seed)
    q, k, v = (bf16(rng.standard_normal((n, D)).astype(np.float32)) for n in (lq, lk, lk))
    out = np.full((lq, D), np.nan, np.float32)
    scale_log2 = np.float32(1 / np.sqrt(D) / np.log(2))
    for q0 in range(0, lq, BM):
        attention_cta(q, k, v, out, D, lq, lk, q0, scale_log2, stage_ends)
    ref = reference(q, k, v, D, stage_ends)
    assert np.isfinite(out).all(), "unwritten or non-finite output"
    rel = np.linalg.norm(out - ref) / np.linalg.norm(ref)
    print(f"D {D:3d}  lq {lq:3d}  lk {lk:3d}  stages {stage_ends}  relative L2 {rel:.2e}")
    assert rel < 2e-2, rel


if __name__ == "__main__":
    run(64, 1, 1)
    run(72, 5, 5)
    run(64, 85, 85)
    run(72, 70, 130)
    run(128, 85, 200)
    run(64, 130, 5)
    run(72, 85, 85, stage_ends=[1, 5, 21, 85])
    print("fragment layouts and tile logic agree with softmax attention")
