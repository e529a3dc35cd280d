package ecar.sampleset;

import ecar.backend.cpu.CpuBackend;
import ecar.family.SamplingOverrides;
import ecar.image.Pictures;
import ecar.model.Progress;
import ecar.sample.GenerateRequest;
import ecar.sample.Pipeline;
import ecar.sample.Presets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.ZipFile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Sample sets on one machine: the .npz's images and labels, other cuttings of the same set, resuming, interruptions. */
class SampleSetRunTest {
    @TempDir
    Path dir;

    private static final Pipeline ECAR = Pipeline.random(Presets.get("ecar-tiny"), 0, new CpuBackend());

    /** 4 classes × 3 images = 12, in shards of 5, batches of 2. */
    private static SetSpec spec(int shardSize, int batch) {
        return SetSpec.of("ecar-tiny", 0, SamplingOverrides.NONE, new int[]{0, 1, 2, 3}, 3, 7, shardSize, batch);
    }

    private static byte[] bytes(Path p) throws IOException {
        return Files.readAllBytes(p);
    }

    /** The uint8 data of arr_0 (after its 128-byte .npy header). */
    private static byte[] arr0(Path npz) throws IOException {
        try (ZipFile z = new ZipFile(npz.toFile())) {
            byte[] all = z.getInputStream(z.getEntry("arr_0.npy")).readAllBytes();
            return Arrays.copyOfRange(all, ecar.io.Npy.header(ecar.io.Npy.DType.U1, 12, 64, 64, 3).length, all.length);
        }
    }

    @Test
    void theNpzHoldsEachImageAsGenerateMakesItWithClassMajorLabels() throws Exception {
        Path out = dir.resolve("set");
        SetMerger.Merged m = SampleSetRun.run(spec(5, 2), ECAR, new LocalStore(out), SampleSetRun.Listener.NONE);
        assertEquals(Files.size(out.resolve("samples.npz")), m.npzBytes());
        byte[] pixels = arr0(out.resolve("samples.npz"));
        assertEquals(12 * 64 * 64 * 3, pixels.length);
        for (int i : new int[]{0, 7, 11}) {   // image i alone, as the library generates it
            GenerateRequest r = GenerateRequest.of(i / 3).images(i).seed(7);
            byte[] alone = ShardRenderer.rgb(Pictures.toImages(ECAR.generate(r, Progress.NONE).pixels()).get(0));
            assertArrayEquals(alone, Arrays.copyOfRange(pixels, i * alone.length, (i + 1) * alone.length), "image " + i);
        }
        String out2 = ecar.io.Numpy.run(
                "import sys, numpy as np\nd = np.load(sys.argv[1])\nprint(d['arr_0'].shape, d['arr_0'].dtype, d['arr_1'].tolist())", out.resolve("samples.npz"));
        assertEquals("(12, 64, 64, 3) uint8 [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]", out2.strip());
        String manifest = Files.readString(out.resolve("manifest.json"));
        assertTrue(manifest.contains("\"labels\":[1,2,2,2,3]"), manifest);
        assertTrue(manifest.contains("\"sha256\":\"" + m.npzSha256() + "\""), manifest);
        assertEquals(3, manifest.lines().filter(l -> l.startsWith("{\"shard\"")).count(), manifest);
    }

    /** The batch size changes nothing; another shard size changes only the cutting, not the .npz. */
    @Test
    void otherBatchesAndShardsGiveTheSameBytes() throws Exception {
        Path a = dir.resolve("a"), b = dir.resolve("b"), c = dir.resolve("c");
        SampleSetRun.run(spec(5, 2), ECAR, new LocalStore(a), SampleSetRun.Listener.NONE);
        SampleSetRun.run(spec(5, 5), ECAR, new LocalStore(b), SampleSetRun.Listener.NONE);
        SampleSetRun.run(spec(4, 3), ECAR, new LocalStore(c), SampleSetRun.Listener.NONE);
        assertArrayEquals(bytes(a.resolve("samples.npz")), bytes(b.resolve("samples.npz")));
        assertArrayEquals(bytes(a.resolve("manifest.json")), bytes(b.resolve("manifest.json")));
        assertArrayEquals(bytes(a.resolve("shards/shard-00001/000006.png")), bytes(b.resolve("shards/shard-00001/000006.png")));
        assertArrayEquals(bytes(a.resolve("samples.npz")), bytes(c.resolve("samples.npz")));
        assertArrayEquals(bytes(a.resolve("shards/shard-00001/000006.png")), bytes(c.resolve("shards/shard-00001/000006.png")));
    }

    /** Listens to a run: shards redone (and why), images generated. */
    private static final class Recorder implements SampleSetRun.Listener {
        final List<String> redone = new ArrayList<>();
        int kept, generated;

        @Override
        public void planned(int shards, int images, int shardsKept, int imagesKept) {
            kept = shardsKept;
        }

