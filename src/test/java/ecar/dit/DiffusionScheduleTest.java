package ecar.dit;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
}
