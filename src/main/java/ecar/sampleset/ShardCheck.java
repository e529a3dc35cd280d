package ecar.sampleset;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * Whether a finished shard can be kept as it is: its record belongs to this set (key, images, labels, seed; the
 * batch size too for a family that draws per batch) and every PNG it lists has the SHA-256 the record gives.
 */
public final class ShardCheck {
    private ShardCheck() {}

    /** The verdict: the record when the shard verifies, else the reason it must be made again. */
    public record Result(ShardRecord record, String problem) {
        public boolean ok() {
            return problem == null;
        }
    }

    public static Result verify(SetSpec spec, ShardPlan plan, SetStore store) throws IOException {
        String recordPath = ShardFiles.record(plan);
        if (!store.exists(recordPath)) return new Result(null, "not made yet");
        ShardRecord r;
        try (InputStream in = store.open(recordPath)) {
            r = ShardRecord.parse(in.readAllBytes(), store.describe(recordPath));
        } catch (IllegalArgumentException e) {
            return new Result(null, "its record is unreadable (" + e.getMessage() + ")");
        }
        String problem = mismatch(spec, plan, r);
        if (problem != null) return new Result(null, problem);
        for (int i = 0; i < r.count(); i++) {
            ShardRecord.FileHash f = r.files().get(i);
            String expected = ShardFiles.png(spec, plan.firstImage() + i);
            if (!f.name().equals(expected)) return new Result(null, "its record lists " + f.name() + " where " + expected + " belongs");
            String path = ShardFiles.shardDir(plan) + "/" + f.name();
            if (!store.exists(path)) return new Result(null, f.name() + " is missing");
            byte[] bytes;
            try (InputStream in = store.open(path)) {
                bytes = in.readAllBytes();
            }
            if (!Sha256.hex(bytes).equals(f.sha256())) return new Result(null, f.name() + " does not have the SHA-256 its record gives");
        }
        return new Result(r, null);
    }

    /** What in the record does not fit the plan, or null. */
    private static String mismatch(SetSpec spec, ShardPlan plan, ShardRecord r) {
        if (!r.setKey().equals(SetKey.of(spec))) return "it was made for other settings (set " + abbreviate(r.setKey()) + ", this set is " + abbreviate(SetKey.of(spec)) + ")";
        if (r.shard() != plan.index() || r.firstImage() != plan.firstImage() || !Arrays.equals(r.labels(), plan.labels())) {
            return "its record is of shard " + r.shard() + " from image " + r.firstImage() + " with other labels";
        }
        if (r.seed() != spec.seed()) return "it was made with seed " + r.seed() + ", this set's is " + spec.seed();
        if (!r.drawsPerImage() && r.batch() != spec.batch()) {
            return "its model draws per batch and it was made in batches of " + r.batch() + ", this run's are " + spec.batch();
        }
        return null;
    }

    private static String abbreviate(String key) {
        return key.length() > 12 ? key.substring(0, 12) + "…" : key;
    }
}
