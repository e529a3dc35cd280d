package ecar.cli;

import ecar.sampleset.ClassList;
import ecar.sampleset.SetSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The options that say which evaluation set to make: shared by {@code ecar sample-set} and the Spark job
 * (ecar.spark.SampleSetJob), so that both read the same command line and make the same set.
 */
public final class SampleSetOptions {
    @Option(names = "--model", required = true, paramLabel = "NAME|DIR", description = "preset (random weights) or model directory every worker sees")
    String model;

    @Option(names = "--per-class", paramLabel = "N", description = "images of each class (default 50: 50,000 for ImageNet's 1,000 classes)")
    int perClass = 50;

    @Option(names = "--classes", paramLabel = "LIST", description = "class labels, e.g. 0-999 or 1,5,10-19 (default: every class of the model)")
    String classes;

    @Option(names = "--batch", paramLabel = "B", description = "images generated at once (default 16); an image does not depend on it (DiT, FlowAR, ECAR)")
    int batch = 16;

    @Option(names = "--shard-size", paramLabel = "N", description = "images per shard: the unit of resuming and of a cluster task (default 1000, at most "
            + SetSpec.MAX_SHARD_SIZE + ")")
    int shardSize = 1000;

    @Option(names = "--seed", description = "seed of the set: image i's noise is keyed by (seed, i) (default 0)")
    long seed;

    @Mixin
    SamplingOptions sampling;

    /** The set these options describe; the classes default to all {@code modelClasses} of the model. */
    public SetSpec spec(int modelClasses) {
        int[] labels = classes == null ? ClassList.parse("0-" + (modelClasses - 1)) : ClassList.parse(classes);
        return SetSpec.of(model, sampling.imageSize == null ? 0 : sampling.imageSize, sampling.overrides(), labels, perClass, seed, shardSize, batch);
    }

    /** The model as given: a preset name or a folder. */
    public String model() {
        return model;
    }
}
