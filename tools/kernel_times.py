#!/usr/bin/env python3
"""Device time per kernel from Nsight Compute: where a generation's GPU time goes, kernel by kernel.

    ncu --csv --page raw --metrics gpu__time_duration.sum --target-processes all \\
        dist/ecar-runtime/ecar generate --model ecar-l --backend cuda --class 207 --out /tmp/x.png > ncu.csv
    python3 tools/kernel_times.py ncu.csv            # the table, longest total first
    python3 tools/kernel_times.py --selftest         # checks the parsing on a built-in sample (no GPU)

One metric needs one pass, so ncu replays nothing; it still serialises the kernels, so only the kernels' own times
are meaningful, not the wall time of the run. Kernels inside CUDA graphs are profiled one by one as well.
The input may hold the program's own output and ncu's "==PROF==" lines around the CSV: the table starts at the
header line that begins with "ID", and a units line (empty ID) may follow it. Kernel names are cut at the first
"(" so that one name gathers all its launches. Prints, longest total first:

    [kernel times] N launches of K kernels, T ms of device time in all
    kernel  launches  total ms  share  mean us
"""
import argparse
import csv
import io
import sys

UNIT_TO_MS = {"nsecond": 1e-6, "ns": 1e-6, "usecond": 1e-3, "us": 1e-3, "msecond": 1.0, "ms": 1.0, "second": 1e3, "s": 1e3}
METRIC = "gpu__time_duration.sum"


def tally(lines):
    """{kernel: [launches, total ms]} from ncu's raw CSV lines (other lines around it are skipped)."""
    start = next((i for i, l in enumerate(lines) if l.startswith('"ID"')), None)
    if start is None:
        raise ValueError('no ncu CSV header (a line starting with "ID") in the input')
    rows = list(csv.reader(io.StringIO("".join(l for l in lines[start:] if l.startswith('"')))))
    header = rows[0]
    try:
        name_col, time_col = header.index("Kernel Name"), header.index(METRIC)
    except ValueError:
        raise ValueError(f'the CSV header has no "Kernel Name" or "{METRIC}" column: {header[:12]}')
    scale, out = 1e-6, {}   # ncu's default unit for durations is nanoseconds
    for r in rows[1:]:
        if len(r) <= max(name_col, time_col):
            continue
        if r[0] == "":      # the units line
            scale = UNIT_TO_MS.get(r[time_col].strip(), scale)
            continue
        value = r[time_col].replace(",", "").strip()
        if not value:
            continue
        name = r[name_col].split("(")[0].strip()
        t = out.setdefault(name, [0, 0.0])
        t[0] += 1
        t[1] += float(value) * scale
    return out


def table(tallies, top):
    total = sum(ms for _, ms in tallies.values())
    launches = sum(n for n, _ in tallies.values())
    lines = [f"[kernel times] {launches} launches of {len(tallies)} kernels, {total:.3f} ms of device time in all",
             f"{'kernel':<44} {'launches':>9} {'total ms':>10} {'share':>7} {'mean us':>9}"]
    ranked = sorted(tallies.items(), key=lambda kv: -kv[1][1])
    for name, (n, ms) in ranked[:top]:
        lines.append(f"{name[:44]:<44} {n:>9} {ms:>10.3f} {100 * ms / total if total else 0:>6.1f}% {1e3 * ms / n:>9.2f}")
    if len(ranked) > top:
        rest = ranked[top:]
        n, ms = sum(v[0] for _, v in rest), sum(v[1] for _, v in rest)
        lines.append(f"{'(' + str(len(rest)) + ' more kernels)':<44} {n:>9} {ms:>10.3f} {100 * ms / total if total else 0:>6.1f}%")
    return "\n".join(lines)


SAMPLE = '''==PROF== Connected to process 4242 (java)
ecar-l: sampling 0.41 s
"ID","Process ID","Process Name","Host Name","Kernel Name","Context","Stream","Block Size","Grid Size","Device","CC","gpu__time_duration.sum"
"","","","","","","","","","","","usecond"
"0","4242","java","vm","gemm_bf16_t64_f32(bf16*, ...)","1","13","(128, 1, 1)","(48, 8, 1)","0","9.0","12.50"
"1","4242","java","vm","rms_norm_f32","1","13","(256, 1, 1)","(2, 1, 1)","0","9.0","2.25"
"2","4242","java","vm","gemm_bf16_t64_f32(bf16*, ...)","1","13","(128, 1, 1)","(48, 8, 1)","0","9.0","1,007.50"
==PROF== Disconnected from process 4242
'''


def selftest():
    t = tally(SAMPLE.splitlines(keepends=True))
    assert {k: (n, round(ms, 9)) for k, (n, ms) in t.items()} == {"gemm_bf16_t64_f32": (2, 1.02), "rms_norm_f32": (1, 0.00225)}, t
    out = table(t, 1)
    assert out.splitlines()[0] == "[kernel times] 3 launches of 2 kernels, 1.022 ms of device time in all", out
    assert out.splitlines()[2].split()[:4] == ["gemm_bf16_t64_f32", "2", "1.020", "99.8%"], out
    assert "(1 more kernels)" in out.splitlines()[3], out
    try:
        tally(["nothing here\n"])
        raise AssertionError("a file without the CSV must be refused")
    except ValueError as e:
        assert "no ncu CSV header" in str(e)
    print("kernel_times selftest: ok")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("csv", nargs="?", help="ncu --csv --page raw output (default: stdin)")
    ap.add_argument("--top", type=int, default=25, help="kernels listed (the rest summed in one line)")
    ap.add_argument("--selftest", action="store_true")
    args = ap.parse_args()
    if args.selftest:
        selftest()
        return
    lines = open(args.csv, encoding="utf-8", errors="replace").readlines() if args.csv else sys.stdin.readlines()
    try:
        print(table(tally(lines), args.top))
    except ValueError as e:
        raise SystemExit(f"kernel_times: {e}")


if __name__ == "__main__":
    main()
