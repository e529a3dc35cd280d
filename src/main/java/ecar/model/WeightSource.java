package ecar.model;

import ecar.io.SafeTensors;
import ecar.tensor.FloatTensor;
import ecar.tensor.Shape;

import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;

/** Where a model's parameters come from: a checkpoint, a fixture, or seeded random numbers (presets). */
public interface WeightSource {

    /** The tensor stored under name, as float32, or null when there is none. */
    FloatTensor get(String name, Shape expected);

    /** The shape stored under name, or null when there is none (random sources have every name). */
    Shape shape(String name, Shape expected);

    /** Every stored name, to report those no module used; empty for generated weights. */
    Set<String> names();

    /** A description for error messages, e.g. the file name. */
    String describe();

    /**
     * The tensors of a safetensors file whose names start with prefix (prefix removed), renamed by keyMap
     * (identity for checkpoints that already use the reference's names).
     */
    static WeightSource of(SafeTensors file, String prefix, UnaryOperator<String> keyMap) {
        Map<String, SafeTensors.Entry> byName = new java.util.LinkedHashMap<>();
        for (var e : file.tensors().entrySet()) {
            if (e.getKey().startsWith(prefix)) {
                String name = keyMap.apply(e.getKey().substring(prefix.length()));
                if (name != null) byName.put(name, e.getValue());
            }
        }
        return new WeightSource() {
            @Override
            public FloatTensor get(String name, Shape expected) {
                SafeTensors.Entry e = byName.get(name);
                return e == null ? null : e.toFloatTensor();
            }

            @Override
            public Shape shape(String name, Shape expected) {
                SafeTensors.Entry e = byName.get(name);
                return e == null ? null : e.shape();
            }

            @Override
            public Set<String> names() {
                return new LinkedHashSet<>(byName.keySet());
            }

            @Override
            public String describe() {
                return file.path() + (prefix.isEmpty() ? "" : " (tensors '" + prefix + "*')");
            }
        };
    }

    static WeightSource of(SafeTensors file, String prefix) {
        return of(file, prefix, UnaryOperator.identity());
    }

    /**
     * The same tensors, each shown to peek as it is handed out: to record what a model loads (writing a
     * checkpoint from generated weights) or to alter it (tests poisoning one tensor).
     */
    static WeightSource peeking(WeightSource base, java.util.function.BiConsumer<String, FloatTensor> peek) {
        return new WeightSource() {
            @Override
            public FloatTensor get(String name, Shape expected) {
                FloatTensor t = base.get(name, expected);
                if (t != null) peek.accept(name, t);
                return t;
            }

            @Override
            public Shape shape(String name, Shape expected) {
                return base.shape(name, expected);
            }

            @Override
            public Set<String> names() {
                return base.names();
            }

            @Override
            public String describe() {
                return base.describe();
            }
        };
    }

    /** Host tensors by name (tests, converted checkpoints). */
    static WeightSource of(Map<String, FloatTensor> tensors, String description) {
        return new WeightSource() {
            @Override
            public FloatTensor get(String name, Shape expected) {
                return tensors.get(name);
            }

            @Override
            public Shape shape(String name, Shape expected) {
                FloatTensor t = tensors.get(name);
                return t == null ? null : t.shape();
            }

            @Override
            public Set<String> names() {
                return new LinkedHashSet<>(tensors.keySet());
            }

            @Override
            public String describe() {
                return description;
            }
        };
    }
}