        @Override
        public void redo(ShardPlan shard, String problem) {
            redone.add(shard.name() + ": " + problem);
        }

        @Override
        public void imagesDone(int count) {
            generated += count;
        }
    }

    @Test
    void aRerunKeepsShardsThatVerifyAndRedoesTheRest() throws Exception {
        Path out = dir.resolve("set");
        LocalStore store = new LocalStore(out);
        SampleSetRun.run(spec(5, 2), ECAR, store, SampleSetRun.Listener.NONE);
        byte[] npz = bytes(out.resolve("samples.npz"));
        long shard0Time = Files.getLastModifiedTime(out.resolve("shards/shard-00000/000000.png")).toMillis();

        Path png = out.resolve("shards/shard-00001/000006.png");
        byte[] broken = bytes(png);
        broken[broken.length / 2] ^= 1;
        Files.write(png, broken);
        Files.delete(out.resolve("shards/shard-00002/shard.json"));   // killed before its record was written
        Files.createDirectories(out.resolve("shards/.shard-00002.dead.part"));   // a killed attempt's folder

        Recorder r = new Recorder();
        SampleSetRun.run(spec(5, 2), ECAR, store, r);
        assertEquals(1, r.kept);
        assertEquals(7, r.generated, "shards 1 and 2 made again: 5 + 2 images");
        assertEquals(2, r.redone.size(), r.redone.toString());
        assertTrue(r.redone.get(0).contains("shard-00001: 000006.png does not have the SHA-256 its record gives"), r.redone.toString());
        assertTrue(r.redone.get(1).contains("shard-00002: not made yet"), r.redone.toString());
        assertFalse(Files.exists(out.resolve("shards/.shard-00002.dead.part")), "leftovers of killed attempts are removed");
        assertEquals(shard0Time, Files.getLastModifiedTime(out.resolve("shards/shard-00000/000000.png")).toMillis(), "shard 0 kept as it was");
        assertArrayEquals(npz, bytes(out.resolve("samples.npz")));

        Recorder again = new Recorder();
        SampleSetRun.run(spec(5, 2), ECAR, store, again);
        assertEquals(3, again.kept);
        assertEquals(0, again.generated);

        Recorder reseeded = new Recorder();
        SetSpec otherSeed = SetSpec.of("ecar-tiny", 0, SamplingOverrides.NONE, new int[]{0, 1, 2, 3}, 3, 8, 5, 2);
        SampleSetRun.run(otherSeed, ECAR, store, reseeded);
        assertEquals(0, reseeded.kept);
        assertTrue(reseeded.redone.get(0).contains("made for other settings"), reseeded.redone.toString());
    }

    /** An attempt that dies after writing its files and before the rename leaves no shard and no temporary folder. */
    @Test
    void anInterruptedShardLeavesNothingHalfMade() throws Exception {
        Path out = dir.resolve("set");
        LocalStore store = new LocalStore(out);
        SetSpec spec = spec(5, 2);
        ShardRenderer renderer = new ShardRenderer(spec, ECAR, store);
        IOException e = assertThrows(IOException.class, () -> renderer.render(spec.shard(1), ShardRenderer.Listener.NONE, s -> {
            throw new IOException("killed");
        }));
        assertEquals("killed", e.getMessage());
        assertEquals(List.of(), store.list("shards"), "neither shard-00001 nor its temporary folder");
        ShardRecord made = renderer.render(spec.shard(1), ShardRenderer.Listener.NONE, ShardRenderer.BeforeCommit.NONE);
        assertTrue(ShardCheck.verify(spec, spec.shard(1), store).ok());
        assertEquals(made, renderer.render(spec.shard(1), ShardRenderer.Listener.NONE, ShardRenderer.BeforeCommit.NONE),
                "a second attempt finds the shard made and verified, and keeps it");
        assertEquals(List.of("shard-00001"), store.list("shards"));
    }

    @Test
    void aMergeOfAShardChangedSinceItWasMadeNamesIt() throws Exception {
        Path out = dir.resolve("set");
        LocalStore store = new LocalStore(out);
        SetSpec spec = spec(5, 2);
        SampleSetRun.run(spec, ECAR, store, SampleSetRun.Listener.NONE);
        List<ShardRecord> records = SetMerger.records(spec, store);
        Path other = out.resolve("shards/shard-00002/000011.png");
        Files.copy(out.resolve("shards/shard-00002/000010.png"), other, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        IOException e = assertThrows(IOException.class, () -> SetMerger.merge(spec, records, store));
        assertTrue(e.getMessage().contains("shard 2's PNGs decode to pixels whose CRC-32 is"), e.getMessage());
        assertEquals(List.of("manifest.json", "samples.npz", "shards"), store.list(""), "the old merge stays, no temporary file");
    }
}
