package ecar.sample;

import ecar.arpg.ArpgFamily;
import ecar.dit.DiTFamily;
import ecar.family.ModelFamily;
import ecar.flowar.FlowArFamily;

import java.util.List;

/** Every model family the runtime knows, in one place: adding a family is one line here. */
public final class Families {
    private Families() {}

    public static final List<ModelFamily> ALL = List.of(DiTFamily.INSTANCE, FlowArFamily.FLOWAR, FlowArFamily.ECAR, ArpgFamily.INSTANCE);

    public static ModelFamily byId(String id) {
        for (ModelFamily f : ALL) if (f.id().equalsIgnoreCase(id)) return f;
        throw new IllegalArgumentException("unknown model family '" + id + "' (known: " + String.join(", ", ALL.stream().map(ModelFamily::id).toList()) + ")");
    }
}
