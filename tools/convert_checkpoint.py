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

The generator's tensors keep the reference code's names (a "module." prefix from DDP is removed). Training
checkpoints are read too: DiT's train.py {"model", "ema", "opt", "args"} gives "ema" (as DiT's find_model takes it),
FlowAR's {"model", "model_ema", "optimizer", "epoch", "scaler", "args"} gives "model_ema" with --ema and "model"
without. Pickled files are read by safe_checkpoint.py, which builds tensors and plain data only (argparse arguments
become dicts) and refuses anything else by name; --trust-checkpoint unpickles with torch.load instead.

config.json gets the preset named by --model (the family and its sampling) and, for DiT and FlowAR/ECAR, every
architecture number the weights determine (infer_config.py: image size, widths, depths, heads where the weights
tell, classes, learn_sigma, the flow head's width, depth and version) under "architecture", and the decoder the
VAE's tensors are ("kl16", "sd-f8", "vq16", or an object of its settings). Numbers the weights do not fix are
printed as notes.

The VAE's decoder tensors are written under LDM's names: diffusers' names (decoder.mid_block...,
decoder.up_blocks..., numbered from the coarsest) are mapped onto LDM's tree and its Linear attention projections
[C, C] become the 1x1 convolutions [C, C, 1, 1] they are; encoder, quant_conv and loss tensors are dropped. The Java
loader (ecar.vae.VaeKeys) reads either style; this script makes the directory self-describing. A LlamaGen VQ
tokenizer (--vq) keeps LlamaGen's names, which the Java VQ decoder asks for: decoder.*, post_quant_conv.* and
the codebook quantize.embedding.weight; the encoder, quant_conv and the codebook_used training buffer go.

