package ecar.arpg;

import ecar.backend.Backend;
import ecar.backend.KvCache;
import ecar.backend.RopeTables;
import ecar.model.Linear;
import ecar.tensor.FloatTensor;
import ecar.tensor.Tensor;

/**
 * ARPG's 2D RoPE table on the backend (uploaded once per model, float32) and the rotation of queries or keys by rows
 * of it: row 0 for the class token, 1 + position for the image token at 0-based raster position.
 */
record Rope(Tensor cos, Tensor sin, int heads) {

    static Rope upload(Backend b, ArpgConfig c) {
        float[][] t = RopeTables.arpg(c.grid(), c.headSize(), c.ropeBase());
        int rows = 1 + c.tokens(), half = c.headSize() / 2;
        return new Rope(b.upload(FloatTensor.of(t[0], rows, half)), b.upload(FloatTensor.of(t[1], rows, half)), c.heads());
    }

    /** A fused qkv [B, L, 3·dim]: keys (rotated) and values into the cache, then the rotated queries' attention over it. */
    Tensor selfAttention(Backend b, Tensor qkv, Tensor rows, KvCache cache) {
        return b.selfAttentionRopeRows(qkv, cache, heads, cos, sin, rows);
    }

    /** Queries projected from x [B, m, dim] and rotated, query j by table row rows[j], for attention only. */
    Tensor queries(Backend b, Linear q, Tensor x, Tensor rows) {
        return b.linearRopeRows(x, q.weight(), q.bias(), heads, cos, sin, rows);
    }

    /** A fused kv [B, L, 2·dim]: keys (rotated) and values into the cache. */
    void append(Backend b, Tensor kv, Tensor rows, KvCache cache) {
        b.kvAppendRopeRows(cache, kv, heads, cos, sin, rows);
    }
}
