package ecar.spark;

import ecar.sample.Pipeline;
import ecar.sampleset.SetSpec;
import ecar.sampleset.ShardCheck;
import ecar.sampleset.ShardPlan;
import ecar.sampleset.ShardRecord;
import ecar.sampleset.ShardRenderer;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.function.Function;

/**
 * A Spark task: one shard. It keeps the shard when it is made and verifies (a rerun, or a retry after the rename), else
 * makes it with the executor's pipeline and renames it into place. Every attempt makes the same bytes, so a retried or
 * speculative attempt cannot change the set. It answers the shard's record as its shard.json bytes, which the driver
 * reads back.
 */
final class ShardTask implements Function<Integer, byte[]> {
    private static final long serialVersionUID = 1L;

    private final SetSpec spec;
    private final String out;
    private final String backend;
    private final ShardRenderer.BeforeCommit beforeCommit;

    ShardTask(SetSpec spec, String out, String backend, ShardRenderer.BeforeCommit beforeCommit) {
        this.spec = spec;
        this.out = out;
        this.backend = backend;
        this.beforeCommit = beforeCommit;
    }

    @Override
    public byte[] call(Integer shard) throws Exception {
        return record(shard).toJson();
    }

    private ShardRecord record(int shard) throws Exception {
        ShardPlan plan = spec.shard(shard);
        try (HadoopStore store = new HadoopStore(out, new Configuration())) {
            ShardCheck.Result made = ShardCheck.verify(spec, plan, store);
            if (made.ok()) return made.record();
            if (store.exists(ecar.sampleset.ShardFiles.shardDir(plan))) store.delete(ecar.sampleset.ShardFiles.shardDir(plan));
            Pipeline pipeline = ExecutorPipelines.get(spec, backend);
            return new ShardRenderer(spec, pipeline, store).render(plan, ShardRenderer.Listener.NONE, beforeCommit);
        }
    }
}
