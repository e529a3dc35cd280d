package ecar.cli;

import ecar.family.Preset;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * A finished {@code compare} measurement, presented in the order of what is least likely to fail: the table and
 * settings on stdout, the results file, and only then the chart. A failure of the file or the chart ends the run
 * with one line naming what was kept; the measurements are never lost to the chart.
 */
final class CompareReport {
    private CompareReport() {}

    /** Draws the chart; the command's is {@link CompareChart#write}, tests pass one that fails. */
    @FunctionalInterface
    interface Chart {
        void write(Path png, CompareRun run) throws Exception;
    }

    static void print(CompareRun run, Path png, PrintStream out, Chart chart) {
        out.println();
        out.print(CompareTable.format(run));
        out.println();
        out.println("settings:");
        for (CompareResult r : run.results()) {
            Preset p = r.model().preset();
            out.printf(Locale.ROOT, "  %-12s %s; %s%n", r.name(), p.about(), p.sampling().describe());
        }
        for (String note : CompareTable.notes(run)) out.println("  " + note);
        List<String> outOfMemory = run.outOfMemory();
        if (!outOfMemory.isEmpty()) {
            out.println("out of memory (the other rows were measured):");
            for (String line : outOfMemory) out.println("  " + line);
        }
        Path json = CompareResultsFile.beside(png).toAbsolutePath();
        try {
            CompareResultsFile.write(json, run);
        } catch (Exception e) {
            throw new UserError("could not write the results file " + json + " (" + describe(e) + "); kept: the table above", e);
        }
        out.println("results: " + json);
        try {
            chart.write(png, run);
        } catch (Exception | LinkageError | InternalError e) {   // AWT fails with errors too (a missing native library, fontconfig)
            throw new UserError("could not draw the chart " + png.toAbsolutePath() + " (" + describe(e) + "); kept: the table above and " + json, e);
        }
        out.println("chart: " + png.toAbsolutePath());
    }

    private static String describe(Throwable e) {
        return e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
    }
}
