package ecar.io;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small strict JSON reader and writer (RFC 8259): objects become insertion-ordered {@code Map<String,Object>},
 * arrays {@code List<Object>}, numbers {@code Long} when integral and {@code Double} otherwise.
 * Enough for safetensors headers and model configs, without a dependency.
 */
public final class Json {
    private final String s;
    private int i;

    private Json(String s) {
        this.s = s;
    }

    /** Thrown with the character offset of the problem. */
    public static final class JsonException extends RuntimeException {
        JsonException(String message) {
            super(message);
        }
    }

    public static Object parse(String text) {
        Json p = new Json(text);
        p.skipSpace();
        Object v = p.value();
        p.skipSpace();
        if (p.i != p.s.length()) throw p.error("unexpected text after the value");
        return v;
    }

    @SuppressWarnings("unchecked")
    public static Map<String, Object> parseObject(String text) {
        Object v = parse(text);
        if (!(v instanceof Map)) throw new JsonException("expected a JSON object, found " + typeName(v));
        return (Map<String, Object>) v;
    }

    static String typeName(Object v) {
        if (v == null) return "null";
        if (v instanceof Map) return "an object";
        if (v instanceof List) return "an array";
        if (v instanceof String) return "a string";
        if (v instanceof Boolean) return "a boolean";
        return "a number";
    }

    private JsonException error(String what) {
        return new JsonException(what + " at offset " + i);
    }

