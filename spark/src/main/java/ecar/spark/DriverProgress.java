package ecar.spark;

import ecar.sampleset.SetSpec;
import ecar.sampleset.Throughput;
import org.apache.spark.Success$;
import org.apache.spark.TaskFailedReason;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;

import java.io.PrintStream;
import java.util.Locale;

/**
 * The driver's progress line: a shard finished, images done of all, images per second over the cluster and the time
 * left. A task's partition is its shard, so the listener knows how many images each finished task made (or kept).
 */
final class DriverProgress extends SparkListener {
    private final SetSpec spec;
    private final PrintStream out;
    private final Throughput rate;
    private final boolean[] done;
    private int shardsDone;

    DriverProgress(SetSpec spec, PrintStream out) {
        this.spec = spec;
        this.out = out;
        this.rate = new Throughput(spec.images(), System.nanoTime());
        this.done = new boolean[spec.shards()];
    }

    @Override
    public synchronized void onTaskEnd(SparkListenerTaskEnd end) {
        int shard = end.taskInfo().index();
        if (end.reason() != Success$.MODULE$) {
            String why = end.reason() instanceof TaskFailedReason f ? f.toErrorString().lines().findFirst().orElse("") : end.reason().toString();
            out.println("ecar: shard " + shard + " attempt " + end.taskInfo().attemptNumber() + " failed: " + why);
            return;
        }
        if (shard < 0 || shard >= done.length || done[shard]) return;   // not this job's task, or a speculative duplicate
        done[shard] = true;
        shardsDone++;
        rate.add(spec.shard(shard).count());
        out.printf(Locale.ROOT, "ecar: shard %d done on executor %s: %d/%d images, %d/%d shards, %s%n", shard, end.taskInfo().executorId(), rate.done(),
                spec.images(), shardsDone, spec.shards(), rate.describe(System.nanoTime()));
    }
}
