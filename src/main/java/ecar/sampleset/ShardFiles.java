package ecar.sampleset;

import java.util.Locale;

/** Where a set's files are: shards/shard-00012/000612.png and shard.json, the temporary folders, samples.npz, manifest.json. */
public final class ShardFiles {
    private ShardFiles() {}

    public static final String SHARDS = "shards";
    public static final String NPZ = "samples.npz";
    public static final String MANIFEST = "manifest.json";
    /** Temporary names start with a dot: a shard being written, a merge in progress. */
    public static final String TEMP_PREFIX = ".";

    public static String shardDir(ShardPlan s) {
        return SHARDS + "/" + s.name();
    }

    public static String record(ShardPlan s) {
        return shardDir(s) + "/" + ShardRecord.FILE;
    }

    /** A fresh temporary folder for one attempt at a shard. */
    public static String attemptDir(ShardPlan s) {
        return SHARDS + "/" + TEMP_PREFIX + s.name() + "." + java.util.UUID.randomUUID() + ".part";
    }

    /** Image i's PNG: its index with at least six digits, so that names sort in image order. */
    public static String png(SetSpec spec, int image) {
        int digits = Math.max(6, Integer.toString(spec.images() - 1).length());
        return String.format(Locale.ROOT, "%0" + digits + "d.png", image);
    }
}
