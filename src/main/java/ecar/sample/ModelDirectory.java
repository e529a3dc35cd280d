package ecar.sample;

import ecar.backend.Backend;
import ecar.family.Preset;
import ecar.io.Json;
import ecar.io.SafeTensors;
import ecar.model.WeightSource;
import ecar.vae.VaeConfig;
import ecar.vae.VaeDecoder;
import ecar.vae.VaeKeys;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.function.Supplier;

/**
 * A model on disk (docs/MODEL_DIRECTORY.md): config.json names the architecture (a preset) and the VAE;
 * model.safetensors holds the generator's weights under the reference code's names, vae.safetensors the
 * decoder's (LDM or diffusers names). tools/convert_checkpoint.py makes one from the official checkpoints.
 * <pre>{@code
 * {"model": "ecar-l", "vae": "kl16"}
 * }</pre>
 * Optional keys: "image_size" (rebuilds the preset), "vae" as an object of LDM ddconfig values with "scale",
 * "weights" and "vae_weights" (file names relative to the directory).
 */
public final class ModelDirectory {
    private ModelDirectory() {}

    private static final Set<String> KEYS = Set.of("model", "vae", "image_size", "weights", "vae_weights", "source", "family");

    public static Pipeline load(Path dir, Backend backend) {
        Json.Obj c = config(dir);
        Path configFile = dir.resolve("config.json");
        Preset preset = preset(c, configFile);
        VaeConfig vaeConfig = vaeConfig(c, configFile, preset);
        preset = preset.withVae(vaeConfig);

        Path weights = dir.resolve(c.str("weights", "model.safetensors"));
        if (!Files.isRegularFile(weights)) throw new IllegalArgumentException("model directory " + dir + ": weights " + weights.getFileName() + " not found");
        Path vaeWeights = dir.resolve(c.str("vae_weights", "vae.safetensors"));
        Supplier<VaeDecoder> vae = null;
        if (Files.isRegularFile(vaeWeights)) {
            VaeConfig vc = vaeConfig;
            vae = () -> {
                try (SafeTensors f = SafeTensors.open(vaeWeights)) {
                    return VaeDecoder.load(vc, VaeKeys.source(f, ""), backend);
                }
            };
        }
        try (SafeTensors f = SafeTensors.open(weights)) {
            return Pipeline.of(preset, WeightSource.of(f, ""), vae, backend);
        }
    }

    /** The architecture a model directory's config.json names (at its image size), without reading any weights. */
    public static Preset preset(Path dir) {
        return preset(config(dir), dir.resolve("config.json"));
    }

    private static Preset preset(Json.Obj c, Path configFile) {
        Preset preset = Presets.get(c.str("model", null) == null ? missing(configFile, "model") : c.str("model", null));
        return c.has("image_size") ? preset.atImageSize(c.integer("image_size")) : preset;
    }

    private static Json.Obj config(Path dir) {
        Path configFile = dir.resolve("config.json");
        if (!Files.isRegularFile(configFile)) {
            throw new IllegalArgumentException("model directory " + dir + " has no config.json (see docs/MODEL_DIRECTORY.md)");
        }
        Json.Obj c;
        try {
            c = Json.Obj.parse(Files.readString(configFile), configFile.toString());
        } catch (IOException e) {
            throw new IllegalArgumentException(configFile + ": cannot be read (" + e.getMessage() + ")");
        }
        for (String k : c.map().keySet()) {
            if (!KEYS.contains(k)) throw new IllegalArgumentException(configFile + ": unknown key \"" + k + "\" (known: " + String.join(", ", new java.util.TreeSet<>(KEYS)) + ")");
        }
        return c;
    }

    private static VaeConfig vaeConfig(Json.Obj c, Path configFile, Preset preset) {
        if (!c.has("vae")) return preset.vae();
        Object v = c.map().get("vae");
        if (v instanceof String name) return VaeConfig.named(name);
        if (v instanceof java.util.Map<?, ?> m) {
            @SuppressWarnings("unchecked") var map = (java.util.Map<String, Object>) m;
            return VaeConfig.fromJson(new Json.Obj(map, configFile + " \"vae\""), "vae");
        }
        throw new IllegalArgumentException(configFile + ": \"vae\" must be a name (kl16, sd-f8, vq16) or an object of decoder settings");
    }

    private static String missing(Path file, String key) {
        throw new IllegalArgumentException(file + ": missing \"" + key + "\" (a preset name such as ecar-l, flowar-l, dit-xl-2)");
    }
}
