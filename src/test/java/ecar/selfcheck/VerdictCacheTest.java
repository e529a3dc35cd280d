package ecar.selfcheck;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The verdict file: one line per device/driver/build, damage and unwritable folders tolerated. */
class VerdictCacheTest {
    @TempDir
    Path dir;

    static final LocalDate DAY = LocalDate.of(2026, 11, 23);
    static final SelfCheckKey H100 = new SelfCheckKey("NVIDIA H100 80GB HBM3", "9.0", 12060, "dev-0123456789abcdef");
    static final SelfCheckKey A100 = new SelfCheckKey("NVIDIA A100-SXM4-40GB", "8.0", 12060, "dev-0123456789abcdef");

    @Test
    void aMissingFileHoldsNoVerdict() {
        assertEquals(Optional.empty(), new VerdictCache(dir.resolve("none/" + VerdictCache.FILE_NAME)).read(H100));
    }

    @Test
    void verdictsRoundTripPerKeyAndAnOverwriteKeepsTheOthers() {
        VerdictCache c = new VerdictCache(dir.resolve("ecar/" + VerdictCache.FILE_NAME));   // the folder is made on write
        assertTrue(c.write(H100, Verdict.pass(DAY)));
        assertTrue(c.write(A100, Verdict.fail("dit-tiny sampled latents: cosine 0.5", DAY)));
        assertEquals(Optional.of(Verdict.pass(DAY)), c.read(H100));
        assertEquals(Optional.of(Verdict.fail("dit-tiny sampled latents: cosine 0.5", DAY)), c.read(A100));

        assertTrue(c.write(H100, Verdict.fail("now broken", DAY.plusDays(1))));
        assertEquals(Optional.of(Verdict.fail("now broken", DAY.plusDays(1))), new VerdictCache(c.file()).read(H100));
        assertEquals(Optional.of(Verdict.fail("dit-tiny sampled latents: cosine 0.5", DAY)), c.read(A100));
    }

    @Test
    void anotherDriverOrBuildIsAnotherKey() {
        VerdictCache c = new VerdictCache(dir.resolve(VerdictCache.FILE_NAME));
        c.write(H100, Verdict.pass(DAY));
        assertEquals(Optional.empty(), c.read(new SelfCheckKey(H100.device(), "9.0", 12080, H100.build())));
        assertEquals(Optional.empty(), c.read(new SelfCheckKey(H100.device(), "9.0", 12060, "dev-ffffffffffffffff")));
    }

    @Test
    void aReasonWithTabsAndNewlinesStaysOnItsLine() throws Exception {
        VerdictCache c = new VerdictCache(dir.resolve(VerdictCache.FILE_NAME));
        c.write(H100, Verdict.fail("CudaException:\tCUDA_ERROR_LAUNCH_FAILED\nat kernel gemm", DAY));
        assertEquals("CudaException: CUDA_ERROR_LAUNCH_FAILED at kernel gemm", c.read(H100).orElseThrow().reason());
        assertEquals(2, Files.readAllLines(c.file()).size(), "a header and one line");
    }

    @Test
    void damagedLinesAreIgnoredAndTheRestStillRead() throws Exception {
        Path f = dir.resolve(VerdictCache.FILE_NAME);
        String good = H100.text() + "\tpassed\t\t2026-11-23";
        Files.write(f, List.of("garbage", A100.text() + "\tmaybe\t\t2026-11-23", A100.text() + "\tpassed\t\tyesterday",
                "\tpassed\t\t2026-11-23", good + "\textra", good), StandardCharsets.UTF_8);
        VerdictCache c = new VerdictCache(f);
        assertEquals(Optional.of(Verdict.pass(DAY)), c.read(H100));
        assertEquals(Optional.empty(), c.read(A100));
    }

    @Test
    void aFileThatIsNotTextIsNoCacheAndIsReplacedOnWrite() throws Exception {
        Path f = dir.resolve(VerdictCache.FILE_NAME);
        Files.write(f, new byte[]{(byte) 0xff, (byte) 0xfe, 0, 9, 10, (byte) 0xc3});
        VerdictCache c = new VerdictCache(f);
        assertEquals(Optional.empty(), c.read(H100));
        assertTrue(c.write(H100, Verdict.pass(DAY)));
        assertEquals(Optional.of(Verdict.pass(DAY)), c.read(H100));
    }

    @Test
    void anUnwritableFolderIsNoErrorJustNoCache() throws Exception {
        // A regular file where the folder should be: unwritable even for root, unlike permission bits.
        Path blocker = Files.writeString(dir.resolve("ecar"), "not a folder");
        VerdictCache c = new VerdictCache(blocker.resolve(VerdictCache.FILE_NAME));
        assertFalse(c.write(H100, Verdict.pass(DAY)));
        assertEquals(Optional.empty(), c.read(H100));
    }

    @Test
    void theStandardPlaceFollowsXdgThenTheHomeFolder() {
        assertEquals(Path.of("/x/cache/ecar", VerdictCache.FILE_NAME), VerdictCache.standard(Map.of("XDG_CACHE_HOME", "/x/cache"), "/home/u").orElseThrow().file());
        assertEquals(Path.of("/home/u/.cache/ecar", VerdictCache.FILE_NAME), VerdictCache.standard(Map.of(), "/home/u").orElseThrow().file());
        assertEquals(Path.of("/home/u/.cache/ecar", VerdictCache.FILE_NAME), VerdictCache.standard(Map.of("XDG_CACHE_HOME", "relative"), "/home/u").orElseThrow().file(),
                "a relative XDG_CACHE_HOME is ignored, as the XDG spec says");
        assertEquals(Optional.empty(), VerdictCache.standard(Map.of(), null));
    }
}
