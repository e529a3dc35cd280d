#!/usr/bin/env python3
"""Replays the work split of kernels/gemm_skinny.cu in numpy, lane by lane, without a GPU.

What it checks, on ragged shapes, 1 to 3 block rows of 16 rows, and every ksplit the launcher can pick
(GemmKernels.skinnySplit, transcribed below):
  - each active pair's chunks of K are read exactly once over its ksplit warps and their lanes (UNROLL chunks at a time,
    X's rows in batches of X_BATCH), and a pair past N reads nothing;
  - the block adds the ranges' sums in range order, and only the pair's first warp stores;
  - every output (m < M, n < N) is written exactly once, and Y = X · Wᵀ.
Mutants (each must fail): ranges of floor(chunks / ksplit) chunks (the tail of K dropped); the pair taken as
warp % ksplit; the first warp storing its own range only; the store without its n < N guard; a block row storing
at rows 0.. instead of its row0.. .

The norm entries (gemm_skinny_norm_*) too: the block's prologue normalises its rows of the f32 input into shared
memory, warp w rows w, w + WARPS, … (norm_row.cuh's row, replayed by emulate_norm_rows.row_in_registers, rounded to
bf16), each with the modulation row of its matrix row / ratio; the main loop reads row m of the block from there.
Checked: every shared row written exactly once before the barrier, and Y = bf16(norm_rows(x)) · Wᵀ, the product of
what norm_rows would have written. Mutants: the modulation row taken from the block's row instead of the matrix's;
warps stepping one row instead of WARPS (rows written twice); the main loop reading shared row row0 + m.
"""
import os
import re
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from emulate_gemm_sm90 import catch_mutants  # noqa: E402
from emulate_norm_rows import row_in_registers  # noqa: E402

SRC = Path(__file__).resolve().parent.parent / "kernels" / "gemm_skinny.cu"


def constant(name):
    m = re.search(r"\b%s = (\d+)" % name, SRC.read_text())
    if not m:
        raise SystemExit("%s: %s is not defined" % (SRC, name))
    return int(m.group(1))


MAX_M, WARPS, UNROLL, X_BATCH = (constant(n) for n in ("MAX_M", "WARPS", "UNROLL", "X_BATCH"))
WARPS_PER_SM = 16   # GemmKernels.SKINNY_WARPS_PER_SM

# switches the mutants flip
RANGE_ROUNDS_UP = True
PAIR_OF_WARP_DIVIDES = True
FIRST_WARP_ADDS_RANGES = True
STORE_GUARDS_N = True
STORE_AT_ROW0 = True
MOD_ROW_OF_MATRIX_ROW = True
PROLOGUE_STEPS_WARPS = True
SHARED_ROWS_OF_BLOCK = True


def bf16(a):
    """float32 rounded to bf16 (to nearest, ties to even) and back, as __floats2bfloat162_rn does."""
    bits = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    bits = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
    return bits.astype(np.uint32).view(np.float32)


def norm_prologue(nx, row0, rows, K, ratio, weight, shift, scale, layer):
    """The norm entries' prologue for one block: its rows of X in shared memory, bf16 [rows, K]."""
    shared = np.full((rows, K), np.nan, dtype=np.float32)
    written = np.zeros(rows, dtype=int)
    for warp in range(WARPS):
        m = warp
        while m < rows:
            r = row0 + m
            mo = r // ratio if MOD_ROW_OF_MATRIX_ROW else m // ratio
            shared[m] = bf16(row_in_registers(nx[r], weight, None if shift is None else shift[mo], None if scale is None else scale[mo], layer, 1e-6))
            written[m] += 1
            m += WARPS if PROLOGUE_STEPS_WARPS else 1
    if written.min() != 1 or written.max() != 1:
        raise AssertionError("the prologue wrote shared rows %s times" % sorted(set(written.tolist())))
    return shared


def skinny_split(n, k, sms, row_blocks=1):
    """GemmKernels.skinnySplit."""
    warps, wanted, ksplit = (n + 1) // 2 * row_blocks, WARPS_PER_SM * sms, 1
    while ksplit < WARPS and warps * ksplit < wanted and k // 8 >= 32 * 2 * ksplit:
        ksplit *= 2
    return ksplit


