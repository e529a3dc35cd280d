package ecar.io;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.List;
import java.util.Map;

/**
 * Strict JSON (RFC 8259) for safetensors headers and model configs, read with Jackson's streaming parser within
 * {@link JsonLimits#CONFIG}: objects become insertion-ordered {@code Map<String,Object>}, arrays {@code List<Object>},
 * numbers {@code Long} when integral and in range, {@code BigInteger} for larger integers and a finite {@code Double}
 * otherwise. Leading zeros, {@code 1.}, bad escapes, NaN and Infinity, numbers beyond a double, duplicate keys,
 * comments and text after the value are errors; every error is a {@link JsonException} with a one-line message
 * that says where.
 */
public final class Json {
    private Json() {}

    /** Malformed or over-limit JSON: what is wrong, then the line, column and character offset of the problem. */
    public static final class JsonException extends RuntimeException {
        JsonException(String message) {
            super(message);
        }
    }

    public static Object parse(String text) {
        try (JsonCursor c = JsonCursor.of(text, JsonLimits.CONFIG)) {
            return JsonTree.read(c);
        }
    }

    @SuppressWarnings("unchecked")
    public static Map<String, Object> parseObject(String text) {
        Object v = parse(text);
        if (!(v instanceof Map)) throw new JsonException("expected a JSON object, found " + typeName(v));
        return (Map<String, Object>) v;
    }

    /** Compact JSON for maps, lists, strings, numbers, booleans, null, int/long/float/double arrays. */
    public static String write(Object v) {
        return JsonWriter.write(v);
    }

    static String typeName(Object v) {
        if (v == null) return "null";
        if (v instanceof Map) return "an object";
        if (v instanceof List) return "an array";
        if (v instanceof String) return "a string";
        if (v instanceof Boolean) return "a boolean";
        return "a number";
    }

    // ---------------------------------------------------------------- typed access for configs

    /**
     * Typed reads from a parsed object, with errors that name the key, the value found and what was expected.
     * Whole-number getters never round or truncate: a fraction or a value outside the target type is an error.
     */
    public record Obj(Map<String, Object> map, String where) {
        public static Obj parse(String text, String where) {
            try {
                return new Obj(parseObject(text), where);
            } catch (JsonException e) {
                throw new IllegalArgumentException(where + ": not valid JSON: " + e.getMessage());
            }
        }

        /**
         * A JSON config file: a regular file ({@link InputFiles}) of at most {@link JsonLimits#CONFIG}'s size, read whole;
         * errors name the file.
         */
        public static Obj read(java.nio.file.Path file) {
            InputFiles.problem(file, "a JSON config").ifPresent(p -> {
                throw new IllegalArgumentException(p);
            });
            long max = JsonLimits.CONFIG.maxDocumentChars(), bytes;
            try {
                bytes = java.nio.file.Files.size(file);
                // a character takes at most 4 bytes in UTF-8: beyond that the text is too long whatever it holds, unread
                if (bytes > 4 * max) throw new IllegalArgumentException(file + ": " + bytes + " bytes, more than a config may hold (" + max + " characters)");
                return parse(java.nio.file.Files.readString(file), file.toString());
            } catch (java.nio.charset.CharacterCodingException e) {
                throw new IllegalArgumentException(file + ": is not UTF-8 text, which JSON must be");
            } catch (java.io.IOException e) {
                throw new IllegalArgumentException(file + ": cannot be read (" + e.getClass().getSimpleName() + ": " + e.getMessage() + ")");
            }
        }

        public boolean has(String key) {
            return map.containsKey(key);
        }

        /** Throws naming the first key that is not one of known, and the known ones: a typo would otherwise be ignored. */
        public void onlyKeys(java.util.Collection<String> known) {
            for (String k : map.keySet()) {
                if (!known.contains(k)) {
                    throw new IllegalArgumentException(where + ": unknown key \"" + k + "\" (known: " + String.join(", ", known) + ")");
                }
            }
        }

        private Object need(String key) {
            if (!map.containsKey(key)) throw new IllegalArgumentException(where + ": missing \"" + key + "\"");
            return map.get(key);
        }

        public double num(String key) {
            if (!(need(key) instanceof Number n)) {
                throw new IllegalArgumentException(where + ": \"" + key + "\" must be a number, found " + typeName(map.get(key)));
            }
            double d = n.doubleValue();
            if (!Double.isFinite(d)) throw new IllegalArgumentException(where + ": \"" + key + "\" must be a finite number, found " + n);
            return d;
        }

        public double num(String key, double fallback) {
            return has(key) ? num(key) : fallback;
        }

        public int integer(String key) {
            return (int) whole(need(key), "\"" + key + "\"", Integer.MIN_VALUE, Integer.MAX_VALUE);
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
            List<?> l = list(key);
            int[] r = new int[l.size()];
            for (int k = 0; k < r.length; k++) r[k] = (int) whole(l.get(k), "\"" + key + "\"[" + k + "]", Integer.MIN_VALUE, Integer.MAX_VALUE);
            return r;
        }

        public int[] ints(String key, int[] fallback) {
            return has(key) ? ints(key) : fallback;
        }

        public long[] longs(String key) {
            List<?> l = list(key);
            long[] r = new long[l.size()];
            for (int k = 0; k < r.length; k++) r[k] = whole(l.get(k), "\"" + key + "\"[" + k + "]", Long.MIN_VALUE, Long.MAX_VALUE);
            return r;
        }

        public long[] longs(String key, long[] fallback) {
            return has(key) ? longs(key) : fallback;
        }

        private List<?> list(String key) {
            if (need(key) instanceof List<?> l) return l;
            throw new IllegalArgumentException(where + ": \"" + key + "\" must be a list, found " + typeName(map.get(key)));
        }

        /** The value as a whole number in [min, max]; {@code what} names it ("depth", "ch_mult"[2]) in the error. */
        private long whole(Object v, String what, long min, long max) {
            if (!(v instanceof Number n)) {
                throw new IllegalArgumentException(where + ": " + what + " must be a whole number, found " + typeName(v));
            }
            BigInteger exact = exactInteger(n);
            if (exact == null) throw new IllegalArgumentException(where + ": " + what + " must be a whole number, found " + n);
            if (exact.compareTo(BigInteger.valueOf(min)) < 0 || exact.compareTo(BigInteger.valueOf(max)) > 0) {
                throw new IllegalArgumentException(where + ": " + what + " must be a whole number from " + min + " to " + max + ", found " + n);
            }
            return exact.longValue();
        }

        /** The integer a number stands for exactly, or null when it has a fraction or is not finite. */
        private static BigInteger exactInteger(Number n) {
            return switch (n) {
                case Long l -> BigInteger.valueOf(l);
                case Integer i -> BigInteger.valueOf(i);
                case Short s -> BigInteger.valueOf(s);
                case Byte b -> BigInteger.valueOf(b);
                case BigInteger b -> b;
                default -> {
                    double d = n.doubleValue();
                    yield Double.isFinite(d) && d == Math.rint(d) ? new BigDecimal(d).toBigInteger() : null;
                }
            };
        }
    }
}
