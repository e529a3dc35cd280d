package ecar.sample;

import ecar.family.ModelFamily;
import ecar.family.Preset;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The models known by name: every family's presets, in the order of {@link Families#ALL}. */
public final class Presets {
    private Presets() {}

    private static final Map<String, Preset> ALL = new LinkedHashMap<>();

    static {
        for (ModelFamily f : Families.ALL) {
            for (Preset p : f.presets()) {
                if (ALL.put(p.name(), p) != null) throw new IllegalStateException("preset " + p.name() + " is defined twice");
            }
        }
    }

    public static List<String> names() {
        return new ArrayList<>(ALL.keySet());
    }

    public static boolean exists(String name) {
        return ALL.containsKey(name.toLowerCase(Locale.ROOT));
    }

    public static Preset get(String name) {
        Preset p = ALL.get(name.toLowerCase(Locale.ROOT));
        if (p == null) {
            throw new IllegalArgumentException("unknown model '" + name + "' (presets: " + String.join(", ", names()) + "; or a model directory)");
        }
        return p;
    }
}
