#!/usr/bin/env python3
"""Turn official PyTorch checkpoints into an ecar model directory (docs/MODEL_DIRECTORY.md).

    # DiT-XL/2 with the SD f8 VAE (diffusers' sd-vae-ft-ema)
    python3 tools/convert_checkpoint.py --model dit-xl-2 --weights DiT-XL-2-256x256.pt \
        --vae sd-vae-ft-ema/diffusion_pytorch_model.bin --out models/dit-xl-2
    # FlowAR-L's weights sampled with the ECAR schedule, MAR's KL-16 VAE
    python3 tools/convert_checkpoint.py --model ecar-l --weights flowar_l.pth --ema --vae kl16.ckpt --out models/ecar-l
    # LlamaGen's VQ-16 tokenizer (ARPG's decoder), alone: writes models/arpg-l/vae.safetensors
    python3 tools/convert_checkpoint.py --vq vq_ds16_c2i.pt --out models/arpg-l
    # ARPG-L (arpg_300m.pt; arpg_700m.pt is arpg-xl, arpg_1b.pt arpg-xxl) with its VQ-16 decoder
    python3 tools/convert_checkpoint.py --model arpg-l --weights arpg_300m.pt --vq vq_ds16_c2i.pt --out models/arpg-l

The generator's tensors keep the reference code's names (a "module." prefix from DDP is removed). The VAE's
decoder tensors are written under LDM's names: diffusers' names (decoder.mid_block..., decoder.up_blocks...,
numbered from the coarsest) are mapped onto LDM's tree and its Linear attention projections [C, C] become
the 1x1 convolutions [C, C, 1, 1] they are; encoder, quant_conv and loss tensors are dropped. The Java loader
(ecar.vae.VaeKeys) reads either style; this script makes the directory self-describing. A LlamaGen VQ
tokenizer (--vq) keeps LlamaGen's names, which the Java VQ decoder asks for: decoder.*, post_quant_conv.* and
the codebook quantize.embedding.weight; the encoder, quant_conv and the codebook_used training buffer go.

Inputs may be .safetensors (read here without torch) or pickled checkpoints (.pt, .pth, .ckpt, .bin: these
need torch). Tensors keep their dtype (F32, F16, BF16; integer buffers as I64).
"""
import argparse
import json
import os
import re
import struct
import sys

DTYPE_SIZE = {"F32": 4, "F16": 2, "BF16": 2, "I64": 8, "F64": 8, "I32": 4}
VAE_OF_FAMILY = {"dit": "sd-f8", "flowar": "kl16", "ecar": "kl16", "arpg": "vq16"}


class Tensor:
    """A tensor as raw little-endian bytes: all this script needs to rename and reshape."""

    def __init__(self, dtype, shape, data):
        self.dtype, self.shape, self.data = dtype, list(shape), data
        n = 1
        for d in self.shape:
            n *= d
        if n * DTYPE_SIZE[dtype] != len(data):
            raise ValueError("tensor of %s %s has %d bytes" % (dtype, shape, len(data)))


def read_safetensors(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        base = 8 + n
        out = {}
        for name, e in header.items():
            if name == "__metadata__":
                continue
            start, end = e["data_offsets"]
            f.seek(base + start)
            out[name] = Tensor(e["dtype"], e["shape"], f.read(end - start))
        return out


def read_torch(path, ema, trusted=False):
    import pickle
    try:
        import torch  # only pickled checkpoints need it
    except ImportError:
        sys.exit("convert_checkpoint: %s is a pickled checkpoint, which needs torch, and %s has none "
                 "(pip install torch, apt-get install python3-torch, or run the script with a python that has it)" % (path, sys.executable))

    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=not trusted)
    except TypeError:  # torch < 1.13 has no weights_only
        ckpt = torch.load(path, map_location="cpu")
    except pickle.UnpicklingError as e:
        sys.exit("convert_checkpoint: %s holds Python objects besides tensors (LlamaGen's training checkpoints keep their "
                 "argparse arguments), which torch will not unpickle safely (%s). If the file comes from a source you "
                 "trust, rerun with --trust-checkpoint." % (path, str(e).strip().splitlines()[0]))
    state = ckpt
    if isinstance(ckpt, dict):
        if ema and "model_ema" in ckpt:
            state = ckpt["model_ema"]
        elif ema and "ema" in ckpt:
            state = ckpt["ema"]
        elif "model" in ckpt and isinstance(ckpt["model"], dict):
            state = ckpt["model"]
        elif "state_dict" in ckpt:
            state = ckpt["state_dict"]
    return torch_state(state, path)


def torch_state(state, path):
    """The tensors of a torch state dict as raw tensors (non-tensor entries skipped)."""
    import torch
    out = {}
    for name, t in state.items():
        if not hasattr(t, "dtype"):
            continue
        t = t.detach().cpu().contiguous()
        if t.dtype == torch.float32:
            out[name] = Tensor("F32", t.shape, t.numpy().tobytes())
        elif t.dtype in (torch.float16, torch.bfloat16):
            out[name] = Tensor("F16" if t.dtype == torch.float16 else "BF16", t.shape, t.view(torch.int16).numpy().tobytes())
        elif t.dtype == torch.float64:
            out[name] = Tensor("F32", t.shape, t.float().numpy().tobytes())
        elif t.dtype in (torch.int64, torch.int32):
            out[name] = Tensor("I64", t.shape, t.long().numpy().tobytes())
        else:
            raise ValueError("%s: tensor %s has dtype %s, expected a float or integer tensor" % (path, name, t.dtype))
    return out


