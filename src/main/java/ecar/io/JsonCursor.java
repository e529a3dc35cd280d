package ecar.io;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;

import java.io.IOException;
import java.io.Reader;

/**
 * Strict RFC 8259 tokens from Jackson's streaming parser, within {@link JsonLimits}: every failure is a
 * {@link Json.JsonException} with a one-line message that ends with the line, column and character offset.
 * Jackson's defaults already refuse leading zeros, {@code 1.}, bad escapes, NaN, comments and single quotes;
 * this adds what it lets through: numbers beyond a double's range, and text after the value ({@link #end}).
 * Duplicate keys are left to the reader that builds the object, which holds the keys anyway.
 */
final class JsonCursor implements AutoCloseable {
    private final JsonParser parser;
    private final JsonLimits limits;

    private JsonCursor(JsonParser parser, JsonLimits limits) {
        this.parser = parser;
        this.limits = limits;
    }

    static JsonCursor of(String text, JsonLimits limits) {
        if (text.length() > limits.maxDocumentChars()) {
            throw new Json.JsonException("the document of " + text.length() + " characters is longer than the limit of "
                    + limits.maxDocumentChars() + " characters");
        }
        try {
            return new JsonCursor(factory(limits).createParser(text), limits);
        } catch (IOException e) {
            throw new Json.JsonException("cannot start reading JSON: " + e.getMessage());
        }
    }

    /** Reads from a stream of characters, for documents too large to hold as one string. */
    static JsonCursor of(Reader reader, JsonLimits limits) {
        try {
            return new JsonCursor(factory(limits).createParser(reader), limits);
        } catch (IOException e) {
            throw new Json.JsonException("cannot start reading JSON: " + e.getMessage());
        }
    }

    private static JsonFactory factory(JsonLimits limits) {
        StreamReadConstraints constraints = StreamReadConstraints.builder()
                .maxDocumentLength(limits.maxDocumentChars())
                .maxNestingDepth(limits.maxDepth())
                .maxStringLength(limits.maxStringChars())
                .maxNameLength(limits.maxKeyChars())
                .maxNumberLength(limits.maxNumberChars())
                .build();
        return JsonFactory.builder()
                .streamReadConstraints(constraints)
                // locations say line and column, never an excerpt of the (untrusted) input
                .disable(StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION)
                // the symbol table of key names would hold every tensor name of a large header, intern them, and
                // throw IllegalStateException on keys crafted to collide
                .disable(JsonFactory.Feature.CANONICALIZE_FIELD_NAMES)
                .disable(JsonFactory.Feature.INTERN_FIELD_NAMES)
                .build();
    }

    /** The next token, or null after the last one. */
    JsonToken next() {
        try {
            return parser.nextToken();
        } catch (IOException e) {
            throw translate(e);
        }
    }

    JsonToken token() {
        return parser.currentToken();
    }

    /** The key of the current {@link JsonToken#FIELD_NAME}. */
    String key() {
        try {
            return parser.currentName();
        } catch (IOException e) {
            throw translate(e);
        }
    }

    /** The current string value (decoded here: Jackson reads strings lazily, so a bad escape can surface now). */
    String string() {
        try {
            return parser.getText();
        } catch (IOException e) {
            throw translate(e, true);
        }
    }

    /**
     * The current number: a {@code Long} when it is written without fraction or exponent and fits, a {@code BigInteger}
     * for larger integers (kept exact so that range errors can quote them), a finite {@code Double} otherwise.
     */
    Number number() {
        try {
            // Jackson's own number limit counts digits only; this one counts the number as written
            if (parser.getTextLength() > limits.maxNumberChars()) {
                throw error("a number is longer than the limit of " + limits.maxNumberChars() + " characters");
            }
            if (parser.currentToken() == JsonToken.VALUE_NUMBER_INT) {
                return switch (parser.getNumberType()) {
                    case INT, LONG -> parser.getLongValue();
                    default -> parser.getBigIntegerValue();
                };
            }
            double d = parser.getDoubleValue();
            if (!Double.isFinite(d)) throw error("number " + parser.getText() + " is beyond the range of a double (about ±1.8e308)");
            return d;
        } catch (IOException e) {
            throw translate(e);
        }
    }

    /** Skips the current value, including everything inside an array or object. */
    void skipValue() {
        try {
            parser.skipChildren();
        } catch (IOException e) {
            throw translate(e);
        }
    }

    /** The document must end after the value just read: no second value, no stray text. */
    void end() {
        if (next() != null) throw error("unexpected text after the JSON value");
    }

    /** What the current token starts, for "expected X, found Y" messages. */
    String found() {
        JsonToken t = parser.currentToken();
        if (t == null) return "the end of the document";
        return switch (t) {
            case START_OBJECT -> "an object";
            case START_ARRAY -> "an array";
            case VALUE_STRING -> "a string";
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "a number";
            case VALUE_TRUE, VALUE_FALSE -> "a boolean";
            case VALUE_NULL -> "null";
            default -> t.asString() == null ? t.name() : "'" + t.asString() + "'";
        };
    }

    /** An error at the start of the current token (at the end of the text when there is none). */
    Json.JsonException error(String what) {
        return new Json.JsonException(what + at(parser.currentToken() == null ? parser.currentLocation() : parser.currentTokenLocation()));
    }

    private Json.JsonException translate(IOException e) {
        return translate(e, false);
    }

    /** {@code inString}: the error came while decoding a string value, not while finding the next token. */
    private Json.JsonException translate(IOException e, boolean inString) {
        if (e instanceof JsonProcessingException j) {
            JsonLocation where = j.getLocation() != null ? j.getLocation() : parser.currentLocation();
            return new Json.JsonException(JsonErrors.describe(j, limits, inString) + at(where));
        }
        return new Json.JsonException("cannot read the JSON text: " + e.getMessage() + at(parser.currentLocation()));
    }

    private static String at(JsonLocation l) {
        return " at line " + l.getLineNr() + ", column " + l.getColumnNr() + " (offset " + l.getCharOffset() + ")";
    }

    @Override
    public void close() {
        try {
            parser.close();
        } catch (IOException e) {
            throw translate(e);
        }
    }
}
