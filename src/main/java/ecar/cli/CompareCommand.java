package ecar.cli;

import ecar.backend.Backend;
import ecar.flops.FlopsReport;
import ecar.sample.GenerateRequest;
import ecar.sample.Pipeline;
import ecar.family.Preset;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code ecar compare}: ECAR against DiT (and FlowAR) in one run: analytic FLOPs per image beside measured
 * latency and throughput on the backend at hand, with the same batch and image size for all.
 */
@Command(name = "compare", description = {
        "ECAR vs DiT (and FlowAR): FLOPs per image and measured latency/throughput on this machine, same batch",
        "and image size for all, random-weight presets (the timing does not depend on the weights' values).",
        "Prints a table and the exact settings, and draws a bar chart PNG."})
final class CompareCommand implements Callable<Integer> {

    @Option(names = "--models", split = ",", paramLabel = "NAME", description = "presets to compare (default: by backend; CPU: dit-s-2,flowar-s,ecar-s at 128²; GPU: dit-xl-2,flowar-l,ecar-l at 256²)")
    List<String> models;

    @Option(names = "--image-size", paramLabel = "PX", description = "image size for every model (default: 128 on the CPU, 256 on a GPU)")
    Integer imageSize;

    @Option(names = "--batch", paramLabel = "N", description = "images per generation (default 1)")
    int batch = 1;

    @Option(names = "--repeats", paramLabel = "R", description = "timed generations per model after a warm-up; the median is reported (default 1 on the CPU, 3 on a GPU)")
    Integer repeats;

    @Option(names = "--seed", description = "seed of the weights and the noise (default 0)")
    long seed;

    @Option(names = "--out", paramLabel = "PNG", description = "chart file (default compare.png)")
    Path out = Path.of("compare.png");

    @Option(names = "--backend", paramLabel = "cpu|cuda|auto", description = Backends.HELP)
    String backendName = "auto";

    @Override
    public Integer call() throws Exception {
        if (batch <= 0) throw new UserError("--batch must be positive, got " + batch);
        ImageOutput.checkWritable(out);
        Backend backend = Backends.select(backendName);
        boolean gpu = !backend.name().startsWith("cpu");
        List<String> names = models != null ? models : gpu ? List.of("dit-xl-2", "flowar-l", "ecar-l") : List.of("dit-s-2", "flowar-s", "ecar-s");
        int size = imageSize != null ? imageSize : gpu ? 256 : 128;
        int reps = repeats != null ? repeats : gpu ? 3 : 1;
        if (reps <= 0) throw new UserError("--repeats must be positive, got " + reps);

        System.out.printf(Locale.ROOT, "ecar compare on %s: %d² images, batch %d, %d timed run%s after a warm-up, random weights (seed %d)%n",
                backend.name(), size, batch, reps, reps == 1 ? "" : "s", seed);

        List<CompareResult> results = new ArrayList<>();
        for (String name : names) {
            SamplingOptions so = new SamplingOptions();
            so.imageSize = size;
            Preset p = so.apply(ModelCatalog.preset(name));
            FlopsReport flops = p.flops();
            long t0 = System.nanoTime();
            Pipeline pipe = Pipeline.random(p, seed, backend);
            double loadS = (System.nanoTime() - t0) / 1e9;
            int[] labels = new int[batch];
            for (int i = 0; i < batch; i++) labels[i] = (207 + 153 * i) % p.numClasses();   // 207: golden retriever
            GenerateRequest request = GenerateRequest.of(labels).seed(seed);
            System.err.printf(Locale.ROOT, "%s: warming up…%n", name);
            pipe.warmUp(request);
            double[] times = new double[reps];
            ProgressBar bar = new ProgressBar(name, System.err);
            for (int r = 0; r < reps; r++) {
                long s0 = System.nanoTime();
                pipe.sampleLatents(request, bar);
                times[r] = (System.nanoTime() - s0) / 1e9;
            }
            bar.finish();
            Arrays.sort(times);
            double latency = times[reps / 2];
            results.add(new CompareResult(name, p, pipe.parameters(), flops.flopsPerImage(), latency, batch / latency, loadS, (int) Math.round(flops.evaluationsPerImage())));
        }
        System.out.println();
        System.out.print(CompareResult.table(results, batch));
        System.out.println();
        System.out.println("settings:");
        for (CompareResult r : results) {
            System.out.printf(Locale.ROOT, "  %-12s %s; %s%n", r.name(), r.preset().about(), r.preset().sampling().describe());
        }
        System.out.println("  latency: median wall time of one generation of the whole batch, class labels to sampled latents (VAE decode not included)");
        System.out.println("  FLOPs: analytic, 2 × multiply-accumulates of every matrix product and attention, guidance doubling included (ecar flops --model NAME)");
        CompareChart.write(out, results, backend.name(), size, batch);
        System.out.println("chart: " + out.toAbsolutePath());
        return 0;
    }
}
