package ecar.backend;

/**
 * The keys and values of one attention layer over a generation, [batch, capacity, width] each, allocated once (by
 * {@link Backend#kvCache}) and filled by position: {@link Backend#kvAppend} writes a step's or a stage's tokens after
 * those already held, so a decoder that appends every step copies each token once (not the whole cache per step).
 */
public interface KvCache {
    int batch();

    /** Tokens it can hold. */
    int capacity();

    /** Elements per token (heads × head size). */
    int width();

    /** Tokens held so far. */
    int length();

    /** Throws naming the problem unless keys and values [batch, L, width] fit after the tokens held. */
    static void checkAppend(KvCache c, ecar.tensor.Tensor keys, ecar.tensor.Tensor values) {
        Check.sameShape("kvAppend", keys, values);
        ecar.tensor.Shape s = keys.shape();
        Check.that(s.rank() == 3 && s.dim(0) == c.batch() && s.last() == c.width(), "kvAppend",
                "keys " + s + ", expected [" + c.batch() + ", L, " + c.width() + "]");
        Check.that(c.length() + s.dim(1) <= c.capacity(), "kvAppend",
                s.dim(1) + " tokens after " + c.length() + " do not fit a cache of " + c.capacity());
    }

    /** Throws naming the problem unless q [batch, Lq, width] can attend to a non-empty cache. */
    static void checkAttend(KvCache c, ecar.tensor.Tensor q, int heads) {
        ecar.tensor.Shape s = q.shape();
        Check.that(c.length() > 0, "attention", "the KV cache is empty");
        Check.that(s.rank() == 3 && s.dim(0) == c.batch() && s.last() == c.width() && heads > 0 && c.width() % heads == 0, "attention",
                "q " + s + " against a cache of [" + c.batch() + ", " + c.length() + ", " + c.width() + "] over " + heads + " heads");
    }
}
