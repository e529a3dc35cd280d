package ecar.family;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;

/** Sampling options set by a request, in a fixed order; immutable (arrays are copied in and out). */
public final class SamplingOverrides {
    public static final SamplingOverrides NONE = new SamplingOverrides(new EnumMap<>(SamplingOption.class));

    private final EnumMap<SamplingOption, Object> values;

    private SamplingOverrides(EnumMap<SamplingOption, Object> values) {
        this.values = values;
    }

    /** These overrides with one more (or a new value for it). */
    public SamplingOverrides with(SamplingOption option, Object value) {
        if (!option.type().isInstance(value)) {
            throw new IllegalArgumentException("--" + option.flag() + ": expected a " + option.type().getSimpleName() + ", got " + value);
        }
        EnumMap<SamplingOption, Object> m = new EnumMap<>(values);
        m.put(option, copy(value));
        return new SamplingOverrides(m);
    }

    public boolean has(SamplingOption option) {
        return values.containsKey(option);
    }

    /** The value set for option, or null. */
    public <T> T get(SamplingOption option, Class<T> type) {
        return type.cast(copy(values.get(option)));
    }

    /** The options set, in their fixed order. */
    public Map<SamplingOption, Object> asMap() {
        EnumMap<SamplingOption, Object> m = new EnumMap<>(SamplingOption.class);
        values.forEach((k, v) -> m.put(k, copy(v)));
        return Collections.unmodifiableMap(m);
    }

    public boolean isEmpty() {
        return values.isEmpty();
    }

    private static Object copy(Object v) {
        return v instanceof int[] a ? a.clone() : v;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof SamplingOverrides other) || !other.values.keySet().equals(values.keySet())) return false;
        for (var e : values.entrySet()) {
            Object a = e.getValue(), b = other.values.get(e.getKey());
            if (a instanceof int[] x ? !java.util.Arrays.equals(x, (int[]) b) : !a.equals(b)) return false;
        }
        return true;
    }

    @Override
    public int hashCode() {
        return values.keySet().hashCode();
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder();
        values.forEach((k, v) -> b.append(b.isEmpty() ? "" : " ").append("--").append(k.flag()).append(' ')
                .append(v instanceof int[] a ? java.util.Arrays.toString(a) : v));
        return b.toString();
    }
}
