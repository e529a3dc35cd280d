package ecar.cli;

import ecar.family.Preset;
import ecar.sample.HeapEstimate;
import ecar.sample.Presets;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A CPU generation whose heap estimate exceeds the JVM's limit is refused, naming both and the remedies. */
class HeapCheckTest {
    @Test
    void refusedOnlyAboveTheLimit() {
        Preset p = Presets.get("dit-tiny").atImageSize(1024);
        HeapEstimate e = HeapEstimate.of(p, p.sampling(), 1, 2);
        assertDoesNotThrow(() -> HeapCheck.require(e, e.total(), "dit-tiny"));
        UserError u = assertThrows(UserError.class, () -> HeapCheck.require(e, 1L << 30, "dit-tiny, 1 image of 1024²,"));
        assertTrue(u.getMessage().startsWith("dit-tiny, 1 image of 1024², needs about 4."), u.getMessage());
        assertTrue(u.getMessage().contains("Java may use at most 1.0 GiB") && u.getMessage().endsWith("ECAR_JAVA_OPTS=-Xmx5g"), u.getMessage());
    }
}
