package ecar.sample;

import ecar.family.Architecture;
import ecar.family.Preset;
import ecar.io.Json;
import ecar.model.WeightSource;
import ecar.vae.VaeConfig;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The architecture a model directory's config.json describes, and its check against the weights: the preset named by
 * "model", with the numbers of "architecture" (the reference code's names; tools/convert_checkpoint.py writes every
 * number the weights determine) or the size of "image_size", and the decoder of "vae".
 */
final class DirectoryArchitecture {
    private DirectoryArchitecture() {}

    /** The preset as config c describes it, decoded by vae; throws naming a number that does not fit. */
    static Preset of(Preset preset, Json.Obj c, VaeConfig vae, Path configFile) {
        if (!c.has("architecture")) {
            Preset p = c.has("image_size") ? preset.atImageSize(c.integer("image_size")) : preset;
            return p.withVae(vae);
        }
        if (!(c.map().get("architecture") instanceof Map<?, ?> m)) {
            throw new IllegalArgumentException(configFile + ": \"architecture\" must be an object of numbers (e.g. {\"input_size\": 64, \"patch_size\": 2})");
        }
        @SuppressWarnings("unchecked") var numbers = new Json.Obj((Map<String, Object>) m, configFile + " \"architecture\"");
        Architecture a = preset.family().withNumbers(preset.architecture(), numbers);
        Preset p = preset.with(a, vae);
        if (c.has("image_size") && c.integer("image_size") != p.imageSize()) {
            throw new IllegalArgumentException(configFile + ": image_size " + c.integer("image_size") + " disagrees with \"architecture\", whose "
                    + a.latentSide() + "² latent the " + vae.name() + " decoder (×" + vae.factor() + ") turns into " + p.imageSize() + "² images");
        }
        return p;
    }

    /** Throws naming every number of the architecture the weights' shapes contradict, before any tensor is read. */
    static void check(Preset preset, WeightSource weights, Path configFile, Path weightsFile) {
        List<String> lines = preset.family().disagreements(preset, weights);
        if (lines.isEmpty()) return;
        throw new IllegalArgumentException(configFile + " disagrees with " + weightsFile.getFileName() + " (" + preset.name() + ": "
                + preset.architecture().describe() + "):\n  " + String.join("\n  ", lines)
                + "\n  set the weights' numbers under \"architecture\" (or \"image_size\") in config.json; tools/convert_checkpoint.py writes them all");
    }
}
