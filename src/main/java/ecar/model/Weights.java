package ecar.model;


import ecar.backend.Backend;
import ecar.tensor.FloatTensor;
import ecar.tensor.Shape;
import ecar.tensor.Tensor;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;

/**
 * A model's parameters as its modules ask for them by reference key name and shape. Problems are collected,
 * not thrown one at a time: {@link #finish()} reports every missing tensor, every shape mismatch and every
 * stored tensor no module used, in one message.
 */
public final class Weights {
    private final WeightSource source;
    private final Backend backend;
    private final String prefix;
    private final Shared shared;

    private static final class Shared {
        final Set<String> used = new LinkedHashSet<>();
        final Set<String> ignorable = new LinkedHashSet<>();
        final List<String> missing = new ArrayList<>();
        final List<String> misshaped = new ArrayList<>();
        long parameters;
    }

    public Weights(WeightSource source, Backend backend) {
        this(source, backend, "", new Shared());
    }

    private Weights(WeightSource source, Backend backend, String prefix, Shared shared) {
        this.source = source;
        this.backend = backend;
        this.prefix = prefix;
        this.shared = shared;
    }

    public Backend backend() {
        return backend;
    }

    /** The same weights under a name prefix ("blocks.3." …). */
    public Weights at(String sub) {
        return new Weights(source, backend, prefix + sub, shared);
    }

    /** The parameter uploaded to the backend as a constant (read from the source only when the backend asks). */
    public Tensor param(String name, int... dims) {
        return param(name, dims, Shape.of(dims), t -> t);
    }

    /**
     * The parameter stored as {@code stored}, uploaded as {@code uploaded} after {@code layout} re-lays it out (a
     * convolution kernel permuted to channels-last, a conv weight read as the matrix it is). Checked now, read later.
     */
    public Tensor param(String name, int[] stored, Shape uploaded, java.util.function.UnaryOperator<FloatTensor> layout) {
        String full = prefix + name;
        Shape expected = Shape.of(stored);
        shared.parameters += expected.numel();
        Shape found = source.shape(full, expected);
        boolean usable = found != null && found.equals(expected);
        if (found == null) {
            shared.missing.add(full + " " + expected);
        } else {
            shared.used.add(full);
            if (!usable) shared.misshaped.add(full + ": stored " + found + ", expected " + expected);
        }
        return backend.weight(full, uploaded, () -> layout.apply(usable ? source.get(full, expected) : FloatTensor.zeros(expected)));
    }

    /**
     * Parameters of one shape under several names, uploaded as one tensor [names · dims[0], dims[1], …]: their rows
     * stacked in the order given (the adaLN projections of every block, which read the same input, as one matmul).
     * Each name is checked as {@link #param} checks it; {@code label} names the stacked tensor (a layer in FLOPs reports).
     */
    public Tensor paramStack(String label, List<String> names, int... dims) {
        return paramRows(label, names, false, dims);
    }

    /**
     * Parameters of one shape under several names, uploaded as one tensor [names · dims[0], dims[1], …] with their rows
     * interleaved: row r of name i at row r · names + i (a gated MLP's gate and value projections, so that one matmul
     * gives each hidden unit's two inputs side by side, see {@link ecar.backend.Backend#gatedLinear}). Checked as
     * {@link #paramStack}.
     */
    public Tensor paramInterleave(String label, List<String> names, int... dims) {
        return paramRows(label, names, true, dims);
    }

    private Tensor paramRows(String label, List<String> names, boolean interleave, int... dims) {
        Shape one = Shape.of(dims);
        int[] stacked = dims.clone();
        stacked[0] = dims[0] * names.size();
        List<String> full = new ArrayList<>();
        List<Boolean> usable = new ArrayList<>();
        for (String name : names) {
            String f = prefix + name;
            shared.parameters += one.numel();
            Shape found = source.shape(f, one);
            if (found == null) shared.missing.add(f + " " + one);
            else {
                shared.used.add(f);
                if (!found.equals(one)) shared.misshaped.add(f + ": stored " + found + ", expected " + one);
            }
            full.add(f);
            usable.add(found != null && found.equals(one));
        }
        return backend.weight(prefix + label, Shape.of(stacked), () -> {
            float[] all = new float[(int) Shape.of(stacked).numel()];
            int per = (int) one.numel(), rows = dims[0], row = per / rows, parts = full.size();
            for (int i = 0; i < parts; i++) {
                if (!usable.get(i)) continue;
                float[] part = source.get(full.get(i), one).data();
                if (!interleave) System.arraycopy(part, 0, all, i * per, per);
                else for (int r = 0; r < rows; r++) System.arraycopy(part, r * row, all, (r * parts + i) * row, row);
            }
            return new FloatTensor(Shape.of(stacked), all);
        });
    }

    /** The parameter on the host, as float32, for modules that re-lay it out before upload. */
    public FloatTensor host(String name, int... dims) {
        return host(name, null, dims);
    }

    /**
     * The parameter, or fallback's value when the source lacks it (fixed buffers such as DiT's sin-cos position
     * embedding, which checkpoints may or may not carry). Generated sources use the fallback too.
     */
    public FloatTensor host(String name, Supplier<FloatTensor> fallback, int... dims) {
        String full = prefix + name;
        Shape expected = Shape.of(dims);
        shared.parameters += expected.numel();
        boolean generated = source.names().isEmpty();
        Shape stored = generated && fallback != null ? null : source.shape(full, expected);
        if (stored == null) {
            if (fallback != null) return fallback.get();
            shared.missing.add(full + " " + expected);
            return FloatTensor.zeros(expected);
        }
        shared.used.add(full);
        if (!stored.equals(expected)) {
            shared.misshaped.add(full + ": stored " + stored + ", expected " + expected);
            return FloatTensor.zeros(expected);
        }
        return source.get(full, expected);
    }

    /** Elements of every parameter and buffer asked for so far (the model's size once it is built). */
    public long parameterCount() {
        return shared.parameters;
    }

    /** True when the source holds this name (for optional parts of a layout). */
    public boolean has(String name) {
        return source.shape(prefix + name, Shape.of()) != null && !source.names().isEmpty();
    }

    /** Marks stored buffers that carry nothing the model needs (e.g. precomputed RoPE frequencies). */
    public void ignore(String name) {
        shared.ignorable.add(prefix + name);
    }

    /** Throws a {@link WeightsException} naming every problem, if there is any. */
    public void finish() {
        Set<String> unexpected = new TreeSet<>(source.names());
        unexpected.removeAll(shared.used);
        unexpected.removeAll(shared.ignorable);
        if (shared.missing.isEmpty() && shared.misshaped.isEmpty() && unexpected.isEmpty()) return;
        StringBuilder b = new StringBuilder("weights from " + source.describe() + " do not fit the model:");
        list(b, "missing", shared.missing);
        list(b, "wrong shape", shared.misshaped);
        list(b, "unexpected", new ArrayList<>(unexpected));
        throw new WeightsException(b.toString());
    }

    private static void list(StringBuilder b, String what, List<String> items) {
        if (items.isEmpty()) return;
        b.append("\n  ").append(what).append(" (").append(items.size()).append("): ");
        int shown = Math.min(items.size(), 12);
        b.append(String.join(", ", items.subList(0, shown)));
        if (items.size() > shown) b.append(", … ").append(items.size() - shown).append(" more");
    }
}
