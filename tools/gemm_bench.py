#!/usr/bin/env python3
"""The PyTorch peer of the GPU GEMM benchmark (src/jmh/java/ecar/bench/GemmBench.java): torch.matmul in bf16 on the
linear layers of DiT-XL/2 and ECAR-L/FlowAR-L at batch 64, 256x256 images (256 tokens an image at the last stage),
timed with CUDA events, median of repeats, inputs rotated through copies that together exceed the L2 cache, each
burst of GEMMs replayed as one CUDA graph (--no-graphs: launched one by one).
Prints one line a shape in the format of GemmBench, whose lines also name our kernel path (wgmma or mma.sync):

    [gemm <model> <layer> MxKxN] <ms> ms, <TFLOP/s> TFLOP/s                 (here: torch.matmul)
    [gemm <model> <layer> MxKxN <path>] <ms> ms, <TFLOP/s> TFLOP/s          (GemmBench)

tools/bench_table.awk puts the three side by side (wgmma, mma.sync, torch and the ratios).

    python3 tools/gemm_bench.py                  # on the GPU
    python3 tools/gemm_bench.py --quick          # median of 5 x 10: a few seconds (tools/gpu_session.sh)
    python3 tools/gemm_bench.py --device cpu --tiny   # checks the script runs (fp32, small shapes)

Shapes are M x K x N for Y[M, N] = X[M, K] W[N, K]^T. FlowAR's MLP hidden width 2730 is not a multiple of 8; our
GEMM runs fc2 with K padded to 2736 (zero columns), so both sides time fc2 at K = 2736. Layers named +gelu and
+gate-gelu are timed with what follows the product in the models: here F.gelu(Y, approximate="tanh"), and FlowAR's
gated MLP as its reference code runs it, F.gelu(X Wg^T) * (X Wx^T) with two products of N / 2 rows each (ours: one
product with gate and value rows interleaved and the GATE_PAIRS epilogue). The same FLOPs, 2 M K N.
"""
import argparse
import statistics
import time

import torch

from cuda_timing import ms_per_launch

B, T = 64, 256           # batch, tokens per image at the last stage (16x16 for FlowAR/ECAR, (32/2)^2 for DiT)
M = B * T

# (model, layer, M, K, N); keep in step with GemmBench.SHAPES
SHAPES = [
    ("dit-xl-2", "qkv", M, 1152, 3456),
    ("dit-xl-2", "proj", M, 1152, 1152),
    ("dit-xl-2", "fc1+gelu", M, 1152, 4608),
    ("dit-xl-2", "fc2", M, 4608, 1152),
    ("dit-xl-2", "adaLN", B, 1152, 6912),
    ("dit-xl-2", "final", M, 1152, 32),
    ("ecar-l", "ar.qkv", M, 1024, 3072),
    ("ecar-l", "ar.proj", M, 1024, 1024),
    ("ecar-l", "ar.fc1+gate-gelu", M, 1024, 5460),
    ("ecar-l", "ar.fc2", M, 2736, 1024),
    ("ecar-l", "ar.adaLN", B, 1024, 6144),
    ("ecar-l", "head.input", M, 16, 1024),
    ("ecar-l", "head.cond", M, 1024, 1024),
    ("ecar-l", "head.adaLN-token", M, 1024, 3072),
    ("ecar-l", "head.final", M, 1024, 16),
    # batch 1, guided ([cond; null]): the flow head at stages 4, 3 and 1 (M = 2·r²), DiT-XL/2's MLP and ARPG-L's fc2,
    # the small-M shapes of batch-1 latency
    ("ecar-l-b1", "head.qkv.s4", 512, 1024, 3072),
    ("ecar-l-b1", "head.fc2.s4", 512, 2736, 1024),
    ("ecar-l-b1", "head.qkv.s3", 128, 1024, 3072),
    ("ecar-l-b1", "head.fc2.s3", 128, 2736, 1024),
    ("ecar-l-b1", "head.qkv.s2", 32, 1024, 3072),
    ("ecar-l-b1", "head.qkv.s1", 8, 1024, 3072),
    ("dit-xl-2-b1", "fc1", 512, 1152, 4608),
    ("arpg-l-b1", "fc2", 6, 2816, 1024),   # ARPG-L at batch 1, guided: 6 rows, its most frequent step
]

