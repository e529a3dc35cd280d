#!/usr/bin/env python3
"""The PyTorch peer of AttentionGpuBench: torch.nn.functional.scaled_dot_product_attention on the same shapes
(batch 64, 16 heads, sequence 256 and 341, head 64 and 72), bf16, non-causal, inputs laid out as ours
([B, L, H, d] viewed as [B, H, L, d], no copy). Device time from CUDA events around 20 calls (replayed as one CUDA
graph; --no-graphs launches them one by one), median of 30 repeats,
printed in AttentionGpuBench's table format, for each SDPA backend that accepts the shape and for PyTorch's own
choice. Run it on the same machine right after the JMH run:

    ./ecar bench AttentionGpuBench FlowStepGpuBench && python3 tools/sdpa_bench.py
    python3 tools/sdpa_bench.py --quick      # 10 calls, median of 5: a few seconds (tools/gpu_session.sh)
"""
import argparse

import torch
import torch.nn.functional as F

from cuda_timing import ms_per_launch


GRAPHS = True   # --no-graphs clears it


def ms_per_call(fn, calls=20, repeats=30, warmup=5):
    """Median milliseconds per call over bursts of calls (each replayed as one CUDA graph unless GRAPHS is off)."""
    def burst():
        for _ in range(calls):
            fn()

    return ms_per_launch(burst, calls, repeats, GRAPHS, warmup)


def copy_ceiling_gbs(repeats=10):
    n = 512 << 20
    src = torch.ones(n // 4, device="cuda")
    dst = torch.empty_like(src)
    ms = ms_per_call(lambda: dst.copy_(src), calls=5, repeats=repeats)
    return 2.0 * n / (ms * 1e-3) / 1e9


def backends():
    """(name, context manager factory) for each SDPA backend this PyTorch can force, plus its default choice."""
    out = [("default", None)]
    try:
        from torch.nn.attention import SDPBackend, sdpa_kernel
        for name, be in (("flash", SDPBackend.FLASH_ATTENTION), ("efficient", SDPBackend.EFFICIENT_ATTENTION),
                         ("cudnn", getattr(SDPBackend, "CUDNN_ATTENTION", None))):
            if be is not None:
                out.append((name, lambda be=be: sdpa_kernel(be)))
    except ImportError:
        pass
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--heads", type=int, default=16)
    p.add_argument("--seq", type=int, nargs="+", default=[256, 341])
    p.add_argument("--head", type=int, nargs="+", default=[64, 72])
    p.add_argument("--calls", type=int, default=20, help="calls between two events (default 20)")
    p.add_argument("--repeats", type=int, default=30, help="timed bursts; the median is printed (default 30)")
    p.add_argument("--quick", action="store_true", help="10 calls, median of 5 (a short GPU visit)")
    p.add_argument("--no-graphs", action="store_true", help="launch each burst from Python instead of replaying it as a CUDA graph")
    args = p.parse_args()
    global GRAPHS
    GRAPHS = not args.no_graphs
    if args.quick:
        args.calls, args.repeats = 10, 5
    if not torch.cuda.is_available():
        print("[sdpa] skipped: torch.cuda.is_available() is False")
        return
    dev = torch.cuda.get_device_properties(0)
    print(f"[sdpa] {dev.name} (cc {dev.major}.{dev.minor}, {dev.multi_processor_count} SMs), torch {torch.__version__}, "
          f"copy ceiling {copy_ceiling_gbs(min(10, args.repeats)):.0f} GB/s, median of {args.repeats} x {args.calls} calls"
          f"{', launched one by one' if args.no_graphs else ', each burst replayed as a CUDA graph'}")
    g = torch.Generator(device="cuda").manual_seed(1234)
    for seq in args.seq:
        for d in args.head:
            b, h = args.batch, args.heads
            q, k, v = (torch.randn(b, seq, h, d, device="cuda", dtype=torch.bfloat16, generator=g).transpose(1, 2) for _ in range(3))
            flops = 4.0 * b * h * seq * seq * d
            for name, ctx in backends():
                def call():
                    return F.scaled_dot_product_attention(q, k, v)
                try:
                    if ctx is None:
                        ms = ms_per_call(call, args.calls, args.repeats)
                    else:
                        with ctx():
                            ms = ms_per_call(call, args.calls, args.repeats)
                except RuntimeError as e:
                    print(f"{'attention':<10} {'sdpa-' + name:<8} B={b:<3d} H={h:<3d} L={seq:<4d} d={d:<4d} not available: {str(e).splitlines()[0][:80]}")
                    continue
                print(f"{'attention':<10} {'sdpa-' + name:<8} B={b:<3d} H={h:<3d} L={seq:<4d} d={d:<4d} median {ms:8.4f} ms  {flops / (ms * 1e-3) / 1e12:7.1f} TFLOP/s")


if __name__ == "__main__":
    main()
