package ecar.cli;

import ecar.flops.FlopsReport;
import ecar.family.Preset;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code ecar flops --model NAME}: the multiply-accumulates of one image, counted by running the model on shapes. */
@Command(name = "flops", mixinStandardHelpOptions = true, versionProvider = Main.Version.class, description = {
        "Multiply-accumulates (MAC) and FLOPs (2 × MAC) per generated image, by phase and by layer, for the sampling",
        "settings given (the model's defaults otherwise), counted by running the model's own code on shapes only.",
        "Several --model options compare models."})
final class FlopsCommand implements Callable<Integer> {

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "NAME", description = "preset name (ecar flops --model list for the list); repeatable")
    List<String> models;

    @Mixin
    SamplingOptions sampling;

    @Override
    public Integer call() {
        if (models.contains("list")) {
            ModelCatalog.printPresets(System.out);
            return 0;
        }
        double first = 0;
        StringBuilder summary = new StringBuilder();
        for (String m : models) {
            Preset p = sampling.apply(ModelCatalog.preset(m));
            FlopsReport r = p.flops();
            System.out.println(r.format());
            if (first == 0) first = r.macsPerImage();
            summary.append(String.format(Locale.ROOT, "  %-12s %12.2f GMAC/image  %10.3f TFLOP/image  %8.2fx the first%n", m,
                    r.macsPerImage() / 1e9, r.flopsPerImage() / 1e12, r.macsPerImage() / first));
        }
        if (models.size() > 1) System.out.print("summary\n" + summary);
        return 0;
    }
}
