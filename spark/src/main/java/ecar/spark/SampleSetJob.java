package ecar.spark;

import ecar.cli.SampleSetOptions;
import ecar.sampleset.SampleSetRun;
import ecar.sampleset.SetMerger;
import ecar.sampleset.SetSpec;
import ecar.sampleset.ShardRenderer;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * spark-submit's main class: {@code ecar sample-set}'s options, the set's folder as a URI every executor sees, and the
 * backend of the executors (README, "Sample sets on a Spark cluster").
 */
@Command(name = "ecar-spark-sample-set", mixinStandardHelpOptions = true,
        description = "Make an evaluation sample set on a Spark cluster: one task per shard, one pipeline per executor, the driver merging.")
public final class SampleSetJob implements Callable<Integer> {
    @Mixin
    SampleSetOptions set;

    @Option(names = "--out", required = true, paramLabel = "URI", description = "the set's folder, seen by every executor: hdfs://…, or file:/… on a shared mount")
    String out;

    @Option(names = "--backend", paramLabel = "cpu|cuda|auto", description = "executors' backend (default auto: the task's GPU when Spark gave it one, else the CPU)")
    String backend = "auto";

    public static void main(String[] args) {
        System.exit(new CommandLine(new SampleSetJob()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        SetSpec spec = set.spec(SampleSetRun.preset(set.spec(1)).numClasses());
        try (JavaSparkContext sc = new JavaSparkContext(new SparkConf().setAppName("ecar sample-set " + spec.model()))) {
            long t0 = System.nanoTime();
            SetMerger.Merged m = SparkSampleSet.run(sc, spec, out, backend, ShardRenderer.BeforeCommit.NONE);
            System.out.printf(Locale.ROOT, "%s/samples.npz (%d images, %.1f MB, sha256 %s) in %.1f s%n", out, spec.images(), m.npzBytes() / 1e6, m.npzSha256(),
                    (System.nanoTime() - t0) / 1e9);
        }
        return 0;
    }
}
