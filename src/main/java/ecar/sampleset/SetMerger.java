package ecar.sampleset;

import ecar.io.Crc32Combine;
import ecar.io.Json;
import ecar.io.Npy;
import ecar.io.NpzWriter;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * Joins a set's finished shards into what the evaluator reads: samples.npz with arr_0, uint8 [N, H, W, 3] (the
 * images in set order, decoded from the shards' PNGs), and arr_1, int64 [N] (their labels, as ADM's sampler saves
 * them beside the images), then manifest.json (the settings, every shard's images, labels and checksums, the .npz's
 * SHA-256). Each file is written under a temporary name and moved into place when complete. The .npz's CRC-32 comes
 * from the shards' records before a byte is written, so a PNG that no longer decodes to its record's pixels fails
 * the merge, naming the shard.
 */
public final class SetMerger {
    private SetMerger() {}

    /** The merged set: its manifest's bytes and the .npz's SHA-256 and size. */
    public record Merged(byte[] manifest, String npzSha256, long npzBytes) {}

    public static Merged merge(SetSpec spec, List<ShardRecord> records, SetStore store) throws IOException {
        check(spec, records);
        ShardRecord first = records.get(0);
        int n = spec.images(), h = first.height(), w = first.width();
        int pixelsCrc = first.pixelsCrc32();
        for (int k = 1; k < records.size(); k++) pixelsCrc = Crc32Combine.combine(pixelsCrc, records.get(k).pixelsCrc32(), records.get(k).pixelBytes());
        byte[] labels = labelBytes(spec);
        CRC32 labelsCrc = new CRC32();
        labelsCrc.update(labels);

        String tmp = ShardFiles.TEMP_PREFIX + ShardFiles.NPZ + "." + java.util.UUID.randomUUID() + ".part";
        MessageDigest sha = Sha256.digest();
        long bytes;
        try {
            CountingStream counted = new CountingStream(new BufferedOutputStream(store.create(tmp), 1 << 20));
            try (NpzWriter npz = new NpzWriter(new DigestOutputStream(counted, sha))) {
                OutputStream images = npz.array("arr_0", Npy.DType.U1, pixelsCrc, n, h, w, 3);
                for (ShardRecord r : records) copyPixels(spec, r, store, images);
                npz.array("arr_1", Npy.DType.I8, (int) labelsCrc.getValue(), n).write(labels);
            }
            bytes = counted.count;
            store.replaceFile(tmp, ShardFiles.NPZ);
        } catch (IOException | RuntimeException e) {
            store.delete(tmp);
            throw e;
        }
        String npzSha = Sha256.hex(sha);
        byte[] manifest = manifest(spec, records, npzSha, bytes);
        String tmpManifest = ShardFiles.TEMP_PREFIX + ShardFiles.MANIFEST + "." + java.util.UUID.randomUUID() + ".part";
        try (OutputStream out = store.create(tmpManifest)) {
            out.write(manifest);
        }
        store.replaceFile(tmpManifest, ShardFiles.MANIFEST);
        return new Merged(manifest, npzSha, bytes);
    }

    /** Every shard once, in order, of this set, made by the same model and settings, all images of one size. */
    private static void check(SetSpec spec, List<ShardRecord> records) {
        if (records.size() != spec.shards()) throw new IllegalArgumentException("merging " + records.size() + " shards; the set has " + spec.shards());
        String key = SetKey.of(spec);
        ShardRecord first = records.get(0);
        for (int k = 0; k < records.size(); k++) {
            ShardRecord r = records.get(k);
            ShardPlan plan = spec.shard(k);
            if (r.shard() != k || r.firstImage() != plan.firstImage() || r.count() != plan.count() || !r.setKey().equals(key)) {
                throw new IllegalArgumentException("shard " + k + "'s record is of shard " + r.shard() + " (images from " + r.firstImage() + ", " + r.count()
                        + " of them) of set " + r.setKey() + "; expected images from " + plan.firstImage() + ", " + plan.count() + " of them, of set " + key);
            }
            if (r.height() != first.height() || r.width() != first.width() || !r.weights().equals(first.weights()) || !r.settings().equals(first.settings())
                    || r.drawsPerImage() != first.drawsPerImage()) {
                throw new IllegalArgumentException("shard " + k + " was made with " + r.weights() + ", " + r.settings() + " at " + r.width() + "×" + r.height()
                        + "; shard 0 with " + first.weights() + ", " + first.settings() + " at " + first.width() + "×" + first.height());
            }
        }
    }

