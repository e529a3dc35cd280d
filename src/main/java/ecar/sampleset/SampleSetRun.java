package ecar.sampleset;

import ecar.backend.Backend;
import ecar.family.Preset;
import ecar.sample.GenerateRequest;
import ecar.sample.ModelDirectory;
import ecar.sample.Pipeline;
import ecar.sample.Presets;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A whole set on one machine: every shard that does not verify is made (again), in order, then the shards are merged.
 * Rerunning the same command after an interruption keeps the shards that verify and makes the rest.
 */
public final class SampleSetRun {
    private SampleSetRun() {}

    /** What the run is doing, for a progress display. */
    public interface Listener {
        Listener NONE = new Listener() {};

        /** Before any work: how many shards and images, and how many of them are already made and verified. */
        default void planned(int shards, int images, int shardsKept, int imagesKept) {}

        /** A shard found under its name that must be made again, and why. */
        default void redo(ShardPlan shard, String problem) {}

        /** More images generated in this run (a batch). */
        default void imagesDone(int count) {}

        default void shardDone(ShardRecord record) {}

        default void merging() {}
    }

    public static SetMerger.Merged run(SetSpec spec, Pipeline pipeline, SetStore store, Listener listener) throws IOException {
        check(spec, pipeline);
        removeLeftovers(store);
        List<ShardRecord> records = new ArrayList<>();
        List<ShardPlan> pending = new ArrayList<>();
        int imagesKept = 0;
        for (int k = 0; k < spec.shards(); k++) {
            ShardPlan plan = spec.shard(k);
            ShardCheck.Result r = ShardCheck.verify(spec, plan, store);
            records.add(r.record());
            if (r.ok()) {
                imagesKept += plan.count();
                continue;
            }
            if (store.exists(ShardFiles.shardDir(plan))) {
                listener.redo(plan, r.problem());
                store.delete(ShardFiles.shardDir(plan));
            }
            pending.add(plan);
        }
        listener.planned(spec.shards(), spec.images(), spec.shards() - pending.size(), imagesKept);
        ShardRenderer renderer = new ShardRenderer(spec, pipeline, store);
        for (ShardPlan plan : pending) {
            int[] reported = {0};
            ShardRecord r = renderer.render(plan, done -> {
                listener.imagesDone(done - reported[0]);
                reported[0] = done;
            }, ShardRenderer.BeforeCommit.NONE);
            records.set(plan.index(), r);
            listener.shardDone(r);
        }
        listener.merging();
        return SetMerger.merge(spec, records, store);
    }

    /** The set's classes and sampling options checked against the model before any work; throws IllegalArgumentException. */
    public static void check(SetSpec spec, Pipeline pipeline) {
        pipeline.check(GenerateRequest.of(spec.classes()).options(spec.samplingOverrides()));
    }

    /**
     * The architecture of a set's model without loading it (for a driver that never generates): the preset, at the set's
     * image size, or what a model directory's config.json names. Its classes bound the set's labels.
     */
    public static Preset preset(SetSpec spec) {
        java.nio.file.Path dir = java.nio.file.Path.of(spec.model());
        if (java.nio.file.Files.isDirectory(dir)) return ModelDirectory.preset(dir);
        Preset p = Presets.get(spec.model());
        return spec.imageSize() > 0 ? p.atImageSize(spec.imageSize()) : p;
    }

    /** The pipeline of a set's model: a preset (random weights, at the set's image size) or a model directory. */
    public static Pipeline load(SetSpec spec, Backend backend) {
        if (java.nio.file.Files.isDirectory(java.nio.file.Path.of(spec.model()))) {
            if (spec.imageSize() > 0) throw new IllegalArgumentException("--image-size applies to presets; a model directory sets \"image_size\" in its config.json");
            return Pipeline.load(spec.model(), backend);
        }
        Preset p = Presets.get(spec.model());
        return Pipeline.random(spec.imageSize() > 0 ? p.atImageSize(spec.imageSize()) : p, 0, backend);
    }

    /** Temporary folders and files of interrupted runs (names starting with a dot): nothing else writes here now. */
    public static void removeLeftovers(SetStore store) throws IOException {
        for (String name : store.list(ShardFiles.SHARDS)) {
            if (name.startsWith(ShardFiles.TEMP_PREFIX)) store.delete(ShardFiles.SHARDS + "/" + name);
        }
        for (String name : store.list("")) {
            if (name.startsWith(ShardFiles.TEMP_PREFIX) && name.endsWith(".part")) store.delete(name);
        }
    }
}
