package ecar.backend;

import ecar.tensor.Shape;
import ecar.tensor.Tensor;

/**
 * The keys and values of one attention layer over a generation, [batch, capacity, width] each, allocated once (by
 * {@link Backend#kvCache}) and filled by position: {@link Backend#kvAppend} writes a step's or a stage's tokens after
 * those already held, so a decoder that appends every step copies each token once (not the whole cache per step).
 * Each backend subclasses it with its storage; the bookkeeping and checks are here, once.
 */
public abstract class KvCache {
    private final int batch, capacity, width;
    private int length;

    protected KvCache(int batch, int capacity, int width) {
        Check.that(batch > 0 && capacity > 0 && width > 0, "kvCache", "batch " + batch + ", capacity " + capacity + ", width " + width + " must be positive");
        this.batch = batch;
        this.capacity = capacity;
        this.width = width;
    }

    public final int batch() {
        return batch;
    }

    /** Tokens it can hold. */
    public final int capacity() {
        return capacity;
    }

    /** Elements per token (heads × head size). */
    public final int width() {
        return width;
    }

    /** Tokens held so far. */
    public final int length() {
        return length;
    }

    /** Throws naming the problem unless keys and values [batch, L, width] fit after the tokens held; returns L. */
    public final int checkAppend(Tensor keys, Tensor values) {
        Check.sameShape("kvAppend", keys, values);
        Shape s = keys.shape();
        Check.that(s.rank() == 3 && s.dim(0) == batch && s.last() == width, "kvAppend", "keys " + s + ", expected [" + batch + ", L, " + width + "]");
        Check.that(length + s.dim(1) <= capacity, "kvAppend", s.dim(1) + " tokens after " + length + " do not fit a cache of " + capacity);
        return s.dim(1);
    }

    /**
     * A fused projection [batch, L, parts·width] (qkv: 3 parts, kv: 2) whose keys and values would join the cache, their
     * L tokens a side×side grid under heads of a size the 2D RoPE takes (a multiple of 4); returns L.
     */
    public final int checkAppendFused(String op, Tensor fused, int parts, int heads, int side) {
        Shape s = fused.shape();
        Check.that(s.rank() == 3 && s.dim(0) == batch && s.last() == parts * width && s.dim(1) == side * side, op,
                fused.shape() + ", expected [" + batch + ", " + side * side + " (" + side + "×" + side + " tokens), " + parts * width + "] for a cache of width " + width);
        Check.that(heads > 0 && width % heads == 0 && (width / heads) % 4 == 0, op, heads + " heads over width " + width
                + ": the 2D RoPE needs a head size that is a multiple of 4");
        return fits(op, s.dim(1));
    }

    /**
     * A fused projection [batch, L, parts·width] (qkv: 3 parts, kv: 2) whose keys and values would join the cache, rotated
     * by rows of RoPE tables cos, sin [R, d/2], token l by row rows[l] (Backend.ropeRows); returns L.
     */
    public final int checkAppendFusedRows(String op, Tensor fused, int parts, int heads, Tensor cos, Tensor sin, Tensor rows) {
        Shape s = fused.shape();
        Check.that(s.rank() == 3 && s.dim(0) == batch && s.last() == parts * width, op,
                fused.shape() + ", expected [" + batch + ", L, " + parts * width + "] for a cache of width " + width);
        Check.ropeTables(op, width, heads, s.dim(1), cos, sin, rows);
        return fits(op, s.dim(1));
    }

    private int fits(String op, int tokens) {
        Check.that(length + tokens <= capacity, op, tokens + " tokens after " + length + " do not fit a cache of " + capacity);
        return tokens;
    }

    /**
     * Makes the cache hold its first {@code tokens} tokens: the next append goes after them. A stage sampled inside a
     * {@link Backend#loop} may have been replayed as a graph, whose appends were written on the device but never seen
     * here; the sampler states where the next stage starts instead of counting.
     */
    public final void holdFirst(int tokens) {
        Check.that(tokens >= 0 && tokens <= capacity, "kvCache", tokens + " tokens held in a cache of " + capacity);
        length = tokens;
    }

    /** Counts tokens a backend has just written after those held. */
    protected final void appended(int tokens) {
        length += tokens;
    }

    /** Throws naming the problem unless q [batch, Lq, width] can attend to a non-empty cache. */
    public final void checkAttend(Tensor q, int heads) {
        Shape s = q.shape();
        Check.that(length > 0, "attention", "the KV cache is empty");
        Check.that(s.rank() == 3 && s.dim(0) == batch && s.last() == width && heads > 0 && width % heads == 0, "attention",
                "q " + s + " against a cache of [" + batch + ", " + length + ", " + width + "] over " + heads + " heads");
    }
}