def run(M, N, K, ksplit, seed=0, norm=None):
    """norm: None (the plain entries), or (ratio, modulated, layer) for the norm entries."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((M, K)).astype(np.float32)
    W = rng.standard_normal((N, K)).astype(np.float32)
    if norm is not None:
        ratio, modulated, layer = norm
        nx = (rng.standard_normal((M, K)) * 2 + 0.5).astype(np.float32)
        weight = None if modulated else rng.standard_normal(K).astype(np.float32)
        shift = rng.standard_normal((M // ratio, K)).astype(np.float32) if modulated else None
        scale = rng.standard_normal((M // ratio, K)).astype(np.float32) if modulated else None
        X = np.stack([bf16(row_in_registers(nx[r], weight, None if shift is None else shift[r // ratio],
                                            None if scale is None else scale[r // ratio], layer, 1e-6)) for r in range(M)])
    chunks = K // 8
    Y = np.full((M, N), np.nan)
    written = np.zeros((M, N), dtype=int)
    reads = {}                                       # (block row, pair, chunk) -> times read
    grid = -(-((N + 1) // 2) // (WARPS // ksplit))
    row_blocks = -(-M // MAX_M)
    for block, by in [(b, y) for y in range(row_blocks) for b in range(grid)]:
        row0 = by * MAX_M
        rows = min(MAX_M, M - row0)
        partial = np.zeros((WARPS, MAX_M, 2))
        stored_by = []
        if norm is None:
            xs_of = lambda m: X[row0 + m]   # noqa: E731
        else:
            shared = norm_prologue(nx, row0, rows, K, ratio, weight, shift, scale, layer)
            def xs_of(m, shared=shared, rows=rows, row0=row0):
                at = m if SHARED_ROWS_OF_BLOCK else row0 + m
                if at >= rows:
                    raise AssertionError("a read of shared row %d of the block's %d" % (at, rows))
                return shared[at]
        v = {}
        for warp in range(WARPS):
            rng_ = warp % ksplit
            pair = block * (WARPS // ksplit) + (warp // ksplit if PAIR_OF_WARP_DIVIDES else warp % ksplit)
            n = 2 * pair
            per = -(-chunks // ksplit) if RANGE_ROUNDS_UP else chunks // ksplit
            c_begin = rng_ * per
            c_end = min(chunks, c_begin + per) if n < N else c_begin
            cols = [min(n, N - 1), n + 1 if n + 1 < N else min(n, N - 1)]
            acc = np.zeros((MAX_M, 2))
            for lane in range(32):
                c0 = c_begin + lane
                while c0 < c_end:
                    for u in range(UNROLL):
                        c = c0 + 32 * u
                        if c >= c_end:
                            break
                        reads[(by, n, c)] = reads.get((by, n, c), 0) + 1
                        for m0 in range(0, MAX_M, X_BATCH):
                            if m0 >= rows:
                                break
                            for i in range(X_BATCH):
                                m = m0 + i
                                if m >= rows:
                                    break
                                xs = xs_of(m)[8 * c: 8 * c + 8].astype(np.float64)
                                acc[m, 0] += xs @ W[cols[0], 8 * c: 8 * c + 8]
                                acc[m, 1] += xs @ W[cols[1], 8 * c: 8 * c + 8]
                    c0 += 32 * UNROLL
            v[warp] = acc   # after the warp's shuffle reduction, lane m holds row m's pair
            if ksplit > 1:
                partial[warp, :rows] = acc[:rows]
        for warp in range(WARPS):
            rng_ = warp % ksplit
            pair = block * (WARPS // ksplit) + (warp // ksplit if PAIR_OF_WARP_DIVIDES else warp % ksplit)
            n = 2 * pair
            if ksplit > 1 and rng_ > 0:
                continue
            total = v[warp][:rows].copy()
            if ksplit > 1 and FIRST_WARP_ADDS_RANGES:
                for r in range(1, ksplit):
                    total += partial[warp + r, :rows]
            if n < N or not STORE_GUARDS_N:
                for lane in range(rows):
                    m = (row0 if STORE_AT_ROW0 else 0) + lane
                    for j in range(2):
                        if n + j < N or (not STORE_GUARDS_N and j == 0):
                            if n + j >= N:
                                raise AssertionError("a store past N: column %d of %d" % (n + j, N))
                            Y[m, n + j] = total[lane, j]
                            written[m, n + j] += 1
            stored_by.append(warp)
    if written.min() != 1 or written.max() != 1:
        raise AssertionError("outputs written %s times" % sorted(set(written.ravel().tolist())))
    for by in range(row_blocks):
        for n in range(0, N, 2):
            for c in range(chunks):
                if reads.get((by, n, c), 0) != 1:
                    raise AssertionError("block row %d, pair %d chunk %d read %d times" % (by, n // 2, c, reads.get((by, n, c), 0)))
    if any(n >= N for _, n, _ in reads):
        raise AssertionError("a pair past N read W")
    ref = X.astype(np.float64) @ W.astype(np.float64).T
    err = np.abs(Y - ref).max() / (np.abs(ref).max() + 1e-30)
    if not err < 1e-9:
        raise AssertionError("max relative error %g" % err)
    return grid


# ARPG-L's fc2 and an ECAR stage's qkv at a few columns (the split does not depend on N), ragged N, K and M
SHAPES = [(6, 22, 2816), (2, 20, 1024), (16, 33, 264), (7, 29, 520), (1, 1, 8), (3, 10, 2048), (5, 6, 1032),
          (32, 14, 2736), (47, 9, 520), (17, 3, 8)]   # 2 and 3 block rows: ECAR-L's stage-3 fc2 (32 rows), ragged ones


def check_all(quiet=False):
    for M, N, K in SHAPES:
        for ksplit in (1, 2, 4):
            if ksplit > 1 and K // 8 < 32 * ksplit:
                continue   # skinnySplit never picks a range under one chunk a lane
            grid = run(M, N, K, ksplit, seed=M * 7 + N)
            if not quiet:
                print("skinny %2d x %4d x %4d, ksplit %d (%d x %d blocks of %d warps): every output written once, every chunk read once, matches X @ W^T"
                      % (M, N, K, ksplit, grid, -(-M // MAX_M), WARPS))
    check_norm(quiet)


# the norm entries: ECAR's guided first stages (2 and 8 rows, adaLN per sample: ratio = tokens), ARPG's 6 rows (a
# weight), a LayerNorm, and two block rows with a ratio that is not the block's (the modulation row of the matrix row)
NORM_SHAPES = [(2, 6, 1024, 1, (1, True, False)), (8, 10, 264, 2, (4, True, False)), (6, 7, 2048, 4, (1, False, False)),
               (5, 4, 96, 1, (5, False, True)), (24, 5, 128, 1, (3, True, False))]


def check_norm(quiet=False):
    for M, N, K, ksplit, norm in NORM_SHAPES:
        grid = run(M, N, K, ksplit, seed=M * 5 + K, norm=norm)
        if not quiet:
            ratio, modulated, layer = norm
            print("skinny norm %2d x %4d x %4d, ksplit %d, %s %s, ratio %d (%d x %d blocks): shared rows written once, matches bf16(norm_rows(x)) @ W^T"
                  % (M, N, K, ksplit, "LayerNorm" if layer else "RMSNorm", "adaLN" if modulated else "weight", ratio, grid, -(-M // MAX_M)))


def main():
    assert skinny_split(1024, 2816, 132) == 4 and skinny_split(3072, 1024, 132) == 2 and skinny_split(5460, 1024, 132) == 1
    assert skinny_split(1024, 2736, 132, 2) == 4
    check_all()
    mutants = [("ranges of floor(chunks / ksplit) chunks", "RANGE_ROUNDS_UP", False),
               ("the pair taken as warp % ksplit", "PAIR_OF_WARP_DIVIDES", False),
               ("the first warp storing its own range only", "FIRST_WARP_ADDS_RANGES", False),
               ("the store without its n < N guard", "STORE_GUARDS_N", False),
               ("a block row storing at rows 0.. instead of its row0..", "STORE_AT_ROW0", False),
               ("the prologue's modulation row from the block's row, not the matrix's", "MOD_ROW_OF_MATRIX_ROW", False),
               ("the prologue's warps stepping one row, not WARPS", "PROLOGUE_STEPS_WARPS", False),
               ("the main loop reading shared row row0 + m", "SHARED_ROWS_OF_BLOCK", False)]
    catch_mutants(globals(), mutants, lambda: check_all(quiet=True))
    print("all checks passed")


if __name__ == "__main__":
    sys.exit(main())
