package ecar.cuda.ops;

import ecar.cuda.DeviceAddress;
import ecar.cuda.KernelSignature;
import ecar.cuda.LaunchShape;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The attention launch logic that needs no GPU: kernel choice, launch shape, shared memory, argument checks. */
class AttentionLaunchTest {
    record Fake(long address, long bytes, String label) implements DeviceAddress {}

    @Test
    void headSizesPadToWholeKSteps() {
        assertEquals(64, Attention.paddedHeadDim(64));
        assertEquals(80, Attention.paddedHeadDim(72));
        assertEquals(96, Attention.paddedHeadDim(96));
        assertEquals(128, Attention.paddedHeadDim(128));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Attention.paddedHeadDim(80));
        assertTrue(e.getMessage().contains("64, 72, 96 and 128"), e.getMessage());
    }

    /** kv_append's argument checks, which refuse before any kernel is looked up (so they run without a GPU). */
    @Test
    void kvAppendRefusesWhatItsKernelCannotDo() {
        Fake a = new Fake(1 << 20, 1 << 20, "buffer");
        RopeTable stage = RopeTable.ofStage(a, a, 4);
        String[][] cases = {
                {"do not fit a cache of 8", "pos"},
                {"the queries and their output come together", "q"},
                {"need tables of as many rows, got 4", "rows"},
                {"is not whole heads of an even size 5", "head"},
                {"row stride 130 must be even and at least the width 132", "ld"},
        };
        for (String[] c : cases) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> {
                switch (c[1]) {
                    case "pos" -> Attention.kvAppend(null, a, a, a, a, 2, 4, 128, 128, 6, 8, 64, stage, null, null);
                    case "q" -> Attention.kvAppend(null, a, a, a, a, 2, 4, 128, 384, 0, 8, 64, stage, a, null);
                    case "rows" -> Attention.kvAppend(null, a, a, a, a, 2, 5, 128, 128, 0, 8, 64, stage, null, null);
                    case "head" -> Attention.kvAppend(null, a, a, a, a, 2, 4, 130, 130, 0, 8, 5, null, null, null);
                    default -> Attention.kvAppend(null, a, a, a, a, 2, 4, 132, 130, 0, 8, 66, null, null, null);
                }
            }, c[1]);
            assertTrue(e.getMessage().contains(c[0]), c[1] + ": " + e.getMessage());
        }
    }

    @Test
    void sharedMemoryAndGridFollowTheKernelComment() {
        assertEquals(55296, Attention.sharedBytes(64));
        assertEquals(46080, Attention.sharedBytes(64, 1));
        assertEquals(67584, Attention.sharedBytes(72));
        assertEquals(56320, Attention.sharedBytes(72, 1));
        assertEquals(66560, Attention.sharedBytes(96));
        assertEquals(87040, Attention.sharedBytes(128));
        assertThrows(IllegalArgumentException.class, () -> Attention.signature(128, false, 2));
        assertTrue(Attention.signature(72, true, 1).startsWith("attention_fwd_d72_m1_bf16("));
        assertTrue(Attention.signature(72, true).startsWith("attention_fwd_d72_bf16("));
        assertEquals(6, Attention.shape(Attention.Problem.dense(64, 16, 72, 341, 341), 1).gridX());
        LaunchShape s = Attention.shape(Attention.Problem.dense(64, 16, 72, 341, 341));
        assertEquals(3, s.gridX());
        assertEquals(16, s.gridY());
        assertEquals(64, s.gridZ());
        assertEquals(128, s.blockX());
    }

    @Test
    void signatureMatchesTheLaunchArguments() {
        KernelSignature sig = KernelSignature.parse(Attention.signature(72, false));
        assertEquals("attention_fwd_d72_f32", sig.name());
        assertEquals(20, sig.params().size());
        Fake p = new Fake(1 << 20, 1 << 20, "x");
        // the same argument list Attention.forward passes
        sig.encode(p, p, p, p, 5, 5, 10L, 10L, 10L, 8, 8, 8, 0.17f, null, null, 0, 0, null, 0, 0);
    }

    @Test
    void problemsTheKernelCannotRunAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> Attention.Problem.dense(0, 16, 64, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> Attention.Problem.dense(70000, 16, 64, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new Attention.Problem(1, 1, 64, 4, 4, 256, 256, 256, 60, 64, 64));
        Attention.Problem p = Attention.Problem.dense(2, 2, 64, 256, 256);
        Fake t = new Fake(4096, 1024, "t");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Attention.validate(p, new Attention.Rope(t, t, 64, true, true), null));
        assertTrue(e.getMessage().contains("64 rows"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Attention.checkAligned("q", new Fake(4104, 64, "q"), 0));
        assertEquals(4.0 * 2 * 2 * 256 * 256 * 64, p.flops());
        assertEquals((float) (1 / Math.sqrt(72) / Math.log(2)), Attention.scaleLog2(72));
    }
}
