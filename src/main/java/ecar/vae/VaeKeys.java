package ecar.vae;

import ecar.io.SafeTensors;
import ecar.model.WeightSource;
import ecar.tensor.FloatTensor;
import ecar.tensor.Shape;

import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Key names of VAE checkpoints. The decoder asks for LDM's names (MAR's kl16.ckpt); diffusers' AutoencoderKL
 * (sd-vae-ft-ema) names the same tree differently and numbers up blocks from the coarsest, and stores the
 * attention projections as Linear [C, C] where LDM has 1×1 convolutions [C, C, 1, 1]. LlamaGen's VQ checkpoints
 * keep their own names (the VQ decoder asks for them, see DecoderNames) and add the codebook. Encoder, quant_conv,
 * loss and training tensors (the VQ codebook_used buffer) are not needed to decode and are skipped.
 * tools/convert_checkpoint.py applies the same map.
 */
public final class VaeKeys {
    private VaeKeys() {}

    private static final Pattern UP = Pattern.compile("^decoder\\.up_blocks\\.(\\d+)\\.(.*)$");
    private static final Pattern RESNET = Pattern.compile("^resnets\\.(\\d+)\\.(.*)$");
    private static final Map<String, String> ATTENTION = Map.of(
            "group_norm", "norm", "to_q", "q", "to_k", "k", "to_v", "v", "to_out.0", "proj_out",
            "query", "q", "key", "k", "value", "v", "proj_attn", "proj_out");

    /** True when the names are diffusers' (decoder.mid_block…, decoder.up_blocks…). */
    public static boolean isDiffusers(Set<String> names) {
        return names.stream().anyMatch(n -> n.startsWith("decoder.mid_block.") || n.startsWith("decoder.up_blocks."));
    }

    /** Whether a checkpoint tensor is needed to decode (decoder, post_quant_conv and a VQ codebook). */
    public static boolean decodes(String name) {
        return name.startsWith("decoder.") || name.startsWith("post_quant_conv.") || name.equals(Codebook.KEY);
    }

    /** A diffusers name as LDM names it, given the number of up levels; null for tensors decoding does not use. */
    public static String toLdm(String name, int levels) {
        if (!decodes(name)) return null;
        if (name.startsWith("decoder.conv_norm_out.")) return "decoder.norm_out." + name.substring("decoder.conv_norm_out.".length());
        if (name.startsWith("decoder.mid_block.")) {
            String rest = name.substring("decoder.mid_block.".length());
            Matcher r = RESNET.matcher(rest);
            if (r.matches()) return "decoder.mid.block_" + (Integer.parseInt(r.group(1)) + 1) + "." + resnetPart(r.group(2));
            if (rest.startsWith("attentions.0.")) return "decoder.mid.attn_1." + attentionPart(rest.substring("attentions.0.".length()));
            return name;
        }
        Matcher u = UP.matcher(name);
        if (u.matches()) {
            int level = levels - 1 - Integer.parseInt(u.group(1));
            String rest = u.group(2);
            Matcher r = RESNET.matcher(rest);
            if (r.matches()) return "decoder.up." + level + ".block." + r.group(1) + "." + resnetPart(r.group(2));
            if (rest.startsWith("upsamplers.0.conv.")) return "decoder.up." + level + ".upsample.conv." + rest.substring("upsamplers.0.conv.".length());
            Matcher a = Pattern.compile("^attentions\\.(\\d+)\\.(.*)$").matcher(rest);
            if (a.matches()) return "decoder.up." + level + ".attn." + a.group(1) + "." + attentionPart(a.group(2));
        }
        return name;
    }

    private static String resnetPart(String s) {
        return s.startsWith("conv_shortcut.") ? "nin_shortcut." + s.substring("conv_shortcut.".length()) : s;
    }

    private static String attentionPart(String s) {
        int dot = s.lastIndexOf('.');
        String module = s.substring(0, dot), param = s.substring(dot + 1);
        return ATTENTION.getOrDefault(module, module) + "." + param;
    }

    /**
     * The decoder's tensors of a checkpoint (names under prefix), in LDM's names whatever the checkpoint's
     * style, with Linear attention projections seen as the 1×1 convolutions they are.
     */
    public static WeightSource source(SafeTensors file, String prefix) {
        Set<String> raw = new LinkedHashSet<>();
        for (String n : file.tensors().keySet()) if (n.startsWith(prefix)) raw.add(n.substring(prefix.length()));
        boolean diffusers = isDiffusers(raw);
        int levels = 1 + raw.stream().map(UP::matcher).filter(Matcher::matches)
                .mapToInt(m -> Integer.parseInt(m.group(1))).max().orElse(-1);
        Map<String, SafeTensors.Entry> byName = new LinkedHashMap<>();
        for (String n : raw) {
            String ldm = diffusers ? toLdm(n, levels) : (decodes(n) ? n : null);
            if (ldm != null) byName.put(ldm, file.get(prefix + n));
        }
        return new WeightSource() {
            @Override
            public FloatTensor get(String name, Shape expected) {
                SafeTensors.Entry e = byName.get(name);
                if (e == null) return null;
                FloatTensor t = e.toFloatTensor();
                return asConv1x1(t.shape(), expected) ? t.reshape(expected) : t;
            }

            @Override
            public Shape shape(String name, Shape expected) {
                SafeTensors.Entry e = byName.get(name);
                if (e == null) return null;
                return asConv1x1(e.shape(), expected) ? expected : e.shape();
            }

            @Override
            public Set<String> names() {
                return new LinkedHashSet<>(byName.keySet());
            }

            @Override
            public String describe() {
                return file.path() + (diffusers ? " (diffusers names)" : "") + (prefix.isEmpty() ? "" : " (tensors '" + prefix + "*')");
            }
        };
    }

    /** A Linear [Co, Ci] standing for a 1×1 convolution [Co, Ci, 1, 1]. */
    private static boolean asConv1x1(Shape stored, Shape expected) {
        return stored.rank() == 2 && expected.rank() == 4 && expected.dim(2) == 1 && expected.dim(3) == 1
                && stored.dim(0) == expected.dim(0) && stored.dim(1) == expected.dim(1);
    }
}
