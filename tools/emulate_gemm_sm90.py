#!/usr/bin/env python3
"""Review aid for kernels/gemm_sm90.cu on machines without a GPU: replays the kernel's index arithmetic and its
pipeline protocol with numpy and compares the result with a plain matmul on random bf16 data.

Two halves, kept apart on purpose:
  * PTX/driver semantics, written from the documentation and not from the kernel: TMA's tiled copy with the 128-byte
    swizzle and zero fill outside the tensor; the wgmma shared-memory matrix descriptor (start address, LBO, SBO,
    base offset, swizzle mode) addressing a K-major operand; wgmma .m64nNk16's accumulator fragment layout; mbarrier
    phases (arrive, expect_tx, complete_tx, try_wait.parity); wgmma commit/wait groups.
  * The kernel, transcribed line by line: shared-memory map, ring positions and phases, the producer's TMA issue,
    the consumers' descriptors and releases, the persistent tile walk, the epilogue's staging and stores.
The CTA's three roles (producer, two consumers) run as coroutines under a random interleaving (a cluster's two CTAs,
gemm_sm90c, six roles and two TMA engines together, W's halves multicast into both); TMA copies land and
wgmma groups read shared memory at random later points allowed by the protocol, so a barrier or release that is
too early shows as a wrong element, a deadlock as a stall. Checks the index math and the protocol, not the compiled
code (GemmSm90SassTest) and not the hardware (GemmSm90GpuTest on a GPU).

    python3 tools/emulate_gemm_sm90.py        # exits 0 and prints "all checks passed" when everything matches

Keep the transcribed part in step with gemm_sm90.cu when either changes.
"""
import sys

import numpy as np


def bf16(x):
    """Round float32 to bfloat16 (nearest even), returned as float32."""
    x = np.asarray(x, dtype=np.float32)
    b = x.view(np.uint32).astype(np.uint64)
    b = ((b + 0x7FFF + ((b >> 16) & 1)) >> 16) << 16
    return b.astype(np.uint32).view(np.float32)


# ================================================================ semantics from the documentation

def swizzle128(addr):
    """TMA / wgmma 128-byte swizzle of a shared-memory byte address: the 16-byte chunk index (bits 4-6) is XORed with
    the 128-byte row index modulo 8 (bits 7-9); the pattern repeats every 1024 bytes."""
    addr = np.asarray(addr)
    return addr ^ (((addr >> 7) & 7) << 4)


