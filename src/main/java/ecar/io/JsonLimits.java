package ecar.io;

/**
 * How much untrusted JSON the reader accepts before refusing it: each bound keeps one hostile input
 * from costing more stack, heap or time than the document's size already allows.
 *
 * @param maxDocumentChars the whole text
 * @param maxDepth         arrays and objects open at once
 * @param maxStringChars   one string value
 * @param maxKeyChars      one object key
 * @param maxNumberChars   one number as written (sign, digits, point and exponent)
 */
record JsonLimits(long maxDocumentChars, int maxDepth, int maxStringChars, int maxKeyChars, int maxNumberChars) {

    /**
     * Nesting: safetensors headers and model configs nest 3 or 4 levels; 64 leaves room for any honest file and
     * keeps the reader's recursion shallow. Numbers: {@code Double.toString} never needs more than 24 characters
     * and a long 20; 100 leaves room for hand-written extra digits while keeping big-number parsing cheap.
     * Keys: tensor names and config keys are at most a few hundred characters.
     */
    static final int MAX_DEPTH = 64;
    static final int MAX_NUMBER_CHARS = 100;
    static final int MAX_KEY_CHARS = 64 << 10;

    /** Model configs and reference files: kilobytes in practice, so 16 MiB of text and 1 MiB strings are generous. */
    static final JsonLimits CONFIG = new JsonLimits(16L << 20, MAX_DEPTH, 1 << 20, MAX_KEY_CHARS, MAX_NUMBER_CHARS);

    public JsonLimits {
        if (maxDocumentChars < 1 || maxDepth < 1 || maxStringChars < 1 || maxKeyChars < 1 || maxNumberChars < 1) {
            throw new IllegalArgumentException("JSON limits must be positive: " + maxDocumentChars + ", " + maxDepth + ", "
                    + maxStringChars + ", " + maxKeyChars + ", " + maxNumberChars);
        }
    }
}
