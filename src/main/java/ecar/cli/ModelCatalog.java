package ecar.cli;

import ecar.family.Preset;
import ecar.sample.Presets;

import java.io.PrintStream;

/** Model names on the command line: presets now; model directories are resolved by the pipeline loader. */
final class ModelCatalog {
    private ModelCatalog() {}

    static Preset preset(String name) {
        return Presets.get(name);
    }

    static void printPresets(PrintStream out) {
        for (String n : Presets.names()) {
            Preset p = Presets.get(n);
            out.printf("  %-12s %4d²  %s%n", n, p.imageSize(), p.about());
        }
    }
}
