package ecar.cli;

import ecar.backend.Backend;
import ecar.sample.Pipeline;
import ecar.sampleset.LocalStore;
import ecar.sampleset.SampleSetRun;
import ecar.sampleset.SetMerger;
import ecar.sampleset.SetSpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code ecar sample-set}: an evaluation set of N images per class as shards of PNGs, then samples.npz and manifest.json. */
@Command(name = "sample-set", mixinStandardHelpOptions = true, versionProvider = Main.Version.class, description = {
        "Generate an evaluation sample set (e.g. 50 images of each of 1,000 classes) as shards of PNGs in DIR/shards, then",
        "DIR/samples.npz (arr_0: uint8 [N, H, W, 3], the layout of ADM's evaluator; arr_1: int64 labels) and DIR/manifest.json.",
        "Image i has label classes[i / per-class] and its own noise, keyed by (seed, i). Run it again after an interruption:",
        "shards that verify are kept, the rest are made again."})
final class SampleSetCommand implements Callable<Integer> {

    @Mixin
    SampleSetOptions set;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "folder of the set (made if missing)")
    Path out;

    @Option(names = "--backend", paramLabel = "cpu|cuda|auto", description = Backends.HELP)
    String backendName = "auto";

    @Override
    public Integer call() throws Exception {
        if (Files.exists(out) && !Files.isDirectory(out)) throw new UserError("--out " + out + " is a file; expected a folder for the set");
        Files.createDirectories(out);
        Backend backend = Backends.select(backendName);
        Pipeline pipe = SampleSetRun.load(specFor(null), backend);
        SetSpec spec = specFor(pipe);
        SampleSetRun.check(spec, pipe);
        System.err.printf(Locale.ROOT, "ecar: %s on %s: %d images of %d² (%d classes × %d), %d shards of up to %d, batch %d, %s%n", pipe.preset().name(),
                backend.name(), spec.images(), pipe.preset().imageSize(), spec.classes().length, spec.perClass(), spec.shards(), spec.shardSize(), spec.batch(),
                pipe.settings(ecar.sample.GenerateRequest.of(spec.classes()[0]).options(spec.samplingOverrides())).describe());
        if (!pipe.drawsPerImage()) {
            System.err.println("ecar: " + pipe.preset().name() + " draws its random numbers per batch: the set is reproducible with the same --batch and "
                    + "--shard-size, and another batch size gives other images");
        }
        if (pipe.randomWeights()) System.err.println("ecar: " + pipe.preset().name() + " has random weights (a preset): the pictures will be noise");
        long t0 = System.nanoTime();
        SampleSetProgress progress = new SampleSetProgress(System.err);
        SetMerger.Merged merged = SampleSetRun.run(spec, pipe, new LocalStore(out), progress);
        System.out.printf(Locale.ROOT, "%s (%d images, %.1f MB, sha256 %s) and %s in %.1f s%n", out.resolve("samples.npz"), spec.images(), merged.npzBytes() / 1e6,
                merged.npzSha256(), out.resolve("manifest.json"), (System.nanoTime() - t0) / 1e9);
        return 0;
    }

    /** The set, its classes defaulting to all of the model's (known once it is loaded; before, one class stands in). */
    private SetSpec specFor(Pipeline pipe) {
        return set.spec(pipe == null ? 1 : pipe.preset().numClasses());
    }
}
