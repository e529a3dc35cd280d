package ecar.sample;

import ecar.backend.Backend;
import ecar.family.ModelFamily;
import ecar.fixture.Comparison;
import ecar.fixture.Fixture;
import ecar.fixture.FixtureKind;
import ecar.vae.VaeFixtures;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Runs a parity fixture through the normal loading path and compares every expected tensor. */
public final class FixtureRunner {
    private FixtureRunner() {}

    /** The kinds of every family, and the decoders'. */
    private static final Map<String, FixtureKind> KINDS = new TreeMap<>();

    static {
        for (ModelFamily f : Families.ALL) for (FixtureKind k : f.fixtures()) add(k);
        for (FixtureKind k : VaeFixtures.KINDS) add(k);
    }

    private static void add(FixtureKind k) {
        if (KINDS.put(k.kind(), k) != null) throw new IllegalStateException("fixture kind " + k.kind() + " is claimed twice");
    }

    public static List<String> kinds() {
        return List.copyOf(KINDS.keySet());
    }

    /** The kind's comparisons; throws IllegalArgumentException for an unknown kind. */
    public static List<Comparison> run(Path path, Backend backend) {
        try (Fixture f = Fixture.open(path)) {
            FixtureKind kind = KINDS.get(f.kind());
            if (kind == null) {
                throw new IllegalArgumentException(path + ": unknown fixture kind '" + f.kind() + "' (known: " + String.join(", ", kinds()) + ")");
            }
            return kind.run().apply(f, backend);
        }
    }
}
