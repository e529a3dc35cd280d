package ecar.io;

import com.fasterxml.jackson.core.JsonToken;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds the value at a {@link JsonCursor} as plain Java: objects become insertion-ordered {@code Map<String,Object>}
 * (a repeated key is an error that names it), arrays {@code List<Object>}, numbers as {@link JsonCursor#number()}.
 * The recursion is as deep as the document, which the cursor's depth limit keeps small.
 */
final class JsonTree {
    private JsonTree() {}

    /** The whole document: one value and nothing after it. */
    static Object read(JsonCursor c) {
        if (c.next() == null) throw c.error("unexpected end of JSON: the document has no value");
        Object v = value(c);
        c.end();
        return v;
    }

    private static Object value(JsonCursor c) {
        JsonToken t = c.token();
        if (t == null) throw c.error("unexpected end of JSON");
        return switch (t) {
            case START_OBJECT -> object(c);
            case START_ARRAY -> array(c);
            case VALUE_STRING -> c.string();
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> c.number();
            case VALUE_TRUE -> Boolean.TRUE;
            case VALUE_FALSE -> Boolean.FALSE;
            case VALUE_NULL -> null;
            default -> throw c.error("expected a value, found " + c.found());
        };
    }

    private static Map<String, Object> object(JsonCursor c) {
        Map<String, Object> m = new LinkedHashMap<>();
        while (c.next() == JsonToken.FIELD_NAME) {
            String key = c.key();
            if (m.containsKey(key)) throw c.error("duplicate key \"" + JsonErrors.shown(key) + "\"");
            c.next();
            m.put(key, value(c));
        }
        return m;
    }

    private static List<Object> array(JsonCursor c) {
        List<Object> a = new ArrayList<>();
        while (c.next() != JsonToken.END_ARRAY) a.add(value(c));
        return a;
    }
}