L2_BYTES = 64 << 20      # more than any current GPU's L2 (H100 50 MB, H200 60 MB)


def line(model, layer, m, k, n, ms):
    return f"[gemm {model} {layer} {m}x{k}x{n}] {ms:.4f} ms, {2.0 * m * k * n / (ms * 1e-3) / 1e12:.1f} TFLOP/s"


def layer_fn(layer, out):
    """What one launch of a layer computes: the product, then the epilogue its name asks for (see the docstring)."""
    if layer.endswith("+gelu"):
        return lambda x, w: torch.nn.functional.gelu(torch.matmul(x, w.t(), out=out), approximate="tanh")
    if layer.endswith("+gate-gelu"):
        return lambda x, w: torch.nn.functional.gelu(torch.matmul(x, w[0::2].t())) * torch.matmul(x, w[1::2].t())
    return lambda x, w: torch.matmul(x, w.t(), out=out)


def bench_cuda(m, k, n, dtype, reps, inner, graphs=True, layer=""):
    bytes_per = (m * k + n * k) * torch.tensor([], dtype=dtype).element_size()
    copies = max(1, -(-L2_BYTES // bytes_per))
    xs = [torch.randn(m, k, device="cuda", dtype=dtype) for _ in range(copies)]
    ws = [torch.randn(n, k, device="cuda", dtype=dtype) for _ in range(copies)]
    if layer.endswith("+gate-gelu"):   # the reference code's two weights, each contiguous
        ws = [torch.cat([w[0::2], w[1::2]]).contiguous() for w in ws]
        half = n // 2
        run = lambda x, w: torch.nn.functional.gelu(torch.matmul(x, w[:half].t())) * torch.matmul(x, w[half:].t())
    else:
        run = layer_fn(layer, torch.empty(m, n, device="cuda", dtype=dtype))
    launches = max(inner, copies)   # a burst covers every copy, so no launch reads its inputs from L2

    def burst():
        for i in range(launches):
            run(xs[i % copies], ws[i % copies])

    return ms_per_launch(burst, launches, reps, graphs)


def bench_cpu(m, k, n, dtype, reps, inner, layer=""):
    x, w = torch.randn(m, k, dtype=dtype), torch.randn(n, k, dtype=dtype)
    run = layer_fn(layer, None)
    run(x, w)
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(inner):
            run(x, w)
        times.append((time.perf_counter() - t0) * 1e3 / inner)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    ap.add_argument("--tiny", action="store_true", help="shapes divided by 64 in M (a check that the script runs)")
    ap.add_argument("--reps", type=int, default=21)
    ap.add_argument("--inner", type=int, default=20)
    ap.add_argument("--quick", action="store_true", help="median of 5 x 10 GEMMs (a short GPU visit)")
    ap.add_argument("--no-graphs", action="store_true", help="launch each burst from Python instead of replaying it as a CUDA graph")
    args = ap.parse_args()
    if args.quick:
        args.reps, args.inner = 5, 10
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("no CUDA device visible to torch; use --device cpu --tiny to check the script")
    dtype = torch.bfloat16 if args.device == "cuda" else torch.float32
    reps, inner = (3, 1) if args.tiny else (args.reps, args.inner)
    if args.device == "cuda":
        p = torch.cuda.get_device_properties(0)
        how = "launched one by one" if args.no_graphs else "each burst replayed as a CUDA graph"
        print(f"torch {torch.__version__}, {p.name}, {p.multi_processor_count} SMs, bf16, CUDA events, median of {reps} bursts of "
              f"at least {inner} GEMMs, {how}")
    else:
        print(f"torch {torch.__version__}, cpu, {dtype}, {torch.get_num_threads()} threads")
    with torch.no_grad():
        for model, layer, m, k, n in SHAPES:
            if args.tiny:
                m = max(1, m // 64)
            if args.device == "cuda":
                ms = bench_cuda(m, k, n, dtype, reps, inner, graphs=not args.no_graphs, layer=layer)
            else:
                ms = bench_cpu(m, k, n, dtype, reps, inner, layer)
            print(line(model, layer, m, k, n, ms), flush=True)


if __name__ == "__main__":
    main()
