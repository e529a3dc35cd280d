package ecar.cli;

import ecar.backend.Backend;
import ecar.backend.cpu.CpuBackend;
import ecar.backend.cpu.Parallel;
import ecar.image.Pictures;
import ecar.sample.GenerateRequest;
import ecar.sample.HeapEstimate;
import ecar.sample.Generated;
import ecar.sample.ModelDirectory;
import ecar.sample.Pipeline;
import ecar.sample.WeightPaths;
import ecar.family.Preset;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code ecar generate}: class labels to a grid PNG, one image per label, sampling then VAE decode. */
@Command(name = "generate", mixinStandardHelpOptions = true, versionProvider = Main.Version.class, description = {
        "Generate one image per class label and write them as a grid PNG (the file appears only when done).",
        "--model takes a preset (random weights: the pictures are noise) or a model directory with real weights",
        "(docs/MODEL_DIRECTORY.md; tools/convert_checkpoint.py makes one from the official checkpoints)."})
final class GenerateCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, paramLabel = "NAME|DIR", description = "preset (ecar-l, flowar-l, dit-xl-2, …, see ecar info) or model directory")
    String model;

    @Option(names = "--class", split = ",", paramLabel = "LABEL", description = "ImageNet class labels, one image each "
            + "(default 207, a golden retriever; 207 mod the class count for a model with fewer classes, as the tiny presets' 10)")
    int[] labels;

    @Option(names = "--seed", description = "seed of the noise: the same seed gives the same images (default 0)")
    long seed;

    @Option(names = "--out", paramLabel = "PNG", description = "grid file (default grid.png)")
    Path out = Path.of("grid.png");

    @Option(names = "--columns", paramLabel = "N", description = "images per row of the grid (default 8)")
    int columns = 8;

    @Option(names = "--backend", paramLabel = "cpu|cuda|auto", description = Backends.HELP)
    String backendName = "auto";

    @Option(names = "--allow-weights-outside", description = "let a model directory's config.json name weight files outside the directory "
            + "(refused by default, symbolic links and .. resolved)")
    boolean weightsAnywhere;

    @Mixin
    SamplingOptions sampling;

    @Override
    public Integer call() throws Exception {
        if (columns <= 0) throw new UserError("--columns must be positive, got " + columns);
        ImageOutput.checkWritable(out);   // before minutes of sampling, not after
        Backend backend = Backends.select(backendName);
        Pipeline pipe = load(backend);
        if (labels == null) labels = new int[]{207 % pipe.preset().numClasses()};   // the label compare and profile start from
        GenerateRequest request = sampling.request(GenerateRequest.of(labels).seed(seed));
        pipe.check(request);
        Preset p = pipe.preset();
        if (backend instanceof CpuBackend) {
            HeapCheck.require(HeapEstimate.of(p, pipe.settings(request), labels.length, Parallel.threads()), Runtime.getRuntime().maxMemory(),
                    String.format(Locale.ROOT, "%s, %d image%s of %d²,", p.name(), labels.length, labels.length == 1 ? "" : "s", p.imageSize()));
        }
        System.err.printf(Locale.ROOT, "ecar: %s on %s, %d image%s of %d², %s%n", p.name(), backend.name(), labels.length,
                labels.length == 1 ? "" : "s", p.imageSize(), pipe.settings(request).describe());
        if (pipe.randomWeights()) {
            System.err.println("ecar: " + p.name() + " has random weights (a preset): the pictures will be noise. For real images pass a model "
                    + "directory converted from the official checkpoints (docs/MODEL_DIRECTORY.md).");
        }
        ProgressBar bar = new ProgressBar(p.name(), System.err);
        Generated g = pipe.generate(request, bar);
        bar.finish();
        ImageOutput.writePng(Pictures.grid(g.images(), columns), out);
        System.out.printf(Locale.ROOT, "%s (%d image%s, sampling %.2f s, decode %.2f s)%n", out, labels.length, labels.length == 1 ? "" : "s",
                g.samplingSeconds(), g.decodeSeconds());
        return 0;
    }

    private Pipeline load(Backend backend) {
        Path dir = Path.of(model);
        if (Files.isDirectory(dir)) {
            if (sampling.imageSize != null) throw new UserError("--image-size applies to presets; a model directory sets \"image_size\" in its config.json");
            return ModelDirectory.load(dir, backend, weightsAnywhere ? WeightPaths.ANYWHERE : WeightPaths.INSIDE_DIRECTORY);
        }
        return Pipeline.random(sampling.applyArchitecture(ModelCatalog.preset(model)), 0, backend);
    }
}
