package ecar.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Jackson's parse errors in this project's words: what is wrong and what was expected, on one line, without
 * Jackson's feature names, configuration hints or source excerpts. The location is added by {@link JsonCursor}.
 */
final class JsonErrors {
    private JsonErrors() {}

    /** How a rule's words combine with the character Jackson found. */
    private enum Form {
        /** the words say it all: "a number cannot have a leading zero" */
        ALONE,
        /** a problem, then the character: "a decimal point must be followed by a digit (found ']')" */
        PROBLEM,
        /** the character, then what was expected: "unexpected character ']', expected a value" */
        EXPECTATION
    }

    /** A Jackson message fragment and what to say instead. */
    private record Rule(String fragment, String says, Form form) {}

    /** Checked in order: the end-of-input cases with a context before the bare one. */
    private static final List<Rule> RULES = List.of(
            new Rule("Leading zeroes not allowed", "a number cannot have a leading zero", Form.ALONE),
            new Rule("Decimal point not followed by a digit", "a decimal point must be followed by a digit", Form.PROBLEM),
            new Rule("Exponent indicator not followed by a digit", "an exponent must have digits", Form.PROBLEM),
            new Rule("to follow minus sign", "'-' must be followed by a digit", Form.PROBLEM),
            new Rule("plus sign", "a number cannot start with '+'", Form.ALONE),
            new Rule("comment", "comments are not allowed in JSON", Form.ALONE),
            new Rule("hex-digit for character escape", "a \\u escape needs 4 hex digits", Form.PROBLEM),
            new Rule("closing quote for a string", "unexpected end of JSON inside a string", Form.ALONE),
            new Rule("end-of-input in field name", "unexpected end of JSON inside a key", Form.ALONE),
            new Rule("end-of-input in character escape", "unexpected end of JSON inside an escape sequence", Form.ALONE),
            new Rule("close marker for Array", "unexpected end of JSON: an array is not closed", Form.ALONE),
            new Rule("between Array entries", "unexpected end of JSON: an array is not closed", Form.ALONE),
            new Rule("close marker for Object", "unexpected end of JSON: an object is not closed", Form.ALONE),
            new Rule("between Object entries", "unexpected end of JSON: an object is not closed", Form.ALONE),
            new Rule("end-of-input", "unexpected end of JSON", Form.ALONE),
            new Rule("Broken surrogate pair", "an escaped high surrogate (\\uD800 to \\uDBFF) in a key must be followed by an escaped low one", Form.ALONE),
            new Rule("no open Array to close", "unexpected ']': no array is open", Form.ALONE),
            new Rule("no open Object to close", "unexpected '}': no object is open", Form.ALONE),
            new Rule("expected a valid value", "expected a value", Form.EXPECTATION),
            new Rule("expected a value", "expected a value", Form.EXPECTATION),
            new Rule("double-quote to start field name", "expected a key in double quotes", Form.EXPECTATION),
            new Rule("comma to separate Array entries", "expected ',' or ']'", Form.EXPECTATION),
            new Rule("comma to separate Object entries", "expected ',' or '}'", Form.EXPECTATION),
            new Rule("colon to separate field name and value", "expected ':' after the key", Form.EXPECTATION));

    private static final Pattern NON_NUMERIC = Pattern.compile("Non-standard token '([^']*)'");
    // Jackson shows a character as "'c' (code 99)", "'\u00e9' (code 233 / 0xe9)" or "(CTRL-CHAR, code 9)"
    private static final String CODE = ".*?code (\\d+)";
    private static final Pattern BAD_ESCAPE = Pattern.compile("Unrecognized character escape" + CODE);
    private static final Pattern CONTROL_IN_STRING = Pattern.compile("Illegal unquoted character" + CODE);
    private static final Pattern CONTROL = Pattern.compile("Illegal character" + CODE);
    private static final Pattern UNEXPECTED = Pattern.compile("Unexpected character" + CODE);
    private static final Pattern UNRECOGNIZED = Pattern.compile("Unrecognized token '([^']*)'");
    private static final Pattern MISMATCHED_CLOSE = Pattern.compile(
            "Unexpected close marker '(.)': expected '(.)' \\(for (\\w+) starting at .*?line: (\\d+), column: (\\d+)");

