package ecar.model;

import ecar.tensor.FloatTensor;
import ecar.tensor.Shape;

import java.util.Set;
import java.util.SplittableRandom;

/**
 * Seeded random parameters for presets, scaled so activations keep a sane range through deep stacks:
 * matrices N(0, 1/fan_in) (variance-preserving), adaLN projections a tenth of that (modulation near identity,
 * gates small, as a trained adaLN-Zero model starts), norm weights 1, biases 0, embedding tables and learned
 * position embeddings N(0, 0.02²) as the references initialise them. Each tensor draws from its own stream
 * keyed by (seed, name), so the weights do not depend on the order modules ask for them.
 */
public final class RandomWeights implements WeightSource {
    private final long seed;

    public RandomWeights(long seed) {
        this.seed = seed;
    }

    @Override
    public FloatTensor get(String name, Shape expected) {
        float[] v = new float[expected.size()];
        if (isOne(name, expected)) {
            java.util.Arrays.fill(v, 1f);
        } else if (!name.endsWith("bias")) {
            double std = std(name, expected);
            SplittableRandom r = new SplittableRandom(seed ^ (name.hashCode() * 0x9E3779B97F4A7C15L));
            for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextGaussian() * std);
        }
        return new FloatTensor(expected, v);
    }

    private static boolean isOne(String name, Shape s) {
        return s.rank() == 1 && name.endsWith("weight") && (name.contains("norm") || name.contains("_ln"));
    }

    private static double std(String name, Shape s) {
        if (name.contains("embedding") || name.contains("emb.weight") || name.contains("pos_embed")) return 0.02;
        if (s.rank() < 2) return 0.02;
        int fanIn = s.size() / s.dim(0);
        double std = 1.0 / Math.sqrt(fanIn);
        if (name.contains("adaLN") || name.contains("ada_lin")) std *= 0.1;
        return std;
    }

    @Override
    public Shape shape(String name, Shape expected) {
        return expected;
    }

    @Override
    public Set<String> names() {
        return Set.of();
    }

    @Override
    public String describe() {
        return "random weights (seed " + seed + ")";
    }
}