def read(path, ema=False, trusted=False):
    if not os.path.isfile(path):
        sys.exit("convert_checkpoint: %s does not exist" % path)
    if path.endswith(".safetensors"):
        return read_safetensors(path)
    return read_torch(path, ema, trusted)


def write_safetensors(path, tensors, metadata):
    header, offset = {"__metadata__": metadata}, 0
    for name in sorted(tensors):
        t = tensors[name]
        header[name] = {"dtype": t.dtype, "shape": t.shape, "data_offsets": [offset, offset + len(t.data)]}
        offset += len(t.data)
    blob = json.dumps(header, separators=(",", ":")).encode()
    blob += b" " * (-len(blob) % 8)
    tmp = path + ".part"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(blob)))
        f.write(blob)
        for name in sorted(tensors):
            f.write(tensors[name].data)
    os.replace(tmp, path)


# ---------------------------------------------------------------- VAE key names (as ecar.vae.VaeKeys)

ATTENTION = {"group_norm": "norm", "to_q": "q", "to_k": "k", "to_v": "v", "to_out.0": "proj_out",
             "query": "q", "key": "k", "value": "v", "proj_attn": "proj_out"}


CODEBOOK = "quantize.embedding.weight"


def decodes(name):
    return name.startswith("decoder.") or name.startswith("post_quant_conv.") or name == CODEBOOK


def is_diffusers(names):
    return any(n.startswith("decoder.mid_block.") or n.startswith("decoder.up_blocks.") for n in names)


def resnet_part(s):
    return "nin_shortcut." + s[len("conv_shortcut."):] if s.startswith("conv_shortcut.") else s


def attention_part(s):
    module, param = s.rsplit(".", 1)
    return ATTENTION.get(module, module) + "." + param


def diffusers_to_ldm(name, levels):
    """A diffusers decoder name in LDM's tree; None for tensors decoding does not use."""
    if not decodes(name):
        return None
    if name.startswith("decoder.conv_norm_out."):
        return "decoder.norm_out." + name[len("decoder.conv_norm_out."):]
    if name.startswith("decoder.mid_block."):
        rest = name[len("decoder.mid_block."):]
        m = re.match(r"^resnets\.(\d+)\.(.*)$", rest)
        if m:
            return "decoder.mid.block_%d.%s" % (int(m.group(1)) + 1, resnet_part(m.group(2)))
        if rest.startswith("attentions.0."):
            return "decoder.mid.attn_1." + attention_part(rest[len("attentions.0."):])
        return name
    m = re.match(r"^decoder\.up_blocks\.(\d+)\.(.*)$", name)
    if m:
        level, rest = levels - 1 - int(m.group(1)), m.group(2)
        r = re.match(r"^resnets\.(\d+)\.(.*)$", rest)
        if r:
            return "decoder.up.%d.block.%s.%s" % (level, r.group(1), resnet_part(r.group(2)))
        if rest.startswith("upsamplers.0.conv."):
            return "decoder.up.%d.upsample.conv.%s" % (level, rest[len("upsamplers.0.conv."):])
        a = re.match(r"^attentions\.(\d+)\.(.*)$", rest)
        if a:
            return "decoder.up.%d.attn.%s.%s" % (level, a.group(1), attention_part(a.group(2)))
    return name


def vae_decoder(tensors):
    """The decoder's tensors under LDM names, attention projections as 1x1 convolutions."""
    names = list(tensors)
    if not is_diffusers(names):
        return {n: t for n, t in tensors.items() if decodes(n)}
    ups = [int(m.group(1)) for m in (re.match(r"^decoder\.up_blocks\.(\d+)\.", n) for n in names) if m]
    levels = max(ups) + 1
    out = {}
    for n, t in tensors.items():
        ldm = diffusers_to_ldm(n, levels)
        if ldm is None:
            continue
        if ".attn" in ldm and ldm.endswith(".weight") and len(t.shape) == 2 and not ldm.split(".")[-2] == "norm":
            t = Tensor(t.dtype, t.shape + [1, 1], t.data)
        out[ldm] = t
    return out


def vq_decoder(tensors, path):
    """A LlamaGen VQModel's decoding tensors under its own names (as ecar.vae's VQ decoder asks for them)."""
    out = {n: t for n, t in tensors.items() if decodes(n)}
    if CODEBOOK not in out or not any(n.startswith("decoder.conv_blocks.") for n in out):
        sys.exit("convert_checkpoint: %s is not a LlamaGen VQ tokenizer: expected %s and decoder.conv_blocks.* "
                 "(found %d decoder tensors%s)" % (path, CODEBOOK, len(out), ", no codebook" if CODEBOOK not in out else ""))
    return out