    /** What is wrong, without the location; {@code inString}: it happened while decoding a string value. */
    static String describe(JsonProcessingException e, JsonLimits limits, boolean inString) {
        String m = e.getOriginalMessage() == null ? "" : e.getOriginalMessage();
        if (e instanceof StreamConstraintsException) return describeLimit(m, limits, inString);
        Matcher g;
        if ((g = NON_NUMERIC.matcher(m)).find()) return "'" + shown(g.group(1)) + "' is not a JSON number (NaN and Infinity have no JSON form)";
        if ((g = BAD_ESCAPE.matcher(m)).find()) return "bad escape in a string: a backslash before " + character(Integer.parseInt(g.group(1)));
        if ((g = CONTROL_IN_STRING.matcher(m)).find()) return "control character " + character(Integer.parseInt(g.group(1))) + " in a string must be escaped";
        if ((g = CONTROL.matcher(m)).find()) {
            return "control character " + character(Integer.parseInt(g.group(1))) + " between values (only spaces, tabs and line breaks may be there)";
        }
        if ((g = UNRECOGNIZED.matcher(m)).find()) return "unexpected text '" + shown(g.group(1)) + "'";
        if ((g = MISMATCHED_CLOSE.matcher(m)).find()) {
            return "unexpected '" + g.group(1) + "': the " + g.group(3).toLowerCase(java.util.Locale.ROOT) + " opened at line " + g.group(4)
                    + ", column " + g.group(5) + " must close with '" + g.group(2) + "' first";
        }
        String found = (g = UNEXPECTED.matcher(m)).find() ? character(Integer.parseInt(g.group(1))) : null;
        Rule rule = RULES.stream().filter(r -> m.contains(r.fragment)).findFirst().orElse(null);
        if (rule == null) return found != null ? "unexpected character " + found : "malformed JSON: " + firstLine(m);
        if (found == null || rule.form == Form.ALONE) return rule.says;
        return rule.form == Form.EXPECTATION ? "unexpected character " + found + ", " + rule.says : rule.says + " (found " + found + ")";
    }

    /**
     * Jackson enforces the limits we configure; its messages name its own getters, so say which of ours it was.
     * Its buffer of token text applies the string limit to every token as it grows: outside a string value,
     * the token that outgrew it is a key or a number.
     */
    private static String describeLimit(String m, JsonLimits limits, boolean inString) {
        if (m.startsWith("Document nesting depth")) return "nested deeper than the limit of " + limits.maxDepth() + " levels";
        if (m.startsWith("String value length")) {
            return (inString ? "a string" : "a key or number") + " is longer than the limit of " + limits.maxStringChars() + " characters";
        }
        if (m.startsWith("Name length")) return "a key is longer than the limit of " + limits.maxKeyChars() + " characters";
        if (m.startsWith("Number value length")) return "a number is longer than the limit of " + limits.maxNumberChars() + " characters";
        if (m.startsWith("Document length")) return "the document is longer than the limit of " + limits.maxDocumentChars() + " characters";
        return "the input exceeds a reader limit: " + firstLine(m);
    }

    /** The first line, without the parts that quote Jackson's configuration (`Feature` names) or its source excerpts. */
    private static String firstLine(String m) {
        int nl = m.indexOf('\n');
        String line = nl < 0 ? m : m.substring(0, nl);
        for (String context : List.of(" (start marker at", " (for ", " [Source", "[Source")) {
            int at = line.indexOf(context);
            if (at >= 0) line = line.substring(0, at);
        }
        return line.replaceAll("[,:]?\\s*(from |enable )?`[^`]*`( to allow)?", "").strip();
    }

    /** Printable ASCII as itself in quotes, anything else as its code point, so that the message stays one readable line. */
    private static String character(int code) {
        return code >= 0x20 && code < 0x7f ? "'" + (char) code + "'" : String.format("U+%04X", code);
    }

    /** The longest piece of input text quoted in a message; a hostile key could otherwise fill the terminal. */
    private static final int SHOWN_CHARS = 200;

    /**
     * Text from the input (a key, a tensor name) as it can appear inside a one-line message: control characters
     * escaped as in JSON, cut after {@value #SHOWN_CHARS} characters. The caller adds the quotes.
     */
    static String shown(String s) {
        StringBuilder b = new StringBuilder();
        for (int k = 0; k < s.length() && k < SHOWN_CHARS; k++) {
            char c = s.charAt(k);
            switch (c) {
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x2028 || c == 0x2029) b.append(String.format("\\u%04x", (int) c));
                    else b.append(c);
                }
            }
        }
        if (s.length() > SHOWN_CHARS) b.append("... (").append(s.length()).append(" characters)");
        return b.toString();
    }
}
