package ecar.sample;

import ecar.dit.DiTSampler;

import ecar.dit.DiTConfig;
import ecar.flowar.FlowArConfig;
import ecar.vae.VaeConfig;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The models known by name: the papers' DiT, FlowAR and ECAR sizes at 256², and tiny ones for tests. Any of
 * them can be rebuilt for another image size (a multiple of 16 whose token grid is a power of two times the
 * first scale for the FlowAR family).
 */
public final class Presets {
    private Presets() {}

    private static final Map<String, Preset> ALL = new LinkedHashMap<>();

    static {
        for (String size : new String[]{"s", "b", "l", "xl"}) {
            for (int p : new int[]{2, 4, 8}) {
                String name = "dit-" + size + "-" + p;
                add(new Preset(name, Family.DIT, 256, DiTConfig.named(size, p, 32), null, VaeConfig.sdF8(), Sampling.defaults(Family.DIT),
                        "DiT-" + size.toUpperCase(Locale.ROOT) + "/" + p + " (Peebles & Xie), SD f8 VAE"));
            }
        }
        for (String size : new String[]{"s", "l", "h"}) {
            FlowArConfig c = FlowArConfig.named(size);
            String up = size.toUpperCase(Locale.ROOT);
            add(new Preset("flowar-" + size, Family.FLOWAR, 256, null, c, VaeConfig.kl16(), Sampling.defaults(Family.FLOWAR), "FlowAR-" + up + ", FlowAR schedule, KL-16 VAE"));
            add(new Preset("ecar-" + size, Family.ECAR, 256, null, c, VaeConfig.kl16(), Sampling.defaults(Family.ECAR), "ECAR over FlowAR-" + up + " modules, multistage schedule, KL-16 VAE"));
        }
        DiTConfig tinyDit = new DiTConfig(8, 2, 4, 96, 2, 4, 4.0, 10, true);
        add(new Preset("dit-tiny", Family.DIT, 64, tinyDit, null, VaeConfig.tiny(4, 8), Sampling.defaults(Family.DIT).withSteps(10).withDiTMethod(DiTSampler.Method.DDIM).withCfg(4f),
                "tiny DiT for tests (64² images)"));
        FlowArConfig tiny = new FlowArConfig(64, 64, 1, 1, 4, 16, 10, 2, 64, new int[]{1, 2, 4}, false);
        add(new Preset("flowar-tiny", Family.FLOWAR, 64, null, tiny, VaeConfig.tiny(16, 16), Sampling.defaults(Family.FLOWAR).withSteps(4).withCfg(3f), "tiny FlowAR for tests"));
        add(new Preset("ecar-tiny", Family.ECAR, 64, null, tiny, VaeConfig.tiny(16, 16), Sampling.defaults(Family.ECAR).withSteps(3).withCfg(3f), "tiny ECAR for tests"));
    }

    private static void add(Preset p) {
        ALL.put(p.name(), p);
    }

    public static List<String> names() {
        return new ArrayList<>(ALL.keySet());
    }

    public static boolean exists(String name) {
        return ALL.containsKey(name.toLowerCase(Locale.ROOT));
    }

    public static Preset get(String name) {
        Preset p = ALL.get(name.toLowerCase(Locale.ROOT));
        if (p == null) {
            throw new IllegalArgumentException("unknown model '" + name + "' (presets: " + String.join(", ", names()) + "; or a model directory)");
        }
        return p;
    }

    /** The preset rebuilt for another image size. */
    public static Preset atImageSize(Preset p, int imageSize) {
        if (imageSize == p.imageSize()) return p;
        if (imageSize <= 0 || imageSize % 16 != 0) throw new IllegalArgumentException("image size " + imageSize + " must be a positive multiple of 16");
        return switch (p.family()) {
            case DIT -> {
                DiTConfig c = p.dit();
                int latent = imageSize / p.vae().factor();
                if (latent % c.patchSize() != 0) throw new IllegalArgumentException("image size " + imageSize + " gives a " + latent + "² latent, not a multiple of patch " + c.patchSize());
                yield new Preset(p.name(), p.family(), imageSize, new DiTConfig(latent, c.patchSize(), c.inChannels(), c.hiddenSize(), c.depth(),
                        c.numHeads(), c.mlpRatio(), c.numClasses(), c.learnSigma()), null, p.vae(), p.sampling(), p.about());
            }
            case FLOWAR, ECAR -> {
                FlowArConfig c = p.flowAr();
                int grid = imageSize / FlowArConfig.VAE_STRIDE, first = c.scales()[0];
                List<Integer> sides = new ArrayList<>();
                for (int s = first; s <= grid; s *= 2) sides.add(s);
                if (sides.isEmpty() || sides.get(sides.size() - 1) != grid) {
                    throw new IllegalArgumentException("image size " + imageSize + " gives a " + grid + "² token grid, not " + first + "·2^k");
                }
                int[] scales = sides.stream().mapToInt(Integer::intValue).toArray();
                yield new Preset(p.name(), p.family(), imageSize, null, new FlowArConfig(imageSize, c.dim(), c.encDepth(), c.decDepth(), c.heads(),
                        c.tokenDim(), c.numClasses(), c.headDepth(), c.headWidth(), scales, c.cross()), p.vae(), p.sampling(), p.about());
            }
        };
    }
}
