package ecar.sample;

import ecar.backend.Backend;
import ecar.family.Preset;
import ecar.io.Json;
import ecar.io.SafeTensors;
import ecar.model.WeightSource;
import ecar.vae.VaeConfig;
import ecar.vae.VaeDecoder;
import ecar.vae.VaeKeys;

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
 * Optional keys: "architecture" (the numbers of the architecture under the reference code's names, in place of the
 * preset's), "image_size" (rebuilds the preset), "vae" as an object of LDM ddconfig values with "scale",
 * "weights" and "vae_weights" (file names relative to the directory, and inside it: {@link WeightPaths}). A number
 * the weights' shapes contradict is reported by name before loading.
 */
public final class ModelDirectory {
    private ModelDirectory() {}

    private static final Set<String> KEYS = Set.of("model", "vae", "image_size", "architecture", "weights", "vae_weights", "source", "family");

    /** The model in {@code dir}, its weight files inside it ({@link WeightPaths#INSIDE_DIRECTORY}). */
    public static Pipeline load(Path dir, Backend backend) {
        return load(dir, backend, WeightPaths.INSIDE_DIRECTORY);
    }

    public static Pipeline load(Path dir, Backend backend, WeightPaths paths) {
        Json.Obj c = config(dir);
        Path configFile = dir.resolve("config.json");
        Preset preset = architecture(c, configFile);
        VaeConfig vaeConfig = preset.vae();

        Path weights = paths.resolve(dir, configFile, "weights", c.str("weights", "model.safetensors"));
        if (!Files.exists(weights)) throw new IllegalArgumentException("model directory " + dir + ": weights " + weights.getFileName() + " not found");
        Path vaeWeights = paths.resolve(dir, configFile, "vae_weights", c.str("vae_weights", "vae.safetensors"));
        if (c.has("vae_weights") && !Files.exists(vaeWeights)) {
            throw new IllegalArgumentException("model directory " + dir + ": vae_weights " + vaeWeights.getFileName() + " not found");
        }
        Supplier<VaeDecoder> vae = null;
        if (Files.exists(vaeWeights)) {   // SafeTensors.open refuses what is not a regular file
            vae = () -> {
                try (SafeTensors f = SafeTensors.open(vaeWeights)) {
                    return VaeDecoder.load(vaeConfig, VaeKeys.source(f, ""), backend);
                }
            };
        }
        try (SafeTensors f = SafeTensors.open(weights)) {
            WeightSource source = WeightSource.of(f, "");
            DirectoryArchitecture.check(preset, source, configFile, weights);
            return Pipeline.of(preset, source, vae, backend);
        }
    }

    /** The architecture a model directory's config.json describes (at its image size, with its decoder), without reading any weights. */
    public static Preset preset(Path dir) {
        return architecture(config(dir), dir.resolve("config.json"));
    }

    /** The preset "model" names, with "architecture", "image_size" and "vae" applied; errors name the config. */
    private static Preset architecture(Json.Obj c, Path configFile) {
        String model = c.str("model", null) == null ? missing(configFile, "model") : c.str("model", null);
        Preset base = named(configFile, () -> Presets.get(model));
        VaeConfig vaeConfig = vaeConfig(c, configFile, base);
        return named(configFile, () -> DirectoryArchitecture.of(base, c, vaeConfig, configFile));
    }

    /** config.json, read within its limits, its keys checked. */
    private static Json.Obj config(Path dir) {
        Path configFile = dir.resolve("config.json");
        if (!Files.exists(configFile)) {
            throw new IllegalArgumentException("model directory " + dir + " has no config.json (see docs/MODEL_DIRECTORY.md)");
        }
        Json.Obj c = Json.Obj.read(configFile);
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

    /** A value the config chose, its error prefixed with the config's path (the preset's own messages do not know it). */
    private static Preset named(Path configFile, Supplier<Preset> chosen) {
        try {
            return chosen.get();
        } catch (IllegalArgumentException e) {
            if (e.getMessage() != null && e.getMessage().startsWith(configFile.toString())) throw e;   // already names it
            throw new IllegalArgumentException(configFile + ": " + e.getMessage(), e);
        }
    }

    private static String missing(Path file, String key) {
        throw new IllegalArgumentException(file + ": missing \"" + key + "\" (a preset name such as ecar-l, flowar-l, dit-xl-2)");
    }
}
