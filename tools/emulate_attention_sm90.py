#!/usr/bin/env python3
"""Review aid for kernels/attention_sm90.cu on machines without a GPU: replays the kernel's index arithmetic and its
pipeline protocol with numpy and compares the result with softmax(q·kᵀ/√d)·v on random bf16 data.

As tools/emulate_gemm_sm90.py, whose documented semantics it reuses (128-byte swizzle, shared memory, K-major wgmma
operands through descriptors, the accumulator fragment layout, mbarrier phases), two halves kept apart:
  * PTX/driver semantics written from the documentation, not from the kernel, added here: a 4D TMA box (dims {d,
    heads, tokens, batch}, out-of-bounds rows zero); an MN-major operand read through a descriptor (CUTLASS's canonical
    ((T,8,m),(8,k)):((1,T,LBO),(8T,SBO)) with T = 8 bf16, the 128-byte swizzle on the final address); wgmma's A operand
    from registers (the fragment of a 64 × 16 slice); __shfl_xor_sync within a warp.
  * The kernel, transcribed: shared-memory map, the producer's copies and ring phases, the consumers' descriptors, the
    masking, the online softmax on fragments, P packed as the A fragment, the releases, the epilogue's stores.
Roles run as coroutines under a random interleaving with copies landing late, so an early release or a wrong phase shows
as a wrong element or a stall. Checks the index math and the protocol, not the hardware (AttentionSm90GpuTest on a GPU).

    python3 tools/emulate_attention_sm90.py      # exits 0 and prints "all checks passed" when everything matches

Keep the transcribed part in step with attention_sm90.cu when either changes.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from emulate_gemm_sm90 import (Mbarrier, Smem, accumulator_coords, bf16, catch_mutants, desc_fields,  # noqa: E402
                               interleave, report_failure, smem_desc, swizzle128, wgmma_operand)


# ================================================================ semantics from the documentation

def tma_tile_4d(t4, c0, c1, c2, c3, box):
    """cp.async.bulk.tensor.4d ...tile of a tensor with dims {D, heads, tokens, batch} (t4 indexed [batch, tokens,
    heads, D]): the box {box0, 1, box2, 1} at (c0, c1, c2, c3), stored dimension 0 fastest; elements outside zero."""
    nb, nt, nh, nd = t4.shape
    box0, box2 = box
    r = np.arange(box2)[:, None]
    e = np.arange(box0)[None, :]
    inside = (c2 + r < nt) & (c0 + e < nd) & (c1 < nh) & (c3 < nb)
    vals = np.where(inside, t4[min(c3, nb - 1), np.minimum(c2 + r, nt - 1), min(c1, nh - 1), np.minimum(c0 + e, nd - 1)], 0.0)
    offs = r * (box0 * 2) + e * 2
    return offs, vals.astype(np.float32)


def swizzle32(addr):
    """TMA / wgmma 32-byte swizzle: the 16-byte chunk bit (bit 4) is XORed with bit 7; the pattern repeats every 256
    bytes (CUTLASS's Swizzle<1,4,3>)."""
    addr = np.asarray(addr)
    return addr ^ (((addr >> 7) & 1) << 4)


def tma_store_box(smem, dst, offs, vals, span=128):
    """Where TMA puts a box: dst + offset, swizzled with the map's pattern (the box's inner dimension at most the span)."""
    if span == 128:
        assert dst % 1024 == 0, "the 128-byte swizzle pattern needs a 1024-byte aligned destination"
        smem.write(swizzle128(dst + offs), vals)
    else:
        assert span == 32 and dst % 256 == 0, "the 32-byte swizzle pattern needs a 256-byte aligned destination"
        smem.write(swizzle32(dst + offs), vals)


def wgmma_operand_32(smem, desc, rows):
    """A K-major bf16 operand [rows × 16] through a descriptor in 32-byte swizzle mode (layout type 3): CUTLASS's
    ((8, m), (T, 2)) : ((2T, SBO), (1, T)), a row of 16 k is 32 contiguous bytes, 8 rows form an atom, atoms SBO apart."""
    f = desc_fields(desc)
    assert f["mode"] == 3 and f["base_offset"] == 0
    i = np.arange(rows)[:, None]
    j = np.arange(16)[None, :]
    return smem.read(swizzle32(f["start"] + (i // 8) * f["sbo"] + (i % 8) * 32 + j * 2))


def wgmma_operand_mn_32(smem, desc, n):
    """An MN-major bf16 operand [n × 16] (n ≤ 16) in 32-byte swizzle mode: ((T, 2, m), (8, k)) : ((1, T, LBO), (2T, SBO)),
    a row of 16 consecutive N indices for one k, rows consecutive k, 8-row groups SBO apart."""
    f = desc_fields(desc)
    assert f["mode"] == 3 and f["base_offset"] == 0 and n <= 16
    j = np.arange(n)[:, None]
    k = np.arange(16)[None, :]
    return smem.read(swizzle32(f["start"] + j * 2 + (k // 8) * f["sbo"] + (k % 8) * 32))


def wgmma_operand_mn(smem, desc, n):
    """An MN-major bf16 operand [n × 16] (element (j, k)) through a descriptor in 128-byte swizzle mode: N index j at
    (j // 64)·LBO + (j % 64)·2 bytes, K index k at (k // 8)·SBO + (k % 8)·128 bytes from the start address; the swizzle
    applies to the final address."""
    f = desc_fields(desc)
    assert f["mode"] == 1 and f["base_offset"] == 0
    j = np.arange(n)[:, None]
    k = np.arange(16)[None, :]
    logical = f["start"] + (j // 64) * f["lbo"] + (j % 64) * 2 + (k // 8) * f["sbo"] + (k % 8) * 128
    return smem.read(swizzle128(logical))


def a_from_registers(regs):
    """wgmma's A operand [64 × 16] from registers: thread t (warp w = t // 32, g = (t % 32) // 4, q = t % 4) holds four
    bf16 pairs: [0] (row 16w + g, k 2q, 2q+1), [1] (row + 8, same k), [2] (row, k 2q+8, 2q+9), [3] (row + 8, k 2q+8..).
    regs: [128 threads, 4 registers, 2 halves (low = lower k)]."""
    a = np.full((64, 16), np.nan)
    for t in range(128):
        w, g, q = t // 32, (t % 32) // 4, t % 4
        for reg, (dr, dk) in enumerate(((0, 0), (8, 0), (0, 8), (8, 8))):
            a[16 * w + g + dr, 2 * q + dk: 2 * q + dk + 2] = regs[t, reg]
    assert not np.isnan(a).any()
    return a


def shfl_xor(vals, mask):
    """__shfl_xor_sync over the 128 threads of a warp group, warp by warp: thread t reads thread t ^ mask."""
    t = np.arange(128)
    return vals[t ^ mask]


# ================================================================ the kernel, transcribed (attention_sm90.cu)

BM, BN, STAGES, CONSUMERS, QBUFS, SLAB_ROW = 128, 128, 2, 2, 2, 128
TAIL_ROW = 32             # bytes in a 32-byte-swizzled tail row (head size 72: dimensions 64..71, then zeros)
TAIL_SBO = 256            # smem_desc_32b's stride byte offset (8 rows of 32 bytes)
RELEASE_AFTER_PV = True   # False: a consumer releases the stage before its P·V wgmma has read V (must fail)
MN_SBO = 1024             # smem_desc_mn's stride byte offset (8 rows of 128 bytes)
P_ORDER = (0, 1, 2, 3)    # which S element pairs make a[0..3] (a permutation other than this must fail)
MASK_PAST_LK = True
RELEASE_Q_AFTER_ITEM = True   # False: a consumer frees its Q buffer before its last Q·Kᵀ has read it (must fail)
# The overlapped schedule (kernel template OVERLAP, kernel argument overlap): run() sets OVERLAP per call.
OVERLAP = False
WAIT_S_BEFORE_SOFTMAX = True   # False: the softmax reads S(t + 1) before wgmma.wait_group 1 retired it (must fail)
PACK_AFTER_PV = True           # False: P(t + 1) packed into the registers P·V(t) still reads (must fail)


def smem_desc_mn(addr, lbo):
    return ((addr & 0x3FFFF) >> 4) | (((lbo & 0x3FFFF) >> 4) << 16) | ((MN_SBO >> 4) << 32) | (1 << 62)


def smem_desc_32b(addr):
    return ((addr & 0x3FFFF) >> 4) | (1 << 16) | ((TAIL_SBO >> 4) << 32) | (3 << 62)


def layout(d):
    slabs, tail = d // 64, int(d % 64 != 0)
    q_slab, kv_slab = BM * SLAB_ROW, BN * SLAB_ROW
    q_bytes, tile_bytes = slabs * q_slab + tail * BM * TAIL_ROW, slabs * kv_slab + tail * BN * TAIL_ROW
    stage_bytes = 2 * tile_bytes
    barriers = QBUFS * q_bytes + STAGES * stage_bytes
    return dict(slabs=slabs, tail=tail, q_slab=q_slab, kv_slab=kv_slab, q_bytes=q_bytes, tile_bytes=tile_bytes, stage_bytes=stage_bytes,
                barriers=barriers, bytes=1024 + barriers + 64)


def cta(qx, kx, vx, out, written, d, lq, lk, block, grid, scale_log2, rng, raw_offset):
    """One persistent CTA: items block, block + grid, ... of qtiles·heads·batch (query tile fastest, then head)."""
    L = layout(d)
    smem = Smem(raw_offset + L["bytes"])
    base = (raw_offset + 1023) & ~1023
    qfull = [Mbarrier(1) for _ in range(QBUFS)]
    qempty = [Mbarrier(4 * CONSUMERS) for _ in range(QBUFS)]
    full = [Mbarrier(1) for _ in range(STAGES)]
    empty = [Mbarrier(4 * CONSUMERS) for _ in range(STAGES)]
    tma_queue = []
    batch, heads = qx.shape[0], qx.shape[2]
    qtiles = (lq + BM - 1) // BM
    tiles = (lk + BN - 1) // BN
    items = [(w % qtiles, (w // qtiles) % heads, w // (qtiles * heads)) for w in range(block, qtiles * heads * batch, grid)]

    def qslab(qb, i):
        return base + qb * L["q_bytes"] + i * L["q_slab"]

    def kslab(s, i):
        return base + QBUFS * L["q_bytes"] + s * L["stage_bytes"] + i * L["kv_slab"]

    def vslab(s, i):
        return kslab(s, i) + L["tile_bytes"]

    def producer():
        for j, (qtile, h, b) in enumerate(items):
            q0, qb = qtile * BM, j % QBUFS
            while not qempty[qb].try_wait_parity(((j // QBUFS) & 1) ^ 1):
                yield "producer waits qempty[%d]" % qb
            qfull[qb].arrive_expect_tx(L["q_bytes"])
            for i in range(L["slabs"]):
                tma_queue.append((qslab(qb, i),) + tma_tile_4d(qx, 64 * i, h, q0, b, (64, BM)) + (qfull[qb], 128))
            if L["tail"]:
                tma_queue.append((qslab(qb, L["slabs"]),) + tma_tile_4d(qx, 64 * L["slabs"], h, q0, b, (16, BM)) + (qfull[qb], 32))
            for t in range(tiles):
                p = j * tiles + t
                s = p % STAGES
                while not empty[s].try_wait_parity(((p // STAGES) & 1) ^ 1):
                    yield "producer waits empty[%d]" % s
                full[s].arrive_expect_tx(L["stage_bytes"])
                for i in range(L["slabs"]):
                    tma_queue.append((kslab(s, i),) + tma_tile_4d(kx, 64 * i, h, t * BN, b, (64, BN)) + (full[s], 128))
                    tma_queue.append((vslab(s, i),) + tma_tile_4d(vx, 64 * i, h, t * BN, b, (64, BN)) + (full[s], 128))
                if L["tail"]:
                    tma_queue.append((kslab(s, L["slabs"]),) + tma_tile_4d(kx, 64 * L["slabs"], h, t * BN, b, (16, BN)) + (full[s], 32))
                    tma_queue.append((vslab(s, L["slabs"]),) + tma_tile_4d(vx, 64 * L["slabs"], h, t * BN, b, (16, BN)) + (full[s], 32))
                yield "producer issued item %d tile %d" % (j, t)

    S_ROW, S_COL = accumulator_coords(128)          # [thread, i] for S (64 elements a thread)
    main = 64 * L["slabs"]
    O_ROW, O_COL = accumulator_coords(main)         # [thread, i] for O over the slabs (main/2 elements a thread)
    T_ROW, T_COL = accumulator_coords(8)            # [thread, i] for the tail's n8 (4 elements a thread)

    def consumer(c):
        """One consumer warp group. wgmma groups are asynchronous: an issued operation joins the open group and reads its
        operands (shared memory, and P's registers for P·V) and writes its accumulator only when a wait retires the
        group, the latest moment the hardware may; so a release, a register write or a read that comes too early shows."""
        thr = np.arange(128)
        q = thr % 4
        qrows = 64 * c * SLAB_ROW
        qtail = 64 * c * TAIL_ROW
        groups, open_ = [], []

        def commit():
            groups.append(list(open_))
            open_.clear()

        def wait(n):
            while len(groups) > n:
                for op in groups.pop(0):
                    op()

        r_of = (np.arange(64) >> 1) & 1
        for j, (qtile, h, b) in enumerate(items):
            q0, qb = qtile * BM, j % QBUFS
            acc = np.zeros((128, main // 2))
            tacc = np.zeros((128, 4))
            m = np.full((128, 2), -np.inf)
            l = np.zeros((128, 2))
            reg = {"sc": None, "pa": None}             # S's accumulators (then P in float), P's A-fragment pairs
            while not qfull[qb].try_wait_parity((j // QBUFS) & 1):
                yield "consumer %d waits Q of item %d" % (c, j)
            if not RELEASE_Q_AFTER_ITEM:
                for _warp in range(4):
                    qempty[qb].arrive()

            def issue_s(s):
                """S = Q·Kᵀ (wgmma m64n128k16, both operands K-major in shared memory) into sc."""
                def op():
                    sm = np.zeros((64, 128))
                    for kk in range(4 * L["slabs"]):
                        at = (kk % 4) * 32
                        a = wgmma_operand(smem, smem_desc(qslab(qb, kk // 4) + qrows + at), 64).astype(np.float64)
                        bk = wgmma_operand(smem, smem_desc(kslab(s, kk // 4) + at), 128).astype(np.float64)
                        sm = (sm if kk > 0 else 0.0) + a @ bk.T
                    if L["tail"]:
                        a = wgmma_operand_32(smem, smem_desc_32b(qslab(qb, L["slabs"]) + qtail), 64).astype(np.float64)
                        bk = wgmma_operand_32(smem, smem_desc_32b(kslab(s, L["slabs"])), 128).astype(np.float64)
                        sm = sm + a @ bk.T
                    reg["sc"] = sm[S_ROW, S_COL]           # [thread, 64]
                open_.append(op)

            def softmax(t):
                """The online softmax of tile t's S on its registers: returns corr (l is rescaled here, O by rescale)."""
                nonlocal m, l
                sc = reg["sc"]
                if MASK_PAST_LK and (t + 1) * BN > lk:
                    i = np.arange(64)[None, :]
                    key = t * BN + 8 * (i // 4) + 2 * q[:, None] + (i & 1)
                    sc = np.where(key >= lk, -np.inf, sc)
                mx = m.copy()
                for r in range(2):
                    mx[:, r] = np.maximum(mx[:, r], sc[:, r_of == r].max(axis=1))
                    mx[:, r] = np.maximum(mx[:, r], shfl_xor(mx[:, r], 1))
                    mx[:, r] = np.maximum(mx[:, r], shfl_xor(mx[:, r], 2))
                top = np.where(mx == -np.inf, 0.0, mx * scale_log2)
                corr = np.exp2(m * scale_log2 - top)
                m = mx
                l = l * corr
                sc = np.exp2(sc * scale_log2 - top[:, r_of])
                for r in range(2):
                    l[:, r] += sc[:, r_of == r].sum(axis=1)
                reg["sc"] = sc
                return corr

            def rescale(corr):
                acc[:] = acc * corr[:, (np.arange(main // 2) >> 1) & 1]
                tacc[:] = tacc * corr[:, (np.arange(4) >> 1) & 1]

            def pack():
                """P's k16 step kk is S's elements 8kk..8kk+7, rounded to bf16 pairs: the A fragment of P·V."""
                reg["pa"] = bf16(reg["sc"].astype(np.float32)).reshape(128, BN // 16, 4, 2)[:, :, list(P_ORDER), :]

            def issue_pv(s):
                """O += P·V: A from P's registers, V through the MN-major descriptor (read when the group retires)."""
                def op():
                    pairs = reg["pa"]
                    for kk in range(BN // 16):
                        a = a_from_registers(pairs[:, kk])
                        vb = wgmma_operand_mn(smem, smem_desc_mn(vslab(s, 0) + kk * 16 * SLAB_ROW, L["kv_slab"]), main).astype(np.float64)
                        acc[:] = acc + (a @ vb.T)[O_ROW, O_COL]
                        if L["tail"]:
                            vt = wgmma_operand_mn_32(smem, smem_desc_32b(vslab(s, L["slabs"]) + kk * 16 * TAIL_ROW), 8).astype(np.float64)
                            tacc[:] = tacc + (a @ vt.T)[T_ROW, T_COL]
                open_.append(op)

            def release(s):
                for _warp in range(4):
                    empty[s].arrive()

            def wait_full(t):
                p = j * tiles + t
                while not full[p % STAGES].try_wait_parity((p // STAGES) & 1):
                    yield "consumer %d waits full[%d]" % (c, p % STAGES)

            stage = [(j * tiles + t) % STAGES for t in range(tiles)]
            if not OVERLAP:
                for t in range(tiles):
                    yield from wait_full(t)
                    issue_s(stage[t])
                    commit()
                    wait(0)
                    rescale(softmax(t))
                    pack()
                    if not RELEASE_AFTER_PV:
                        release(stage[t])
                        yield "consumer %d released early" % c
                    issue_pv(stage[t])
                    commit()
                    yield "consumer %d issued P·V" % c
                    wait(0)
                    if RELEASE_AFTER_PV:
                        release(stage[t])
                    yield "consumer %d done with item %d tile %d" % (c, j, t)
            else:
                # tile t + 1's S issued before tile t's P·V; its softmax while P·V(t) is in flight (kernel: OVERLAP)
                yield from wait_full(0)
                issue_s(stage[0])
                commit()
                wait(0)
                corr = softmax(0)
                rescale(corr)
                pack()
                for t in range(tiles - 1):
                    yield from wait_full(t + 1)
                    issue_s(stage[t + 1])
                    commit()
                    issue_pv(stage[t])
                    commit()
                    yield "consumer %d issued S(%d) and P·V(%d)" % (c, t + 1, t)
                    if WAIT_S_BEFORE_SOFTMAX:
                        wait(1)
                    corr = softmax(t + 1)
                    if not PACK_AFTER_PV:
                        pack()
                    if not RELEASE_AFTER_PV:
                        release(stage[t])
                    yield "consumer %d softmax of tile %d" % (c, t + 1)
                    wait(0)
                    if RELEASE_AFTER_PV:
                        release(stage[t])
                    rescale(corr)
                    if PACK_AFTER_PV:
                        pack()
                    yield "consumer %d done with item %d tile %d" % (c, j, t)
                issue_pv(stage[tiles - 1])
                commit()
                yield "consumer %d issued the last P·V" % c
                wait(0)
                release(stage[tiles - 1])
            if RELEASE_Q_AFTER_ITEM:                  # every Q·Kᵀ of the item has read Q: its buffer is free
                for _warp in range(4):
                    qempty[qb].arrive()
            for r in range(2):
                l[:, r] += shfl_xor(l[:, r], 1)
                l[:, r] += shfl_xor(l[:, r], 2)
            inv = 1.0 / l
            for i in range(0, main // 2, 2):
                r = (i >> 1) & 1
                row = q0 + 64 * c + 16 * (np.arange(128) // 32) + (np.arange(128) % 32) // 4 + 8 * r
                col = 8 * (i // 4) + 2 * q
                for t_ in np.nonzero(row < lq)[0]:
                    for e in range(2):
                        out[b, row[t_], h, col[t_] + e] = acc[t_, i + e] * inv[t_, r]
                        written[b, row[t_], h, col[t_] + e] += 1
            for r in range(L["tail"] * 2):               # the tail's columns main..main+7 from its n8 accumulators
                row = q0 + 64 * c + 16 * (np.arange(128) // 32) + (np.arange(128) % 32) // 4 + 8 * r
                for t_ in np.nonzero(row < lq)[0]:
                    for e in range(2):
                        out[b, row[t_], h, main + 2 * q[t_] + e] = tacc[t_, 2 * r + e] * inv[t_, r]
                        written[b, row[t_], h, main + 2 * q[t_] + e] += 1

    def tma_engine():
        while True:
            if tma_queue and rng.random() < 0.5:
                dst, offs, vals, bar, span = tma_queue.pop(rng.integers(len(tma_queue)))
                tma_store_box(smem, dst, offs, vals, span)
                bar.complete_tx(vals.size * 2)
            yield "tma"

    return [producer(), consumer(0), consumer(1)], tma_engine()


def run(batch, heads, d, lq, lk, seed, raw_offset=0, quiet=False, grid=None, overlap=False):
    """grid: the CTAs (persistent: each takes every grid-th item); None, one CTA per item. overlap: the kernel's
    OVERLAP schedule (S of the next tile issued before P·V of this one)."""
    global OVERLAP
    OVERLAP = overlap
    rng = np.random.default_rng(seed)
    qx = bf16(rng.standard_normal((batch, lq, heads, d)).astype(np.float32))
    kx = bf16(rng.standard_normal((batch, lk, heads, d)).astype(np.float32))
    vx = bf16(rng.standard_normal((batch, lk, heads, d)).astype(np.float32))
    out = np.full((batch, lq, heads, d), np.nan)
    written = np.zeros(out.shape, dtype=np.int32)
    scale_log2 = np.log2(np.e) / np.sqrt(d)
    items = -(-lq // BM) * heads * batch
    grid = items if grid is None else min(grid, items)
    for block in range(grid):
        roles, tma = cta(qx, kx, vx, out, written, d, lq, lk, block, grid, scale_log2, rng, raw_offset)
        interleave(roles, [tma], rng, "CTA %d of %d" % (block, grid))
    s = np.einsum("bqhd,bkhd->bhqk", qx.astype(np.float64), kx.astype(np.float64)) / np.sqrt(d)
    p = np.exp(s - s.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    expected = np.einsum("bhqk,bkhd->bqhd", p, vx.astype(np.float64))
    assert np.all(written == 1), "elements written %s times" % sorted(set(written.ravel().tolist()))
    err = np.max(np.abs(out - expected))
    # P is rounded to bf16 (relative 2^-9) before P·V: outputs of order 1 move by a few 1e-3; a misplaced element, a
    # wrong key or a stale tile moves them by O(0.1..1)
    assert err < 1.5e-2, "max abs error %g" % err
    if not quiet:
        print("attention d %3d, B %d, H %d, lq %3d, lk %3d, %2d CTAs for %2d items%s: matches softmax(q k^T / sqrt d) v within %.1e, every "
              "output written once" % (d, batch, heads, lq, lk, grid, items, ", overlapped" if overlap else "", err))


def check_layouts():
    # a V tile written by a 4D TMA box reads back through the MN-major descriptor as its transpose, k16 step by step,
    # both 64-dimension slabs (LBO) for d = 128
    rng = np.random.default_rng(1)
    v = bf16(rng.standard_normal((1, BN, 1, 128)).astype(np.float32))
    smem = Smem(1 << 17)
    for i in range(2):
        offs, vals = tma_tile_4d(v, 64 * i, 0, 0, 0, (64, BN))
        tma_store_box(smem, 4096 + i * BN * SLAB_ROW, offs, vals)
    for kk in range(BN // 16):
        got = wgmma_operand_mn(smem, smem_desc_mn(4096 + kk * 16 * SLAB_ROW, BN * SLAB_ROW), 128)
        assert np.array_equal(got, v[0, 16 * kk: 16 * kk + 16, 0, :].T), kk
    # S's elements 8kk..8kk+7 of each thread, paired, are the A fragment of keys 16kk..16kk+15
    rows, cols = accumulator_coords(128)
    s = np.arange(64 * 128, dtype=np.float64).reshape(64, 128)
    frag = s[rows, cols].reshape(128, 8, 4, 2)
    for kk in range(8):
        assert np.array_equal(a_from_registers(frag[:, kk]), s[:, 16 * kk: 16 * kk + 16]), kk
    # a head of 72's tail: TMA's 16-wide box at dimension 64 (72..79 zero) reads back through the 32-byte descriptors,
    # K-major as the fifth k16 step of Q·Kᵀ and MN-major as the n8 of P·V
    t4 = bf16(rng.standard_normal((1, BN, 1, 72)).astype(np.float32))
    smem = Smem(1 << 16)
    offs, vals = tma_tile_4d(t4, 64, 0, 0, 0, (16, BN))
    tma_store_box(smem, 8192, offs, vals, 32)
    padded = np.concatenate([t4[0, :, 0, 64:], np.zeros((BN, 8), np.float32)], axis=1)
    assert np.array_equal(wgmma_operand_32(smem, smem_desc_32b(8192), 128), padded)
    for kk in range(BN // 16):
        got = wgmma_operand_mn_32(smem, smem_desc_32b(8192 + kk * 16 * TAIL_ROW), 8)
        assert np.array_equal(got, t4[0, 16 * kk: 16 * kk + 16, 0, 64:].T), kk
    for d in (64, 72, 128):
        L = layout(d)
        assert L["bytes"] <= 227 * 1024 and L["q_slab"] % 1024 == 0 and L["kv_slab"] % 1024 == 0
    assert layout(64)["bytes"] == 99392 and layout(72)["bytes"] == 123968 and layout(128)["bytes"] == 197696
    print("layouts: V tiles read MN-major give Vᵀ for every k16 step and both slabs; S's fragments are P's A fragments; "
          "a 72-dimension head's 32-byte-swizzled tail reads back K-major and MN-major")


def main():
    check_layouts()
    run(1, 1, 64, 128, 128, seed=2)            # one Q tile, one K/V tile
    run(1, 2, 64, 200, 300, seed=3)            # ragged lq and lk: two Q tiles, three K/V tiles (the ring wraps)
    run(2, 1, 64, 16, 5, seed=4, raw_offset=48)  # a short cross-attention: lk = 5 masks most keys; unaligned base
    run(1, 1, 128, 130, 260, seed=5)           # d = 128: two slabs of Q, K and V (LBO in use)
    run(2, 2, 72, 140, 200, seed=6)            # d = 72 (DiT-XL/2): a 128-byte slab and a 32-byte-swizzled tail
    run(2, 3, 64, 200, 300, seed=9, grid=2)    # persistent: 12 items on 2 CTAs, 3 K/V tiles each (the ring wraps across items)
    run(1, 3, 72, 130, 140, seed=10, grid=1)   # one CTA takes all 6 items: both Q buffers reused three times
    run(2, 1, 128, 256, 130, seed=11, grid=3, raw_offset=48)   # d = 128, 4 items on 3 CTAs (one takes two)
    # the overlapped schedule (S(t + 1) before P·V(t)) on the same problems
    run(1, 2, 64, 200, 300, seed=3, overlap=True)
    run(2, 1, 64, 16, 5, seed=4, raw_offset=48, overlap=True)   # one K/V tile: no overlap inside an item, the last P·V only
    run(1, 1, 128, 130, 260, seed=5, overlap=True)
    run(2, 2, 72, 140, 200, seed=6, overlap=True)
    run(2, 3, 64, 200, 300, seed=9, grid=2, overlap=True)
    run(1, 3, 72, 130, 140, seed=10, grid=1, overlap=True)
    catch_mutants(globals(), [("the softmax reading S(t + 1) before its wgmma group retired", "WAIT_S_BEFORE_SOFTMAX", False),
                              ("P(t + 1) packed into the registers P·V(t) still reads", "PACK_AFTER_PV", False)],
                  lambda: (run(1, 1, 64, 130, 300, seed=7, quiet=True, overlap=True), run(1, 1, 72, 130, 140, seed=8, quiet=True, overlap=True)))
    # an early release shows only where the producer refills the stage before P·V retires: one CTA, many tiles, 3 seeds
    catch_mutants(globals(), [("an overlapped stage released before P·V has read V", "RELEASE_AFTER_PV", False)],
                  lambda: [run(1, 2, 64, 130, 520, seed=20 + i, quiet=True, grid=1, overlap=True) for i in range(3)])
    mutants = [("a stage released before P·V has read V", "RELEASE_AFTER_PV", False),
               ("an MN-major stride of 512 bytes", "MN_SBO", 512),
               ("P's register pairs in the wrong order", "P_ORDER", (0, 2, 1, 3)),
               ("keys past lk left unmasked", "MASK_PAST_LK", False),
               ("a 72-dimension tail read with a 512-byte stride", "TAIL_SBO", 512)]
    catch_mutants(globals(), mutants, lambda: (run(1, 1, 64, 130, 300, seed=7, quiet=True), run(1, 1, 72, 130, 140, seed=8, quiet=True)))
    # with one K/V tile an item only the Q buffers hold the producer back (with more, the ring does too)
    catch_mutants(globals(), [("a Q buffer freed before the item's Q·Kᵀ has read it", "RELEASE_Q_AFTER_ITEM", False)],
                  lambda: [run(1, 4, 64, 130, 100, seed=12 + i, quiet=True, grid=1) for i in range(3)])
    print("all checks passed")


if __name__ == "__main__":
    report_failure(main)
