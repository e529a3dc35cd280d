package ecar.arpg;

import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The tokens per step and guidance weights of ARPG's generate, against the reference's arithmetic (run in numpy). */
class DecodeScheduleTest {
    @Test
    void arccosOver64StepsAsTheReferenceComputesIt() {
        DecodeSchedule s = DecodeSchedule.of(256, 64, DecodeSchedule.Reveal.ARCCOS, DecodeSchedule.Guidance.LINEAR, 5.0);
        int[] reference = {3, 3, 2, 3, 2, 3, 2, 3, 2, 3, 3, 2, 3, 2, 3, 3, 2, 3, 3, 2, 3, 3, 2, 3, 3, 3, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4,
                3, 3, 4, 3, 4, 3, 4, 4, 4, 4, 4, 4, 5, 4, 5, 5, 6, 5, 7, 7, 7, 10, 12, 28};
        assertArrayEquals(reference, s.counts());
        assertEquals(1 + 4.0 * 3 / 256, s.cfg(0), 1e-7, "linear guidance counts the tokens done after the step");
        assertEquals(5f, s.cfg(63));
        assertEquals(28, s.maxCount());
        assertEquals(228, s.doneBefore(63));
    }

    @Test
    void cosineOver64StepsAndConstantGuidance() {
        DecodeSchedule s = DecodeSchedule.of(256, 64, DecodeSchedule.Reveal.COSINE, DecodeSchedule.Guidance.CONSTANT, 4.5);
        int[] reference = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 3, 2, 2, 3, 3, 3, 3, 3, 3, 4, 3, 4, 4, 4, 4, 4, 4, 4, 5, 5, 4, 5, 5, 5, 5, 5,
                6, 5, 5, 6, 5, 6, 6, 6, 5, 6, 6, 6, 6, 6, 6, 7, 6, 6, 6, 6, 7, 6, 6, 6};
        assertArrayEquals(reference, s.counts());
        for (int k = 0; k < 64; k++) assertEquals(4.5f, s.cfg(k));
    }

    @Test
    void everyStepCountOfTheScriptsRangeCoversTheGrid() {
        for (DecodeSchedule.Reveal r : DecodeSchedule.Reveal.values()) {
            for (int steps : new int[]{1, 2, 16, 64, 100, 256}) {
                DecodeSchedule s = DecodeSchedule.of(256, steps, r, DecodeSchedule.Guidance.LINEAR, 2.0);
                assertEquals(256, Arrays.stream(s.counts()).sum(), r + " " + steps);
                assertTrue(Arrays.stream(s.counts()).allMatch(n -> n > 0), r + " " + steps);
                assertEquals(2f, s.cfg(steps - 1), r + " " + steps);
            }
        }
    }

    @Test
    void tooManyStepsNameTheEmptyStepAndTheLimit() {
        // more steps than tokens: the reference would run a step on no token
        var e = assertThrows(IllegalArgumentException.class, () -> DecodeSchedule.of(16, 17, DecodeSchedule.Reveal.ARCCOS, DecodeSchedule.Guidance.LINEAR, 2.0));
        assertTrue(e.getMessage().contains("17 steps of the arccos schedule over 16 tokens leave step") && e.getMessage().contains("(at most 16 steps work)"),
                e.getMessage());
        assertEquals(16, DecodeSchedule.maxSteps(16, DecodeSchedule.Reveal.COSINE));
        assertArrayEquals(new int[]{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},
                DecodeSchedule.of(16, 16, DecodeSchedule.Reveal.ARCCOS, DecodeSchedule.Guidance.LINEAR, 2.0).counts());
        assertThrows(IllegalArgumentException.class, () -> DecodeSchedule.of(16, 0, DecodeSchedule.Reveal.ARCCOS, DecodeSchedule.Guidance.LINEAR, 2.0));
    }
}
