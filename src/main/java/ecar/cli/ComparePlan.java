package ecar.cli;

import ecar.flops.FlopsReport;
import ecar.family.Preset;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * What a {@code compare} run will measure, every part validated before anything is timed: each model rebuilt for the
 * image size with its FLOPs counted, the batch sizes, the repeats. A typo in the last model name or an image size one
 * model cannot take then costs nothing instead of a discarded benchmark of the others.
 */
record ComparePlan(List<Model> models, int imageSize, List<Integer> batches, int repeats, long seed) {

    /** One model as it will run: the preset at the plan's image size, and its cost per image (counted by running it on shapes). */
    record Model(String name, Preset preset, double flopsPerImage, int evaluations) {}

    ComparePlan {
        models = List.copyOf(models);
        batches = List.copyOf(batches);
    }

    static ComparePlan of(List<String> names, int imageSize, List<Integer> batches, int repeats, long seed) {
        checkNames(names);
        checkBatches(batches);
        if (repeats <= 0) throw new UserError("--repeats must be positive, got " + repeats);
        List<Model> models = new ArrayList<>();
        for (String name : names) models.add(model(name, imageSize));
        return new ComparePlan(models, imageSize, batches, repeats, seed);
    }

    /** Names alone, so a typo is reported before a backend is chosen (the GPU's self-check takes seconds). */
    static void checkNames(List<String> names) {
        if (names.isEmpty()) throw new UserError("--models: expected at least one model name");
        Set<String> seen = new HashSet<>();
        for (String n : names) {
            ModelCatalog.preset(n);   // an unknown name throws, naming it and listing the presets
            if (!seen.add(n.toLowerCase(java.util.Locale.ROOT))) throw new UserError("--models: " + n + " is named twice");
        }
    }

    static void checkBatches(List<Integer> batches) {
        if (batches.isEmpty()) throw new UserError("--batch: expected at least one batch size");
        Set<Integer> seen = new HashSet<>();
        for (int b : batches) {
            if (b <= 0) throw new UserError("--batch must be positive, got " + b + " in " + join(batches));
            if (!seen.add(b)) throw new UserError("--batch: " + b + " is given twice in " + join(batches));
        }
    }

    private static Model model(String name, int imageSize) {
        SamplingOptions options = new SamplingOptions();
        options.imageSize = imageSize;
        Preset p;
        try {
            p = options.apply(ModelCatalog.preset(name));   // rebuilds the architecture and checks the schedule against it
        } catch (IllegalArgumentException e) {
            throw new UserError(name + " at " + imageSize + "²: " + e.getMessage());
        }
        FlopsReport flops = p.flops();   // network evaluations per image: counted with the FLOPs, guidance doubling included
        return new Model(name, p, flops.flopsPerImage(), (int) Math.round(flops.evaluationsPerImage()));
    }

    static String join(List<Integer> values) {
        return String.join(",", values.stream().map(String::valueOf).toList());
    }
}
