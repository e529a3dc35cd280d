package ecar.spark;

import ecar.backend.cpu.CpuBackend;
import ecar.family.SamplingOverrides;
import ecar.sample.Pipeline;
import ecar.sampleset.LocalStore;
import ecar.sampleset.SampleSetRun;
import ecar.sampleset.SetSpec;
import ecar.sampleset.ShardRenderer;
import org.apache.spark.SparkConf;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Spark job in local mode (two task threads, a task tried up to twice) against the single-machine run: the same
 * files byte for byte, also when an attempt dies between writing its shard and renaming it.
 */
class SparkSampleSetTest {
    @TempDir
    static Path dir;

    static JavaSparkContext sc;

    /** 4 classes × 3 images of ecar-tiny in shards of 4; the single-machine run uses batches of 2, the cluster batches of 3. */
    static final SetSpec SPEC = SetSpec.of("ecar-tiny", 0, SamplingOverrides.NONE, new int[]{2, 3, 4, 5}, 3, 9, 4, 2);

    static Path single;

    @BeforeAll
    static void start() throws IOException {
        single = dir.resolve("single");
        SampleSetRun.run(SPEC, Pipeline.random(SampleSetRun.preset(SPEC), 0, new CpuBackend()), new LocalStore(single), SampleSetRun.Listener.NONE);
        sc = new JavaSparkContext(new SparkConf().setMaster("local[2,2]").setAppName("SparkSampleSetTest").set("spark.ui.enabled", "false")
                .set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1"));
        sc.setLogLevel("WARN");
    }

    @AfterAll
    static void stop() {
        if (sc != null) sc.close();
    }

    /** Every file of a set by its path, as bytes. */
    private static Map<String, byte[]> files(Path root) throws IOException {
        Map<String, byte[]> m = new TreeMap<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) m.put(root.relativize(p).toString(), Files.readAllBytes(p));
        }
        return m;
    }

    private static void sameFiles(Path expected, Path actual) throws IOException {
        Map<String, byte[]> e = files(expected), a = files(actual);
        assertEquals(e.keySet(), a.keySet());
        for (String k : e.keySet()) assertArrayEquals(e.get(k), a.get(k), k);
        assertEquals(3 * 5 + 2, e.size(), "3 shards of 4 PNGs and a record, the .npz and the manifest");
    }

    @Test
    void theClusterMakesTheSameBytesAsOneMachine() throws IOException {
        Path out = dir.resolve("cluster");
        SparkSampleSet.run(sc, SPEC.withBatch(3), out.toUri().toString(), "cpu", ShardRenderer.BeforeCommit.NONE);
        sameFiles(single, out);
    }

    /** Shard 1's first attempt dies after writing its files, before the rename: Spark retries it and the set is the same. */
    @Test
    void aTaskFailedOnItsFirstAttemptIsRetriedToTheSameBytes() throws IOException {
        Path out = dir.resolve("retried"), marks = dir.resolve("marks");
        Files.createDirectories(marks);
        String marksDir = marks.toString();
        ShardRenderer.BeforeCommit dieOnce = shard -> {
            if (shard.index() == 1 && TaskContext.get().attemptNumber() == 0) {
                Files.writeString(Path.of(marksDir, "shard-1-attempt-0-failed"), "");
                throw new IOException("shard 1's first attempt is killed before its rename");
            }
        };
        SparkSampleSet.run(sc, SPEC.withBatch(3), out.toUri().toString(), "cpu", dieOnce);
        assertTrue(Files.exists(marks.resolve("shard-1-attempt-0-failed")), "the first attempt did fail");
        sameFiles(single, out);
        assertEquals(List.of("shard-00000", "shard-00001", "shard-00002"), new LocalStore(out).list("shards"), "no temporary folder is left");
    }

    @Test
    void gpuAddressesAreDeviceOrdinals() {
        assertEquals(3, GpuAddress.ordinal("3"));
        var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> GpuAddress.ordinal("GPU-5f2c"));
        assertTrue(e.getMessage().contains("'GPU-5f2c' is not a CUDA device ordinal"), e.getMessage());
        assertEquals(-1, GpuAddress.ofCurrentTask(), "the driver is no task");
    }
}
