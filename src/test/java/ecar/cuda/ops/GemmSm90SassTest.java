package ecar.cuda.ops;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * What the compiler made of kernels/gemm_sm90.cu, without a GPU: the sm_90a machine code holds HGMMA (wgmma) and
 * UTMALDG (TMA loads) and touches no local memory (cuobjdump -sass of the built fatbin, or nvdisasm of an sm_90a
 * cubin: skipped with the reason when neither tool is installed); ptxas's report shows no spills, no stack frame and no
 * warning (a serialised wgmma or an ignored setmaxnreg is one); the compute_90a PTX holds wgmma, cp.async.bulk.tensor,
 * mbarrier waits and setmaxnreg while the plain compute_90 PTX (what a non-Hopper driver would JIT) holds none of them
 * and traps; GemmKernels.Sm90's launch constants are the kernel's.
 */
class GemmSm90SassTest {
    static final List<String> KERNELS = List.of("gemm_sm90_bf16_f32", "gemm_sm90_bf16_bf16", "gemm_sm90w_bf16_f32", "gemm_sm90w_bf16_bf16");
    static final Path SOURCE = Path.of("kernels", "gemm_sm90.cu");

    private static String run(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), String.join(" ", cmd) + " did not finish");
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + " failed:\n" + out);
        return out;
    }

    /** An executable on the PATH or in the CUDA toolkit's bin folders, or null. */
    static String tool(String name) {
        List<String> dirs = new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)));
        dirs.add("/usr/local/cuda/bin");
        for (String d : dirs) {
            if (d.isBlank()) continue;
            Path p = Path.of(d, name);
            if (Files.isExecutable(p)) return p.toString();
        }
        return null;
    }

    /** The sm_90a SASS of each gemm_sm90 kernel, by function name. */
    static Map<String, String> sass() throws Exception {
        return sass("gemm_sm90");
    }

    /** The sm_90a SASS of each kernel of kernels/{@code family}.cu, by function name. */
    static Map<String, String> sass(String family) throws Exception {
        Path source = Path.of("kernels", family + ".cu");
        String cuobjdump = tool("cuobjdump"), nvdisasm = tool("nvdisasm");
        Assumptions.assumeTrue(cuobjdump != null || nvdisasm != null,
                "neither cuobjdump nor nvdisasm is installed here (a CUDA toolkit with only nvcc and ptxas): the SASS is not inspected");
        String text;
        Pattern header;
        if (cuobjdump != null) {
            // the packaged fatbin (a class-path resource: target/classes here, the bundle's jar on a GPU machine)
            byte[] image;
            try (var in = GemmSm90SassTest.class.getResourceAsStream("/kernels/" + family + ".fatbin")) {
                Assumptions.assumeTrue(in != null, "kernels/" + family + ".fatbin was not built (nvcc was missing at build time)");
                image = in.readAllBytes();
            }
            Path fatbin = Files.createTempFile(family, ".fatbin");
            Files.write(fatbin, image);
            text = run(List.of(cuobjdump, "-sass", "-arch", "sm_90a", fatbin.toString()));
            Files.deleteIfExists(fatbin);
            header = Pattern.compile("Function : (\\w+)");
        } else {
            Assumptions.assumeTrue(Ptx.nvccAvailable(), Ptx.NO_NVCC);
            Path dir = Files.createTempDirectory("sass"), cubin = dir.resolve(family + ".cubin");
            run(List.of("nvcc", "-cubin", "-O3", "-std=c++17", "-gencode", "arch=compute_90a,code=sm_90a", "-I", "kernels",
                    "-o", cubin.toString(), source.toString()));
            text = run(List.of(nvdisasm, "-c", cubin.toString()));
            Files.deleteIfExists(cubin);
            Files.deleteIfExists(dir);
            header = Pattern.compile("\\.text\\.(\\w+):");
        }
        Map<String, String> byFunction = new LinkedHashMap<>();
        Matcher m = header.matcher(text);
        List<int[]> starts = new ArrayList<>();
        List<String> names = new ArrayList<>();
        while (m.find()) {
            starts.add(new int[]{m.start()});
            names.add(m.group(1));
        }
        for (int i = 0; i < names.size(); i++) {
            int end = i + 1 < names.size() ? starts.get(i + 1)[0] : text.length();
            byFunction.put(names.get(i), text.substring(starts.get(i)[0], end));
        }
        return byFunction;
    }

    @Test
    void sm90aSassHasHgmmaAndTmaLoadsAndNoLocalMemory() throws Exception {
        checkSass("gemm_sm90", KERNELS);
    }

    /** Each kernel's sm_90a SASS holds HGMMA and UTMALDG, no mma.sync (HMMA) and no local memory. */
    static void checkSass(String family, List<String> kernels) throws Exception {
        Map<String, String> sass = sass(family);
        for (String k : kernels) {
            String code = sass.get(k);
            assertTrue(code != null, k + " not in the SASS (functions: " + sass.keySet() + ")");
            assertTrue(code.contains("HGMMA"), k + ": no HGMMA: the wgmma did not become tensor-core code");
            assertTrue(code.contains("UTMALDG"), k + ": no UTMALDG: no TMA load");
            assertFalse(Pattern.compile("\\b(LDL|STL)\\b").matcher(code).find(), k + ": local-memory loads or stores (spills or a runtime-indexed array)");
            assertFalse(code.contains("HMMA"), k + ": mma.sync (HMMA) code in the wgmma kernel");
        }
    }

    /**
     * The epilogue stays one rolled loop: each gemm_sm90 entry (ping-pong and cooperative schedules) under 8,000 SASS
     * instructions, each wide entry under 4,000 (read from the cubin's .text sections: no CUDA tool needed). With
     * the loop over its 16 × 32 blocks unrolled, every block carried its own copy of the stores: 20,568 and 13,536
     * instructions, run once per tile (before 2026-11-28; with activate8, 27,896 and 18,496).
     */
    @Test
    void epilogueCodeStaysOneCopy() throws IOException {
        Map<String, Long> sizes;
        try (var in = GemmSm90SassTest.class.getResourceAsStream("/kernels/gemm_sm90.fatbin")) {
            Assumptions.assumeTrue(in != null, "kernels/gemm_sm90.fatbin was not built (nvcc was missing at build time)");
            sizes = CubinSections.largestTextSizes(in.readAllBytes());
        }
        for (String k : KERNELS) {
            assertTrue(sizes.containsKey(k), k + " not among the cubins' kernels " + sizes.keySet());
            long instructions = sizes.get(k) / 16, limit = k.startsWith("gemm_sm90w") ? 4000 : 8000;
            assertTrue(instructions < limit, k + ": " + instructions + " SASS instructions, expected under " + limit
                    + " (is the epilogue's block loop unrolled again? each block then carries its own stores)");
        }
    }

    @Test
    void ptxasReportHasNoSpillsStackOrWarnings() throws IOException {
        checkPtxasReport("gemm_sm90", KERNELS);
    }

    /** ptxas's report for a Hopper family: no warning; each kernel's sm_90a copy with no stack or spills and 168 registers at entry. */
    static void checkPtxasReport(String family, List<String> kernels) throws IOException {
        Path report = Path.of("target", "kernels", family + ".ptxas.txt");
        Assumptions.assumeTrue(Files.isRegularFile(report), report + " is missing: the kernels were not built (nvcc was missing at build time)");
        String text = Files.readString(report);
        assertFalse(text.contains("ptxas warning"), "ptxas warned (an ignored setmaxnreg shows here):\n" + text);
        // Not warnings but "info" lines: C7520, wgmmas serialized (each waits for the one before), C7519, a warpgroup.arrive
        // injected between them. gemm_sm90's ping-pong kernel had C7520 while its cooperative main loop shared its code.
        for (String slow : List.of("Potential Performance Loss", "C7519", "C7520")) {
            Matcher line = Pattern.compile(".*" + Pattern.quote(slow) + ".*").matcher(text);
            if (line.find()) fail(family + ": ptxas reports a wgmma slowed down: " + line.group());
        }
        for (String k : kernels) {
            Matcher m = Pattern.compile("Compiling entry function '" + k + "' for 'sm_90a'\\s+ptxas info\\s+: Function properties for " + k
                    + "\\s+(\\d+) bytes stack frame, (\\d+) bytes spill stores, (\\d+) bytes spill loads\\s+ptxas info\\s+: Used (\\d+) registers").matcher(text);
            assertTrue(m.find(), k + " for sm_90a is not in " + report);
            assertEquals("0", m.group(1), k + ": stack frame");
            assertEquals("0", m.group(2), k + ": spill stores");
            assertEquals("0", m.group(3), k + ": spill loads");
            assertEquals(168, Integer.parseInt(m.group(4)), k + ": registers at entry (384 threads, one CTA per SM: 65536 / 384 → 168)");
        }
    }

    @Test
    void hopperInstructionsAreInTheSm90aPtxOnly() throws Exception {
        Assumptions.assumeTrue(Ptx.nvccAvailable(), Ptx.NO_NVCC);
        String a = ptx("compute_90a"), plain = ptx("compute_90");
        for (String insn : List.of("wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16", "wgmma.mma_async.sync.aligned.m64n256k16.f32.bf16.bf16", "cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes",
                "mbarrier.try_wait.parity.shared::cta.b64", "mbarrier.arrive.expect_tx.shared::cta.b64", "setmaxnreg.inc.sync.aligned.u32 232",
                "setmaxnreg.dec.sync.aligned.u32 40", "wgmma.wait_group.sync.aligned 1", "prefetch.tensormap")) {
            assertTrue(a.contains(insn), "compute_90a PTX lacks " + insn);
            assertFalse(plain.contains(insn), "compute_90 PTX (JIT-compiled on other GPUs) has " + insn);
        }
        assertTrue(plain.contains("trap;"), "the non-sm_90a copies must trap");
    }

    private static String ptx(String arch) throws Exception {
        return ptx(SOURCE, arch);
    }

    /** The PTX of a kernels/*.cu file for a virtual architecture (compute_90a: Hopper's; compute_90: any other's JIT). */
    static String ptx(Path source, String arch) throws Exception {
        Path dir = Files.createTempDirectory("ptx"), out = dir.resolve(source.getFileName() + "." + arch + ".ptx");
        run(List.of("nvcc", "-ptx", "-std=c++17", "-gencode", "arch=" + arch + ",code=" + arch, "-I", "kernels", "-o", out.toString(), source.toString()));
        String text = Files.readString(out);
        Files.deleteIfExists(out);
        Files.deleteIfExists(dir);
        return text;
    }

    @Test
    void launchConstantsAreTheKernels() throws IOException {
        String src = Files.readString(SOURCE);
        int bm = constant(src, "BM"), bk = constant(src, "BK"), consumers = constant(src, "CONSUMERS");
        int barriers = constant(src, "BARRIER_BYTES"), pitch = constant(src, "EPI_PITCH");
        assertEquals(GemmKernels.Sm90.BM, bm);
        assertEquals(GemmKernels.Sm90.BK, bk);
        assertEquals(GemmKernels.Sm90.THREADS, 128 * (1 + consumers));
        int[][] tiles = {{constant(src, "BN_PLAIN"), constant(src, "STAGES_PLAIN")}, {constant(src, "BN_WIDE"), constant(src, "STAGES_WIDE")}};
        assertEquals(GemmKernels.Sm90.BN, tiles[0][0]);
        assertEquals(GemmKernels.Sm90.WIDE_BN, tiles[1][0]);
        for (int[] t : tiles) {
            // SMEM_BYTES = 1024 + STAGES * STAGE_BYTES + BARRIER_BYTES + EPI_BYTES, the same for both tiles
            int smem = 1024 + t[1] * (bm + t[0]) * bk * 2 + barriers + consumers * 4 * 16 * pitch * 4;
            assertEquals(GemmKernels.Sm90.SHARED_BYTES, smem, "the " + bm + " x " + t[0] + " tile's shared memory");
            assertTrue(src.contains("SMEM_BYTES = " + smem), "the header's shared-memory figure is out of date (expected " + smem + ")");
        }
    }

    static int constant(String src, String name) {
        Matcher m = Pattern.compile("\\b" + name + " = (\\d+)").matcher(src);
        assertTrue(m.find(), name + " is not defined");
        return Integer.parseInt(m.group(1));
    }
}
