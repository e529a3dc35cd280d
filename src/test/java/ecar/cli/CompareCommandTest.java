package ecar.cli;

import ecar.io.Json;
import ecar.family.Preset;
import ecar.sample.Presets;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code ecar compare} end to end on the CPU with the tiny presets at 64²: arguments and every model are checked
 * before anything is timed, the table has a row per model and batch size, and the results file holds the table's
 * numbers, written before the chart.
 */
class CompareCommandTest {
    @TempDir
    static Path shared;
    @TempDir
    Path dir;

    /** One run shared by the tests that read its output (each run costs seconds on two cores). */
    private static CliTest.Run run;
    private static Path png, json;

    @BeforeAll
    static void runOnce() {
        png = shared.resolve("c.png");
        json = shared.resolve("c.json");
        run = CliTest.run("compare", "--models", "dit-tiny,ecar-tiny", "--image-size", "64", "--batch", "1,2", "--backend", "cpu",
                "--out", png.toString());
    }

    private static void refusedBeforeTiming(CliTest.Run r, String expected) {
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().startsWith("ecar: ") && r.err().contains(expected), r.err());
        assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
        assertFalse(r.err().contains("warming up"), "nothing may be timed: " + r.err());
        assertEquals("", r.out(), "no header, no table");
    }

    @Test
    void everyArgumentModelAndImageSizeIsCheckedBeforeAnythingIsTimed() throws Exception {
        String out = dir.resolve("c.png").toString();
        refusedBeforeTiming(CliTest.run("compare", "--models", "dit-tiny,nonsense", "--image-size", "64", "--backend", "cpu", "--out", out),
                "unknown model 'nonsense'");
        // dit-tiny takes 48² (a 6² latent, patch 2); ecar-tiny's 1, 2, 4 token scales cannot make a 3² grid
        refusedBeforeTiming(CliTest.run("compare", "--models", "dit-tiny,ecar-tiny", "--image-size", "48", "--backend", "cpu", "--out", out),
                "ecar-tiny at 48²: image size 48 gives a 3² token grid");
        refusedBeforeTiming(CliTest.run("compare", "--models", "dit-tiny", "--batch", "1,0", "--out", out), "--batch must be positive, got 0 in 1,0");
        refusedBeforeTiming(CliTest.run("compare", "--models", "dit-tiny", "--batch", "2,2", "--out", out), "--batch: 2 is given twice");
        refusedBeforeTiming(CliTest.run("compare", "--models", "dit-tiny,DIT-TINY", "--out", out), "--models: DIT-TINY is named twice");
        refusedBeforeTiming(CliTest.run("compare", "--models", "dit-tiny", "--repeats", "0", "--out", out), "--repeats must be positive");
        Files.createDirectory(dir.resolve("c.json"));
        refusedBeforeTiming(CliTest.run("compare", "--models", "dit-tiny", "--image-size", "64", "--backend", "cpu", "--out", out),
                "results file " + dir.resolve("c.json") + " is a folder");
        assertFalse(Files.exists(dir.resolve("c.png")));
    }

    @Test
    void theTableHasARowPerModelAndBatchWithThroughputAndMemory() {
        assertEquals(0, run.code(), run.err());
        String out = run.out();
        assertTrue(out.contains("64² images, batch 1,2"), out);
        assertTrue(out.matches("(?s).*model +family +params +net evals +GFLOP/image +batch +s/batch +images/s +TFLOP/s +peak memory +FLOPs vs +latency vs\n.*"), out);
        // the model's own columns on its first row only; n/a: the CPU does not track memory
        assertTrue(Pattern.compile("(?m)^dit-tiny +dit +0\\.4M +20 +0\\.155 +1 +\\S+ +\\S+ +\\S+ +n/a +1\\.0x +1\\.0x$").matcher(out).find(), out);
        assertTrue(Pattern.compile("(?m)^dit-tiny +2 +\\S+ +\\S+ +\\S+ +n/a +1\\.0x$").matcher(out).find(), out);
        assertTrue(Pattern.compile("(?m)^ecar-tiny +ecar +0\\.4M +18 +0\\.05082 +1 +\\S+ +\\S+ +\\S+ +n/a +3\\.0x +\\S+x$").matcher(out).find(), out);
        assertTrue(Pattern.compile("(?m)^ecar-tiny +2 +\\S+ +\\S+ +\\S+ +n/a +\\S+x$").matcher(out).find(), out);
        assertEquals(4, out.lines().filter(l -> l.matches("(dit|ecar)-tiny +.*")).count(), out);
        assertTrue(out.contains("peak memory: n/a, this backend does not track its memory"), out);
        assertTrue(out.contains("TFLOP/s: achieved, FLOPs per image × images/s"), out);
        assertFalse(out.contains("out of memory ("), out);
    }

    @Test
    @SuppressWarnings("unchecked")
    void theResultsFileHoldsTheTablesNumbersAndIsWrittenBeforeTheChart() throws Exception {
        assertEquals(0, run.code(), run.err());
        List<String> lines = run.out().lines().toList();
        assertEquals("results: " + json.toAbsolutePath(), lines.get(lines.size() - 2));
        assertEquals("chart: " + png.toAbsolutePath(), lines.get(lines.size() - 1));
        BufferedImage chart = ImageIO.read(png.toFile());
        assertEquals(1200, chart.getWidth());

        Map<String, Object> file = Json.parseObject(Files.readString(json));
        assertTrue(((String) file.get("backend")).startsWith("cpu"), file.toString());
        OffsetDateTime.parse((String) file.get("date"));
        assertTrue(((String) file.get("command")).startsWith("ecar compare --models dit-tiny,ecar-tiny"), file.toString());
        assertEquals((long) Runtime.getRuntime().availableProcessors(), ((Map<String, Object>) file.get("machine")).get("cores"));
        Map<String, Object> settings = (Map<String, Object>) file.get("settings");
        assertEquals(List.of(1L, 2L), settings.get("batches"));
        assertEquals(64L, settings.get("imageSize"));
        assertEquals("dit-tiny", settings.get("baseline"));

        List<Map<String, Object>> models = (List<Map<String, Object>>) file.get("models");
        assertEquals(List.of("dit-tiny", "ecar-tiny"), models.stream().map(m -> m.get("name")).toList());
        for (Map<String, Object> m : models) {
            String name = (String) m.get("name");
            Preset p = Presets.get(name).atImageSize(64);
            double flops = (Double) m.get("flopsPerImage");
            assertEquals(p.flops().flopsPerImage(), flops);
            assertEquals(p.sampling().describe(), m.get("sampling"));
            List<Map<String, Object>> runs = (List<Map<String, Object>>) m.get("runs");
            assertEquals(List.of(1L, 2L), runs.stream().map(r -> r.get("batch")).toList());
            for (Map<String, Object> r : runs) {
                long batch = (Long) r.get("batch");
                double latency = (Double) r.get("latencySeconds"), ips = (Double) r.get("imagesPerSecond"), tflops = (Double) r.get("teraflopsPerSecond");
                assertTrue(latency > 0, r.toString());
                assertEquals(batch / latency, ips, 1e-9 * ips);
                assertEquals(flops * ips / 1e12, tflops, 1e-9 * tflops);
                assertNull(r.get("peakMemoryBytes"), "the CPU does not track memory");
                assertNull(r.get("outOfMemory"));
                // the table shows the same numbers, rounded
                String row = batch == 1 ? "^" + name + " +\\S+ +\\S+ +\\d+ +\\S+ +1 +(\\S+) +(\\S+) +(\\S+) " : "^" + name + " +2 +(\\S+) +(\\S+) +(\\S+) ";
                Matcher t = Pattern.compile(row, Pattern.MULTILINE).matcher(run.out());
                assertTrue(t.find(), row + "\n" + run.out());
                assertEquals(List.of(CompareTable.sig(latency), CompareTable.sig(ips), CompareTable.sig(tflops)), List.of(t.group(1), t.group(2), t.group(3)));
            }
        }
    }
}
