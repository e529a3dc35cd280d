package ecar.cli;

import ecar.sampleset.SampleSetRun;
import ecar.sampleset.ShardPlan;
import ecar.sampleset.ShardRecord;
import ecar.sampleset.Throughput;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A sample set's progress on stderr: images done of all, shards, images per second and the time left. On a terminal one
 * line redrawn in place; into a file or pipe a line per finished shard and at least one a minute within a long shard,
 * so that logs stay readable.
 */
final class SampleSetProgress implements SampleSetRun.Listener {
    private final PrintStream out;
    private final boolean terminal = System.console() != null && System.console().isTerminal();
    private Throughput rate;
    private int images, shards, imagesDone, shardsDone;
    private long lastDraw;

    SampleSetProgress(PrintStream out) {
        this.out = out;
    }

    @Override
    public void planned(int shards, int images, int shardsKept, int imagesKept) {
        this.shards = shards;
        this.images = images;
        this.shardsDone = shardsKept;
        this.imagesDone = imagesKept;
        this.rate = new Throughput(images - imagesKept, System.nanoTime());
        this.lastDraw = System.nanoTime();
        if (shardsKept > 0) out.printf(Locale.ROOT, "ecar: %d of %d shards (%d images) are made and verify: kept%n", shardsKept, shards, imagesKept);
    }

    @Override
    public void redo(ShardPlan shard, String problem) {
        out.println("ecar: " + shard + " is made again: " + problem);
    }

    @Override
    public void imagesDone(int count) {
        imagesDone += count;
        rate.add(count);
        if (terminal) {
            draw(false);
        } else if (System.nanoTime() - lastDraw > 60_000_000_000L) {
            lastDraw = System.nanoTime();
            out.println(line());
        }
    }

    @Override
    public void shardDone(ShardRecord record) {
        shardsDone++;
        if (terminal) {
            draw(true);
        } else {
            lastDraw = System.nanoTime();
            out.println(line());
        }
    }

    @Override
    public void merging() {
        if (terminal) {
            draw(true);
            out.println();
        }
        out.println("ecar: merging the shards into samples.npz and manifest.json");
    }

    private void draw(boolean always) {
        long now = System.nanoTime();
        if (!always && now - lastDraw < 250_000_000L) return;
        lastDraw = now;
        out.print("\r" + line() + "   ");
        out.flush();
    }

    private String line() {
        int width = 30, filled = images == 0 ? width : (int) ((long) width * imagesDone / images);
        return String.format(Locale.ROOT, "sample-set [%s%s] %d/%d images, %d/%d shards, %s", "#".repeat(filled), ".".repeat(width - filled), imagesDone, images,
                shardsDone, shards, rate.describe(System.nanoTime()));
    }
}
