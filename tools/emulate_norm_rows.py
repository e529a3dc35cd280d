#!/usr/bin/env python3
"""Replays kernels/norm_row.cuh's norm_row_in_registers (norm.cu's register path, gemm_skinny's norm prologue) in numpy, lane by lane, without a GPU.

A warp holds one row: lane l the float4s l, l + 32, ... (ROW_VECS of them at most, zeros past the row). The replay
checks, for LayerNorm and RMSNorm, with and without a weight and the adaLN modulation, on rows of 4 to 2048 columns
(one float4 for a few lanes, ragged last float4s, every lane full), that every output is written once and matches
the formula; and which rows take the register path at all (d % 4 == 0, d <= 128 * ROW_VECS).
Mutants (each must fail): the sum of squares over the zero padding too; the mean over the padded width; the output
loop writing past the row's last float4.
"""
import os
import re
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from emulate_gemm_sm90 import catch_mutants  # noqa: E402

SRC = Path(__file__).resolve().parent.parent / "kernels" / "norm_row.cuh"
m = re.search(r"constexpr int ROW_VECS = (\d+);", SRC.read_text())
if not m:
    raise SystemExit("%s: ROW_VECS is not defined" % SRC)
ROW_VECS = int(m.group(1))

SQUARES_STOP_AT_ROW = True
MEAN_OVER_D = True
STORES_STOP_AT_ROW = True


def takes_registers(d):
    """norm_rows' vec test, for aligned operands."""
    return d % 4 == 0 and d <= 128 * ROW_VECS


def row_in_registers(x, weight, shift, scale, layer, eps):
    d = x.size
    vecs = d // 4
    out = np.full(d, np.nan, dtype=np.float32)
    written = np.zeros(d, dtype=int)
    lanes = []
    for lane in range(32):
        v = []
        for j in range(ROW_VECS):
            c = lane + 32 * j
            v.append(x[4 * c: 4 * c + 4].astype(np.float32) if c < vecs else np.zeros(4, np.float32))
        lanes.append(v)
    width = d if MEAN_OVER_D else 128 * ROW_VECS
    mean = np.float32(0)
    if layer:
        mean = np.float32(sum(float(np.sum(vj)) for v in lanes for vj in v) / width)
    ss = 0.0
    for lane, v in enumerate(lanes):
        for j in range(ROW_VECS):
            if SQUARES_STOP_AT_ROW and lane + 32 * j >= vecs:
                break
            ss += float(np.sum((v[j] - mean) ** 2))
    inv = np.float32(1 / np.sqrt(ss / d + eps))
    for lane, v in enumerate(lanes):
        for j in range(ROW_VECS):
            c = lane + 32 * j
            if STORES_STOP_AT_ROW and c >= vecs:
                break
            if 4 * c + 4 > d:
                raise AssertionError("a store past the row: columns %d..%d of %d" % (4 * c, 4 * c + 3, d))
            r = (v[j] - mean) * inv
            if weight is not None:
                r = r * weight[4 * c: 4 * c + 4]
            if scale is not None:
                r = r * (1 + scale[4 * c: 4 * c + 4]) + shift[4 * c: 4 * c + 4]
            out[4 * c: 4 * c + 4] = r
            written[4 * c: 4 * c + 4] += 1
    if written.min() != 1 or written.max() != 1:
        raise AssertionError("row columns written %s times" % sorted(set(written.tolist())))
    return out


def check_all(quiet=False):
    rng = np.random.default_rng(3)
    for d in (4, 100, 128, 1024, 1152, 2048):
        assert takes_registers(d)
        for layer in (True, False):
            for mod in (False, True):
                x = (rng.standard_normal(d) * 2 + 1.5).astype(np.float32)
                w = None if mod else rng.standard_normal(d).astype(np.float32)
                sh = rng.standard_normal(d).astype(np.float32) if mod else None
                sc = rng.standard_normal(d).astype(np.float32) if mod else None
                got = row_in_registers(x, w, sh, sc, layer, 1e-6)
                c = x.astype(np.float64) - (x.mean() if layer else 0)
                ref = c / np.sqrt((c * c).mean() + 1e-6)
                if w is not None:
                    ref = ref * w
                if mod:
                    ref = ref * (1 + sc) + sh
                err = np.abs(got - ref).max() / np.abs(ref).max()
                if not err < 1e-5:
                    raise AssertionError("d %d %s: max relative error %g" % (d, "LayerNorm" if layer else "RMSNorm", err))
        if not quiet:
            print("norm row of %4d columns (%3d float4s over 32 lanes): LayerNorm and RMSNorm, weight or adaLN: every column written once, matches" % (d, d // 4))
    assert not takes_registers(2052) and not takes_registers(33) and not takes_registers(4096), "the loop takes these"


def main():
    check_all()
    mutants = [("the sum of squares over the zero padding too", "SQUARES_STOP_AT_ROW", False),
               ("the mean over the padded width", "MEAN_OVER_D", False),
               ("the output loop running past the row", "STORES_STOP_AT_ROW", False)]
    catch_mutants(globals(), mutants, lambda: check_all(quiet=True))
    print("all checks passed")


if __name__ == "__main__":
    sys.exit(main())
