package ecar.io;

import org.junit.jupiter.api.Test;

import java.io.StringReader;
import java.math.BigInteger;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JsonTest {
    @Test
    void parsesAndWritesBack() {
        String text = "{\"a\": [1, 2.5, -3e2, true, null], \"b\": {\"s\": \"x\\n\\u00e9\\\"\\ud83d\\ude00\"}, \"c\": 12345678901}";
        Map<String, Object> m = Json.parseObject(text);
        assertEquals(java.util.Arrays.asList(1L, 2.5, -300.0, true, null), m.get("a"));
        assertEquals("x\né\"\ud83d\ude00", ((Map<?, ?>) m.get("b")).get("s"));
        assertEquals(12345678901L, m.get("c"));
        assertEquals(m, Json.parseObject(Json.write(m)));
        assertEquals(List.of("a", "b", "c"), List.copyOf(m.keySet()), "keys keep their order");
    }

    @Test
    void acceptsEveryNumberFormTheGrammarAllows() {
        assertEquals(List.of(0L, 0L, -0.0, 0.5, 100.0, 100.0, 0.01, 0.0), Json.parse("[0, -0, -0.0, 0.5, 1E+2, 1e2, 1e-2, 1e-999]"));
        assertEquals(List.of(Long.MAX_VALUE, Long.MIN_VALUE), Json.parse("[9223372036854775807, -9223372036854775808]"));
        Object big = ((List<?>) Json.parse("[92233720368547758070]")).getFirst();
        assertEquals(new BigInteger("92233720368547758070"), big, "integers past a long stay exact");
        assertEquals(List.of(1.7976931348623157e308), Json.parse("[1.7976931348623157e308]"));
    }

    /** The message of the JsonException that parsing must end in, checked to be one line in our own words. */
    static String error(String json) {
        String m = assertThrows(Json.JsonException.class, () -> Json.parse(json), json).getMessage();
        assertClean(m);
        return m;
    }

    /** One line that names no Jackson internals: no feature names, no source excerpts, no class names, no raw character codes. */
    static void assertClean(String m) {
        assertFalse(m.contains("\n") || m.contains("\r"), "one line: " + m);
        for (String leak : List.of("`Json", "`Stream", "Feature", "Source", "jackson", "Jackson", "StreamRead", "CTRL-CHAR", "(code ", "token 'null'", "Exception")) {
            assertFalse(m.contains(leak), "'" + leak + "' leaked into: " + m);
        }
    }

    private static void assertError(String json, String expected) {
        String m = error(json);
        assertTrue(m.startsWith(expected), "for " + json + ": expected '" + expected + "...', got: " + m);
        assertTrue(m.matches(".* at line \\d+, column \\d+ \\(offset \\d+\\)"), "the location ends the message: " + m);
    }

    @Test
    void reportsWhereItBroke() {
        assertEquals("unexpected character ']', expected a value at line 1, column 13 (offset 12)", error("{\"a\": [1, 2,]}"));
        assertEquals("duplicate key \"a\" at line 2, column 3 (offset 10)", error("{\"a\":1,\n  \"a\":2}"));
        assertEquals("unexpected end of JSON inside a string at line 1, column 14 (offset 13)", error("\"unterminated"));
        assertEquals("unexpected end of JSON: the document has no value at line 1, column 4 (offset 3)", error("   "));
    }

    @Test
    void rejectsNumbersOutsideTheGrammar() {
        assertError("[01]", "a number cannot have a leading zero");
        assertError("[-01]", "a number cannot have a leading zero");
        assertError("[1.]", "a decimal point must be followed by a digit (found ']')");
        assertError("[1.e5]", "a decimal point must be followed by a digit (found 'e')");
        assertError("[.5]", "unexpected character '.', expected a value");
        assertError("[1e]", "an exponent must have digits (found ']')");
        assertError("[+1]", "a number cannot start with '+'");
        assertError("[-]", "'-' must be followed by a digit (found ']')");
        assertError("[0x10]", "unexpected character 'x', expected ',' or ']'");
    }

    @Test
    void rejectsNonFiniteNumbers() {
        assertError("[NaN]", "'NaN' is not a JSON number");
        assertError("[Infinity]", "'Infinity' is not a JSON number");
        assertError("[-Infinity]", "'-Infinity' is not a JSON number");
        assertEquals("number 1e999 is beyond the range of a double (about ±1.8e308) at line 1, column 7 (offset 6)", error("{\"x\": 1e999}"));
        assertError("[-2e308]", "number -2e308 is beyond the range of a double");
    }

    @Test
    void rejectsBadStrings() {
        assertError("[\"\\u+041\"]", "a \\u escape needs 4 hex digits (found '+')");
        assertError("[\"\\u12\"]", "a \\u escape needs 4 hex digits (found '\"')");
        assertError("[\"\\x\"]", "bad escape in a string: a backslash before 'x'");
        assertError("[\"\\'\"]", "bad escape in a string: a backslash before '''");
        assertError("[\"a\tb\"]", "control character U+0009 in a string must be escaped");
        // Jackson lets a lone surrogate through in a value (RFC 8259 allows the escape) but not in a key
        assertEquals(List.of("\ud800"), Json.parse("[\"\\ud800\"]"));
        assertError("{\"\\ud800x\": 1}", "an escaped high surrogate (\\uD800 to \\uDBFF) in a key must be followed by an escaped low one");
        assertError("['a']", "unexpected character ''', expected a value");
    }

    @Test
    void rejectsWhatIsNotJson() {
        assertError("[1] x", "unexpected text 'x'");
        assertError("[1] [2]", "unexpected text after the JSON value");
        assertError("{} {}", "unexpected text after the JSON value");
        assertError("/* note */ [1]", "comments are not allowed in JSON");
        assertError("[1 // note\n]", "comments are not allowed in JSON");
        assertError("# note\n[1]", "unexpected character '#', expected a value");
        assertError("{a: 1}", "unexpected character 'a', expected a key in double quotes");
        assertError("{\"a\": 1,}", "unexpected character '}', expected a key in double quotes");
        assertError("{\"a\" 1}", "unexpected character '1', expected ':' after the key");
        assertError("{\"a\": 1 \"b\": 2}", "unexpected character '\"', expected ',' or '}'");
        assertError("[tru]", "unexpected text 'tru'");
        assertError("[1", "unexpected end of JSON: an array is not closed");
        assertError("{\"a\": {", "unexpected end of JSON: an object is not closed");
        assertError("{\"a", "unexpected end of JSON inside a key");
        assertError("[\"\\u12", "unexpected end of JSON inside an escape sequence");
        assertError("[1}", "unexpected '}': the array opened at line 1, column 1 must close with ']' first");
        assertError("{\"a\": [1]]", "unexpected ']': the object opened at line 1, column 1 must close with '}' first");
        assertError("]", "unexpected ']': no array is open");
        assertError("}", "unexpected '}': no object is open");
        assertError("[1]\u0000", "control character U+0000 between values");
        assertError("\ufeff[1]", "unexpected character U+FEFF, expected a value");
        assertError("", "unexpected end of JSON: the document has no value");
    }

    @Test
    void namesTheDuplicateKeyAtAnyDepthAndShowsItOnOneLine() {
        assertError("{\"a\": {\"b\": 1, \"c\": 2, \"b\": 3}}", "duplicate key \"b\"");
        assertError("[{\"k\": 1}, {\"k\": 1, \"k\": 2}]", "duplicate key \"k\"");
        assertError("{\"x\\ny\": 1, \"x\\ny\": 2}", "duplicate key \"x\\ny\"");
        String longKey = "k".repeat(5000);
        String m = error("{\"" + longKey + "\": 1, \"" + longKey + "\": 2}");
        assertTrue(m.contains("... (5000 characters)") && m.length() < 400, m);
    }

    @Test
    void limitsNestingDepthWithoutOverflowingTheStack() {
        assertEquals(List.of(List.of()), Json.parse("[[]]"));
        String deepest = "[".repeat(64) + "]".repeat(64);
        assertInstanceOf(List.class, Json.parse(deepest));
        assertError("[".repeat(65) + "]".repeat(65), "nested deeper than the limit of 64 levels");
        // the old recursive reader died with StackOverflowError near 3,000 levels
        assertError("[".repeat(3000), "nested deeper than the limit of 64 levels");
        assertError("{\"a\":".repeat(100_000), "nested deeper than the limit of 64 levels");
    }

    @Test
    void limitsNumberStringKeyAndDocumentLength() {
        String digits = "1".repeat(JsonLimits.MAX_NUMBER_CHARS);
        assertEquals(new BigInteger(digits), ((List<?>) Json.parse("[" + digits + "]")).getFirst());
        assertError("[" + digits + "1]", "a number is longer than the limit of 100 characters");
        assertError("[0." + digits + "]", "a number is longer than the limit of 100 characters");
        assertError("[" + "9".repeat(10_000) + "]", "a number is longer than the limit of 100 characters");
        // past the string limit, the reader stops before the number ends
        assertError("[" + "9".repeat(1_000_000) + "]", "a key or number is longer than the limit of 65536 characters");

        int maxString = JsonLimits.CONFIG.maxStringChars();
        assertEquals(maxString, ((String) ((List<?>) Json.parse("[\"" + "s".repeat(maxString) + "\"]")).getFirst()).length());
        assertError("[\"" + "s".repeat(maxString + 1) + "\"]", "a string is longer than the limit of 65536 characters");

        String key = "k".repeat(JsonLimits.MAX_KEY_CHARS);
        assertTrue(Json.parseObject("{\"" + key + "\": 1}").containsKey(key));
        assertError("{\"" + key + "k\": 1}", "a key is longer than the limit of 16384 characters");

        long maxDoc = JsonLimits.CONFIG.maxDocumentChars();
        String tooLong = "[" + " ".repeat((int) maxDoc - 1) + "]";
        var e = assertThrows(Json.JsonException.class, () -> Json.parse(tooLong));
        assertEquals("the document of 1048577 characters is longer than the limit of 1048576 characters", e.getMessage());
    }

    @Test
    void limitsTheDocumentReadFromAStream() {
        JsonLimits small = new JsonLimits(20, 64, 100, 100, 100);
        try (JsonCursor c = JsonCursor.of(new StringReader("[1, 2, 3]"), small)) {
            assertEquals(List.of(1L, 2L, 3L), JsonTree.read(c));
        }
        var e = assertThrows(Json.JsonException.class, () -> {
            try (JsonCursor c = JsonCursor.of(new StringReader("[" + "1, ".repeat(10_000) + "1]"), small)) {
                JsonTree.read(c);
            }
        });
        assertTrue(e.getMessage().startsWith("the document is longer than the limit of 20 characters"), e.getMessage());
        assertClean(e.getMessage());
    }

    /** Parser messages without a wording of ours keep Jackson's words, minus its configuration hints and source excerpts. */
    @Test
    void unknownParserMessagesAreCleanedNotPassedThrough() {
        var unknown = new com.fasterxml.jackson.core.JsonParseException(null,
                "Odd input: enable `JsonReadFeature.ALLOW_ODD` to allow (for Array starting at [Source: REDACTED; line: 1, column: 1])\n more");
        assertEquals("malformed JSON: Odd input", JsonErrors.describe(unknown, JsonLimits.CONFIG, false));
        var limit = new com.fasterxml.jackson.core.exc.StreamConstraintsException(
                "Token count (5) exceeds the maximum allowed (4, from `StreamReadConstraints.getMaxTokenCount()`)");
        assertEquals("the input exceeds a reader limit: Token count (5) exceeds the maximum allowed (4)",
                JsonErrors.describe(limit, JsonLimits.CONFIG, false));
    }

    @Test
    void typedAccessNamesTheKey() {
        Json.Obj o = Json.Obj.parse("{\"depth\": 2.5, \"scales\": [1, 2], \"whole\": 3.0, \"exp\": 1e3}", "config.json");
        var e = assertThrows(IllegalArgumentException.class, () -> o.integer("depth"));
        assertEquals("config.json: \"depth\" must be a whole number, found 2.5", e.getMessage());
        assertEquals("config.json: missing \"dim\"", assertThrows(IllegalArgumentException.class, () -> o.integer("dim")).getMessage());
        assertEquals(2, o.ints("scales")[1]);
        assertEquals(3, o.integer("whole"));
        assertEquals(1000, o.integer("exp"));
        assertEquals(7, o.integer("absent", 7));
    }

    private static String typedError(Json.Obj o, java.util.function.Consumer<Json.Obj> read) {
        return assertThrows(IllegalArgumentException.class, () -> read.accept(o)).getMessage();
    }

    @Test
    void wholeNumberGettersNeverTruncate() {
        Json.Obj o = Json.Obj.parse("{\"ch\": 4294967297, \"neg\": -2147483649, \"min\": -2147483648, \"ch_mult\": [1, 2, 4294967297],"
                + " \"half\": [1, 2.5], \"words\": [\"a\"], \"huge\": 92233720368547758070, \"offsets\": [9223372036854775807, 9223372036854775808],"
                + " \"big_double\": [1e19], \"name\": \"x\", \"flag\": true}", "vae.json");
        assertEquals("vae.json: \"ch\" must be a whole number from -2147483648 to 2147483647, found 4294967297",
                typedError(o, c -> c.integer("ch")));
        assertEquals("vae.json: \"neg\" must be a whole number from -2147483648 to 2147483647, found -2147483649",
                typedError(o, c -> c.integer("neg")));
        assertEquals(Integer.MIN_VALUE, o.integer("min"));
        assertEquals("vae.json: \"ch_mult\"[2] must be a whole number from -2147483648 to 2147483647, found 4294967297",
                typedError(o, c -> c.ints("ch_mult")));
        assertEquals("vae.json: \"half\"[1] must be a whole number, found 2.5", typedError(o, c -> c.ints("half")));
        assertEquals("vae.json: \"words\"[0] must be a whole number, found a string", typedError(o, c -> c.ints("words")));
        assertEquals("vae.json: \"name\" must be a list, found a string", typedError(o, c -> c.ints("name")));
        assertEquals("vae.json: \"name\" must be a whole number, found a string", typedError(o, c -> c.integer("name")));
        assertEquals("vae.json: \"huge\" must be a whole number from -2147483648 to 2147483647, found 92233720368547758070",
                typedError(o, c -> c.integer("huge")));

        assertEquals(4294967297L, o.longs("ch_mult")[2]);
        assertEquals("vae.json: \"offsets\"[1] must be a whole number from -9223372036854775808 to 9223372036854775807, found 9223372036854775808",
                typedError(o, c -> c.longs("offsets")));
        assertEquals("vae.json: \"big_double\"[0] must be a whole number from -9223372036854775808 to 9223372036854775807, found 1.0E19",
                typedError(o, c -> c.longs("big_double")));
        assertEquals(5, o.longs("absent", new long[]{5})[0]);
        assertEquals("vae.json: \"flag\" must be a number, found a boolean", typedError(o, c -> c.num("flag")));
        assertEquals("vae.json: \"name\" must be true or false, found a string", typedError(o, c -> c.bool("name", false)));
    }

    @Test
    void doublesMustBeFinite() {
        // the parser refuses 1e999, so a non-finite value can only come from a map built in code
        Json.Obj o = new Json.Obj(Map.of("scale", Double.POSITIVE_INFINITY, "ratio", Double.NaN, "ok", 0.18215), "preset");
        assertEquals("preset: \"scale\" must be a finite number, found Infinity", typedError(o, c -> c.num("scale")));
        assertEquals("preset: \"ratio\" must be a finite number, found NaN", typedError(o, c -> c.num("ratio", 1.0)));
        assertEquals("preset: \"ratio\" must be a whole number, found NaN", typedError(o, c -> c.integer("ratio")));
        assertEquals(0.18215, o.num("ok"));
    }

    @Test
    void configErrorsNameTheFile() {
        var e = assertThrows(IllegalArgumentException.class, () -> Json.Obj.parse("{\"depth\": 01}", "model/config.json"));
        assertEquals("model/config.json: not valid JSON: a number cannot have a leading zero at line 1, column 12 (offset 11)", e.getMessage());
        var notObject = assertThrows(IllegalArgumentException.class, () -> Json.Obj.parse("[1]", "model/config.json"));
        assertEquals("model/config.json: not valid JSON: expected a JSON object, found an array", notObject.getMessage());
    }

    @Test
    void refusesToWriteWhatItCouldNotReadBack() {
        var e = assertThrows(IllegalArgumentException.class, () -> Json.write(Map.of("x", Double.NaN)));
        assertEquals("JSON has no representation for NaN", e.getMessage());
        assertEquals("{\"s\":\"a\\u0001\\\"\"}", Json.write(Map.of("s", "a\u0001\"")));
    }
}