    private void skipSpace() {
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r') i++;
            else break;
        }
    }

    private Object value() {
        if (i >= s.length()) throw error("unexpected end of JSON");
        char c = s.charAt(i);
        return switch (c) {
            case '{' -> object();
            case '[' -> array();
            case '"' -> string();
            case 't' -> literal("true", Boolean.TRUE);
            case 'f' -> literal("false", Boolean.FALSE);
            case 'n' -> literal("null", null);
            default -> {
                if (c == '-' || (c >= '0' && c <= '9')) yield number();
                throw error("unexpected character '" + c + "'");
            }
        };
    }

    private Object literal(String word, Object v) {
        if (!s.startsWith(word, i)) throw error("expected " + word);
        i += word.length();
        return v;
    }

    private Map<String, Object> object() {
        Map<String, Object> m = new LinkedHashMap<>();
        i++;
        skipSpace();
        if (peek() == '}') {
            i++;
            return m;
        }
        while (true) {
            skipSpace();
            if (peek() != '"') throw error("expected a string key");
            String k = string();
            skipSpace();
            if (peek() != ':') throw error("expected ':'");
            i++;
            skipSpace();
            if (m.containsKey(k)) throw error("duplicate key \"" + k + "\"");
            m.put(k, value());
            skipSpace();
            char c = peek();
            i++;
            if (c == '}') return m;
            if (c != ',') throw error("expected ',' or '}'");
        }
    }

    private List<Object> array() {
        List<Object> a = new ArrayList<>();
        i++;
        skipSpace();
        if (peek() == ']') {
            i++;
            return a;
        }
        while (true) {
            skipSpace();
            a.add(value());
            skipSpace();
            char c = peek();
            i++;
            if (c == ']') return a;
            if (c != ',') throw error("expected ',' or ']'");
        }
    }

    private char peek() {
        if (i >= s.length()) throw error("unexpected end of JSON");
        return s.charAt(i);
    }

    private String string() {
        StringBuilder b = new StringBuilder();
        i++;
        while (true) {
            char c = peek();
            i++;
            if (c == '"') return b.toString();
            if (c < 0x20) throw error("control character in a string");
            if (c != '\\') {
                b.append(c);
                continue;
            }
            char e = peek();
            i++;
            switch (e) {
                case '"', '\\', '/' -> b.append(e);
                case 'b' -> b.append('\b');
                case 'f' -> b.append('\f');
                case 'n' -> b.append('\n');
                case 'r' -> b.append('\r');
                case 't' -> b.append('\t');
                case 'u' -> {
                    if (i + 4 > s.length()) throw error("truncated \\u escape");
                    try {
                        b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                    } catch (NumberFormatException ex) {
                        throw error("bad \\u escape");
                    }
                    i += 4;
                }
                default -> throw error("bad escape '\\" + e + "'");
            }
        }
    }

    private Object number() {
        int start = i;
        if (peek() == '-') i++;
        boolean integral = true;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c >= '0' && c <= '9') i++;
            else if (c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
                integral = false;
                i++;
            } else break;
        }
        String t = s.substring(start, i);
        try {
            if (integral) {
                try {
                    return Long.parseLong(t);
                } catch (NumberFormatException tooLong) {
                    return Double.parseDouble(t);
                }
            }
            return Double.parseDouble(t);
        } catch (NumberFormatException ex) {
            i = start;
            throw error("bad number '" + t + "'");
        }
    }

    // ---------------------------------------------------------------- writing

    /** Compact JSON for maps, lists, strings, numbers, booleans, null, int/long/float/double arrays. */
    public static String write(Object v) {
        StringBuilder b = new StringBuilder();
        write(b, v);
        return b.toString();
    }

    private static void write(StringBuilder b, Object v) {
        switch (v) {
            case null -> b.append("null");
            case String str -> quote(b, str);
            case Boolean bool -> b.append(bool);
            case Double d -> b.append(finite(d));
            case Float f -> b.append(finite(f.doubleValue()));
            case Number n -> b.append(n);
            case Map<?, ?> m -> {
                b.append('{');
                boolean first = true;
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    if (!first) b.append(',');
                    first = false;
                    quote(b, String.valueOf(e.getKey()));
                    b.append(':');
                    write(b, e.getValue());
                }
                b.append('}');
            }
            case List<?> l -> {
                b.append('[');
                for (int k = 0; k < l.size(); k++) {
                    if (k > 0) b.append(',');
                    write(b, l.get(k));
                }
                b.append(']');
            }
            case int[] a -> {
                b.append('[');
                for (int k = 0; k < a.length; k++) b.append(k > 0 ? "," : "").append(a[k]);
                b.append(']');
            }
            case long[] a -> {
                b.append('[');
                for (int k = 0; k < a.length; k++) b.append(k > 0 ? "," : "").append(a[k]);
                b.append(']');
            }
            case double[] a -> {
                b.append('[');
                for (int k = 0; k < a.length; k++) b.append(k > 0 ? "," : "").append(finite(a[k]));
                b.append(']');
            }
            default -> throw new IllegalArgumentException("cannot write " + v.getClass().getName() + " as JSON");
        }
    }

    private static String finite(double d) {
        if (!Double.isFinite(d)) throw new IllegalArgumentException("JSON has no representation for " + d);
        return Double.toString(d);   // keeps ".0" on whole values, so they read back as doubles
    }

    private static void quote(StringBuilder b, String s) {
        b.append('"');
        for (int k = 0; k < s.length(); k++) {
            char c = s.charAt(k);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
                    else b.append(c);
                }
            }
        }
        b.append('"');
    }

    // ---------------------------------------------------------------- typed access for configs

    /** Typed reads from a parsed object, with errors that name the key and what was expected. */
    public record Obj(Map<String, Object> map, String where) {
        public static Obj parse(String text, String where) {
            try {
                return new Obj(parseObject(text), where);
            } catch (JsonException e) {
                throw new IllegalArgumentException(where + ": not valid JSON: " + e.getMessage());
            }
        }

        public boolean has(String key) {
            return map.containsKey(key);
        }

        private Object need(String key) {
            if (!map.containsKey(key)) throw new IllegalArgumentException(where + ": missing \"" + key + "\"");
            return map.get(key);
        }

        public double num(String key) {
            if (need(key) instanceof Number n) return n.doubleValue();
            throw new IllegalArgumentException(where + ": \"" + key + "\" must be a number, found " + typeName(map.get(key)));
        }

        public double num(String key, double fallback) {
            return has(key) ? num(key) : fallback;
        }

        public int integer(String key) {
            double d = num(key);
            if (d != Math.rint(d) || Math.abs(d) > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(where + ": \"" + key + "\" must be a whole number, found " + d);
            }
            return (int) d;
        }

        public int integer(String key, int fallback) {
            return has(key) ? integer(key) : fallback;
        }

        public boolean bool(String key, boolean fallback) {
            if (!has(key)) return fallback;
            if (map.get(key) instanceof Boolean b) return b;
            throw new IllegalArgumentException(where + ": \"" + key + "\" must be true or false, found " + typeName(map.get(key)));
        }

        public String str(String key, String fallback) {
            if (!has(key)) return fallback;
            if (map.get(key) instanceof String s) return s;
            throw new IllegalArgumentException(where + ": \"" + key + "\" must be a string, found " + typeName(map.get(key)));
        }

        public int[] ints(String key) {
            if (need(key) instanceof List<?> l) {
                int[] r = new int[l.size()];
                for (int k = 0; k < r.length; k++) {
                    if (!(l.get(k) instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue())) {
                        throw new IllegalArgumentException(where + ": \"" + key + "\" must be a list of whole numbers");
                    }
                    r[k] = n.intValue();
                }
                return r;
            }
            throw new IllegalArgumentException(where + ": \"" + key + "\" must be a list, found " + typeName(map.get(key)));
        }

        public int[] ints(String key, int[] fallback) {
            return has(key) ? ints(key) : fallback;
        }
    }
}