class Smem:
    """Shared memory as bf16 slots (float32 values), addressed in bytes."""

    def __init__(self, nbytes):
        self.v = np.full(nbytes // 2, np.nan, dtype=np.float32)

    def write(self, addr, vals):
        addr = np.asarray(addr)
        assert np.all(addr % 2 == 0)
        self.v[addr // 2] = vals

    def read(self, addr):
        return self.v[np.asarray(addr) // 2]


def tma_tile_2d(gmat, c0, c1, box_cols, box_rows):
    """cp.async.bulk.tensor.2d ...tile: the box at (column c0, row c1) of a row-major matrix, out-of-bounds elements
    zero (CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE). Returns (byte offsets in the box before swizzling, values)."""
    rows, cols = gmat.shape
    r = np.arange(box_rows)[:, None]
    e = np.arange(box_cols)[None, :]
    gr, gc = c1 + r, c0 + e
    inside = (gr < rows) & (gc < cols)
    vals = np.where(inside, gmat[np.minimum(gr, rows - 1), np.minimum(gc, cols - 1)], 0.0).astype(np.float32)
    offs = r * (box_cols * 2) + e * 2          # the box is stored row after row, inner dimension contiguous
    return offs, vals


def tma_store_box(smem, dst, offs, vals, swizzle_span):
    """Where TMA puts the box in shared memory: dst + offset, swizzled. The 128-byte swizzle needs a 1024-byte aligned
    destination (its pattern is a function of the address) and a box row of at most 128 bytes."""
    assert swizzle_span == 128 and dst % 1024 == 0
    smem.write(swizzle128(dst + offs), vals)


def desc_fields(desc):
    return dict(start=(desc & 0x3FFF) << 4, lbo=((desc >> 16) & 0x3FFF) << 4, sbo=((desc >> 32) & 0x3FFF) << 4,
                base_offset=(desc >> 49) & 7, mode=desc >> 62)


def wgmma_operand(smem, desc, rows):
    """A K-major bf16 operand of `rows` rows × 16 k read through a matrix descriptor, 128-byte swizzle mode (layout
    type 1): the canonical layout ((8, m), (8, 2)) : ((128 B, SBO), (2 B, 16 B)) — 8 rows of 128 bytes form a
    swizzle atom, atoms SBO apart in M/N; along K the 16 elements are contiguous inside the row (LBO is not used while
    the K extent stays inside one 128-byte row); the swizzle applies to the final address."""
    f = desc_fields(desc)
    assert f["mode"] == 1, "128-byte swizzle"
    assert f["base_offset"] == 0
    i = np.arange(rows)[:, None]
    j = np.arange(16)[None, :]
    logical = f["start"] + (i // 8) * f["sbo"] + (i % 8) * 128 + j * 2
    assert np.all((f["start"] % 128) + 32 <= 128), "a k16 slice stays inside its 128-byte row"
    return smem.read(swizzle128(logical))


def accumulator_coords(n):
    """wgmma .m64nNk16 .f32 accumulator: thread t of the warp group holds d[i] at row 16(t/32) + (t%32)/4 + 8((i/2)%2),
    column 8(i/4) + 2(t%4) + i%2 (PTX ISA, "Register fragment ... matrix D")."""
    t = np.arange(128)[:, None]
    i = np.arange(n // 2)[None, :]
    row = 16 * (t // 32) + (t % 32) // 4 + 8 * ((i // 2) % 2)
    col = 8 * (i // 4) + 2 * (t % 4) + i % 2
    return row, col


ROW128, COL128 = accumulator_coords(128)
FRAGMENT = {128: (ROW128, COL128), 256: accumulator_coords(256)}


class Mbarrier:
    """mbarrier: a phase completes when its pending arrivals and transaction bytes both reach zero."""

    def __init__(self, count, early_bytes=False):
        """early_bytes: copies may complete bytes before the phase's arrive.expect_tx (a cluster peer's multicast)."""
        self.count, self.pending, self.tx, self.phase, self.early_bytes = count, count, 0, 0, early_bytes

    def _maybe_complete(self):
        if self.pending == 0 and self.tx == 0:
            self.phase += 1
            self.pending = self.count

    def arrive(self):
        assert self.pending > 0
        self.pending -= 1
        self._maybe_complete()

    def arrive_expect_tx(self, nbytes):
        self.tx += nbytes
        self.arrive()

    def complete_tx(self, nbytes):
        self.tx -= nbytes
        # the peer's multicast (gemm_sm90c) may land before this phase's arrive.expect_tx: tx goes below zero while
        # that arrival is pending, and the phase cannot complete; after it, more bytes than announced is an error
        assert self.tx >= 0 or (self.early_bytes and self.pending > 0), "a copy completed more bytes than its stage announced"
        self._maybe_complete()

    def try_wait_parity(self, parity):
        """True once the phase of this parity has completed: the current (incomplete) phase has the other parity."""
        return (self.phase & 1) != parity


class Wgmma:
    """One warp group's asynchronous wgmma: issued operations join the open group; commit closes it; wait_group(n)
    lets all but the n newest groups finish. An operation reads shared memory at some point before its group
    finishes: here, when a wait retires it (the latest legal moment, where a too-early release would show)."""

    def __init__(self, smem):
        self.smem, self.open, self.groups = smem, [], []

    def mma(self, acc, desc_a, desc_b, scale_d, n=128):
        """.m64nNk16 with N = n (128 or 256): acc is the [thread, register] fragment of a 64 x n accumulator."""
        self.open.append((acc, desc_a, desc_b, scale_d, n))

    def commit(self):
        self.groups.append(self.open)
        self.open = []

    def wait(self, n):
        while len(self.groups) > n:
            for acc, da, db, scale, n in self.groups.pop(0):
                a = wgmma_operand(self.smem, da, 64).astype(np.float64)
                b = wgmma_operand(self.smem, db, n).astype(np.float64)
                d = a @ b.T
                rows, cols = FRAGMENT[n]
                acc[:] = (acc if scale else 0.0) + d[rows, cols]


# ================================================================ the kernel, transcribed (gemm_sm90.cu)

BM, BK, CONSUMERS = 128, 64, 2
# the two tiles: 128 x 128 (ping-pong or cooperative) and the wide 128 x 256 (cooperative), the same ring bytes
BN_PLAIN, STAGES_PLAIN, BN_WIDE, STAGES_WIDE = 128, 6, 256, 4
A_BYTES = BM * BK * 2
BARRIER_BYTES = 256
TURNS = True      # the consumers' turn barriers (False: the kernel as first written, which the replay shows unsound)
RELEASE_LAG = 1   # after wgmma.wait_group 1 a consumer releases the stage of position p - RELEASE_LAG
SBO = 1024        # the descriptors' stride byte offset (8 rows of 128 bytes)
EPI_COLS = 32
EPI_PITCH = 40
STAGE_FLOATS = 16 * EPI_PITCH
EPI_BYTES = CONSUMERS * 4 * STAGE_FLOATS * 4
RING_BYTES = STAGES_PLAIN * (A_BYTES + BN_PLAIN * BK * 2)
SMEM_BYTES = 1024 + RING_BYTES + BARRIER_BYTES + EPI_BYTES


def tile(wide):
    """(BN, STAGES, STAGE_BYTES) of the plain or the wide tile (gemm_sm90.cu's Tile<WIDE>)."""
    bn, stages = (BN_WIDE, STAGES_WIDE) if wide else (BN_PLAIN, STAGES_PLAIN)
    stage_bytes = A_BYTES + bn * BK * 2
    assert stages * stage_bytes == RING_BYTES and stage_bytes % 1024 == 0
    return bn, stages, stage_bytes


def smem_desc(addr):
    return ((addr & 0x3FFFF) >> 4) | (1 << 16) | ((SBO >> 4) << 32) | (1 << 62)


class Epi:
    """The epilogue's parts the replay models: bias [N] or None, an activation (a numpy function) or None,
    GATE_PAIRS (Y [M, N / 2] = act(gate) * value from the interleaved columns 2j, 2j + 1), and a fused qkv's 2D RoPE
    (cos, sin [tokens, head / 2], tokens, head, rotated columns) or None."""

    def __init__(self, bias, act=None, gated=False, rope=None):
        self.bias, self.act, self.gated, self.rope = bias, act, gated, rope


# rope_pair rotates the q and k columns only (ROPE_PARTS = 2 of a qkv's 3; a mutant rotates v too).
ROPE_PARTS = 2


def rope_pair(v0, v1, m, n, e):
    """rope_pair: outputs (m, n), (m, n + 1), n even, rotated by (cos, sin)[m % tokens, (n % head) / 2] where n is a
    q or k column, each product and difference rounded to float32 as the kernel's __fmul_rn/__fsub_rn/__fadd_rn."""
    if e.rope is None:
        return v0, v1
    cos, sin, tokens, head, cols, rows = e.rope
    if n >= (cols // 2 * ROPE_PARTS if rows is None else cols):
        return v0, v1
    r = m % tokens if rows is None else int(rows[m % tokens])   # FlowAR: the token's own row; ARPG: rows[t]
    c, s_ = cos[r, (n % head) // 2], sin[r, (n % head) // 2]
    f = np.float32
    return f(f(f(v0) * c) - f(f(v1) * s_)), f(f(f(v1) * c) + f(f(v0) * s_))


def store_pair(Y, written, m, n, v0, v1, M, N, e):
    """store_pair: bias, activation (the gate only for GATE_PAIRS), then the stores."""
    if m >= M or n >= N:
        return
    second = n + 1 < N
    if e.bias is not None:
        v0 = np.float32(v0 + e.bias[n])
        if second:
            v1 = np.float32(v1 + e.bias[n + 1])
    if e.act is not None:
        v0 = e.act(v0)
    if e.gated:
        written[m, n // 2] += 1
        Y[m, n // 2] = v0 * v1
        return
    if second:
        v1 = e.act(v1) if e.act is not None else v1
        v0, v1 = rope_pair(v0, v1, m, n, e)
    written[m, n] += 1
    Y[m, n] = v0
    if second:
        written[m, n + 1] += 1
        Y[m, n + 1] = v1


# The row-store epilogue (epi 1): lanes of one row read and store ROW8_STRIDE columns apart (8; mutants change it).
ROW8_STRIDE = 8
# store_row8_staged clears the bias once it has applied it with the activation (a mutant adds it twice).
CLEAR_APPLIED_BIAS = True


def row8_ok(N, e):
    """row8_ok (the emulated operands are aligned): GATE_PAIRS wants N % 4 == 0, the others N % 8 == 0."""
    return N % 4 == 0 if e.gated else N % 8 == 0


def store_row8(Y, written, m, n, v, M, N, bias, e):
    """store_row8: eight adjacent outputs, no activation, then the RoPE pairs; the caller checked m < M and n < N, and
    n % 8 == 0 == N % 8."""
    assert n % 8 == 0 and N % 8 == 0 and n + 8 <= N and m < M, "store_row8 at (%d, %d) of %d x %d: not eight whole columns" % (m, n, M, N)
    x = [np.float32(v[j] + (bias[n + j] if bias is not None else 0.0)) for j in range(8)]
    for j in range(0, 8, 2):
        x[j], x[j + 1] = rope_pair(x[j], x[j + 1], m, n + j, e)
    for j in range(8):
        written[m, n + j] += 1
        Y[m, n + j] = x[j]


def store_gate_row8(Y, written, m, n, v, N):
    """store_gate_row8: hidden units n/2 .. n/2 + 3 as two words of two; only the first where n + 8 > N."""
    assert n % 8 == 0 and N % 4 == 0 and n + 4 <= N, "store_gate_row8 at column %d of %d" % (n, N)
    o = n // 2
    assert (m * (N // 2) + o) % 2 == 0, "a word of two hidden units off its 2-unit boundary"
    for j in range(4 if n + 8 <= N else 2):
        written[m, o + j] += 1
        Y[m, o + j] = v[2 * j] * v[2 * j + 1]


def store_row8_staged(Y, written, m, n, s, M, N, e):
    """store_row8_staged: with an activation or GATE_PAIRS, bias and activation in place in the staging row s (a view),
    column by column up to the row's end; then store_row8 or store_gate_row8."""
    bias = e.bias
    if e.act is not None or e.gated:
        for j in range(8):
            if n + j >= N:
                break
            x = s[j]
            if e.bias is not None:
                x = np.float32(x + e.bias[n + j])
            if e.act is not None and not (e.gated and j & 1):
                x = e.act(x)
            s[j] = x
        if CLEAR_APPLIED_BIAS:
            bias = None
    if e.gated:
        store_gate_row8(Y, written, m, n, s, N)
    else:
        store_row8(Y, written, m, n, s, M, N, bias, e)


def check_float4_banks(word_index, most=2):
    """A warp's 16-byte accesses go out as four quarter-warp wavefronts of 8 lanes; count the worst bank's share."""
    word_index = np.asarray(word_index)
    assert np.all(word_index % 4 == 0), "float4 access not 16-byte aligned"
    for quarter in range(4):
        words = word_index[8 * quarter: 8 * quarter + 8]
        banks = np.concatenate([(words + j) % 32 for j in range(4)])
        worst = np.bincount(banks, minlength=32).max()
        assert worst <= most, "a %d-way bank conflict in the row-store reads" % worst


# The epilogue walks its 16 x 32 blocks in one rolled loop, blk = half * COL_BLOCKS + column block: the fragments it
# stages and the rows it stores both take the half as blk / COL_BLOCKS (a mutant stores at half blk % halves).
HALF_OF_BLOCK_DIVIDES = True
# Cooperative consumers (coop 1): the stages' empty barriers count both consumers' warps (a mutant counts one).
COOP_EMPTY_ARRIVALS = 8
# A cooperative consumer c reads rows 64c.. of the X tile: its descriptor starts COOP_A_OFFSET·c bytes in (a mutant: 0).
COOP_A_OFFSET = 64 * 128
# Clusters (gemm_sm90c): a stage's empty barrier counts the consumer warps of both CTAs (a mutant counts one CTA's),
# each consumer warp releases its stage in the peer too (a mutant releases only its own), rank r loads W's rows
# 64r.. of the tile into the same rows of both CTAs' stage (a mutant puts both halves at row 0) and multiplies m-tile
# 2i + r (a mutant gives both CTAs m-tile 2i).
CLUSTER_EMPTY_FACTOR = 2
RELEASE_PEER = True
W_PART_AT_RANK = True
TILE_ROW_RANK = True
# the single-CTA protocol kept in a cluster: each stage released to its own producer only, by its own consumers (a
# mutant: the peer's multicast may then overwrite a stage this CTA still reads)
LOCAL_RELEASE_ONLY = False
# The bytes the producer announces on a stage's full barrier, given the tile's STAGE_BYTES (a mutant announces 32 KiB).
ANNOUNCED = None


def cta(block, grid, X, W, Y, written, epi, rng, raw_offset, splits=1, kPer=None, ws=None, rows=False, coop=False, wide=False,
        cluster=None):
    """One CTA: returns its three roles as coroutines sharing shared memory, barriers and the TMA queue. cluster: the
    dict a cluster's two CTAs (gemm_sm90c, CL = 2) register their shared memory and barriers in, by rank; None: CL = 1."""
    BN, STAGES, STAGE_BYTES = tile(wide)
    coop = coop or wide   # a wide tile's consumers always share it
    CL = 1 if cluster is None else 2
    rank = block % CL                                  # %cluster_ctarank
    assert CL == 1 or not (coop or wide), "gemm_sm90c is ping-pong on the plain tile"
    M, K = X.shape
    N = W.shape[0]
    smem = Smem(raw_offset + SMEM_BYTES)
    raw = raw_offset                                   # where the dynamic shared memory happens to start
    base = (raw + 1023) & ~1023
    full = [Mbarrier(1, early_bytes=cluster is not None) for _ in range(STAGES)]
    empty = [Mbarrier((COOP_EMPTY_ARRIVALS if coop else 4) * (CLUSTER_EMPTY_FACTOR if CL > 1 and not LOCAL_RELEASE_ONLY else 1))
             for _ in range(STAGES)]
    turn = [Mbarrier(4) for _ in range(CONSUMERS)]
    tma_queue = []                                     # copies in flight: (shared memory, dst, offs, vals, barrier)
    if cluster is not None:
        cluster[rank] = (smem, full, empty)
    group, groups = block // CL, grid // CL
    tilesN = (N + BN - 1) // BN
    units = (-(-(-(-M // BM)) // CL)) * tilesN * splits
    if kPer is None:
        kPer = (K + BK - 1) // BK
    myUnits = (units - 1 - group) // groups + 1 if group < units else 0
    W_ROWS = BN // CL
    W_PART = W_ROWS * BK * 2
    assert W_PART % 1024 == 0

    def tile_row(t):
        return (CL * (t // tilesN) + (rank if TILE_ROW_RANK else 0)) * BM

    def release(s):
        empty[s].arrive()
        if CL > 1 and RELEASE_PEER and not LOCAL_RELEASE_ONLY:
            cluster[rank ^ 1][2][s].arrive()
    # the epilogue area, in floats from its start at base + STAGES * STAGE_BYTES + BARRIER_BYTES (a multiple of 256
    # bytes: bank 0, so relative word indices give the real banks); it and the barriers fit the allocation
    assert (2 * STAGES + CONSUMERS) * 8 <= BARRIER_BYTES and (base + STAGES * STAGE_BYTES) % 256 == 0
    assert base + STAGES * STAGE_BYTES + BARRIER_BYTES + EPI_BYTES <= raw + SMEM_BYTES
    staging = np.full(EPI_BYTES // 4, np.nan, dtype=np.float32)

    def producer():
        p = 0
        for j in range(myUnits):
            u = group + j * groups
            t, k0 = u // splits, (u % splits) * kPer
            m0, n0 = tile_row(t), (t % tilesN) * BN
            for kt in range(k0, k0 + kPer):
                s = p % STAGES
                phase = (p // STAGES) & 1
                while not empty[s].try_wait_parity(phase ^ 1):
                    yield "producer waits empty[%d]" % s
                a = base + s * STAGE_BYTES
                full[s].arrive_expect_tx(STAGE_BYTES if ANNOUNCED is None else ANNOUNCED)
                offs, vals = tma_tile_2d(X, kt * BK, m0, BK, BM)
                tma_queue.append((smem, a, offs, vals, full[s]))
                if CL == 1:
                    offs, vals = tma_tile_2d(W, kt * BK, n0, BK, BN)   # W's tensor map: boxes of BN rows
                    tma_queue.append((smem, a + A_BYTES, offs, vals, full[s]))
                else:   # this CTA's half of W (boxes of 64 rows), multicast: the same offset and barrier in both CTAs
                    part = rank * W_PART if W_PART_AT_RANK else 0
                    offs, vals = tma_tile_2d(W, kt * BK, n0 + rank * W_ROWS, BK, W_ROWS)
                    for dest in range(CL):
                        peer_smem, peer_full, _ = cluster[dest]
                        tma_queue.append((peer_smem, a + A_BYTES + part, offs, vals, peer_full[s]))
                p += 1
                yield "producer issued"

    def consumer(c):
        gm = Wgmma(smem)
        # ping-pong: acc[h] holds rows 64h.. of the tile; cooperative: acc[0] rows 64c..; wide: acc[0] is 64 x 256
        acc = [np.zeros((128, BN // 2)), np.zeros((128, BN // 2))]      # [h][thread, register]
        # ping-pong: units c, c + 2, ...; cooperative: every unit, consumer c multiplying and storing rows 64c..
        for rnd, j in enumerate(range(0, myUnits) if coop else range(c, myUnits, CONSUMERS)):
            u = group + j * groups
            t, rng_ = u // splits, u % splits
            m0, n0 = tile_row(t), (t % tilesN) * BN
            if j > 0 and TURNS and not coop:
                while not turn[c].try_wait_parity(((rnd - 1) if c == 0 else rnd) & 1):
                    yield "consumer %d waits turn" % c
            p = j * kPer
            for kt in range(kPer):
                s = p % STAGES
                while not full[s].try_wait_parity((p // STAGES) & 1):
                    yield "consumer %d waits full[%d]" % (c, s)
                a = base + s * STAGE_BYTES
                b = a + A_BYTES
                for kk in range(BK // 16):
                    db = smem_desc(b + kk * 32)
                    scale = 1 if (kt > 0 or kk > 0) else 0
                    if coop:
                        gm.mma(acc[0], smem_desc(a + c * COOP_A_OFFSET + kk * 32), db, scale, BN)
                    else:
                        gm.mma(acc[0], smem_desc(a + kk * 32), db, scale)
                        gm.mma(acc[1], smem_desc(a + 64 * 128 + kk * 32), db, scale)
                gm.commit()
                gm.wait(1)
                if kt >= RELEASE_LAG:
                    for _warp in range(4):                 # lane 0 of each warp
                        release((p - RELEASE_LAG) % STAGES)
                p += 1
                yield "consumer %d computed" % c
            if TURNS and not coop:
                for _warp in range(4):
                    turn[1 - c].arrive()
            gm.wait(0)
            for lag in range(RELEASE_LAG, 0, -1):
                if kPer >= lag:
                    for _warp in range(4):
                        release((p - lag) % STAGES)
            epilogue(c, m0, n0, rng_, [(c, acc[0])] if coop else [(0, acc[0]), (1, acc[1])])
            yield "consumer %d stored" % c

    def epilogue(c, m0, n0, rng_, halves):
        """halves: (h, fragment) for each 64-row half of the tile the consumer holds, rows 64h.. in fragment[thread, i]."""
        for warp in range(4):
            lanes = np.arange(32)
            thread = warp * 32 + lanes
            g, q = lanes >> 2, lanes & 3
            st0 = (c * 4 + warp) * STAGE_FLOATS
            col_blocks = BN // EPI_COLS
            for blk in range(len(halves) * col_blocks):   # the kernel's rolled loop over 16 x 32 blocks
                cb = blk % col_blocks
                d = halves[blk // col_blocks][1]           # stage_block's fragments: acc + 64 * (b / COL_BLOCKS)
                h = halves[blk // col_blocks if HALF_OF_BLOCK_DIVIDES else blk % len(halves)][0]   # the rows it stores
                for cc in range(EPI_COLS // 8):
                    i = 4 * (cb * (EPI_COLS // 8) + cc)
                    w0 = st0 + g * EPI_PITCH + cc * 8 + 2 * q
                    w1 = st0 + (g + 8) * EPI_PITCH + cc * 8 + 2 * q
                    check_float2_banks(w0)
                    check_float2_banks(w1)
                    staging[w0], staging[w0 + 1] = d[thread, i], d[thread, i + 1]
                    staging[w1], staging[w1 + 1] = d[thread, i + 2], d[thread, i + 3]
                if rows and splits == 1 and row8_ok(N, epi):   # epi 1 where row8_ok
                    col = ROW8_STRIDE * (lanes & 3)
                    n = n0 + cb * EPI_COLS + col
                    for pas in range(2):
                        r = pas * 8 + (lanes >> 2)
                        for half in (0, 4):
                            check_float4_banks(st0 + r * EPI_PITCH + col + half)
                        for l in lanes:
                            m = m0 + h * 64 + warp * 16 + r[l]
                            idx = st0 + r[l] * EPI_PITCH + col[l]
                            if m < M and n[l] < N:
                                store_row8_staged(Y, written, m, n[l], staging[idx: idx + 8], M, N, epi)
                    continue
                col = 2 * (lanes & 15)
                n = n0 + cb * EPI_COLS + col
                for r0 in range(2):                   # the loop "r = lane >> 4; r < 16; r += 2", lane by lane
                    for r in range(r0, 16, 2):
                        idx = st0 + r * EPI_PITCH + col
                        sel = (lanes >> 4) == r0
                        check_float2_banks(idx)
                        for l in lanes[sel]:
                            v = staging[idx[l]], staging[idx[l] + 1]
                            m = m0 + h * 64 + warp * 16 + r
                            if splits == 1:
                                store_pair(Y, written, m, n[l], v[0], v[1], M, N, epi)
                            elif m < M and n[l] < N:      # a partial sum: gemm_splitk_reduce applies the epilogue
                                ws[rng_, m, n[l]] = v[0]
                                if n[l] + 1 < N:
                                    ws[rng_, m, n[l] + 1] = v[1]

    def tma_engine():
        """Copies land in a random order, some time after they were issued."""
        while True:
            if tma_queue and rng.random() < 0.5:
                mem, dst, offs, vals, bar = tma_queue.pop(rng.integers(len(tma_queue)))
                tma_store_box(mem, dst, offs, vals, 128)
                bar.complete_tx(vals.size * 2)
            yield "tma"

    return [producer(), consumer(0), consumer(1)], tma_engine()


def check_float2_banks(word_index):
    """A warp's float2 accesses go out as two half-warp wavefronts; each must touch 32 distinct 4-byte banks."""
    word_index = np.asarray(word_index)
    assert np.all(word_index % 2 == 0), "float2 access not 8-byte aligned"
    for half in (word_index[:16], word_index[16:]):
        banks = np.concatenate([half % 32, (half + 1) % 32])
        assert len(set(banks.tolist())) == 32, "bank conflict in the epilogue staging"


def interleave(roles, tmas, rng, where):
    """Runs a CTA's roles (or a cluster's: coroutines that yield at every step, "... waits ..." while blocked) in a
    random order, the TMA engines stepping between them, until all have finished; a long run of waits is a deadlock."""
    live = list(roles)
    stalled = 0
    while live:
        co = live[rng.integers(len(live))]
        try:
            what = next(co)
        except StopIteration:
            live.remove(co)
            continue
        for tma in tmas:
            next(tma)
        stalled = stalled + 1 if "waits" in what else 0
        assert stalled < 10000, "deadlock in %s: %s" % (where, what)


def splitk_reduce(Y, written, ws, M, N, e):
    """gemm_splitk_reduce: one thread per column pair (n even), the ranges added in order, then the epilogue."""
    for m in range(M):
        for n in range(0, N, 2):
            v0 = v1 = 0.0
            for r in range(ws.shape[0]):
                v0 = np.float32(v0 + ws[r, m, n])
                if n + 1 < N:
                    v1 = np.float32(v1 + ws[r, m, n + 1])
            store_pair(Y, written, m, n, v0, v1, M, N, e)


def silu(x):
    return np.float32(x / (1.0 + np.exp(-np.float64(x))))


def run(M, N, K, grid, seed, bias=True, raw_offset=0, quiet=False, splits=1, rows=False, act=None, gated=False, coop=False, rope=None, wide=False,
        cluster=False):
    """One GEMM replayed CTA by CTA against float64 X @ W^T (+ bias), then act, or act(gate) * value for GATE_PAIRS, or
    with rope = (tokens, head) a fused qkv (N = 3W) whose q and k columns the 2D RoPE rotates, or with rope = (tokens,
    head, table rows) queries whose every column is rotated by table row rows[t] (ARPG)."""
    rng = np.random.default_rng(seed)
    X = bf16(rng.standard_normal((M, K)).astype(np.float32))
    W = bf16(rng.standard_normal((N, K)).astype(np.float32))
    b = rng.standard_normal(N).astype(np.float32) if bias else None
    assert not gated or N % 2 == 0, "GATE_PAIRS needs whole (gate, value) pairs"
    NY = N // 2 if gated else N
    tables = None
    if rope is not None and len(rope) == 2:
        tokens, head = rope
        assert N % 3 == 0 and (N // 3) % head == 0 and M % tokens == 0, "a fused qkv of whole heads and whole samples"
        angles = rng.uniform(-np.pi, np.pi, (tokens, head // 2))
        tables = (np.cos(angles).astype(np.float32), np.sin(angles).astype(np.float32), tokens, head, 2 * (N // 3), None)
    elif rope is not None:
        tokens, head, table_rows = rope
        assert N % head == 0 and M % tokens == 0, "queries of whole heads and whole samples"
        angles = rng.uniform(-np.pi, np.pi, (table_rows, head // 2))
        row_of_token = rng.integers(0, table_rows, tokens)
        tables = (np.cos(angles).astype(np.float32), np.sin(angles).astype(np.float32), tokens, head, N, row_of_token)
    epi = Epi(b, act, gated, tables)
    Y = np.full((M, NY), np.nan)
    written = np.zeros((M, NY), dtype=np.int32)
    BN, STAGES, _ = tile(wide)
    tiles = -(-M // BM) * -(-N // BN)
    kTiles = -(-K // BK)
    kPer = -(-kTiles // splits)
    assert splits * kPer >= kTiles > (splits - 1) * kPer, "no empty range (GemmKernels.Sm90.splitK makes sure)"
    ws = np.full((splits, M, N), np.nan) if splits > 1 else None
    if not cluster:
        grid = min(grid, tiles * splits)
        for block in range(grid):
            roles, tma = cta(block, grid, X, W, Y, written, epi, rng, raw_offset, splits, kPer, ws, rows, coop, wide)
            interleave(roles, [tma], rng, "CTA %d" % block)
    else:   # gemm_sm90c: pairs of CTAs, each pair's six roles and two TMA engines interleaved together
        pairs = -(-(-(-M // BM)) // 2) * -(-N // BN) * splits
        grid = 2 * min(grid // 2, pairs)
        for c in range(grid // 2):
            shared, roles, engines = {}, [], []
            for r in range(2):
                rl, tma = cta(2 * c + r, grid, X, W, Y, written, epi, rng, raw_offset, splits, kPer, ws, rows, coop, wide, cluster=shared)
                roles += rl
                engines.append(tma)
            interleave(roles, engines, rng, "cluster %d" % c)
    if splits > 1:
        assert not np.isnan(ws).any(), "a range's partial sum was never stored"
        splitk_reduce(Y, written, ws, M, N, epi)
    z = X.astype(np.float64) @ W.astype(np.float64).T + (b if bias else 0.0)
    f = (lambda x: np.vectorize(act)(x).astype(np.float64)) if act is not None else (lambda x: x)
    expected = f(z[:, 0::2]) * z[:, 1::2] if gated else f(z)
    if tables is not None:   # q and k (or the queries) rotated pair by pair in float64
        cos, sin, tokens, head, cols, row_of_token = tables
        t = np.arange(M) % tokens if row_of_token is None else row_of_token[np.arange(M) % tokens]
        for n in range(0, cols, 2):
            c, s_ = cos[t, (n % head) // 2], sin[t, (n % head) // 2]
            x0, x1 = expected[:, n].copy(), expected[:, n + 1].copy()
            expected[:, n], expected[:, n + 1] = x0 * c - x1 * s_, x1 * c + x0 * s_
    assert np.all(written == 1), "elements written %s times" % sorted(set(written.ravel().tolist()))
    err = np.max(np.abs(Y - expected)) / max(1e-30, np.max(np.abs(expected)))
    assert err < 1e-5, "max relative error %g (fp32 staging rounds; a misplaced element is off by O(1))" % err
    if not quiet:
        what = ("act(gate) * value" if gated else "act(X @ W^T)") if act is not None else ("gate * value" if gated else "X @ W^T")
        what += "" if rope is None else " with q and k rotated" if len(rope) == 2 else " with every column rotated by table rows"
        print("gemm %4d x %4d x %4d, %2d CTAs (%d %s tiles, %d k-blocks in %d range(s), %d-stage ring, %s%s stores): matches %s, every element "
              "written once" % (M, N, K, grid, tiles, "128 x %d" % BN, kTiles, splits, STAGES,
                                "clusters of 2 sharing W, " if cluster else "cooperative, " if coop or wide else "",
                                "row" if rows and splits == 1 and row8_ok(N, epi) else "pair", what))


def check_layouts():
    # the swizzle is a permutation of each 1024-byte atom that keeps 16-byte chunks whole
    a = np.arange(0, 4096, 2)
    s = swizzle128(a)
    assert sorted(s.tolist()) == a.tolist() and np.all(s // 1024 == a // 1024) and np.all(s % 16 == a % 16)
    # a TMA box written with the swizzle and read back through descriptors gives the matrix tile, for every k16 slice
    rng = np.random.default_rng(1)
    g = bf16(rng.standard_normal((128, 64)).astype(np.float32))
    smem = Smem(1 << 16)
    offs, vals = tma_tile_2d(g, 0, 0, 64, 128)
    tma_store_box(smem, 8192, offs, vals, 128)
    for kk in range(4):
        for half in range(2):
            got = wgmma_operand(smem, smem_desc(8192 + half * 64 * 128 + kk * 32), 64)
            assert np.array_equal(got, g[64 * half: 64 * half + 64, 16 * kk: 16 * kk + 16]), (kk, half)
        assert np.array_equal(wgmma_operand(smem, smem_desc(8192 + kk * 32), 128), g[:, 16 * kk: 16 * kk + 16])
    # the wide tile's W: one box of 256 rows (32 KiB, 32 swizzle atoms) read as the m64n256k16 B operand
    gw = bf16(rng.standard_normal((256, 64)).astype(np.float32))
    offs, vals = tma_tile_2d(gw, 0, 0, 64, 256)
    tma_store_box(smem, 16384, offs, vals, 128)
    for kk in range(4):
        assert np.array_equal(wgmma_operand(smem, smem_desc(16384 + kk * 32), 256), gw[:, 16 * kk: 16 * kk + 16]), kk
    # every (row, column) of a 64 x 128 (64 x 256) accumulator is held by exactly one (thread, register)
    for n in (128, 256):
        rows, cols = FRAGMENT[n]
        pairs = set(zip(rows.ravel().tolist(), cols.ravel().tolist()))
        assert len(pairs) == 64 * n and max(r for r, _ in pairs) == 63 and max(c for _, c in pairs) == n - 1
    f = desc_fields(smem_desc(0x1A400 + 32))
    assert f == dict(start=0x1A420, lbo=16, sbo=1024, base_offset=0, mode=1), f
    assert SMEM_BYTES == 218368 and SMEM_BYTES <= 227 * 1024 and tile(True)[2] == 48 * 1024
    print("layouts: 128B swizzle is a chunk permutation of each 1024-byte atom; TMA box -> descriptor reads give the "
          "tile for all 4 k16 slices of both m64 halves, the 128-row B and the wide tile's 256-row B; the D fragments cover 64 x 128 "
          "and 64 x 256 once")


def main():
    check_layouts()
    run(128, 128, 64, grid=1, seed=2)                  # one tile, one k-block
    run(200, 300, 136, grid=4, seed=3)                 # ragged M, N, K (K not a multiple of 64), 1-2 tiles per CTA
    run(256, 384, 520, grid=2, seed=4, raw_offset=48)  # 3 tiles per CTA, 9 k-blocks: the ring wraps; unaligned base
    run(130, 129, 8, grid=5, seed=5, bias=False)       # K = 8: one k-block mostly zero fill; odd N
    run(64, 1000, 1152, grid=3, seed=6)                # the adaLN-like shape: one row of tiles, long K
    run(128, 256, 1000, grid=5, seed=8, splits=4)      # split K: 2 tiles × 4 ranges of 4 k-blocks, 5 CTAs (uneven)
    run(130, 129, 520, grid=7, seed=9, splits=3)       # ragged M, N; 9 k-blocks in 3 ranges; partial sums reduced
    run(200, 304, 136, grid=4, seed=10, rows=True)     # row stores: ragged M, N a multiple of 8 but not of 128
    run(256, 384, 520, grid=2, seed=11, rows=True, raw_offset=48)   # row stores, 3 tiles per CTA, unaligned base
    run(130, 132, 72, grid=3, seed=12, rows=True)      # N % 8 != 0: row stores asked for, pairs used
    run(200, 304, 136, grid=4, seed=13, rows=True, act=silu)   # an activation: bias and act in place, then the rows
    run(130, 300, 72, grid=3, seed=14, rows=True, act=silu, gated=True)   # GATE_PAIRS, N % 8 == 4: the last group half
    run(130, 300, 72, grid=3, seed=14, act=silu, gated=True)   # GATE_PAIRS through pairs, the same values
    run(130, 298, 72, grid=3, seed=15, rows=True, act=silu, gated=True)   # N % 4 != 0: pairs used
    run(256, 384, 520, grid=6, seed=16, rows=True, coop=True)   # cooperative: a tile a CTA, the consumers a half each
    run(200, 300, 136, grid=2, seed=17, coop=True)     # cooperative with 3 tiles a CTA, ragged, pair stores
    run(256, 256, 1000, grid=12, seed=19, coop=True, splits=3)   # cooperative with K split: 4 tiles × 3 ranges, a unit a CTA
    run(130, 129, 520, grid=5, seed=20, coop=True, splits=3)     # cooperative, split, ragged, 2-3 units a CTA
    run(256, 192, 136, grid=2, seed=21, rows=True, rope=(64, 16))   # RoPE epilogue through row stores: 4 samples of 64 tokens
    run(256, 192, 136, grid=2, seed=21, rope=(64, 16))              # ... through pair stores
    run(128, 384, 520, grid=5, seed=22, splits=3, rope=(16, 32))    # ... K split: the reduce rotates
    run(130, 256, 136, grid=2, seed=23, rows=True, rope=(13, 64, 257))   # ARPG's queries by table rows: 10 samples of 13 tokens
    # the wide 128 x 256 tile (gemm_sm90w): cooperative, a 4-stage ring of 48 KiB stages, W in boxes of 256 rows
    run(256, 512, 520, grid=2, seed=24, wide=True, rows=True)      # 4 tiles, 2 a CTA, 9 k-blocks: the ring wraps
    run(200, 300, 136, grid=3, seed=25, wide=True, raw_offset=48)  # ragged: the second tile column is 44 of 256 wide
    run(130, 600, 520, grid=5, seed=26, wide=True, splits=3)       # K split: 6 tiles x 3 ranges
    run(256, 768, 136, grid=2, seed=27, wide=True, rows=True, rope=(64, 32))   # the RoPE epilogue on 256-column tiles
    run(130, 300, 72, grid=3, seed=28, wide=True, rows=True, act=silu, gated=True)   # GATE_PAIRS
    # clusters of two CTAs (gemm_sm90c): W's tile in two multicast halves, pairs of m-tiles, both CTAs' consumers
    # releasing every stage
    run(256, 384, 520, grid=2, seed=29, cluster=True, rows=True)   # one cluster: 3 tile pairs, 9 k-blocks: the ring wraps
    run(384, 300, 136, grid=4, seed=30, cluster=True)              # 3 m-tiles: the second of the last pair is all past M
    run(200, 256, 1000, grid=6, seed=31, cluster=True, splits=2)   # K split: 2 pairs × 2 ranges over 3 clusters
    run(256, 512, 264, grid=4, seed=32, cluster=True, rows=True, act=silu, gated=True, raw_offset=48)   # GATE_PAIRS
    # the replay can fail: kernels with one thing wrong must not pass it
    mutants = [("no turn barriers between the consumers", "TURNS", False),
               ("a stage released while its wgmma group may still read it", "RELEASE_LAG", 0),
               ("a descriptor stride of 512 bytes", "SBO", 512)]
    catch_mutants(globals(), mutants, lambda: run(256, 384, 520, grid=2, seed=7, quiet=True))
    catch_mutants(globals(), [("the epilogue storing block blk at half blk % 2 while staging half blk / 4", "HALF_OF_BLOCK_DIVIDES", False)],
                  lambda: run(256, 384, 520, grid=2, seed=7, quiet=True))
    catch_mutants(globals(), [("row stores four columns apart instead of eight", "ROW8_STRIDE", 4)],
                  lambda: run(200, 304, 136, grid=4, seed=10, rows=True, quiet=True))
    catch_mutants(globals(), [("cooperative stages released when one consumer is done", "COOP_EMPTY_ARRIVALS", 4)],
                  lambda: run(200, 300, 520, grid=2, seed=18, coop=True, quiet=True))
    catch_mutants(globals(), [("cooperative split-K stages released when one consumer is done", "COOP_EMPTY_ARRIVALS", 4)],
                  lambda: run(130, 129, 520, grid=5, seed=20, coop=True, splits=3, quiet=True))
    catch_mutants(globals(), [("cooperative consumers both multiplying rows 0-63 of X", "COOP_A_OFFSET", 0)],
                  lambda: run(200, 300, 136, grid=2, seed=17, coop=True, quiet=True))
    catch_mutants(globals(), [("wide consumers both multiplying rows 0-63 of X", "COOP_A_OFFSET", 0),
                              ("a wide stage announcing the 128 x 128 tile's 32 KiB", "ANNOUNCED", 32768)],
                  lambda: run(256, 512, 520, grid=2, seed=24, wide=True, rows=True, quiet=True))
    catch_mutants(globals(), [("RoPE on v's columns too", "ROPE_PARTS", 3)],
                  lambda: run(256, 192, 136, grid=2, seed=21, rows=True, rope=(64, 16), quiet=True))
    catch_mutants(globals(), [("the bias added again after the activation", "CLEAR_APPLIED_BIAS", False)],
                  lambda: run(200, 304, 136, grid=4, seed=13, rows=True, act=silu, quiet=True))
    catch_mutants(globals(), [("cluster stages released when one CTA's consumers are done", "CLUSTER_EMPTY_FACTOR", 1),
                              ("cluster consumers releasing their own stage only", "RELEASE_PEER", False),
                              ("both halves of W multicast to row 0 of the stage", "W_PART_AT_RANK", False),
                              ("both CTAs of a cluster on the same m-tile", "TILE_ROW_RANK", False),
                              ("the one-CTA protocol in a cluster: stages released to their own producer only", "LOCAL_RELEASE_ONLY", True)],
                  lambda: run(256, 384, 520, grid=2, seed=33, cluster=True, quiet=True))
    catch_mutants(globals(), [("GATE_PAIRS row stores four columns apart instead of eight", "ROW8_STRIDE", 4)],
                  lambda: run(130, 300, 72, grid=3, seed=14, rows=True, act=silu, gated=True, quiet=True))
    print("all checks passed")


def catch_mutants(module_globals, mutants, replay):
    """Each mutant (what, name of a module constant, wrong value) must make the replay fail: a replay that passes a
    kernel with one thing wrong would not be checking that thing."""
    for what, name, value in mutants:
        old = module_globals[name]
        module_globals[name] = value
        try:
            replay()
        except AssertionError as e:
            print("mutant caught: %s (%s)" % (what, str(e).split("\n")[0]))
        else:
            raise AssertionError("mutant not caught: " + what)
        finally:
            module_globals[name] = old


def report_failure(main_fn):
    try:
        main_fn()
    except AssertionError as e:
        print("FAILED:", e, file=sys.stderr)
        raise


if __name__ == "__main__":
    report_failure(main)
