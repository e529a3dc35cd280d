package ecar.arpg;

import ecar.backend.Philox;

import java.util.Arrays;
import java.util.Comparator;

/**
 * The random order in which ARPG generates the token grid, as 1-based raster positions (which are also the rows of
 * the RoPE table): the reference's {@code torch.rand(T).argsort() + 1} with our own counter-based uniforms, so a seed
 * gives the same order on every backend and machine.
 */
public final class GenerationOrder {
    /** The Philox stream of the order's uniforms; step k's token draws use stream {@code FIRST_STEP_STREAM + k}. */
    public static final int ORDER_STREAM = 0, FIRST_STEP_STREAM = 1;

    private GenerationOrder() {}

    /** Positions 1..tokens sorted by Philox.uniform(seed, ORDER_STREAM, position − 1), ties by position. */
    public static int[] philox(long seed, int tokens) {
        Integer[] p = new Integer[tokens];
        float[] u = new float[tokens];
        for (int i = 0; i < tokens; i++) {
            p[i] = i;
            u[i] = Philox.uniform(seed, ORDER_STREAM, i);
        }
        Arrays.sort(p, Comparator.comparingDouble((Integer i) -> u[i]));   // stable: ties keep position order
        int[] order = new int[tokens];
        for (int j = 0; j < tokens; j++) order[j] = p[j] + 1;
        return order;
    }

    /** Throws unless {@code order} holds each of the positions 1..tokens once. */
    public static void check(int[] order, int tokens) {
        if (order.length != tokens) throw new IllegalArgumentException("an order of " + order.length + " positions for " + tokens + " tokens");
        boolean[] seen = new boolean[tokens + 1];
        for (int p : order) {
            if (p < 1 || p > tokens || seen[p]) {
                throw new IllegalArgumentException("order " + Arrays.toString(order) + " is not a permutation of the positions 1.." + tokens
                        + " (" + p + (p < 1 || p > tokens ? " is outside" : " repeats") + ")");
            }
            seen[p] = true;
        }
    }
}
