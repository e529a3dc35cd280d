package ecar.family;

import ecar.fixture.FixtureKind;
import ecar.io.Json;
import ecar.model.WeightSource;
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

    /**
     * The architecture a model directory describes with numbers (config.json's "architecture", under the reference
     * code's names): {@code preset}'s with those numbers in place. Throws IllegalArgumentException naming an unknown
     * name or an inconsistent value.
     */
    default Architecture withNumbers(Architecture preset, Json.Obj numbers) {
        throw new IllegalArgumentException(numbers.where() + ": " + id() + " models take no architecture numbers (their presets are the architectures)");
    }

    /**
     * Where the weights' shapes say another number than the architecture, one line each, naming the number, both
     * values and the tensor that tells (e.g. "input_size 32 (image_size 256): the weights say 64 (image_size 512),
     * pos_embed [1, 1024, 384] ..."); empty when they agree or the weights carry no names (generated weights).
     */
    default List<String> disagreements(Preset preset, WeightSource weights) {
        return List.of();
    }

    /** The parity-fixture kinds this family runs (`ecar check`). */
    List<FixtureKind> fixtures();
}
