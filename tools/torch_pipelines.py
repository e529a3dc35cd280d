#!/usr/bin/env python3
"""PyTorch eager peers of `ecar compare` on a GPU: DiT-XL/2 (250 DDPM steps, learned variance, classifier-free
guidance on the doubled batch), ECAR-L / FlowAR-L (FlowAR-L's AR transformer with a KV cache across stages,
its Block_v2 flow head, and the ECAR multistage or the FlowAR schedule) and ARPG-L (randomized parallel decoding,
64 steps, KV caches filled by position, as the official generate), written from MODELS.md with random
weights, bf16 on CUDA, timed per image from class labels to sampled latents (VAE decode not included, as in
`ecar compare`).

    python3 tools/torch_pipelines.py                         # dit-xl-2, flowar-l, ecar-l, arpg-l at 256², batch 1 and 64
    python3 tools/torch_pipelines.py --models ecar-l --batch 64 --repeats 5
    python3 tools/torch_pipelines.py --quick                 # one timed run after a short warm-up (tools/gpu_session.sh)
    python3 tools/torch_pipelines.py --compile               # the same with torch.compile on every block (torch >= 2.0)
    python3 tools/torch_pipelines.py --device cpu --tiny     # tiny configs in fp32: checks that the script runs

Output, one line a (model, batch):
    [pipeline <model> batch <B>] <ms> ms per generation, <ms> ms per image, <images/s> images/s (median of R), peak <GiB> GiB
The peak (CUDA only) is torch.cuda.max_memory_allocated over that (model, batch) alone, warm-up included: weights,
activations and the allocator's live blocks, the peer of ecar compare's peak memory.

The architectures and the amount of work per step follow MODELS.md; the schedules' numbers are simplified where
they do not change the work (the ECAR windows are even splits of the noise axis, not Pyramid Flow's corrected
starts): this script measures time, it is not a numerical reference (fixtures/ is).
"""
import argparse
import math
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


# ----------------------------------------------------------------------------------------------------- shared parts

def attention(q, k, v):
    """softmax(q kᵀ/√d) v on [B, H, L, d]; PyTorch's fused kernel when it has one (torch >= 2.0)."""
    if hasattr(F, "scaled_dot_product_attention"):
        return F.scaled_dot_product_attention(q, k, v)
    a = torch.softmax((q @ k.transpose(-1, -2)) * (q.shape[-1] ** -0.5), dim=-1)
    return a @ v


