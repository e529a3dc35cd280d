package ecar.cuda.ops;

import ecar.cuda.KernelSignature;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

/**
 * Every signature Attention, AttentionSm90 and Flow launch with, against the PTX parameter list of the kernel it names (see
 * {@link Ptx}). A mismatch would otherwise show only on a GPU, as garbage. Needs nvcc, not a GPU.
 */
class AttentionFlowAbiTest {

    @Test
    void attentionSignaturesMatchThePtx() {
        check(Attention.FAMILY, Attention.signatures());
    }

    @Test
    void hopperAttentionSignaturesMatchThePtx() {
        check(AttentionSm90.FAMILY, AttentionSm90.signatures());
    }

    @Test
    void flowSignaturesMatchThePtx() {
        check(Flow.FAMILY, Flow.signatures());
    }

    private static void check(String family, List<String> signatures) {
        Assumptions.assumeTrue(Ptx.nvccAvailable(), Ptx.NO_NVCC);
        Map<String, List<String>> ptx = Ptx.entries(family);
        for (String s : signatures) Ptx.assertMatches(KernelSignature.parse(s), family, ptx);
    }
}
