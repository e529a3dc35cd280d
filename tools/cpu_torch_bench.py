#!/usr/bin/env python3
"""The PyTorch peer of the CPU JMH benchmarks (CpuMatmulBench, DiTForwardBench): the same shapes, float32,
torch.set_num_threads(2) by default. DiT-S/2 is written here from MODELS.md §1 (the official architecture).

    python3 tools/cpu_torch_bench.py [--threads 2]

Use a BLAS that is not the reference one (Debian: apt install libopenblas0-pthread) or PyTorch is timed on
netlib's reference BLAS, some 50 times slower.
"""
import argparse
import math
import time

import torch
import torch.nn.functional as F


def attention(q, k, v):
    """softmax(q·kᵀ/√d)·v: PyTorch's fused kernel where it has one (2.0+), else the same math in eager ops."""
    if hasattr(F, "scaled_dot_product_attention"):
        return F.scaled_dot_product_attention(q, k, v)
    w = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), dim=-1)
    return w @ v


def timeit(fn, seconds=6.0):
    for _ in range(3):
        fn()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        fn()
        n += 1
    return (time.perf_counter() - t0) / n


class Block(torch.nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.qkv = torch.nn.Linear(d, 3 * d)
        self.proj = torch.nn.Linear(d, d)
        self.fc1 = torch.nn.Linear(d, 4 * d)
        self.fc2 = torch.nn.Linear(4 * d, d)
        self.ada = torch.nn.Linear(d, 6 * d)

    def forward(self, x, c):
        b, n, d = x.shape
        s1, sc1, g1, s2, sc2, g2 = self.ada(F.silu(c)).unsqueeze(1).chunk(6, dim=-1)
        h = F.layer_norm(x, (d,), eps=1e-6) * (1 + sc1) + s1
        q, k, v = self.qkv(h).reshape(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        a = attention(q, k, v).transpose(1, 2).reshape(b, n, d)
        x = x + g1 * self.proj(a)
        h = F.layer_norm(x, (d,), eps=1e-6) * (1 + sc2) + s2
        return x + g2 * self.fc2(F.gelu(self.fc1(h), approximate="tanh"))


class DiT(torch.nn.Module):
    def __init__(self, d=384, depth=12, heads=6, p=2, c=4, side=32):
        super().__init__()
        self.p, self.c, self.side = p, c, side
        self.embed = torch.nn.Conv2d(c, d, p, p)
        self.pos = torch.nn.Parameter(torch.randn(1, (side // p) ** 2, d) * 0.02)
        self.t1, self.t2 = torch.nn.Linear(256, d), torch.nn.Linear(d, d)
        self.y = torch.nn.Embedding(1001, d)
        self.blocks = torch.nn.ModuleList(Block(d, heads) for _ in range(depth))
        self.fada = torch.nn.Linear(d, 2 * d)
        self.out = torch.nn.Linear(d, p * p * 2 * c)

    def forward(self, x, t, y):
        h = self.embed(x).flatten(2).transpose(1, 2) + self.pos
        half = 128
        freqs = torch.exp(-math.log(10000) * torch.arange(half, dtype=torch.float32) / half)
        args = t[:, None] * freqs[None]
        temb = self.t2(F.silu(self.t1(torch.cat([torch.cos(args), torch.sin(args)], -1))))
        c = temb + self.y(y)
        for b in self.blocks:
            h = b(h, c)
        shift, scale = self.fada(F.silu(c)).unsqueeze(1).chunk(2, dim=-1)
        h = self.out(F.layer_norm(h, (h.shape[-1],), eps=1e-6) * (1 + scale) + shift)
        g = self.side // self.p
        h = h.reshape(x.shape[0], g, g, self.p, self.p, 2 * self.c)
        return torch.einsum("nhwpqc->nchpwq", h).reshape(x.shape[0], 2 * self.c, self.side, self.side)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {torch.__config__.parallel_info().splitlines()[0]}")
    with torch.no_grad():
        for shape in ["2048x384x1152", "2048x384x1536", "2048x1536x384", "2048x384x384", "512x1024x2730", "1024x1024x1024"]:
            m, k, n = map(int, shape.split("x"))
            x, w = torch.randn(m, k), torch.randn(n, k)
            s = timeit(lambda: F.linear(x, w))
            print(f"[matmul {shape}] {s * 1e3:.2f} ms, {2 * m * k * n / s / 1e9:.1f} GFLOP/s")
        model = DiT().eval()
        x, t, y = torch.randn(8, 4, 32, 32), torch.tensor([999., 900, 800, 700, 600, 500, 400, 300]), torch.arange(1, 9)
        s = timeit(lambda: model(x, t, y), seconds=10)
        print(f"[dit-s-2 forward, batch 8] {s * 1e3:.1f} ms, {8 * 2 * 6.06e9 / s / 1e9:.1f} GFLOP/s")


if __name__ == "__main__":
    main()
