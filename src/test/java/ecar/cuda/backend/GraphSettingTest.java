package ecar.cuda.backend;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GraphSettingTest {
    @Test
    void onUnlessSaidOffAndAnythingElseIsNamed() {
        assertTrue(GraphSetting.parse(null));
        assertTrue(GraphSetting.parse(""));
        assertTrue(GraphSetting.parse("on"));
        assertFalse(GraphSetting.parse(" off "));
        String msg = assertThrows(IllegalArgumentException.class, () -> GraphSetting.parse("no")).getMessage();
        assertTrue(msg.contains("ECAR_GRAPHS") && msg.contains("'no'") && msg.contains("on or off"), msg);
    }
}
