package ecar.sampleset;

import ecar.model.Progress;
import ecar.sample.GenerateRequest;
import ecar.sample.Generated;
import ecar.sample.Pipeline;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32;

/**
 * Generates one shard of a set with a loaded pipeline and writes it: the PNGs and shard.json go into a folder of the
 * attempt's own, which one atomic rename then makes the shard. A killed attempt leaves only a temporary folder (cleaned
 * later), never half a shard; a retry makes the same bytes; when another attempt finished the shard first, its copy
 * is kept if it verifies.
 */
public final class ShardRenderer {
    /** Progress within a shard: images done in this shard so far. */
    public interface Listener {
        Listener NONE = done -> {};

        void imagesDone(int doneInShard);
    }

    /**
     * Runs after a shard's files are written under their temporary name and before the rename makes them the shard:
     * where a test makes an attempt fail at the worst moment.
     */
    public interface BeforeCommit extends Serializable {
        BeforeCommit NONE = shard -> {};

        void run(ShardPlan shard) throws IOException;
    }

    private final SetSpec spec;
    private final String key;
    private final Pipeline pipeline;
    private final SetStore store;

    public ShardRenderer(SetSpec spec, Pipeline pipeline, SetStore store) {
        this.spec = spec;
        this.key = SetKey.of(spec);
        this.pipeline = pipeline;
        this.store = store;
    }

    public ShardRecord render(ShardPlan shard, Listener listener, BeforeCommit beforeCommit) throws IOException {
        String tmp = ShardFiles.attemptDir(shard);
        try {
            ShardRecord record = write(shard, tmp, listener);
            beforeCommit.run(shard);
            String dir = ShardFiles.shardDir(shard);
            if (store.renameDirectory(tmp, dir)) return record;
            ShardCheck.Result other = ShardCheck.verify(spec, shard, store);   // another attempt got there first
            if (other.ok()) {
                store.delete(tmp);
                return other.record();
            }
            store.delete(dir);   // a broken copy under the final name (a file system without atomic renames?): replace it
            if (!store.renameDirectory(tmp, dir)) throw new IOException("cannot make " + store.describe(dir) + " the shard: something keeps recreating it");
            return record;
        } catch (IOException | RuntimeException | Error e) {
            try {
                store.delete(tmp);
            } catch (IOException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    private ShardRecord write(ShardPlan shard, String dir, Listener listener) throws IOException {
        int[] labels = shard.labels(), images = shard.images();
        CRC32 pixels = new CRC32();
        List<ShardRecord.FileHash> files = new ArrayList<>();
        String settings = null;
        int height = 0, width = 0;
        for (int from = 0; from < labels.length; from += spec.batch()) {
            int to = Math.min(labels.length, from + spec.batch());
            GenerateRequest r = GenerateRequest.of(Arrays.copyOfRange(labels, from, to)).images(Arrays.copyOfRange(images, from, to)).seed(spec.seed())
                    .options(spec.samplingOverrides());
            if (settings == null) settings = pipeline.settings(r).describe();
            Generated g = pipeline.generate(r, Progress.NONE);
            List<BufferedImage> pictures = g.images();
            for (int i = 0; i < pictures.size(); i++) {
                BufferedImage img = pictures.get(i);
                height = img.getHeight();
                width = img.getWidth();
                pixels.update(rgb(img));
                byte[] png = png(img);
                String name = ShardFiles.png(spec, images[from + i]);
                try (OutputStream out = store.create(dir + "/" + name)) {
                    out.write(png);
                }
                files.add(new ShardRecord.FileHash(name, Sha256.hex(png)));
            }
            listener.imagesDone(to);
        }
        ShardRecord record = new ShardRecord(key, shard.index(), shard.firstImage(), labels, spec.seed(), pipeline.weightsDescription(), settings,
                pipeline.drawsPerImage(), pipeline.drawsPerImage() ? 0 : spec.batch(), height, width, (int) pixels.getValue(), files);
        try (OutputStream out = store.create(dir + "/" + ShardRecord.FILE)) {
            out.write(record.toJson());
        }
        return record;
    }

    /** The image's 8-bit RGB values, row by row: its slice of the .npz's uint8 [N, H, W, 3]. */
    static byte[] rgb(BufferedImage img) {
        int w = img.getWidth(), h = img.getHeight();
        int[] argb = img.getRGB(0, 0, w, h, null, 0, w);
        byte[] out = new byte[3 * argb.length];
        for (int i = 0; i < argb.length; i++) {
            out[3 * i] = (byte) (argb[i] >>> 16);
            out[3 * i + 1] = (byte) (argb[i] >>> 8);
            out[3 * i + 2] = (byte) argb[i];
        }
        return out;
    }

    static byte[] png(BufferedImage img) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        if (!ImageIO.write(img, "png", b)) throw new IOException("this Java has no PNG writer");
        return b.toByteArray();
    }
}