def arpg_generator(path, trusted):
    """ARPG's transformer (hp-l33/ARPG): the state dict under "model", "module" or "state_dict", looked for in that
    order as the official sample_c2i_ddp.py does, under the reference's names (embeddings, layers.self_dec.N,
    layers.cross_dec.N, layers.norm, layers.to_k, layers.to_v, norm, head)."""
    if path.endswith(".safetensors"):
        return generator(read(path))
    if not os.path.isfile(path):
        sys.exit("convert_checkpoint: %s does not exist" % path)
    try:
        import torch  # only pickled checkpoints need it
    except ImportError:
        sys.exit("convert_checkpoint: %s is a pickled checkpoint, which needs torch, and %s has none "
                 "(pip install torch, apt-get install python3-torch, or run the script with a python that has it)" % (path, sys.executable))
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=not trusted)
    except TypeError:  # torch < 1.13 has no weights_only
        ckpt = torch.load(path, map_location="cpu")
    state = None
    if isinstance(ckpt, dict):
        for key in ("model", "module", "state_dict"):
            if isinstance(ckpt.get(key), dict):
                state = ckpt[key]
                break
    if state is None:
        sys.exit("convert_checkpoint: %s holds no ARPG state dict under \"model\", \"module\" or \"state_dict\" (found %s); "
                 "an FSDP checkpoint is the state dict itself: load and save it under \"model\" first"
                 % (path, sorted(ckpt)[:8] if isinstance(ckpt, dict) else type(ckpt).__name__))
    t = generator(torch_state(state, path))
    if "embeddings.weight" not in t or not any(n.startswith("layers.self_dec.") for n in t):
        sys.exit("convert_checkpoint: %s is not an ARPG checkpoint: expected embeddings.weight and layers.self_dec.* (found %d tensors)"
                 % (path, len(t)))
    return t


def generator(tensors):
    return {(n[len("module."):] if n.startswith("module.") else n): t for n, t in tensors.items()}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", help="preset whose architecture the weights have (dit-xl-2, flowar-l, ecar-l, ...)")
    ap.add_argument("--weights", help="the generator's checkpoint")
    ap.add_argument("--ema", action="store_true", help="take the EMA weights when the checkpoint has them")
    ap.add_argument("--vae", help="the VAE's checkpoint (kl16.ckpt, sd-vae-ft-ema's diffusion_pytorch_model.bin/.safetensors)")
    ap.add_argument("--vq", help="a LlamaGen VQ tokenizer's checkpoint (vq_ds16_c2i.pt: state dict under \"model\" or plain)")
    ap.add_argument("--trust-checkpoint", action="store_true",
                    help="unpickle Python objects besides tensors (training checkpoints' arguments); only for trusted files")
    ap.add_argument("--vae-name", help="kl16, sd-f8 or vq16 (default: by the model's family; vq16 with --vq)")
    ap.add_argument("--out", required=True, help="model directory to write")
    a = ap.parse_args(argv)
    if not a.weights and not a.vae and not a.vq:
        ap.error("nothing to convert: give --weights and/or --vae or --vq")
    if a.vae and a.vq:
        ap.error("--vae and --vq both write vae.safetensors: give one decoder")
    if a.weights and not a.model:
        ap.error("--weights needs --model (the architecture, e.g. dit-xl-2)")
    os.makedirs(a.out, exist_ok=True)
    if a.weights:
        if a.model.split("-")[0] == "arpg":
            t = arpg_generator(a.weights, a.trust_checkpoint)
        else:
            t = generator(read(a.weights, a.ema, a.trust_checkpoint))
        write_safetensors(os.path.join(a.out, "model.safetensors"), t, {"source": os.path.basename(a.weights)})
        print("model.safetensors: %d tensors from %s" % (len(t), a.weights))
    if a.vae:
        t = vae_decoder(read(a.vae, trusted=a.trust_checkpoint))
        if not t:
            sys.exit("convert_checkpoint: %s holds no decoder tensors (decoder.*, post_quant_conv.*)" % a.vae)
        write_safetensors(os.path.join(a.out, "vae.safetensors"), t, {"source": os.path.basename(a.vae)})
        print("vae.safetensors: %d decoder tensors from %s" % (len(t), a.vae))
    if a.vq:
        t = vq_decoder(read(a.vq, trusted=a.trust_checkpoint), a.vq)
        write_safetensors(os.path.join(a.out, "vae.safetensors"), t, {"source": os.path.basename(a.vq)})
        print("vae.safetensors: %d VQ decoder tensors (codebook %s) from %s" % (len(t), "x".join(map(str, t[CODEBOOK].shape)), a.vq))
    if a.model:
        family = a.model.split("-")[0]
        vae = a.vae_name or ("vq16" if a.vq else VAE_OF_FAMILY.get(family))
        config = {"model": a.model}
        if vae:
            config["vae"] = vae
        with open(os.path.join(a.out, "config.json"), "w") as f:
            json.dump(config, f, indent=2)
            f.write("\n")
        print("config.json: %s" % json.dumps(config))


if __name__ == "__main__":
    main()