    private static void copyPixels(SetSpec spec, ShardRecord r, SetStore store, OutputStream out) throws IOException {
        CRC32 crc = new CRC32();
        String dir = ShardFiles.shardDir(spec.shard(r.shard()));
        for (ShardRecord.FileHash f : r.files()) {
            BufferedImage img;
            try (InputStream in = store.open(dir + "/" + f.name())) {
                img = ImageIO.read(in);
            }
            if (img == null || img.getWidth() != r.width() || img.getHeight() != r.height()) {
                throw new IOException(store.describe(dir + "/" + f.name()) + " is not a " + r.width() + "×" + r.height() + " PNG");
            }
            byte[] rgb = ShardRenderer.rgb(img);
            crc.update(rgb);
            out.write(rgb);
        }
        if ((int) crc.getValue() != r.pixelsCrc32()) {
            throw new IOException("shard " + r.shard() + "'s PNGs decode to pixels whose CRC-32 is " + String.format("%08x", (int) crc.getValue())
                    + ", its record says " + String.format("%08x", r.pixelsCrc32()) + ": the shard changed after it was made; delete "
                    + store.describe(dir) + " and run again");
        }
    }

    private static byte[] labelBytes(SetSpec spec) {
        ByteBuffer b = ByteBuffer.allocate(8 * spec.images()).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < spec.images(); i++) b.putLong(spec.label(i));
        return b.array();
    }

    /** The manifest: one line per shard, so that it reads and diffs well. */
    private static byte[] manifest(SetSpec spec, List<ShardRecord> records, String npzSha, long npzBytes) {
        ShardRecord first = records.get(0);
        Map<String, Object> head = new LinkedHashMap<>();
        head.put("format", "ecar-sample-set 1");
        head.put("set", SetKey.of(spec));
        head.putAll(SetKey.settings(spec));
        head.put("images", spec.images());
        head.put("height", first.height());
        head.put("width", first.width());
        head.put("weights", first.weights());
        head.put("settings", first.settings());
        head.put("order", "class-major: image i has label classes[i / perClass]");
        head.put("drawsPerImage", first.drawsPerImage());
        head.put("noise", first.drawsPerImage() ? "image i draws Philox (seed, stream) at indices i * 2^32 + j: it is the same in any batch or shard"
                : "each batch draws under a seed mixed from the set's seed and its images: images depend on the batch size (" + first.batch() + ")");
        Map<String, Object> npz = new LinkedHashMap<>();
        npz.put("file", ShardFiles.NPZ);
        npz.put("arr_0", "uint8 [" + spec.images() + ", " + first.height() + ", " + first.width() + ", 3] images in set order");
        npz.put("arr_1", "int64 [" + spec.images() + "] labels");
        npz.put("bytes", npzBytes);
        npz.put("sha256", npzSha);
        head.put("npz", npz);
        StringBuilder b = new StringBuilder(Json.write(head));
        b.setLength(b.length() - 1);   // reopen the object for the shards, one per line
        b.append(",\"shards\":[\n");
        for (int k = 0; k < records.size(); k++) {
            ShardRecord r = records.get(k);
            Map<String, Object> s = new LinkedHashMap<>();
            s.put("shard", r.shard());
            s.put("dir", ShardFiles.shardDir(spec.shard(k)));
            s.put("firstImage", r.firstImage());
            s.put("count", r.count());
            s.put("labels", r.labels());
            s.put("seed", r.seed());
            s.put("pixelsCrc32", String.format("%08x", r.pixelsCrc32()));
            s.put("recordSha256", Sha256.hex(r.toJson()));
            b.append(Json.write(s)).append(k + 1 < records.size() ? ",\n" : "\n");
        }
        b.append("]}\n");
        return b.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Counts the bytes that reach the file. */
    private static final class CountingStream extends java.io.FilterOutputStream {
        long count;

        CountingStream(OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            count += len;
        }
    }

    /** The records of a set whose shards are all made, in order; throws naming the first shard that does not verify. */
    public static List<ShardRecord> records(SetSpec spec, SetStore store) throws IOException {
        List<ShardRecord> out = new ArrayList<>();
        for (int k = 0; k < spec.shards(); k++) {
            ShardCheck.Result r = ShardCheck.verify(spec, spec.shard(k), store);
            if (!r.ok()) throw new IOException(spec.shard(k) + " in " + store.describe(ShardFiles.shardDir(spec.shard(k))) + " cannot be merged: " + r.problem());
            out.add(r.record());
        }
        return out;
    }
}
