package ecar.cli;

import ecar.family.Preset;
import ecar.io.AtomicFile;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The machine-readable twin of the {@code compare} table: {@code NAME.json} beside the chart {@code NAME.png}, written
 * before the chart is drawn so the numbers survive a chart that fails. Every number of the table is in it, unrounded,
 * with the machine, backend, date, command and each model's settings; a value the table shows as "n/a" or that an
 * out-of-memory batch lacks is null. Units are in the key names.
 */
final class CompareResultsFile {
    private CompareResultsFile() {}

    static final int FORMAT = 1;

    /** compare.png → compare.json. */
    static Path beside(Path png) {
        String name = png.getFileName().toString();
        return png.resolveSibling(name.substring(0, name.length() - ".png".length()) + ".json");
    }

    /** Called with the chart's path check, before any work: a folder in the file's place is an error then, not after the run. */
    static void checkWritable(Path file) {
        if (Files.isDirectory(file)) throw new UserError("results file " + file + " is a folder, expected a file name (it goes beside the chart)");
        if (Files.exists(file) && !Files.isWritable(file)) throw new UserError("results file " + file + " exists and is not writable");
    }

    /** Writes the file whole or not at all (a temporary sibling moved into place, removed on failure or a signal). */
    static void write(Path file, CompareRun run) throws IOException {
        try (AtomicFile f = AtomicFile.beside(file)) {
            Files.writeString(f.temp(), PrettyJson.write(content(run)) + "\n", StandardCharsets.UTF_8);
            f.commit();
        }
    }

    static Map<String, Object> content(CompareRun run) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("format", "ecar compare results " + FORMAT);
        m.put("version", new Main.Version().getVersion()[0]);
        m.put("command", run.command());
        m.put("date", run.started().toString());
        m.put("machine", MachineInfo.describe());
        m.put("backend", run.backend());
        m.put("peakTeraflops", Double.isNaN(run.peakTeraflops()) ? null : run.peakTeraflops());
        Map<String, Object> settings = new LinkedHashMap<>();
        ComparePlan plan = run.plan();
        settings.put("imageSize", plan.imageSize());
        settings.put("batches", plan.batches().stream().mapToInt(Integer::intValue).toArray());
        settings.put("repeats", plan.repeats());
        settings.put("seed", plan.seed());
        settings.put("weights", "seeded random (timing does not depend on their values)");
        settings.put("baseline", run.baseline().name());
        m.put("settings", settings);
        m.put("notes", CompareTable.notes(run));
        List<Object> models = new ArrayList<>();
        for (CompareResult r : run.results()) models.add(model(r, run.baseline(), run.peakTeraflops()));
        m.put("models", models);
        return m;
    }

    private static Map<String, Object> model(CompareResult r, CompareResult base, double peak) {
        Preset p = r.model().preset();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", r.name());
        m.put("family", p.family().id());
        m.put("about", p.about());
        m.put("imageSize", p.imageSize());
        m.put("sampling", p.sampling().describe());
        m.put("parameters", r.parameters() < 0 ? null : r.parameters());
        m.put("networkEvaluations", r.model().evaluations());
        m.put("flopsPerImage", r.model().flopsPerImage());
        m.put("flopsRatioVsBaseline", base.model().flopsPerImage() / r.model().flopsPerImage());
        m.put("loadSeconds", Double.isNaN(r.loadSeconds()) ? null : r.loadSeconds());
        List<Object> runs = new ArrayList<>();
        for (BatchMeasurement b : r.batches()) runs.add(batch(b, r, base, peak));
        m.put("runs", runs);
        return m;
    }

    private static Map<String, Object> batch(BatchMeasurement b, CompareResult r, CompareResult base, double peak) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("batch", b.batch());
        boolean ok = b.isMeasured();
        BatchMeasurement baseAt = base.at(b.batch());
        m.put("latencySeconds", ok ? b.latencySeconds() : null);
        m.put("imagesPerSecond", ok ? b.imagesPerSecond() : null);
        m.put("teraflopsPerSecond", ok ? b.teraflopsPerSecond(r.model().flopsPerImage()) : null);
        m.put("shareOfPeak", ok && !Double.isNaN(peak) ? b.teraflopsPerSecond(r.model().flopsPerImage()) / peak : null);
        m.put("peakMemoryBytes", ok && b.tracksMemory() ? b.peakMemoryBytes() : null);
        m.put("latencyRatioVsBaseline", ok && baseAt != null && baseAt.isMeasured() ? baseAt.latencySeconds() / b.latencySeconds() : null);
        m.put("outOfMemory", b.outOfMemory());
        return m;
    }
}
