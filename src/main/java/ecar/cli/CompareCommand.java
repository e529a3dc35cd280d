package ecar.cli;

import ecar.backend.Backend;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code ecar compare}: ECAR against DiT (and FlowAR, ARPG) in one run: FLOPs per image (counted) beside measured latency,
 * throughput and peak memory on the backend at hand, at one or several batch sizes, the same image size for all.
 * Everything is validated before anything is timed ({@link ComparePlan}); the results are printed and written
 * before the chart is drawn ({@link CompareReport}).
 */
@Command(name = "compare", mixinStandardHelpOptions = true, versionProvider = Main.Version.class, description = {
        "ECAR vs DiT (and FlowAR): FLOPs per image and measured latency, throughput and peak memory on this machine, at",
        "one or several batch sizes and one image size for all, random-weight presets (the timing does not depend on the",
        "weights' values). Prints a table and the exact settings, writes them to NAME.json beside the chart, then draws",
        "the chart NAME.png."})
final class CompareCommand implements Callable<Integer> {

    @Option(names = "--models", split = ",", paramLabel = "NAME", description = "presets to compare, as listed by ecar info (default: by backend; CPU: dit-s-2,flowar-s,ecar-s at 128²; GPU: dit-xl-2,flowar-l,ecar-l,arpg-l at 256²)")
    List<String> models;

    @Option(names = "--image-size", paramLabel = "PX", description = "image size for every model (default: 128 on the CPU, 256 on a GPU)")
    Integer imageSize;

    @Option(names = "--batch", split = ",", paramLabel = "N", description = "images per generation; a list runs every model at each size, e.g. 1,16,64 (default 1)")
    List<Integer> batches;

    @Option(names = "--repeats", paramLabel = "R", description = "timed generations per model and batch after a warm-up; the median is reported (default 1 on the CPU, 3 on a GPU)")
    Integer repeats;

    @Option(names = "--seed", description = "seed of the weights and the noise (default 0)")
    long seed;

    @Option(names = "--out", paramLabel = "PNG", description = "chart file; the results go beside it as NAME.json (default compare.png)")
    Path out = Path.of("compare.png");

    @Option(names = "--backend", paramLabel = "cpu|cuda|auto", description = Backends.HELP)
    String backendName = "auto";

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        // what can be checked without a backend first: the GPU's self-check takes seconds
        List<Integer> batchSizes = batches != null ? batches : List.of(1);
        ComparePlan.checkBatches(batchSizes);
        if (repeats != null && repeats <= 0) throw new UserError("--repeats must be positive, got " + repeats);
        if (models != null) ComparePlan.checkNames(models);
        ImageOutput.checkWritable(out);
        CompareResultsFile.checkWritable(CompareResultsFile.beside(out));

        Backend backend = Backends.select(backendName);
        boolean gpu = !backend.name().startsWith("cpu");
        List<String> names = models != null ? models : gpu ? List.of("dit-xl-2", "flowar-l", "ecar-l", "arpg-l") : List.of("dit-s-2", "flowar-s", "ecar-s");
        int size = imageSize != null ? imageSize : gpu ? 256 : 128;
        int reps = repeats != null ? repeats : gpu ? 3 : 1;
        ComparePlan plan = ComparePlan.of(names, size, batchSizes, reps, seed);

        System.out.printf(Locale.ROOT, "ecar compare on %s: %d² images, batch %s, %d timed run%s after a warm-up, random weights (seed %d)%n",
                backend.name(), size, ComparePlan.join(plan.batches()), reps, reps == 1 ? "" : "s", seed);
        OffsetDateTime started = OffsetDateTime.now().truncatedTo(ChronoUnit.SECONDS);
        CompareBenchmark benchmark = new CompareBenchmark(backend, System.err);
        List<CompareResult> results;
        try {
            results = benchmark.measureAll(plan);
        } catch (CompareBenchmark.Aborted e) {
            // what was measured before the failure is reported (table, JSON, chart) before the error ends the run
            if (!e.measured.isEmpty()) {
                System.out.println("\n" + e.model + " failed; the models measured before it:");
                CompareReport.print(new CompareRun(backend.name(), backend.peakTeraflops(), started, commandLine(), plan, e.measured), out,
                        System.out, CompareChart::write);
            }
            throw e;
        }
        CompareRun run = new CompareRun(backend.name(), backend.peakTeraflops(), started, commandLine(), plan, results);
        CompareReport.print(run, out, System.out, CompareChart::write);
        return 0;
    }

    /** The command as typed (after "ecar"), for the results file. */
    private String commandLine() {
        return "ecar " + String.join(" ", spec.commandLine().getParseResult().originalArgs());
    }
}
