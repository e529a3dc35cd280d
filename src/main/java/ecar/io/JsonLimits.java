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
     * Keys: tensor names and config keys are at most a few hundred characters; 16 KiB is far above that and below
     * every string limit, which Jackson applies to keys too while reading them, so an over-long key is reported as one.
     */
    static final int MAX_DEPTH = 64;
    static final int MAX_NUMBER_CHARS = 100;
    static final int MAX_KEY_CHARS = 16 << 10;

    /**
     * Model configs and reference files: a config is a few KB and the largest JSON we read (the pyramid schedule
     * reference) 25 KB, so 1 MiB of text is generous and bounds the tree built from it to tens of MB even for a
     * hostile file of tiny values; their strings are names and paths, far below 64 KiB.
     */
    static final JsonLimits CONFIG = new JsonLimits(1L << 20, MAX_DEPTH, 64 << 10, MAX_KEY_CHARS, MAX_NUMBER_CHARS);

    public JsonLimits {
        if (maxDocumentChars < 1 || maxDepth < 1 || maxStringChars < 1 || maxKeyChars < 1 || maxNumberChars < 1) {
            throw new IllegalArgumentException("JSON limits must be positive: " + maxDocumentChars + ", " + maxDepth + ", "
                    + maxStringChars + ", " + maxKeyChars + ", " + maxNumberChars);
        }
    }
}
