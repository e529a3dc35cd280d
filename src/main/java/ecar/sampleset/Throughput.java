package ecar.sampleset;

import java.util.Locale;

/** Images per second since the first image of this run, and the time left for the rest at that rate. */
public final class Throughput {
    private final int total;
    private final long startNanos;
    private int done;

    /** @param total images this run has to generate; @param startNanos when it started (System.nanoTime) */
    public Throughput(int total, long startNanos) {
        this.total = total;
        this.startNanos = startNanos;
    }

    public void add(int images) {
        done += images;
    }

    public int done() {
        return done;
    }

    /** Images per second so far; 0 before the first. */
    public double imagesPerSecond(long nowNanos) {
        double s = (nowNanos - startNanos) / 1e9;
        return done == 0 || s <= 0 ? 0 : done / s;
    }

    /** Seconds left at the rate so far; NaN before the first image. */
    public double etaSeconds(long nowNanos) {
        double rate = imagesPerSecond(nowNanos);
        return rate == 0 ? Double.NaN : (total - done) / rate;
    }

    /** "2.31 images/s, ETA 1h 05m" (or "ETA --" before the first image). */
    public String describe(long nowNanos) {
        return String.format(Locale.ROOT, "%.2f images/s, ETA %s", imagesPerSecond(nowNanos), duration(etaSeconds(nowNanos)));
    }

    static String duration(double seconds) {
        if (Double.isNaN(seconds)) return "--";
        long s = Math.round(seconds);
        if (s < 60) return s + "s";
        if (s < 3600) return String.format(Locale.ROOT, "%dm %02ds", s / 60, s % 60);
        return String.format(Locale.ROOT, "%dh %02dm", s / 3600, (s % 3600) / 60);
    }
}
