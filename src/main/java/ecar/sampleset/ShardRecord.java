package ecar.sampleset;

import ecar.io.Json;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a finished shard holds, written as its shard.json: the set it belongs to (its key), which images with which
 * labels, the seed, what model and settings made them, its PNG files with their SHA-256, and the CRC-32 of its pixels
 * (uint8 [count, H, W, 3], the bytes the .npz takes from it). No time or host: the same shard gives the same bytes on
 * any machine and any attempt.
 *
 * @param batch the batch size the shard was generated in; 0 for a family that draws per image (it changes nothing)
 */
public record ShardRecord(String setKey, int shard, int firstImage, int[] labels, long seed, String weights, String settings, boolean drawsPerImage,
                          int batch, int height, int width, int pixelsCrc32, List<FileHash> files) {

    public static final String FILE = "shard.json";

    /** A PNG of the shard and the SHA-256 of its bytes. */
    public record FileHash(String name, String sha256) {}

    public ShardRecord {
        labels = labels.clone();
        files = List.copyOf(files);
        if (files.size() != labels.length) throw new IllegalArgumentException("shard " + shard + ": " + files.size() + " files for " + labels.length + " images");
    }

    @Override
    public int[] labels() {
        return labels.clone();
    }

    public int count() {
        return labels.length;
    }

    /** The bytes of the shard's pixels in the .npz. */
    public long pixelBytes() {
        return (long) count() * height * width * 3;
    }

    public byte[] toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("set", setKey);
        m.put("shard", shard);
        m.put("firstImage", firstImage);
        m.put("count", count());
        m.put("labels", labels);
        m.put("seed", seed);
        m.put("weights", weights);
        m.put("settings", settings);
        m.put("drawsPerImage", drawsPerImage);
        m.put("batch", batch);
        m.put("height", height);
        m.put("width", width);
        m.put("pixelsCrc32", String.format("%08x", pixelsCrc32));
        List<Object> fs = new ArrayList<>();
        for (FileHash f : files) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("name", f.name());
            e.put("sha256", f.sha256());
            fs.add(e);
        }
        m.put("files", fs);
        return (Json.write(m) + "\n").getBytes(StandardCharsets.UTF_8);
    }

    /** Reads a shard.json; throws IllegalArgumentException naming {@code where} and what is wrong. */
    public static ShardRecord parse(byte[] json, String where) {
        Json.Obj o = Json.Obj.parse(new String(json, StandardCharsets.UTF_8), where);
        String crc = o.str("pixelsCrc32", "");
        if (!crc.matches("[0-9a-f]{8}")) throw new IllegalArgumentException(where + ": \"pixelsCrc32\" must be 8 hex digits, found '" + crc + "'");
        List<FileHash> files = new ArrayList<>();
        if (!(o.map().get("files") instanceof List<?> list)) throw new IllegalArgumentException(where + ": missing the \"files\" list");
        for (Object f : list) {
            if (!(f instanceof Map<?, ?> fm) || !(fm.get("name") instanceof String name) || !(fm.get("sha256") instanceof String sha)) {
                throw new IllegalArgumentException(where + ": each of \"files\" must be {\"name\": …, \"sha256\": …}, found " + f);
            }
            files.add(new FileHash(name, sha));
        }
        return new ShardRecord(o.str("set", ""), o.integer("shard"), o.integer("firstImage"), o.ints("labels"), seed(o),
                o.str("weights", ""), o.str("settings", ""), o.bool("drawsPerImage", false), o.integer("batch"), o.integer("height"), o.integer("width"),
                Integer.parseUnsignedInt(crc, 16), files);
    }

    /** The seed, a whole number within a long (the reader gives those as Long). */
    private static long seed(Json.Obj o) {
        if (o.map().get("seed") instanceof Long l) return l;
        throw new IllegalArgumentException(o.where() + ": \"seed\" must be a whole number within 64 bits, found " + o.map().get("seed"));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ShardRecord r && Arrays.equals(r.toJson(), toJson());
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(toJson());
    }
}