Everything is written to a hidden folder beside --out and moved there at the end: a failed conversion leaves no
half-made model directory. Inputs may be .safetensors (read here without torch) or pickled checkpoints (.pt, .pth,
.ckpt, .bin: these need torch). Tensors keep their dtype (F32, F16, BF16; integer buffers as I64).
"""
import argparse
import json
import os
import re
import shutil
import struct
import sys
import tempfile

import infer_config

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


def load_pickled(path, trusted):
    """A pickled checkpoint's object tree. By default safe_checkpoint reads it: tensors, numbers, strings, containers and
    argparse arguments (as dicts), nothing that runs code; --trust-checkpoint unpickles it fully with torch.load."""
    try:
        import torch  # noqa: F401  (pickled checkpoints hold torch tensors)
    except ImportError:
        sys.exit("convert_checkpoint: %s is a pickled checkpoint, which needs torch, and %s has none "
                 "(pip install torch, apt-get install python3-torch, or run the script with a python that has it)" % (path, sys.executable))
    if trusted:
        try:
            return torch.load(path, map_location="cpu", weights_only=False)
        except TypeError:  # torch < 1.13 has no weights_only
            return torch.load(path, map_location="cpu")
    import pickle
    import zipfile
    import safe_checkpoint
    try:
        return safe_checkpoint.load(path)
    except (pickle.UnpicklingError, zipfile.BadZipFile, EOFError) as e:
        sys.exit("convert_checkpoint: %s: %s. If the file comes from a source you trust, rerun with --trust-checkpoint "
                 "(it unpickles everything in the file, which can run code)." % (path, str(e).strip().splitlines()[0]))


def is_state_dict(obj):
    return isinstance(obj, dict) and bool(obj) and all(hasattr(v, "dtype") for v in obj.values())


def entry(ckpt, key, path):
    """ckpt[key] as a state dict, or a clear stop."""
    state = ckpt[key]
    if state is None:
        sys.exit("convert_checkpoint: %s holds \"%s\": None (the training run kept no such weights)%s"
                 % (path, key, "; drop --ema to convert \"model\"" if key == "model_ema" else ""))
    if not isinstance(state, dict):
        sys.exit("convert_checkpoint: %s: \"%s\" is a %s, not a state dict of tensors" % (path, key, type(state).__name__))
    return state


def generator_state(ckpt, path, ema):
    """The generator's state dict in a checkpoint, and where it was found. A plain state dict is itself; DiT's
    train.py checkpoint {"model", "ema", "opt", "args"} gives "ema", as DiT's find_model takes it; FlowAR's
    {"model", "model_ema", "optimizer", "epoch", "scaler", "args"} gives "model_ema" with --ema, else "model"."""
    if is_state_dict(ckpt):
        return ckpt, "the file's state dict" + (" (--ema: the file holds one set of weights)" if ema else "")
    if not isinstance(ckpt, dict):
        sys.exit("convert_checkpoint: %s holds a %s, not a state dict or a training checkpoint" % (path, type(ckpt).__name__))
    if "ema" in ckpt:
        return entry(ckpt, "ema", path), "\"ema\" (as DiT's find_model takes it)"
    if ema:
        if "model_ema" in ckpt:
            return entry(ckpt, "model_ema", path), "\"model_ema\" (--ema)"
        sys.exit("convert_checkpoint: --ema, but %s holds no EMA weights (\"model_ema\" or \"ema\"; its entries: %s): drop --ema "
                 "to convert \"model\"" % (path, ", ".join(sorted(map(str, ckpt)))))
    for key in ("model", "state_dict", "module"):
        if key in ckpt:
            return entry(ckpt, key, path), "\"%s\"" % key
    sys.exit("convert_checkpoint: %s holds no state dict under \"ema\", \"model_ema\", \"model\", \"state_dict\" or \"module\" "
             "(its entries: %s)" % (path, ", ".join(sorted(map(str, ckpt)))))


def decoder_state(ckpt, path):
    """A VAE or VQ tokenizer's state dict: under "model" (MAR's kl16.ckpt, LlamaGen's tokenizers), "state_dict" (LDM's),
    or the file itself (diffusers')."""
    if isinstance(ckpt, dict) and not is_state_dict(ckpt):
        for key in ("model", "state_dict"):
            if isinstance(ckpt.get(key), dict):
                return ckpt[key]
    if not isinstance(ckpt, dict):
        sys.exit("convert_checkpoint: %s holds a %s, not a state dict" % (path, type(ckpt).__name__))
    return ckpt


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


def read(path, ema=False, trusted=False, role="decoder"):
    """The tensors of a checkpoint: a generator's (role "generator": EMA weights as generator_state picks them) or a
    decoder's."""
    return checkpoint_tensors(path, ema, trusted, role)[0]


def checkpoint_tensors(path, ema, trusted, role):
    """As read, with where in the file the tensors were found (for the script's report)."""
    if not os.path.isfile(path):
        sys.exit("convert_checkpoint: %s does not exist" % path)
    if path.endswith(".safetensors"):
        return read_safetensors(path), "the safetensors file"
    ckpt = load_pickled(path, trusted)
    if role == "generator":
        state, where = generator_state(ckpt, path, ema)
    else:
        state, where = decoder_state(ckpt, path), "its state dict"
    return torch_state(state, path), where


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


def generator(tensors):
    return {(n[len("module."):] if n.startswith("module.") else n): t for n, t in tensors.items()}


# --model's family → the weights' family (ECAR samples FlowAR's weights with its own schedule)
WEIGHTS_FAMILY = {"dit": "dit", "flowar": "flowar", "ecar": "flowar"}


def architecture(model, tensors, path):
    """config.json's "image_size" and "architecture" read from a DiT or FlowAR generator's tensors ({} for other
    families, whose configs keep the preset's numbers), and notes on the numbers the weights do not fix."""
    if model.split("-")[0] == "arpg" and ("embeddings.weight" not in tensors or not any(n.startswith("layers.self_dec.") for n in tensors)):
        sys.exit("convert_checkpoint: %s is not an ARPG checkpoint: expected embeddings.weight and layers.self_dec.* (found %d tensors)"
                 % (path, len(tensors)))
    family = WEIGHTS_FAMILY.get(model.split("-")[0])
    if family is None:
        return {}, []
    found = infer_config.family_of(tensors)
    if found != family:
        what = {"dit": "DiT (x_embedder.proj.weight, y_embedder.embedding_table.weight)",
                "flowar": "FlowAR (class_emb.weight, flownet.*)"}
        sys.exit("convert_checkpoint: --model %s expects %s weights, but %s holds %s" % (
            model, what[family], path, ("%s weights" % what[found]) if found else "neither (%d tensors, e.g. %s)" % (
                len(tensors), ", ".join(sorted(tensors)[:4]))))
    try:
        numbers, notes = infer_config.dit(tensors) if family == "dit" else infer_config.flowar(tensors)
    except ValueError as e:
        sys.exit("convert_checkpoint: %s: %s" % (path, e))
    preset = infer_config.dit_preset_numbers(model) if family == "dit" else infer_config.flowar_preset_numbers(model)
    differ = ["%s %s (%s: %s)" % (k, numbers[k], model, v) for k, v in sorted((preset or {}).items()) if numbers[k] != v]
    if differ:
        notes.append("the weights are not %s's: %s; config.json records the weights' numbers" % (model, ", ".join(differ)))
    return {"image_size": infer_config.image_size(family, numbers), "architecture": numbers}, notes


def decoder_name(a, family, vae_tensors):
    """config.json's "vae": --vae-name, else what the converted decoder's tensors are, else the family's decoder."""
    if a.vae_name:
        return a.vae_name, []
    if vae_tensors is not None:
        try:
            return infer_config.vae(vae_tensors, family)
        except ValueError as e:
            sys.exit("convert_checkpoint: %s: %s" % (a.vae or a.vq, e))
    return VAE_OF_FAMILY.get(family), []


class StagedOutput:
    """The files of one conversion, written to a hidden folder beside --out and moved there only when all are written:
    a conversion that fails leaves no half-made model directory (and an existing one as it was)."""

    def __init__(self, out):
        if os.path.exists(out) and not os.path.isdir(out):
            sys.exit("convert_checkpoint: --out %s is a file, not a folder" % out)
        self.out = out
        parent = os.path.dirname(os.path.abspath(out))
        os.makedirs(parent, exist_ok=True)
        self.work = tempfile.mkdtemp(prefix="." + os.path.basename(os.path.abspath(out)) + ".", suffix=".part", dir=parent)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(self.work, 0o777 & ~umask)   # a model directory as os.makedirs would make it, not mkdtemp's 0700

    def path(self, name):
        return os.path.join(self.work, name)

    def __enter__(self):
        return self

    def __exit__(self, kind, value, trace):
        if kind is not None:
            shutil.rmtree(self.work, ignore_errors=True)
            return False
        if not os.path.exists(self.out):
            os.rename(self.work, self.out)
            return False
        for name in os.listdir(self.work):   # into an existing directory: each file replaced whole
            os.replace(os.path.join(self.work, name), os.path.join(self.out, name))
        os.rmdir(self.work)
        return False


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", help="preset whose family and sampling the weights take (dit-xl-2, flowar-l, ecar-l, ...); "
                                    "the architecture's numbers are read from the weights")
    ap.add_argument("--weights", help="the generator's checkpoint")
    ap.add_argument("--ema", action="store_true", help="take \"model_ema\" from a FlowAR training checkpoint (DiT's \"ema\" is always taken)")
    ap.add_argument("--vae", help="the VAE's checkpoint (kl16.ckpt, sd-vae-ft-ema's diffusion_pytorch_model.bin/.safetensors)")
    ap.add_argument("--vq", help="a LlamaGen VQ tokenizer's checkpoint (vq_ds16_c2i.pt: state dict under \"model\" or plain)")
    ap.add_argument("--trust-checkpoint", action="store_true",
                    help="unpickle everything in the checkpoint with torch.load (objects the safe reader refuses); only for trusted files")
    ap.add_argument("--vae-name", help="kl16, sd-f8 or vq16 (default: what --vae/--vq holds, else by the model's family)")
    ap.add_argument("--out", required=True, help="model directory to write")
    a = ap.parse_args(argv)
    if not a.weights and not a.vae and not a.vq:
        ap.error("nothing to convert: give --weights and/or --vae or --vq")
    if a.vae and a.vq:
        ap.error("--vae and --vq both write vae.safetensors: give one decoder")
    if a.weights and not a.model:
        ap.error("--weights needs --model (the family and sampling, e.g. dit-xl-2)")
    family = a.model.split("-")[0] if a.model else None
    with StagedOutput(a.out) as out:
        numbers, notes = {}, []
        if a.weights:
            t, where = checkpoint_tensors(a.weights, a.ema, a.trust_checkpoint, "generator")
            t = generator(t)
            numbers, notes = architecture(a.model, t, a.weights)
            write_safetensors(out.path("model.safetensors"), t, {"source": os.path.basename(a.weights)})
            print("model.safetensors: %d tensors from %s, %s" % (len(t), a.weights, where))
        decoder = None
        if a.vae:
            decoder = vae_decoder(read(a.vae, trusted=a.trust_checkpoint))
            if not decoder:
                sys.exit("convert_checkpoint: %s holds no decoder tensors (decoder.*, post_quant_conv.*)" % a.vae)
            write_safetensors(out.path("vae.safetensors"), decoder, {"source": os.path.basename(a.vae)})
            print("vae.safetensors: %d decoder tensors from %s" % (len(decoder), a.vae))
        if a.vq:
            decoder = vq_decoder(read(a.vq, trusted=a.trust_checkpoint), a.vq)
            write_safetensors(out.path("vae.safetensors"), decoder, {"source": os.path.basename(a.vq)})
            print("vae.safetensors: %d VQ decoder tensors (codebook %s) from %s" % (len(decoder), "x".join(map(str, decoder[CODEBOOK].shape)), a.vq))
        if a.model:
            vae, vae_notes = decoder_name(a, family, decoder)
            config = {"model": a.model}
            if vae:
                config["vae"] = vae
            config.update(numbers)
            with open(out.path("config.json"), "w") as f:
                json.dump(config, f, indent=2)
                f.write("\n")
            print("config.json: %s" % json.dumps(config))
            for note in notes + vae_notes:
                print("  note: " + note)


if __name__ == "__main__":
    main()
