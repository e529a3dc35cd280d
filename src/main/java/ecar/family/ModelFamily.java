package ecar.family;

import ecar.fixture.FixtureKind;
import ecar.model.Weights;

import java.util.List;

/**
 * One kind of generator (DiT, FlowAR, ECAR, ARPG): the one place that knows its named sizes, how it is built from
 * weights, how it samples and which parity fixtures it answers. Everything above (Pipeline, the presets, compare,
 * flops, check) goes through this interface and never asks which family it holds; adding a family is a package that
 * implements it and one line in ecar.sample.Families.
 */
public interface ModelFamily {

    /** Short lower-case name: "dit", "flowar", "ecar". */
    String id();

    /** What it is, in a few words, for tables and help. */
    String kind();

    /** The named architectures of the papers at their image sizes, and tiny ones for tests. */
    List<Preset> presets();

    /** The generator of preset's architecture with its parameters from weights (on weights' backend). */
    Generator load(Preset preset, Weights weights);

    /** Settings of a short run that takes the same code paths (every stage, both guidance halves): a warm-up. */
    Sampling warmup(Sampling full);

    /** Checks settings against the architecture before any work; throws IllegalArgumentException naming the problem. */
    default void check(Preset preset, Sampling sampling) {}

    /** The parity-fixture kinds this family runs (`ecar check`). */
    List<FixtureKind> fixtures();
}
