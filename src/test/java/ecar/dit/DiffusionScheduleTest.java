package ecar.dit;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DiffusionScheduleTest {
    @Test
    void respacesAsTheReference() {
        assertEquals(List.of(0, 111, 222, 333, 444, 555, 666, 777, 888, 999), List.copyOf(DiffusionSchedule.spaceTimesteps(1000, "10")));
        assertEquals(List.of(0, 100, 200, 300, 400, 500, 600, 700, 800, 900), List.copyOf(DiffusionSchedule.spaceTimesteps(1000, "ddim10")));
        assertEquals(250, DiffusionSchedule.spaceTimesteps(1000, "250").size());
        assertEquals(List.of(0, 250, 499, 500, 999), List.copyOf(DiffusionSchedule.spaceTimesteps(1000, "3,2")));
        var e = assertThrows(IllegalArgumentException.class, () -> DiffusionSchedule.spaceTimesteps(1000, "ddim999"));
        assertTrue(e.getMessage().contains("no integer stride"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> DiffusionSchedule.linear("0"));
        assertThrows(IllegalArgumentException.class, () -> DiffusionSchedule.linear("fast"));
    }

    @Test
    void respacedScheduleKeepsTheCumulativeProducts() {
        DiffusionSchedule full = DiffusionSchedule.linear("1000"), spaced = DiffusionSchedule.linear("250");
        for (int i = 0; i < spaced.steps(); i++) {
            assertEquals(full.alphaBar(spaced.modelTimestep(i)), spaced.alphaBar(i), 1e-12);
        }
        assertEquals(999, spaced.modelTimestep(249));
    }

    /** FIXED_LARGE's log-variance is log β_t, except at the first step, where the reference puts β̃_1 (the clipped minLog). */
    @Test
    void fixedLargeVarianceTakesTheClippedPosteriorVarianceAtTheFirstStep() {
        DiffusionSchedule s = DiffusionSchedule.linear("250");
        assertEquals(s.at(0).minLog(), s.at(0).fixedLargeLog());
        assertNotEquals(s.at(0).maxLog(), s.at(0).fixedLargeLog(), "β̃_1, not the respaced β_0 = 1e-4");
        for (int i = 1; i < s.steps(); i++) assertEquals(s.at(i).maxLog(), s.at(i).fixedLargeLog(), "step " + i);
        // β_1 of the respaced schedule: 1 − ᾱ(4)/ᾱ(0) with the linear betas 1e-4 + k·(0.02 − 1e-4)/999
        double ab0 = 1 - 1e-4, ab4 = ab0;
        for (int k = 1; k <= 4; k++) ab4 *= 1 - (1e-4 + k * (0.02 - 1e-4) / 999);
        assertEquals((float) Math.log(1 - ab4 / ab0), s.at(1).fixedLargeLog(), 1e-6);
    }
}
