package ecar.cuda;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class LaunchShapeTest {
    @Test
    void linearRoundsUp() {
        assertEquals(4, LaunchShape.linear(1000, 256).gridX());
        assertEquals(1, LaunchShape.linear(1, 256).gridX());
        assertEquals(1000L * 1000 * 1000 / 256 + 1, LaunchShape.linear(1000L * 1000 * 1000 + 1, 256).gridX());
        assertThrows(IllegalArgumentException.class, () -> LaunchShape.linear(0, 256));
        assertThrows(IllegalArgumentException.class, () -> LaunchShape.linear(1L << 50, 256));
    }

    @Test
    void rejectsShapesNoGpuRuns() {
        assertThrows(IllegalArgumentException.class, () -> LaunchShape.of(1, 1, 1, 2048, 0));
        assertThrows(IllegalArgumentException.class, () -> LaunchShape.of(1, 70000, 1, 128, 0));
        assertThrows(IllegalArgumentException.class, () -> LaunchShape.of(0, 1, 1, 128, 0));
        assertThrows(IllegalArgumentException.class, () -> LaunchShape.of(1, 1, 1, 128, 300 * 1024));
        assertEquals("grid (6, 16, 64) block (128, 1, 1) with 46080 bytes of dynamic shared memory", LaunchShape.of(6, 16, 64, 128, 46080).toString());
    }
}