def heads(x, h):
    b, l, d = x.shape
    return x.reshape(b, l, h, d // h).transpose(1, 2)


def merge(x):
    b, h, l, d = x.shape
    return x.transpose(1, 2).reshape(b, l, h * d)


def rms(x, eps=1e-6):
    return x * torch.rsqrt(x.float().pow(2).mean(-1, keepdim=True) + eps).to(x.dtype)


def sinusoid(t, dim=256):
    """[cos(t f), sin(t f)], f_i = exp(-ln(10^4) i / (dim/2))."""
    half = dim // 2
    f = torch.exp(-math.log(10000) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    a = t.float()[:, None] * f[None]
    return torch.cat([torch.cos(a), torch.sin(a)], -1)


class TimestepEmbedder(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(256, d), nn.Linear(d, d)

    def forward(self, t):
        return self.fc2(F.silu(self.fc1(sinusoid(t).to(self.fc1.weight.dtype))))


class Rope2d:
    """FlowAR's 2D RoPE for a side×side grid: per head, the first half of the dims rotates with the row, the rest
    with the column, positions i·16/side, adjacent pairs sharing frequency 1/10000^(2j/(d/2))."""

    def __init__(self, head_dim, side, device, dtype):
        quarter = head_dim // 4
        freqs = 1.0 / (10000 ** (torch.arange(quarter, dtype=torch.float32, device=device) * 2 / (head_dim // 2)))
        pos = torch.arange(side, dtype=torch.float32, device=device) * 16 / side
        ang = pos[:, None] * freqs[None]                                 # [side, quarter]
        rows = ang[:, None, :].expand(side, side, quarter).reshape(side * side, quarter)
        cols = ang[None, :, :].expand(side, side, quarter).reshape(side * side, quarter)
        a = torch.cat([rows, cols], -1).repeat_interleave(2, -1)        # [L, head_dim]
        self.cos, self.sin = a.cos().to(dtype), a.sin().to(dtype)

    def __call__(self, x):                                               # [B, H, L, d]
        x2 = torch.stack([-x[..., 1::2], x[..., 0::2]], -1).flatten(-2)
        return x * self.cos + x2 * self.sin


class GatedMlp(nn.Module):
    """timm's SwiGLU built with exact GELU: fc2(GELU(fc1_g x) ⊙ fc1_x x), hidden int(4d·2/3)."""

    def __init__(self, d):
        super().__init__()
        h = int(4 * d * 2 / 3)
        self.fc1_g, self.fc1_x, self.fc2 = nn.Linear(d, h), nn.Linear(d, h), nn.Linear(h, d)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1_g(x)) * self.fc1_x(x))


# ----------------------------------------------------------------------------------------------------- DiT (§1)

class DiTBlock(nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.h = h
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.fc1, self.fc2 = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)
        self.ada = nn.Linear(d, 6 * d)

    def forward(self, x, c):
        d = x.shape[-1]
        s1, sc1, g1, s2, sc2, g2 = self.ada(F.silu(c)).unsqueeze(1).chunk(6, -1)
        y = F.layer_norm(x, (d,), eps=1e-6) * (1 + sc1) + s1
        q, k, v = self.qkv(y).chunk(3, -1)
        x = x + g1 * self.proj(merge(attention(heads(q, self.h), heads(k, self.h), heads(v, self.h))))
        y = F.layer_norm(x, (d,), eps=1e-6) * (1 + sc2) + s2
        return x + g2 * self.fc2(F.gelu(self.fc1(y), approximate="tanh"))


class DiT(nn.Module):
    def __init__(self, d, depth, h, p=2, c=4, side=32, classes=1000):
        super().__init__()
        self.p, self.c, self.side = p, c, side
        self.x_embedder = nn.Conv2d(c, d, p, p)
        self.pos = nn.Parameter(torch.randn(1, (side // p) ** 2, d) * 0.02)
        self.t_embedder = TimestepEmbedder(d)
        self.y_embedder = nn.Embedding(classes + 1, d)
        self.blocks = nn.ModuleList(DiTBlock(d, h) for _ in range(depth))
        self.final_ada, self.final = nn.Linear(d, 2 * d), nn.Linear(d, p * p * 2 * c)

    def forward(self, x, t, y):
        h = self.x_embedder(x).flatten(2).transpose(1, 2) + self.pos
        c = self.t_embedder(t) + self.y_embedder(y)
        for b in self.blocks:
            h = b(h, c)
        shift, scale = self.final_ada(F.silu(c)).unsqueeze(1).chunk(2, -1)
        h = self.final(F.layer_norm(h, (h.shape[-1],), eps=1e-6) * (1 + scale) + shift)
        g = self.side // self.p
        h = h.reshape(x.shape[0], g, g, self.p, self.p, 2 * self.c)
        return torch.einsum("nhwpqc->nchpwq", h).reshape(x.shape[0], 2 * self.c, self.side, self.side)


def dit_schedule(steps, device):
    """Linear β 1e-4→0.02 over 1000 steps respaced evenly to `steps` (as space_timesteps("250")), float64."""
    betas = torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64)
    ab = torch.cumprod(1 - betas, 0)
    use = torch.linspace(0, 999, steps).round().long()
    ab = ab[use]
    ab_prev = torch.cat([torch.ones(1, dtype=torch.float64), ab[:-1]])
    b = 1 - ab / ab_prev
    post_var = b * (1 - ab_prev) / (1 - ab)
    k = dict(a=(1 / ab).sqrt(), bb=(1 / ab - 1).sqrt(), c1=b * ab_prev.sqrt() / (1 - ab),
             c2=(1 - ab_prev) * (1 - b).sqrt() / (1 - ab),
             min_log=torch.log(torch.cat([post_var[1:2], post_var[1:]])), max_log=torch.log(b))
    return use.to(device), {n: v.float().tolist() for n, v in k.items()}


@torch.no_grad()
def dit_generate(model, labels, steps, cfg, dtype):
    dev = labels.device
    n = labels.shape[0]
    ts, k = dit_schedule(steps, dev)
    c = model.c
    x = torch.randn(2 * n, c, model.side, model.side, device=dev)
    y = torch.cat([labels, torch.full_like(labels, 1000)])
    for i in reversed(range(steps)):
        t = ts[i].float().expand(2 * n)
        half = x[:n]
        out = model(torch.cat([half, half]).to(dtype), t, y).float()
        eps, rest = out[:, :3], out[:, 3:]                                  # the official default guides 3 channels
        ec, eu = eps.chunk(2)
        g = eu + cfg * (ec - eu)
        out = torch.cat([torch.cat([g, g]), rest], 1)
        e, v = out[:, :c], out[:, c:]
        x0 = k["a"][i] * x - k["bb"][i] * e
        mean = k["c1"][i] * x0 + k["c2"][i] * x
        log_var = (v + 1) / 2 * k["max_log"][i] + (1 - (v + 1) / 2) * k["min_log"][i]
        x = mean + (torch.exp(0.5 * log_var) * torch.randn_like(x) if i > 0 else 0)
    return x[:n]


# ----------------------------------------------------------------------------------------------------- FlowAR-L / ECAR-L (§2, §3)

class ArBlock(nn.Module):
    """RMSNorm (no weight), adaLN from the class embedding (gamma1, gamma2, scale1, scale2, shift1, shift2), RoPE
    attention over the KV cache and the stage's own tokens, gated-GELU MLP."""

    def __init__(self, d, h):
        super().__init__()
        self.h = h
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.mlp = GatedMlp(d)
        self.ada = nn.Linear(d, 6 * d)

    def forward(self, x, cls, rope, cache):
        g1, g2, sc1, sc2, s1, s2 = self.ada(F.silu(cls)).unsqueeze(1).chunk(6, -1)
        q, k, v = self.qkv(rms(x) * (1 + sc1) + s1).chunk(3, -1)
        q, k, v = rope(heads(q, self.h)), rope(heads(k, self.h)), heads(v, self.h)
        if cache is not None:
            k, v = torch.cat([cache[0], k], 2), torch.cat([cache[1], v], 2)
        x = x + g1 * self.proj(merge(attention(q, k, v)))
        return x + g2 * self.mlp(rms(x) * (1 + sc2) + s2), (k, v)


class ArTransformer(nn.Module):
    def __init__(self, d, enc, dec, h, token_dim=16, seq=341):
        super().__init__()
        self.h = h
        self.class_emb = nn.Embedding(1001, d)
        self.z_proj, self.z_proj_ln = nn.Linear(token_dim, d), nn.LayerNorm(d, eps=1e-6)
        self.enc_pos = nn.Parameter(torch.randn(1, seq, d) * 0.02)
        self.enc_norm_w = nn.Parameter(torch.ones(d))
        self.encoder = nn.ModuleList(ArBlock(d, h) for _ in range(enc))
        self.decoder_embed = nn.Linear(d, d)
        self.dec_pos = nn.Parameter(torch.randn(1, seq, d) * 0.02)
        self.decoder = nn.ModuleList(ArBlock(d, h) for _ in range(dec))
        self.diff_pos = nn.Parameter(torch.randn(1, seq, d) * 0.02)

    def stage(self, tokens, cls, start, side, caches):
        """The stage's tokens [B, r², d] through encoder and decoder, attending to (and extending) the KV caches."""
        rope = Rope2d(tokens.shape[-1] // self.h, side, tokens.device, tokens.dtype)
        n = side * side
        x = rms(tokens + self.enc_pos[:, start:start + n]) * self.enc_norm_w
        for i, b in enumerate(self.encoder):
            x, caches[i] = b(x, cls, rope, caches[i])
        x = self.decoder_embed(rms(x)) + self.dec_pos[:, start:start + n]
        for i, b in enumerate(self.decoder):
            j = len(self.encoder) + i
            x, caches[j] = b(x, cls, rope, caches[j])
        return rms(x) + self.diff_pos[:, start:start + n]


class HeadBlock(nn.Module):
    """Block_v2: attention adaLN (gamma1, scale1, shift1) from SiLU(t) per sample; cross-attention from RMSNorm(x, w)
    to RMSNorm(z, w), both with RoPE; MLP adaLN (gamma2, scale2, shift2) from SiLU(c + t) per token."""

    def __init__(self, w):
        super().__init__()
        self.h = w // 64
        self.ada_attn, self.ada_mlp = nn.Linear(w, 3 * w), nn.Linear(w, 3 * w)
        self.qkv, self.proj = nn.Linear(w, 3 * w), nn.Linear(w, w)
        self.cq, self.ckv, self.cproj = nn.Linear(w, w), nn.Linear(w, 2 * w), nn.Linear(w, w)
        self.nx, self.nz = nn.Parameter(torch.ones(w)), nn.Parameter(torch.ones(w))
        self.mlp = GatedMlp(w)

    def forward(self, x, t, c, ct, rope):
        g1, sc1, s1 = self.ada_attn(F.silu(t)).unsqueeze(1).chunk(3, -1)
        q, k, v = self.qkv(rms(x) * (1 + sc1) + s1).chunk(3, -1)
        x = x + g1 * self.proj(merge(attention(rope(heads(q, self.h)), rope(heads(k, self.h)), heads(v, self.h))))
        q = rope(heads(self.cq(rms(x) * self.nx), self.h))
        k, v = self.ckv(rms(c) * self.nz).chunk(2, -1)
        x = x + self.cproj(merge(attention(q, rope(heads(k, self.h)), heads(v, self.h))))
        g2, sc2, s2 = self.ada_mlp(F.silu(ct)).chunk(3, -1)
        return x + g2 * self.mlp(rms(x) * (1 + sc2) + s2)


class FlowHead(nn.Module):
    def __init__(self, d, w, depth, token_dim=16):
        super().__init__()
        self.input_proj, self.cond_embed = nn.Linear(token_dim, w), nn.Linear(d, w)
        self.time_embed = TimestepEmbedder(w)
        self.blocks = nn.ModuleList(HeadBlock(w) for _ in range(depth))
        self.final_ada, self.final = nn.Linear(w, 2 * w), nn.Linear(w, token_dim)

    def forward(self, x, t, c, rope):
        h = self.input_proj(x)
        te = self.time_embed(torch.floor(t * 1000)).unsqueeze(1)        # ⌊t·1000⌋, per sample
        ct = c + te
        for b in self.blocks:
            h = b(h, te.squeeze(1), c, ct, rope)
        shift, scale = self.final_ada(F.silu(ct)).chunk(2, -1)
        return self.final(rms(h) * (1 + scale) + shift)


class FlowArModel(nn.Module):
    def __init__(self, d, enc, dec, h, head_depth, head_w, scales):
        super().__init__()
        self.scales = scales
        self.ar = ArTransformer(d, enc, dec, h, seq=sum(r * r for r in scales))
        self.head = FlowHead(d, head_w, head_depth)


def stage_input(model, prev, side, grid):
    """z_proj(resize(prev)): bicubic up to the final grid, then area down to the stage's side (channels-last)."""
    b, n, c = prev.shape
    r = int(math.isqrt(n))
    img = prev.transpose(1, 2).reshape(b, c, r, r).float()
    img = F.interpolate(img, size=(grid, grid), mode="bicubic", align_corners=False)
    img = F.interpolate(img, size=(side, side), mode="area")
    tok = img.flatten(2).transpose(1, 2).to(model.ar.z_proj.weight.dtype)
    return model.ar.z_proj_ln(model.ar.z_proj(tok))


def block_noise(shape, gamma, device):
    """√(1+γ)·(ε − c·mean₂ₓ₂(ε)), c = 1 − √((1−3γ)/(1+γ)), on [B, (2r)², C]."""
    b, n, ch = shape
    s = int(math.isqrt(n))
    e = torch.randn(b, s // 2, 2, s // 2, 2, ch, device=device)
    c = 1 - math.sqrt((1 - 3 * gamma) / (1 + gamma))
    e = e - c * e.mean(dim=(2, 4), keepdim=True)
    return math.sqrt(1 + gamma) * e.reshape(b, n, ch)


def up2(x):
    b, n, c = x.shape
    r = int(math.isqrt(n))
    x = x.reshape(b, r, 1, r, 1, c).expand(b, r, 2, r, 2, c)
    return x.reshape(b, 4 * n, c)


@torch.no_grad()
def flowar_generate(model, labels, steps_per_stage, cfg, dtype, ecar, gamma=1 / 3, guidance_high=0.9):
    """ECAR: each stage denoises only its window of the noise axis (steps_per_stage[s] Euler steps), the state carried
    up by the stage jump; FlowAR: every stage starts from fresh noise and runs its full Euler grid."""
    dev = labels.device
    n, stages, grid = labels.shape[0], len(model.scales), model.scales[-1]
    y = torch.cat([labels, torch.full_like(labels, 1000)])
    cls = model.ar.class_emb(y)
    caches = [None] * (len(model.ar.encoder) + len(model.ar.decoder))
    x_prev, start = None, 0
    for s, side in enumerate(model.scales):
        tokens = cls.unsqueeze(1) if s == 0 else stage_input(model, x_prev, side, grid)
        cond = model.ar.stage(tokens.to(dtype), cls.to(dtype), start, side, caches)
        start += side * side
        c = model.head.cond_embed(cond)
        rope = Rope2d(c.shape[-1] // model.head.blocks[0].h, side, dev, dtype)
        w = 1 + (cfg - 1) * s / max(1, stages - 1)                          # ramps 1 → cfg over the stages
        if ecar:
            hi, lo = 1 - s / stages, 1 - (s + 1) / stages                   # even windows (timing only)
            sig = torch.cat([torch.linspace(hi, lo + 1e-3, steps_per_stage[s]), torch.tensor([lo])]).tolist()
            if s == 0:
                x = torch.randn(n, side * side, 16, device=dev)
            else:
                a = 1 / (math.sqrt(1 + 1 / gamma) * (1 - (1 - hi)) + (1 - hi))
                x = a * up2(x_prev[:n]) + a * hi / math.sqrt(gamma) * block_noise((n, side * side, 16), gamma, dev)
        else:
            k = steps_per_stage[s]
            sig = torch.cat([torch.linspace(1, 0.3, k // 2), torch.linspace(0.25, 0, k // 2 + 1)]).tolist()
            x = torch.randn(n, side * side, 16, device=dev)
        x = torch.cat([x, x])
        for i in range(len(sig) - 1):
            t = torch.full((2 * n,), sig[i], device=dev)
            v = model.head(x.to(dtype), t, c, rope).float()
            if sig[i] <= guidance_high:
                vc, vu = v.chunk(2)
                v = torch.cat([vu + w * (vc - vu)] * 2)
            x = x + (sig[i + 1] - sig[i]) * v
        x_prev = torch.cat([x[:n], x[:n]])
    return x_prev[:n]


# ----------------------------------------------------------------------------------------------------- ARPG

class Rope2dRows:
    """ARPG's 2D RoPE table (MODELS.md §5): row 0 for the class token, row 1 + i·g + j for grid (i, j); rotated by rows."""

    def __init__(self, head, grid, device, base=10000.0):
        q = head // 4
        f = base ** (-4 * torch.arange(q, dtype=torch.float32, device=device) / head)
        i, j = torch.meshgrid(torch.arange(grid, device=device), torch.arange(grid, device=device), indexing="ij")
        ang = torch.cat([i.reshape(-1, 1).float() * f, j.reshape(-1, 1).float() * f], dim=1)   # [g², d/2]
        ang = torch.cat([torch.zeros(1, head // 2, device=device), ang], dim=0)
        self.cos, self.sin = torch.cos(ang), torch.sin(ang)

    def __call__(self, x, rows):
        """x [B, H, L, d] rotated by table rows [L] (adjacent pairs as complex numbers)."""
        c, s = self.cos[rows].to(x.dtype), self.sin[rows].to(x.dtype)
        x0, x1 = x[..., 0::2], x[..., 1::2]
        return torch.stack([x0 * c - x1 * s, x1 * c + x0 * s], dim=-1).flatten(-2)


def rms_norm(d):
    """nn.RMSNorm (torch >= 2.4, eps 1e-5 as ARPG's); older torch times a LayerNorm, the same memory traffic."""
    return nn.RMSNorm(d, eps=1e-5) if hasattr(nn, "RMSNorm") else nn.LayerNorm(d, eps=1e-5)


class SwiGlu(nn.Module):
    def __init__(self, d, hidden):
        super().__init__()
        self.w1, self.w3, self.w2 = nn.Linear(d, hidden, bias=False), nn.Linear(d, hidden, bias=False), nn.Linear(hidden, d, bias=False)

    def forward(self, x):
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


class ArpgBlock(nn.Module):
    """A self block (queries, keys and values from its tokens, appended to its cache) or a cross block (queries only,
    attending to the shared cache); RMSNorm eps 1e-5, bias-free projections."""

    def __init__(self, d, h, hidden, cross):
        super().__init__()
        self.h, self.cross = h, cross
        self.n1, self.n2 = rms_norm(d), rms_norm(d)
        self.q = nn.Linear(d, d, bias=False)
        if not cross:
            self.k, self.v = nn.Linear(d, d, bias=False), nn.Linear(d, d, bias=False)
        self.proj, self.ffn = nn.Linear(d, d, bias=False), SwiGlu(d, hidden)

    def forward(self, x, rope, rows, cache):
        a = self.n1(x)
        q = rope(heads(self.q(a), self.h), rows)
        if not self.cross:
            cache.append(rope(heads(self.k(a), self.h), rows), heads(self.v(a), self.h))
        x = x + self.proj(merge(attention(q, *cache.view())))
        return x + self.ffn(self.n2(x))


class KvCache:
    """Keys and values [B, H, capacity, d] filled by position (allocated once per generation)."""

    def __init__(self, b, h, capacity, d, device, dtype):
        self.k = torch.empty(b, h, capacity, d, device=device, dtype=dtype)
        self.v = torch.empty_like(self.k)
        self.n = 0

    def append(self, k, v):
        l = k.shape[2]
        self.k[:, :, self.n:self.n + l], self.v[:, :, self.n:self.n + l] = k, v
        self.n += l

    def view(self):
        return self.k[:, :, :self.n], self.v[:, :, :self.n]


class Arpg(nn.Module):
    """ARPG (hp-l33/ARPG): layers/2 self blocks, a shared k/v projection, layers/2 cross blocks with mask-token queries."""

    def __init__(self, d, layers, h, vocab=16384, classes=1000, grid=16):
        super().__init__()
        hidden = 256 * ((int(2 * 4 * d / 3) + 255) // 256)
        self.d, self.h, self.vocab, self.grid = d, h, vocab, grid
        self.emb = nn.Embedding(vocab + 1 + classes + 2, d)   # tokens, mask, classes, null, spare
        self.selfs = nn.ModuleList(ArpgBlock(d, h, hidden, False) for _ in range(layers // 2))
        self.crosses = nn.ModuleList(ArpgBlock(d, h, hidden, True) for _ in range(layers // 2))
        self.norm_kv, self.k, self.v = rms_norm(d), nn.Linear(d, d, bias=False), nn.Linear(d, d, bias=False)
        self.norm, self.head = rms_norm(d), nn.Linear(d, vocab, bias=False)


@torch.no_grad()
def arpg_generate(model, labels, steps, cfg, dtype):
    """generate() of MODELS.md §5: a random order, arccos reveal, linear CFG on logits, one multinomial draw per token."""
    n, dev, t = labels.shape[0], labels.device, model.grid * model.grid
    rope = Rope2dRows(model.d // model.h, model.grid, dev)
    order = torch.randperm(t, device=dev) + 1
    caches = [KvCache(2 * n, model.h, 1 + t, model.d // model.h, dev, dtype) for _ in range(len(model.selfs) + 1)]
    fed = torch.cat([labels + model.vocab + 1, torch.full_like(labels, model.vocab + 1 + 1000)])[:, None]
    fed_rows, done, tokens = torch.zeros(1, dtype=torch.long, device=dev), 0, torch.zeros(n, t, dtype=torch.long, device=dev)
    for k in range(steps):
        mask_len = max(1, min(t - done - 1, int(t * math.acos((k + 1) / steps) / (math.pi / 2))))
        count = t - done if k == steps - 1 else t - done - mask_len
        targets = order[done:done + count]
        x = model.emb(fed)
        for blk, cache in zip(model.selfs, caches):
            x = blk(x, rope, fed_rows, cache)
        a = model.norm_kv(x)
        caches[-1].append(rope(heads(model.k(a), model.h), fed_rows), heads(model.v(a), model.h))
        q = model.emb(torch.full((2 * n, count), model.vocab, device=dev))
        for blk in model.crosses:
            q = blk(q, rope, targets, caches[-1])
        logits = model.head(model.norm(q)).float()
        done += count
        w = 1 + (cfg - 1) * done / t
        guided = logits[n:] + (logits[:n] - logits[n:]) * w
        drawn = torch.multinomial(torch.softmax(guided.reshape(-1, model.vocab), -1), 1).reshape(n, count)
        tokens[:, targets - 1] = drawn
        fed, fed_rows = torch.cat([drawn, drawn]), targets
    return tokens


# ----------------------------------------------------------------------------------------------------- presets and timing

def build(name, tiny, device, dtype):
    if name == "arpg-l":
        m = Arpg(64, 4, 4, vocab=64, grid=4) if tiny else Arpg(1024, 24, 16)
        return m.to(device, dtype).eval()
    if name == "dit-xl-2":
        m = DiT(32, 2, 2, side=8) if tiny else DiT(1152, 28, 16)
        return m.to(device, dtype).eval()
    scales = [1, 2, 4] if tiny else [1, 2, 4, 8, 16]
    m = FlowArModel(64, 1, 1, 4, 2, 64, scales) if tiny else FlowArModel(1024, 8, 8, 16, 12, 1024, scales)
    return m.to(device, dtype).eval()


def generate(name, model, labels, tiny, dtype, warmup=False):
    """One generation; warmup=True runs every code path with fewer steps (as ecar compare's warm-up: DiT 5 steps,
    FlowAR 2 a stage, ECAR 1 a stage), enough for the kernels' first-call costs at this batch; ARPG's is whole."""
    if name == "dit-xl-2":
        steps = 4 if tiny else 250
        return dit_generate(model, labels, min(5, steps) if warmup else steps, 1.5, dtype)
    if name == "arpg-l":
        # the warm-up is the whole generation: the query length changes at every step (the arccos reveal), and a shorter
        # one would leave the timed run to meet most of its shapes for the first time (first-call costs: library plans,
        # autotuning). On the H100 of 2026-11-27 the 8-step warm-up gave 9.5 s at batch 1, which this replaces.
        steps = 4 if tiny else 64
        return arpg_generate(model, labels, steps, 5.0, dtype)
    stages = len(model.scales)
    if name == "ecar-l":
        steps = 1 if warmup else 2 if tiny else 5
        return flowar_generate(model, labels, [steps] * stages, 2.4, dtype, ecar=True)
    steps = 2 if warmup else 4 if tiny else 25
    return flowar_generate(model, labels, [steps] * stages, 2.4, dtype, ecar=False)


def compile_blocks(model):
    """torch.compile on every block (each member of a ModuleList): the blocks are where the work is, while the samplers'
    Python loops and KV-cache bookkeeping stay eager, as in the official code."""
    if not hasattr(torch, "compile"):
        raise SystemExit("--compile needs torch >= 2.0 (this is %s)" % torch.__version__)
    for module in list(model.modules()):
        if isinstance(module, nn.ModuleList):
            for i in range(len(module)):
                module[i] = torch.compile(module[i])
    return model


def timed(fn, device):
    if device == "cuda":
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        out = fn()
        b.record()
        b.synchronize()
        return a.elapsed_time(b), out
    t0 = time.perf_counter()
    out = fn()
    return (time.perf_counter() - t0) * 1e3, out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="dit-xl-2,flowar-l,ecar-l,arpg-l")
    ap.add_argument("--batch", default="1,64", help="comma-separated batch sizes")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    ap.add_argument("--tiny", action="store_true", help="tiny configs and few steps: checks that the script runs")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--compile", action="store_true", help="torch.compile every block (the peer for ecar's ≥1.5× torch.compile target)")
    ap.add_argument("--quick", action="store_true",
                    help="a short warm-up (a few steps) and one timed run, as tools/gpu_session.sh needs on a short GPU visit")
    args = ap.parse_args()
    if args.quick:
        args.repeats = 1
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("no CUDA device visible to torch; use --device cpu --tiny to check the script")
    dtype = torch.bfloat16 if args.device == "cuda" else torch.float32
    torch.manual_seed(args.seed)
    where = torch.cuda.get_device_name(0) if args.device == "cuda" else "cpu"
    mode = "torch.compile (blocks)" if args.compile else "eager"
    print(f"torch {torch.__version__}, {where}, {dtype}, {mode}, {'tiny configs' if args.tiny else '256x256'}")
    for name in args.models.split(","):
        model = build(name, args.tiny, args.device, dtype)
        if args.compile:
            model = compile_blocks(model)
        for b in map(int, args.batch.split(",")):
            labels = torch.randint(0, 1000, (b,), device=args.device)
            if args.device == "cuda":
                torch.cuda.reset_peak_memory_stats()                        # the peak of this (model, batch) alone
            # warm-up; with --compile a whole generation, so that every shape is compiled before the timed runs
            generate(name, model, labels, args.tiny, dtype, warmup=args.quick and not args.compile)
            times = [timed(lambda: generate(name, model, labels, args.tiny, dtype), args.device)[0] for _ in range(args.repeats)]
            ms = statistics.median(times)
            extra = f", peak {torch.cuda.max_memory_allocated() / 2**30:.2f} GiB" if args.device == "cuda" else ""
            print(f"[pipeline {name} batch {b}] {ms:.1f} ms per generation, {ms / b:.2f} ms per image, "
                  f"{1e3 * b / ms:.2f} images/s (median of {args.repeats}){extra}", flush=True)
        del model
        if args.device == "cuda":
            torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
