package ecar.cli;

import ecar.model.Progress;

import java.io.PrintStream;
import java.util.Locale;

/**
 * Progress on stderr: on a terminal a one-line bar redrawn in place (phase, bar, done/total, elapsed); when
 * stderr is a file or a pipe, a plain line at each quarter so logs stay readable.
 */
final class ProgressBar implements Progress {
    private final String label;
    private final PrintStream out;
    private final long start = System.nanoTime();
    private String phase = "";
    private long lastDraw;
    private boolean drawn;
    private int lastQuarter = -1;
    private final boolean terminal = System.console() != null;

    ProgressBar(String label, PrintStream out) {
        this.label = label;
        this.out = out;
    }

    @Override
    public void update(String phase, int done, int total) {
        long now = System.nanoTime();
        if (!phase.equals(this.phase) && drawn) out.println();
        if (!phase.equals(this.phase)) lastQuarter = -1;
        this.phase = phase;
        if (!terminal) {
            int quarter = total == 0 ? 4 : 4 * done / total;
            if (quarter != lastQuarter) {
                lastQuarter = quarter;
                out.printf(Locale.ROOT, "%s %s %d/%d %.1fs%n", label, phase, done, total, (now - start) / 1e9);
            }
            return;
        }
        if (done < total && now - lastDraw < 100_000_000L) return;   // at most 10 redraws a second
        lastDraw = now;
        int width = 30, filled = total == 0 ? width : (int) ((long) width * done / total);
        out.printf(Locale.ROOT, "\r%s %-9s [%s%s] %d/%d %.1fs", label, phase, "#".repeat(filled), ".".repeat(width - filled), done, total,
                (now - start) / 1e9);
        out.flush();
        drawn = true;
    }

    void finish() {
        if (drawn) out.println();
        drawn = false;
    }
}
