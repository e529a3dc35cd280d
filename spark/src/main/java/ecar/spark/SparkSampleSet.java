package ecar.spark;

import ecar.family.Preset;
import ecar.sampleset.SampleSetRun;
import ecar.sampleset.SetMerger;
import ecar.sampleset.SetSpec;
import ecar.sampleset.ShardRecord;
import ecar.sampleset.ShardRenderer;
import org.apache.spark.api.java.JavaSparkContext;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;

/**
 * A sample set on a Spark cluster. The driver cleans what killed attempts of earlier runs left, runs one task per shard
 * (each executor loads the pipeline once, on its GPU, and keeps every shard that already verifies), collects the shard
 * records, removes the temporary folders of failed attempts, and merges the set (samples.npz, manifest.json) itself.
 * The result is the same bytes as {@code ecar sample-set} with the same options on one machine.
 */
public final class SparkSampleSet {
    private SparkSampleSet() {}

    /**
     * @param out          the set's folder as a URI every executor can write (hdfs://…, file:/… on a shared mount)
     * @param backend      cpu, cuda or auto (the GPU when Spark gave the task one)
     * @param beforeCommit run by each attempt between writing its shard and renaming it into place (tests fail attempts there)
     */
    public static SetMerger.Merged run(JavaSparkContext sc, SetSpec spec, String out, String backend, ShardRenderer.BeforeCommit beforeCommit)
            throws IOException {
        Preset preset = SampleSetRun.preset(spec);
        for (int label : spec.classes()) {
            if (label >= preset.numClasses()) throw new IllegalArgumentException("class label " + label + " outside [0, " + (preset.numClasses() - 1) + "] for " + preset.name());
        }
        try (HadoopStore store = new HadoopStore(out, sc.hadoopConfiguration())) {
            SampleSetRun.removeLeftovers(store);   // no task of this run is running yet
            DriverProgress progress = new DriverProgress(spec, System.err);
            sc.sc().addSparkListener(progress);
            List<ShardRecord> records;
            try {
                List<Integer> shards = IntStream.range(0, spec.shards()).boxed().toList();
                sc.setJobDescription("ecar sample-set: " + spec.images() + " images in " + spec.shards() + " shards");
                records = new ArrayList<>();
                for (byte[] json : sc.parallelize(shards, spec.shards()).map(new ShardTask(spec, out, backend, beforeCommit)).collect()) {
                    records.add(ShardRecord.parse(json, "a task's shard record"));
                }
            } finally {
                sc.sc().removeSparkListener(progress);
            }
            records.sort(Comparator.comparingInt(ShardRecord::shard));
            SampleSetRun.removeLeftovers(store);   // folders of attempts that failed before their rename
            System.err.println("ecar: merging " + spec.shards() + " shards into " + store.describe("samples.npz"));
            return SetMerger.merge(spec, records, store);
        }
    }
}
