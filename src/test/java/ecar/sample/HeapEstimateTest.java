package ecar.sample;

import ecar.family.Preset;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The CPU heap a generation needs, estimated on shapes (the numbers it was checked against are in HeapEstimate's comment). */
class HeapEstimateTest {
    private final Preset dit = Presets.get("dit-tiny");

    /**
     * dit-tiny at 64²: 8² latents in 2×2 patches are 16 tokens (16 × 16 scores a head, on each of 2 threads); the tiny
     * VAE's one-head mid attention over the 8² latent is 64 × 64 scores on the calling thread, whose buffer holds either.
     */
    @Test
    void attentionScoresAreTheLargestHeadsOnEveryThread() {
        HeapEstimate e = HeapEstimate.of(dit, dit.sampling(), 1, 2);
        assertEquals(4L * (64 * 64 + 16 * 16), e.attentionScores());
        assertEquals(4L * 64 * 64, HeapEstimate.of(dit, dit.sampling(), 1, 1).attentionScores());
    }

    @Test
    void samplingAndPicturesGrowWithTheBatchWeightsAndTheOneImageDecodeDoNot() {
        HeapEstimate one = HeapEstimate.of(dit, dit.sampling(), 1, 2), four = HeapEstimate.of(dit, dit.sampling(), 4, 2);
        assertEquals(20L * 64 * 64, one.pictures());
        assertEquals(4 * one.pictures(), four.pictures());
        assertTrue(four.sampling() > 3 * one.sampling(), one + " vs " + four);
        assertEquals(one.weights(), four.weights());
        assertEquals(one.decode(), four.decode());
        assertTrue(one.weights() > 0 && one.decode() > 0);
    }

    @Test
    void aLargerImageNeedsMoreActivationsScoresAndDecode() {
        HeapEstimate small = HeapEstimate.of(dit, dit.sampling(), 1, 2);
        Preset big = dit.atImageSize(256);
        HeapEstimate large = HeapEstimate.of(big, big.sampling(), 1, 2);
        assertTrue(large.decode() > 10 * small.decode() && large.sampling() > 10 * small.sampling() && large.attentionScores() > 100 * small.attentionScores(),
                small + " vs " + large);
        assertTrue(large.describe().matches("about \\d.* GiB \\(weights .*, and room to collect\\)"), large.describe());
    }
}
