package ecar.sampleset;

import ecar.family.SamplingOption;
import ecar.family.SamplingOverrides;

import java.io.Serializable;
import java.util.EnumMap;
import java.util.Map;

/**
 * An evaluation sample set to make: the model (a preset name or a model directory every worker sees), its image size
 * for presets (0: the preset's), sampling overrides, the classes and images per class, the seed, and how the work is
 * cut (images per shard, images per batch). Serializable so that a cluster's driver can hand it to its executors.
 *
 * <p>Image i of the set has label {@code classes[i / perClass]} (class-major: the reference scripts draw labels at
 * random per batch; the evaluator does not look at the order, and class-major is the order a reader can check), and
 * is a function of (model, settings, seed, i) alone for a family that draws per image: the batch size does not change
 * it.
 */
public record SetSpec(String model, int imageSize, EnumMap<SamplingOption, Object> overrides, int[] classes, int perClass, long seed,
                      int shardSize, int batch) implements Serializable {

    /** A shard's record lists its files, and the JSON reader takes 1 MiB: 4,096 images keep a record under half of that. */
    public static final int MAX_SHARD_SIZE = 4096;

    public SetSpec {
        if (model == null || model.isBlank()) throw new IllegalArgumentException("--model is empty; expected a preset name or a model directory");
        if (imageSize < 0) throw new IllegalArgumentException("--image-size " + imageSize + " must be positive");
        if (classes == null || classes.length == 0) throw new IllegalArgumentException("--classes names no class");
        if (perClass <= 0) throw new IllegalArgumentException("--per-class " + perClass + " must be positive");
        if ((long) classes.length * perClass > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(classes.length + " classes × " + perClass + " per class is more than " + Integer.MAX_VALUE + " images");
        }
        if (shardSize <= 0 || shardSize > MAX_SHARD_SIZE) throw new IllegalArgumentException("--shard-size " + shardSize + " must be 1 to " + MAX_SHARD_SIZE);
        if (batch <= 0) throw new IllegalArgumentException("--batch " + batch + " must be positive");
        classes = classes.clone();
        overrides = new EnumMap<>(overrides);
    }

    public static SetSpec of(String model, int imageSize, SamplingOverrides overrides, int[] classes, int perClass, long seed, int shardSize, int batch) {
        EnumMap<SamplingOption, Object> m = new EnumMap<>(SamplingOption.class);
        m.putAll(overrides.asMap());
        return new SetSpec(model, imageSize, m, classes, perClass, seed, shardSize, batch);
    }

    @Override
    public int[] classes() {
        return classes.clone();
    }

    @Override
    public EnumMap<SamplingOption, Object> overrides() {
        return new EnumMap<>(overrides);
    }

    /** The overrides as the library takes them. */
    public SamplingOverrides samplingOverrides() {
        SamplingOverrides o = SamplingOverrides.NONE;
        for (Map.Entry<SamplingOption, Object> e : overrides.entrySet()) o = o.with(e.getKey(), e.getValue());
        return o;
    }

    public int images() {
        return classes.length * perClass;
    }

    /** The label of image i (class-major). */
    public int label(int image) {
        if (image < 0 || image >= images()) throw new IllegalArgumentException("image " + image + " outside the set's [0, " + images() + ")");
        return classes[image / perClass];
    }

    public int shards() {
        return (images() + shardSize - 1) / shardSize;
    }

    /** Shard k: images [k·shardSize, min(N, (k+1)·shardSize)). */
    public ShardPlan shard(int k) {
        if (k < 0 || k >= shards()) throw new IllegalArgumentException("shard " + k + " outside [0, " + shards() + ")");
        int first = k * shardSize, count = Math.min(shardSize, images() - first);
        int[] labels = new int[count];
        for (int i = 0; i < count; i++) labels[i] = label(first + i);
        return new ShardPlan(k, first, labels);
    }

    /** The same set cut into batches of another size (the images do not change for a family that draws per image). */
    public SetSpec withBatch(int b) {
        return new SetSpec(model, imageSize, overrides, classes, perClass, seed, shardSize, b);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SetSpec s && s.model.equals(model) && s.imageSize == imageSize && s.samplingOverrides().equals(samplingOverrides())
                && java.util.Arrays.equals(s.classes, classes) && s.perClass == perClass && s.seed == seed && s.shardSize == shardSize && s.batch == batch;
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(model, imageSize, java.util.Arrays.hashCode(classes), perClass, seed, shardSize, batch);
    }

    @Override
    public String toString() {
        return "SetSpec[" + model + (imageSize > 0 ? " at " + imageSize + "²" : "") + ", classes " + ClassList.format(classes) + " × " + perClass
                + ", seed " + seed + ", shards of " + shardSize + ", batch " + batch + (overrides.isEmpty() ? "" : ", " + samplingOverrides()) + "]";
    }
}
