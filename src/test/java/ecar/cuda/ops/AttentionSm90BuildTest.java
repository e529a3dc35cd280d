package ecar.cuda.ops;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the compiler made of kernels/attention_sm90.cu, and the numpy replay of it, without a GPU: ptxas's report (no
 * spills, no stack, no warning, 168 registers at entry), the Hopper instructions in the sm_90a PTX only (wgmma with A in
 * registers and B transposed, 4D TMA copies, mbarriers, setmaxnreg), HGMMA and UTMALDG in the SASS where cuobjdump or
 * nvdisasm exists, the launch constants of ecar.cuda.ops.AttentionSm90, and tools/emulate_attention_sm90.py passing
 * with its mutants caught.
 */
class AttentionSm90BuildTest {
    static final List<String> KERNELS = List.of("attention_sm90_d64_f32", "attention_sm90_d64_bf16", "attention_sm90_d72_f32", "attention_sm90_d72_bf16",
            "attention_sm90_d128_f32", "attention_sm90_d128_bf16");
    static final Path SOURCE = Path.of("kernels", "attention_sm90.cu");

    @Test
    void ptxasReportHasNoSpillsStackOrWarnings() throws Exception {
        GemmSm90SassTest.checkPtxasReport("attention_sm90", KERNELS);
    }

    @Test
    void hopperInstructionsAreInTheSm90aPtxOnly() throws Exception {
        Assumptions.assumeTrue(Ptx.nvccAvailable(), Ptx.NO_NVCC);
        String a = GemmSm90SassTest.ptx(SOURCE, "compute_90a"), plain = GemmSm90SassTest.ptx(SOURCE, "compute_90");
        for (String insn : List.of("wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16", "wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16",
                "wgmma.mma_async.sync.aligned.m64n8k16.f32.bf16.bf16",
                "cp.async.bulk.tensor.4d.shared::cluster.global.tile.mbarrier::complete_tx::bytes", "mbarrier.try_wait.parity.shared::cta.b64",
                "setmaxnreg.inc.sync.aligned.u32 232", "setmaxnreg.dec.sync.aligned.u32 40", "wgmma.wait_group.sync.aligned 0")) {
            assertTrue(a.contains(insn), "compute_90a PTX lacks " + insn);
            assertFalse(plain.contains(insn), "compute_90 PTX (JIT-compiled on other GPUs) has " + insn);
        }
        // the P·V wgmma reads A from four registers and B transposed (imm-trans-b = 1, the last immediate)
        assertTrue(Pattern.compile("m64n64k16\\.f32\\.bf16\\.bf16 \\{[^}]*\\}, \\{%r\\d+, %r\\d+, %r\\d+, %r\\d+\\}, %rd\\d+, p, 1, 1, 1;").matcher(a).find(),
                "the P·V wgmma is not the register-A, transposed-B form");
        assertTrue(plain.contains("trap;"), "the non-sm_90a copies must trap");
    }

    @Test
    void sm90aSassHasHgmmaAndTmaLoadsAndNoLocalMemory() throws Exception {
        GemmSm90SassTest.checkSass("attention_sm90", KERNELS);
    }

    @Test
    void launchConstantsAreTheKernels() throws Exception {
        String src = Files.readString(SOURCE), py = Files.readString(Path.of("tools", "emulate_attention_sm90.py"));
        assertEquals(AttentionSm90.BLOCK_M, GemmSm90SassTest.constant(src, "BM"));
        assertEquals(AttentionSm90.BLOCK_N, GemmSm90SassTest.constant(src, "BN"));
        assertEquals(AttentionSm90.STAGES, GemmSm90SassTest.constant(src, "STAGES"));
        assertEquals(AttentionSm90.THREADS, 128 * (1 + GemmSm90SassTest.constant(src, "CONSUMERS")));
        for (int d : new int[]{64, 72, 128}) {
            String bytes = String.format(java.util.Locale.ROOT, "%,d", AttentionSm90.sharedBytes(d));
            assertTrue(src.contains("D " + d + ": " + bytes), "the header's shared-memory figure for D " + d + " is out of date (expected " + bytes + ")");
        }
        assertEquals(AttentionSm90.Q_BUFFERS, GemmSm90SassTest.constant(src, "QBUFS"));
        var m = Pattern.compile("(?m)^BM, BN, STAGES, CONSUMERS, QBUFS, SLAB_ROW = (\\d+), (\\d+), (\\d+), (\\d+), (\\d+), (\\d+)$").matcher(py);
        assertTrue(m.find(), "tools/emulate_attention_sm90.py no longer defines BM, BN, STAGES, CONSUMERS, QBUFS, SLAB_ROW on one line");
        assertEquals(List.of(AttentionSm90.BLOCK_M, AttentionSm90.BLOCK_N, AttentionSm90.STAGES, 2, AttentionSm90.Q_BUFFERS, 128),
                List.of(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3)), Integer.parseInt(m.group(4)),
                        Integer.parseInt(m.group(5)), Integer.parseInt(m.group(6))));
    }

    @Test
    void emulationMatchesSoftmaxAttention() throws Exception {
        String out = NumpyReplay.run("emulate_attention_sm90.py");
        assertTrue(out.contains("all checks passed") && out.contains("layouts:"), out);
        assertEquals(9, NumpyReplay.count(out, "mutant caught"), "every mutant must be caught:\n" + out);
        assertTrue(out.contains("1 CTAs for  6 items"), "a persistent CTA is replayed:\n" + out);
        assertEquals(6, NumpyReplay.count(out, ", overlapped: matches"), "the overlapped schedule is replayed:\n" + out);
    }
}
