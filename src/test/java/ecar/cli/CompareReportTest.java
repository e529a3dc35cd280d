package ecar.cli;

import ecar.io.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A chart that fails after the measurements: the table is printed, the results file written, the error one line naming both. */
class CompareReportTest {
    @TempDir
    Path dir;

    private static CompareRun run() {
        ComparePlan plan = ComparePlan.of(List.of("dit-tiny"), 64, List.of(1, 8), 1, 0);
        CompareResult r = new CompareResult(plan.models().get(0), 394_592, 0.05, List.of(BatchMeasurement.measured(1, 0.25, 3L << 30),
                BatchMeasurement.outOfMemory(8, "arena 'cuda backend' is out of memory: 'x' needs 9 GiB")));
        return new CompareRun("cuda:0 Some GPU", 989.4, OffsetDateTime.parse("2025-01-02T03:04:05Z"), "ecar compare --batch 1,8", plan, List.of(r));
    }

    @Test
    @SuppressWarnings("unchecked")
    void aFailingChartKeepsTheTableAndTheResultsFileAndSaysSoInOneLine() throws Exception {
        Path png = dir.resolve("cmp.png"), json = dir.resolve("cmp.json");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        UserError e = assertThrows(UserError.class, () -> CompareReport.print(run(), png, new PrintStream(out, true, StandardCharsets.UTF_8),
                (p, r) -> {
                    throw new RuntimeException("Fontconfig head is null, check your fonts or fonts configuration");
                }));
        assertEquals("could not draw the chart " + png.toAbsolutePath() + " (RuntimeException: Fontconfig head is null, check your fonts or fonts "
                + "configuration); kept: the table above and " + json.toAbsolutePath(), e.getMessage());
        assertEquals(e.getMessage(), Main.describe(e), "Main prints it as it is, after \"ecar: \"");

        String printed = out.toString(StandardCharsets.UTF_8);
        assertTrue(printed.lines().anyMatch(l -> l.matches("dit-tiny +dit +0\\.4M +20 +0\\.155 +1 +0\\.25 +4 +\\S+ \\(0%\\) +3 GiB +1\\.0x +1\\.0x")), printed);
        assertTrue(printed.contains("out of memory (the other rows were measured):\n  dit-tiny at batch 8: arena 'cuda backend' is out of memory"), printed);
        assertTrue(printed.endsWith("results: " + json.toAbsolutePath() + "\n"), printed);
        assertFalse(Files.exists(png));

        Map<String, Object> file = Json.parseObject(Files.readString(json));
        List<Map<String, Object>> runs = (List<Map<String, Object>>) ((List<Map<String, Object>>) file.get("models")).get(0).get("runs");
        assertEquals(3L << 30, runs.get(0).get("peakMemoryBytes"));
        assertEquals(4.0, runs.get(0).get("imagesPerSecond"));
        assertEquals(null, runs.get(1).get("latencySeconds"));
        assertEquals("arena 'cuda backend' is out of memory: 'x' needs 9 GiB", runs.get(1).get("outOfMemory"));
        assertEquals("cuda:0 Some GPU", file.get("backend"));
        assertEquals(989.4, file.get("peakTeraflops"));
        assertEquals((Double) runs.get(0).get("teraflopsPerSecond") / 989.4, (Double) runs.get(0).get("shareOfPeak"), 1e-15);
        assertTrue(Files.list(dir).noneMatch(p -> p.getFileName().toString().endsWith(".part")), "no temporary file left");
    }
}
