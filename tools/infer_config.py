"""The architecture numbers a checkpoint's tensors determine, for config.json (docs/MODEL_DIRECTORY.md).

Each function takes {name: tensor with .shape} under the reference code's names and returns (numbers, notes): the
numbers under the names the Java loader reads ("architecture" of config.json: DiT's constructor arguments, the
FlowAR fixtures' names), and one line per number the weights do not fix, saying where its value came from.
A checkpoint that contradicts itself raises ValueError naming the tensors.
"""
import re

# DiT paper, Table 1: heads of each width (weights do not store the head count: qkv is [3D, D] for any)
DIT_HEADS = {384: 6, 768: 12, 1024: 16, 1152: 16}
DIT_SIZES = {"s": (384, 12), "b": (768, 12), "l": (1024, 24), "xl": (1152, 28)}
# FlowAR's sizes (models/flowar.py flowar_small/large/huge): dim, AR blocks, head depth and width of its scripts
FLOWAR_SIZES = {"s": dict(dim=768, enc_depth=6, head_depth=2, head_width=1024),
                "l": dict(dim=1024, enc_depth=8, head_depth=12, head_width=1024),
                "h": dict(dim=1536, enc_depth=15, head_depth=12, head_width=1536)}
VAE_STRIDE = 16   # FlowAR's KL-16 tokens: one per 16x16 pixels
LATENT_SCALE = {"dit": 0.18215, "flowar": 0.2325, "ecar": 0.2325}


def _shape(t, name):
    if name not in t:
        raise ValueError("no %s in the weights" % name)
    return list(t[name].shape)


def _count(t, pattern):
    """How many blocks: the number of distinct indices N of names matching pattern (with one (\\d+) group)."""
    return len({int(m.group(1)) for m in (re.match(pattern, n) for n in t) if m})


def family_of(t):
    """'dit', 'flowar' or None, by the names only one of them has."""
    if "x_embedder.proj.weight" in t and "y_embedder.embedding_table.weight" in t:
        return "dit"
    if "class_emb.weight" in t and any(n.startswith("flownet.") for n in t):
        return "flowar"
    return None


