"""CUDA-event timing shared by the PyTorch peers of the kernel benchmarks (tools/gemm_bench.py, tools/sdpa_bench.py)."""
import statistics

import torch


def ms_per_launch(burst, launches, reps, graphs=True, warmup=2):
    """Median milliseconds per launch over reps calls of burst (which queues launches kernels), timed with CUDA events.
    With graphs, the burst is captured once as a CUDA graph and replayed (as GemmBench and AttentionGpuBench do, and as
    the pipelines replay their loops), so the small shapes of batch 1 time the kernels, not Python's launch rate; a
    capture that fails falls back to launching the burst, and says so."""
    s = torch.cuda.Stream()   # warm-up on a side stream, as torch.cuda.graph asks before a capture
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        for _ in range(warmup):
            burst()
    torch.cuda.current_stream().wait_stream(s)
    torch.cuda.synchronize()
    run = burst
    if graphs:
        try:
            g = torch.cuda.CUDAGraph()
            with torch.cuda.graph(g):
                burst()
            run = g.replay
        except RuntimeError as e:
            print(f"[bench] the burst could not be captured as a CUDA graph ({e}): timing separate launches", flush=True)
            torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        run()
        b.record()
        b.synchronize()
        times.append(a.elapsed_time(b) / launches)
    return statistics.median(times)
