package ecar.io;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JsonTest {
    @Test
    void parsesAndWritesBack() {
        String text = "{\"a\": [1, 2.5, -3e2, true, null], \"b\": {\"s\": \"x\\n\\u00e9\\\"\"}, \"c\": 12345678901}";
        Map<String, Object> m = Json.parseObject(text);
        assertEquals(java.util.Arrays.asList(1L, 2.5, -300.0, true, null), m.get("a"));
        assertEquals("x\né\"", ((Map<?, ?>) m.get("b")).get("s"));
        assertEquals(12345678901L, m.get("c"));
        assertEquals(m, Json.parseObject(Json.write(m)));
    }

    @Test
    void reportsWhereItBroke() {
        var e = assertThrows(Json.JsonException.class, () -> Json.parse("{\"a\": [1, 2,]}"));
        assertTrue(e.getMessage().contains("offset 12"), e.getMessage());
        assertThrows(Json.JsonException.class, () -> Json.parse("{\"a\":1,\"a\":2}"));
        assertThrows(Json.JsonException.class, () -> Json.parse("[1] x"));
        assertThrows(Json.JsonException.class, () -> Json.parse("\"unterminated"));
    }

    @Test
    void typedAccessNamesTheKey() {
        Json.Obj o = Json.Obj.parse("{\"depth\": 2.5, \"scales\": [1, 2]}", "config.json");
        var e = assertThrows(IllegalArgumentException.class, () -> o.integer("depth"));
        assertEquals("config.json: \"depth\" must be a whole number, found 2.5", e.getMessage());
        assertEquals("config.json: missing \"dim\"", assertThrows(IllegalArgumentException.class, () -> o.integer("dim")).getMessage());
        assertEquals(2, o.ints("scales")[1]);
    }
}