def dit(t):
    """DiT (facebookresearch/DiT models.py): every number but num_heads, which follows the paper's table by width."""
    notes = []
    d, c, p, p2 = _shape(t, "x_embedder.proj.weight")
    if p != p2:
        raise ValueError("x_embedder.proj.weight %s: patches must be square" % [d, c, p, p2])
    depth = _count(t, r"^blocks\.(\d+)\.attn\.qkv\.weight$")
    hidden, d1 = _shape(t, "blocks.0.mlp.fc1.weight")
    mlp_ratio = hidden / d
    if int(d * mlp_ratio) != hidden:
        raise ValueError("blocks.0.mlp.fc1.weight %s: no mlp_ratio gives int(%d * ratio) = %d" % ([hidden, d1], d, hidden))
    rows, _ = _shape(t, "y_embedder.embedding_table.weight")
    out, _ = _shape(t, "final_layer.linear.weight")
    if out % (p * p) or out // (p * p) not in (c, 2 * c):
        raise ValueError("final_layer.linear.weight has %d rows, not p*p*C (%d) or p*p*2C (%d) for patch %d and %d channels"
                         % (out, p * p * c, 2 * p * p * c, p, c))
    numbers = dict(patch_size=p, in_channels=c, hidden_size=d, depth=depth)
    if "pos_embed" in t:
        tokens = _shape(t, "pos_embed")[1]
        grid = int(round(tokens ** 0.5))
        if grid * grid != tokens:
            raise ValueError("pos_embed holds %d tokens, not a square grid" % tokens)
        numbers["input_size"] = grid * p
    else:
        size = 32
        numbers["input_size"] = size
        notes.append("input_size %d: the weights hold no pos_embed (the sin-cos table is rebuilt), so the latent side is "
                     "the preset's; set \"image_size\" if the model was trained at another" % size)
    heads = DIT_HEADS.get(d)
    if heads is None:
        if d % 64:
            raise ValueError("hidden_size %d is none of the paper's widths (%s) and not a multiple of 64: set num_heads "
                             "in config.json by hand" % (d, sorted(DIT_HEADS)))
        heads = d // 64
        notes.append("num_heads %d: not stored in the weights; hidden_size %d is none of the paper's widths, so heads of 64 "
                     "channels are assumed (edit config.json if the model used others)" % (heads, d))
    else:
        notes.append("num_heads %d: not stored in the weights; the DiT paper's value for width %d" % (heads, d))
    numbers.update(num_heads=heads, mlp_ratio=mlp_ratio, num_classes=rows - 1, learn_sigma=out // (p * p) == 2 * c)
    order = ("input_size", "patch_size", "in_channels", "hidden_size", "depth", "num_heads", "mlp_ratio", "num_classes", "learn_sigma")
    return {k: numbers[k] for k in order}, notes


def dit_preset_numbers(model_name):
    """hidden_size, depth and patch_size of a dit-{s,b,l,xl}-{2,4,8} preset name, or None for another name."""
    m = re.match(r"^dit-(s|b|l|xl)-(2|4|8)$", model_name)
    if not m:
        return None
    width, depth = DIT_SIZES[m.group(1)]
    return dict(hidden_size=width, depth=depth, patch_size=int(m.group(2)))


def _scales(tokens):
    """The stage sides FlowAR uses for a sequence of this many tokens: first side s, doubling, sum of squares = tokens."""
    for first in range(1, 65):
        sides, total, s = [], 0, first
        while total < tokens:
            sides.append(s)
            total += s * s
            s *= 2
        if total == tokens:
            return sides
    return None


def flowar(t):
    """FlowAR (its official models/flowar.py and flowmodel.py): every number but num_classes (the table has 1001 rows
    whatever class_num was)."""
    notes = []
    rows, dim = _shape(t, "class_emb.weight")
    _, token_dim = _shape(t, "z_proj.weight")
    dec_out, dec_in = _shape(t, "decoder_embed.weight")
    if dec_out != dim or dec_in != dim:
        raise ValueError("decoder_embed.weight is %s: an encoder and decoder of different widths (%d) is not supported"
                         % ([dec_out, dec_in], dim))
    tokens = _shape(t, "diffusion_pos_embed_learned")[1]
    scales = _scales(tokens)
    if scales is None:
        raise ValueError("diffusion_pos_embed_learned holds %d tokens: no doubling stage sides add up to it" % tokens)
    enc = _count(t, r"^encoder_blocks\.(\d+)\.attn\.qkv\.weight$")
    dec = _count(t, r"^decoder_blocks\.(\d+)\.attn\.qkv\.weight$")
    rope = "encoder_blocks.0.attn.rope.freqs"
    if rope in t:
        head = 4 * _shape(t, rope)[0]   # VisionRotaryEmbeddingFast(dim=head/2) keeps head/4 frequencies
        if head == 0 or dim % head:
            raise ValueError("%s %s gives AR heads of %d channels, which do not divide the width %d" % (rope, _shape(t, rope), head, dim))
        heads = dim // head
    else:
        heads = 12 if dim == 768 else 16
        notes.append("heads %d: the weights hold no %s (the RoPE frequencies), so FlowAR's count for width %d" % (heads, rope, dim))
    width, _ = _shape(t, "flownet.input_proj.weight")
    head_depth = _count(t, r"^flownet\.res_blocks\.(\d+)\.attn\.qkv\.weight$")
    cross = "flownet.res_blocks.0.crossattn.q.weight" in t
    notes.append("num_classes 1000: FlowAR's class table has 1001 rows whatever its class_num, so the weights do not say")
    return dict(img_size=scales[-1] * VAE_STRIDE, dim=dim, enc_depth=enc, dec_depth=dec, heads=heads, token_dim=token_dim,
                num_classes=1000, head_depth=head_depth, head_width=width, scales=scales, cross=cross), notes


def flowar_preset_numbers(model_name):
    m = re.match(r"^(flowar|ecar)-(s|l|h)$", model_name)
    return dict(FLOWAR_SIZES[m.group(2)]) if m else None


def image_size(family, numbers):
    return numbers["input_size"] * 8 if family == "dit" else numbers["img_size"]


def vae(t, family):
    """The decoder of converted VAE tensors (LDM or LlamaGen names): "kl16", "sd-f8", "vq16", or the object of another
    decoder's settings (an LDM one with the family's latent scale, which the weights do not hold)."""
    notes = []
    if "quantize.embedding.weight" in t:
        codes, width = _shape(t, "quantize.embedding.weight")
        levels = _count(t, r"^decoder\.conv_blocks\.(\d+)\.")
        ch = _shape(t, "decoder.conv_out.weight")[1]   # ch * ch_mult[0], and ch_mult[0] is 1 in LlamaGen's configs
        # LlamaGen numbers conv_blocks from the coarsest level: block k has ch * ch_mult[levels - 1 - k] channels
        ch_mult = [_shape(t, "decoder.conv_blocks.%d.res.0.conv2.weight" % (levels - 1 - i))[0] // ch for i in range(levels)]
        settings = dict(codebook_size=codes, codebook_embed_dim=width, z_channels=_shape(t, "decoder.conv_in.weight")[1], ch=ch,
                        ch_mult=ch_mult, num_res_blocks=_count(t, r"^decoder\.conv_blocks\.0\.res\.(\d+)\.") - 1)
        if settings == dict(codebook_size=16384, codebook_embed_dim=8, z_channels=256, ch=128, ch_mult=[1, 1, 2, 2, 4], num_res_blocks=2):
            return "vq16", notes
        return settings, notes
    z, embed = _shape(t, "post_quant_conv.weight")[:2]
    levels = _count(t, r"^decoder\.up\.(\d+)\.")
    ch = _shape(t, "decoder.conv_out.weight")[1]   # ch * ch_mult[0], and ch_mult[0] is 1 in every LDM config
    ch_mult = [_shape(t, "decoder.up.%d.block.0.conv2.weight" % i)[0] // ch for i in range(levels)]
    res_blocks = _count(t, r"^decoder\.up\.0\.block\.(\d+)\.") - 1
    attention = [i for i in range(levels) if any(n.startswith("decoder.up.%d.attn." % i) for n in t)]
    settings = dict(ch=ch, ch_mult=ch_mult, num_res_blocks=res_blocks, z_channels=z, embed_dim=embed)
    if not attention and settings == dict(ch=128, ch_mult=[1, 1, 2, 2, 4], num_res_blocks=2, z_channels=16, embed_dim=16):
        return "kl16", notes
    if not attention and settings == dict(ch=128, ch_mult=[1, 2, 4, 4], num_res_blocks=2, z_channels=4, embed_dim=4):
        return "sd-f8", notes
    resolution = 256
    settings.update(attn_resolutions=[resolution >> i for i in attention], resolution=resolution,
                    scale=LATENT_SCALE.get(family, 1.0))
    notes.append("vae scale %s: not stored in the weights; the %s family's latent scale (edit config.json if yours differs)"
                 % (settings["scale"], family))
    return settings, notes
