package ecar.sampleset;

import ecar.io.Json;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The fingerprint of what decides a set's images and their cutting into shards: model, image size, sampling overrides,
 * classes, images per class, seed, shard size. Every shard record carries it, so a rerun with other settings does not
 * take old shards for its own. The batch size is not in it: it changes no image of a family that draws per image, and
 * the records of a batch-drawn family carry their batch size beside it.
 */
public final class SetKey {
    private SetKey() {}

    /** The settings the key covers, in a fixed order (also the manifest's description of the set). */
    public static Map<String, Object> settings(SetSpec spec) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", spec.model());
        m.put("imageSize", spec.imageSize());
        Map<String, Object> overrides = new LinkedHashMap<>();
        spec.overrides().forEach((k, v) -> overrides.put(k.flag(), v instanceof int[] a ? a : String.valueOf(v)));
        m.put("sampling", overrides);
        m.put("classes", ClassList.format(spec.classes()));
        m.put("perClass", spec.perClass());
        m.put("seed", spec.seed());
        m.put("shardSize", spec.shardSize());
        return m;
    }

    public static String of(SetSpec spec) {
        return Sha256.hex(("ecar-sample-set 1 " + Json.write(settings(spec))).getBytes(StandardCharsets.UTF_8));
    }
}
