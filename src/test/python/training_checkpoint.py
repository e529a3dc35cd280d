#!/usr/bin/env python3
"""Writes a checkpoint the way a training script saves it, from a safetensors file of weights: the inputs of the
tests of tools/convert_checkpoint.py (ConvertCheckpointTest). Needs torch.

    training_checkpoint.py LAYOUT WEIGHTS.safetensors OUT.pt [MARKER]

Layouts (the weights are the EMA's; "model" holds them plus one, so a test sees which was taken):
  dit            DiT's train.py: {"model", "ema", "opt" (AdamW's state dict), "args" (argparse.Namespace)}
  flowar         FlowAR's util/misc.save_model: {"model", "model_ema", "optimizer", "epoch", "scaler", "args"}
  flowar-no-ema  the same, saved by a run without EMA: "model_ema": None
  hostile        a plain state dict beside an object whose unpickling would create the file MARKER
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "tools"))
from convert_checkpoint import read_safetensors  # noqa: E402


class Hostile:
    """Unpickling this runs a shell command: what a safe reader must refuse."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, ("touch %s" % self.marker,))


def weights(path):
    return {n: torch.frombuffer(bytearray(t.data), dtype=torch.float32).reshape(t.shape).clone()
            for n, t in read_safetensors(path).items()}


def optimizer_state(state):
    """AdamW's state dict after one step over parameters of these shapes: tensors, and Python floats in param_groups."""
    params = [torch.nn.Parameter(t.clone()) for t in list(state.values())[:4]]
    opt = torch.optim.AdamW(params, lr=1e-4, betas=(0.9, 0.95), weight_decay=0.02)
    for p in params:
        p.grad = torch.ones_like(p)
    opt.step()
    return opt.state_dict()


def main():
    layout, src, dst = sys.argv[1], sys.argv[2], sys.argv[3]
    ema = weights(src)
    model = {n: t + 1 for n, t in ema.items()}
    if layout == "dit":
        ckpt = {"model": model, "ema": ema, "opt": optimizer_state(ema),
                "args": argparse.Namespace(model="DiT-S/8", image_size=512, num_classes=10, epochs=1400, global_batch_size=256)}
    elif layout in ("flowar", "flowar-no-ema"):
        ckpt = {"model": model, "model_ema": ema if layout == "flowar" else None, "optimizer": optimizer_state(ema), "epoch": 7,
                "scaler": {"scale": 65536.0, "growth_factor": 2.0, "backoff_factor": 0.5, "growth_interval": 2000, "_growth_tracker": 5},
                "args": argparse.Namespace(model="flowar_large", diffloss_d=1, diffloss_w=128, blr=5e-05, lr=1.25e-05)}
    elif layout == "hostile":
        ckpt = {"model": ema, "extra": Hostile(sys.argv[4])}
    else:
        sys.exit("unknown layout " + layout)
    torch.save(ckpt, dst)


if __name__ == "__main__":
    main()
