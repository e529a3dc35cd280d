package ecar.backend;

import ecar.tensor.Shape;
import ecar.tensor.Tensor;

import java.util.Arrays;

/**
 * The argument checks of every {@link Backend} op, written once: each backend's op starts with its check, which
 * also returns the output shape where there is one, so the CPU, CUDA and counting backends agree on both. Each
 * failure is an IllegalArgumentException naming the op, the operands and what was expected.
 */
public final class Check {
    private Check() {}

    public static void that(boolean ok, String op, String message) {
        if (!ok) throw new IllegalArgumentException(op + ": " + message);
    }

    public static void sameShape(String op, Tensor a, Tensor b) {
        that(a.shape().equals(b.shape()), op, "operands have shapes " + a.shape() + " and " + b.shape() + ", expected equal shapes");
    }

    /** b serves a per group: same width and a row count that divides a's; returns rows(a) / rows(b). */
    public static int groupRatio(String op, Tensor a, Tensor b) {
        Shape sa = a.shape(), sb = b.shape();
        int ra = sa.rows(), rb = sb.rows();
        that(sa.last() == sb.last() && rb > 0 && ra % rb == 0, op,
                "operand " + sb + " cannot broadcast per group over " + sa + " (needs width " + sa.last() + " and a row count dividing " + ra + ")");
        return ra / rb;
    }

    public static void rank(String op, Tensor t, int rank, String layout) {
        that(t.shape().rank() == rank, op, "expected a rank-" + rank + " tensor " + layout + ", got " + t.shape());
    }

    // ------------------------------------------------------------------ linear algebra

    /** x [.., K], w [N, K], bias [N] or null; returns [.., N]. */
    public static Shape linear(Tensor x, Tensor w, Tensor bias) {
        Shape sx = x.shape(), sw = w.shape();
        that(sw.rank() == 2 && sx.last() == sw.dim(1), "linear",
                "input " + sx + " has " + sx.last() + " features but the weight " + sw + " expects " + (sw.rank() == 2 ? sw.dim(1) : "a matrix"));
        if (bias != null) that(bias.shape().numel() == sw.dim(0), "linear", "bias " + bias.shape() + " does not match " + sw.dim(0) + " outputs");
        return sx.withLast(sw.dim(0));
    }

    /** gatedLinear's operands: a linear whose weight has an even number of rows (gate, value pairs); returns [.., rows / 2]. */
    public static Shape gatedLinear(Tensor x, Tensor w, Tensor bias) {
        Shape s = linear(x, w, bias);
        that(s.last() % 2 == 0, "gatedLinear", "weight " + w.shape() + " has an odd number of rows; expected gate and value rows in pairs");
        return s.withLast(s.last() / 2);
    }

    /** q [B, Lq, H·d], k and v [B, Lk, H·d]; returns q's shape. */
    public static Shape attention(String op, Tensor q, Tensor k, Tensor v, int heads) {
        rank(op, q, 3, "[B, L, H·d]");
        rank(op, k, 3, "[B, L, H·d]");
        sameShape(op, k, v);
        Shape sq = q.shape(), sk = k.shape();
        that(heads > 0 && sq.dim(0) == sk.dim(0) && sq.last() == sk.last() && sq.last() % heads == 0, op,
                "q " + sq + " and k/v " + sk + " must share batch and width, a multiple of " + heads + " heads");
        return sq;
    }

    /** attention's operands with q (and k when rotated) on a side×side grid and a head size the 2D RoPE can rotate. */
    public static Shape attentionRope(Tensor q, Tensor k, Tensor v, int heads, int side, boolean ropeKeys) {
        Shape sq = attention("attentionRope", q, k, v, heads);
        that(sq.dim(1) == side * side, "attentionRope", "q " + sq + " does not hold a " + side + "×" + side + " token grid");
        that(!ropeKeys || k.shape().dim(1) == side * side, "attentionRope", "k " + k.shape() + " does not hold a " + side + "×" + side + " token grid");
        that((sq.last() / heads) % 4 == 0, "attentionRope", "head size " + sq.last() / heads + " must be a multiple of 4 for the 2D RoPE");
        return sq;
    }

    /** x [B, side², H·d] with a head size that is a multiple of 4. */
    public static void rope2d(Tensor x, int heads, int side) {
        rank("rope2d", x, 3, "[B, L, H·d]");
        rope2d("rope2d", x.shape(), heads, side);
    }

    /** The same for the shape [B, side², H·d] of a tensor about to be made (rank 3); returns the head size. */
    public static int rope2d(String op, Shape s, int heads, int side) {
        that(s.rank() == 3, op, s + ": expected [B, L, H·d]");
        that(s.dim(1) == side * side, op, s + " does not hold a " + side + "×" + side + " token grid");
        that(heads > 0 && s.last() % heads == 0 && (s.last() / heads) % 4 == 0, op,
                "head size of " + s + " over " + heads + " heads must be a multiple of 4");
        return s.last() / heads;
    }

    /** A fused qkv [B, side², 3·H·d] whose q and k the 2D RoPE rotates (head size a multiple of 4); returns W = H·d. */
    public static int rope2dQk(String op, Tensor qkv, int heads, int side) {
        rank(op, qkv, 3, "[B, L, 3·H·d]");
        return rope2dQk(op, qkv.shape(), heads, side);
    }

    /** The same for the shape of a fused qkv about to be made (rank 3). */
    public static int rope2dQk(String op, Shape s, int heads, int side) {
        that(s.rank() == 3, op, "qkv " + s + ": expected [B, L, 3·H·d]");
        that(s.dim(1) == side * side, op, s + " does not hold a " + side + "×" + side + " token grid");
        that(s.last() % 3 == 0, op, s + " is not a fused qkv: its last dimension is not 3·W");
        int w = s.last() / 3;
        that(heads > 0 && w % heads == 0 && (w / heads) % 4 == 0, op, "head size of W = " + w + " over " + heads + " heads must be a multiple of 4");
        return w;
    }

    /**
     * x [B, L, H·d] with an even head size, cos and sin [R, d/2] alike, rows holding one table row per token (L of
     * them); returns x's shape.
     */
    public static Shape ropeRows(Tensor x, int heads, Tensor cos, Tensor sin, Tensor rows) {
        rank("ropeRows", x, 3, "[B, L, H·d]");
        Shape s = x.shape();
        ropeTables("ropeRows", s.last(), heads, s.dim(1), cos, sin, rows);
        return s;
    }

    /** RoPE tables cos, sin [R, d/2] and rows [tokens] for tokens of {@code width} = heads · d (d even), as ropeRows reads them. */
    public static void ropeTables(String op, int width, int heads, int tokens, Tensor cos, Tensor sin, Tensor rows) {
        that(heads > 0 && width % heads == 0 && (width / heads) % 2 == 0, op, "width " + width + " must split into " + heads + " heads of an even size");
        int half = width / heads / 2;
        sameShape(op, cos, sin);
        that(cos.shape().rank() == 2 && cos.shape().last() == half, op, "tables " + cos.shape() + ", expected [rows, " + half + "] for heads of " + 2 * half);
        that(rows.shape().numel() == tokens, op, "rows " + rows.shape() + " name " + rows.shape().numel() + " table rows for " + tokens
                + " tokens, expected one per token");
    }

    // ------------------------------------------------------------------ elementwise and layout

    /** b [.., D] tiles a [.., D]: a position embedding. */
    public static void tiles(Tensor a, Tensor b) {
        that(a.shape().last() == b.shape().last() && a.shape().numel() % b.shape().numel() == 0, "addTiled", b.shape() + " cannot tile " + a.shape());
    }

    /** Slice i of n along the last dimension; returns its shape. */
    public static Shape chunk(Tensor x, int n, int i) {
        Shape s = x.shape();
        that(n > 0 && s.last() % n == 0 && i >= 0 && i < n, "chunk", "cannot take slice " + i + " of " + n + " from " + s);
        return s.withLast(s.last() / n);
    }

    /** Rows [from, to) of the first dimension; returns their shape. */
    public static Shape sliceBatch(Tensor x, int from, int to) {
        Shape s = x.shape();
        that(0 <= from && from < to && to <= s.dim(0), "sliceBatch", "rows [" + from + ", " + to + ") outside " + s);
        int[] dims = s.toArray();
        dims[0] = to - from;
        return new Shape(dims);
    }

    /** [a; b] along the first dimension; returns its shape. */
    public static Shape concatBatch(Tensor a, Tensor b) {
        Shape sa = a.shape(), sb = b.shape();
        that(sa.rank() == sb.rank() && sa.size() / sa.dim(0) == sb.size() / Math.max(1, sb.dim(0)), "concatBatch",
                sa + " and " + sb + " differ beyond the first dimension");
        int[] dims = sa.toArray();
        dims[0] += sb.dim(0);
        return new Shape(dims);
    }

    /** [B, La, D] and [B, Lb, D]; returns [B, La + Lb, D]. */
    public static Shape concatTokens(Tensor a, Tensor b) {
        rank("concatTokens", a, 3, "[B, L, D]");
        rank("concatTokens", b, 3, "[B, L, D]");
        Shape sa = a.shape(), sb = b.shape();
        that(sa.dim(0) == sb.dim(0) && sa.last() == sb.last(), "concatTokens", sa + " and " + sb + " differ in batch or width");
        return Shape.of(sa.dim(0), sa.dim(1) + sb.dim(1), sa.last());
    }

    /** [N, C, H, W] → [N, H, W, C]. */
    public static Shape nchwToNhwc(Tensor x) {
        rank("nchwToNhwc", x, 4, "[N, C, H, W]");
        Shape s = x.shape();
        return Shape.of(s.dim(0), s.dim(2), s.dim(3), s.dim(1));
    }

    /** [N, H, W, C] → [N, C, H, W]. */
    public static Shape nhwcToNchw(Tensor x) {
        rank("nhwcToNchw", x, 4, "[N, H, W, C]");
        Shape s = x.shape();
        return Shape.of(s.dim(0), s.dim(3), s.dim(1), s.dim(2));
    }

    // ------------------------------------------------------------------ norms

    /** A norm weight, when given, has one entry per element of a row. */
    public static void norm(Tensor x, Tensor weight) {
        if (weight != null) that(weight.shape().numel() == x.shape().last(), "norm", "weight " + weight.shape() + " for rows of " + x.shape().last());
    }

    /** shift and scale alike, per group of x's rows; returns the group ratio. */
    public static int normModulate(Tensor x, Tensor shift, Tensor scale) {
        sameShape("normModulate", shift, scale);
        return groupRatio("normModulate", x, shift);
    }

    /** x [N, H, W, C] with C a multiple of groups, weight and bias [C]. */
    public static void groupNorm(Tensor x, int groups, Tensor weight, Tensor bias) {
        rank("groupNorm", x, 4, "[N, H, W, C]");
        int c = x.shape().last();
        that(groups > 0 && c % groups == 0, "groupNorm", c + " channels do not split into " + groups + " groups");
        that(weight.shape().numel() == c && bias.shape().numel() == c, "groupNorm", "weight/bias must have " + c + " entries");
    }

    // ------------------------------------------------------------------ embeddings

    /** table [V, D] and ids in [0, V); returns [ids, D]. */
    public static Shape embedding(Tensor table, int[] ids) {
        rank("embedding", table, 2, "[V, D]");
        int rows = table.shape().dim(0);
        for (int id : ids) that(id >= 0 && id < rows, "embedding", "id " + id + " outside the table's " + rows + " rows");
        return Shape.of(ids.length, table.shape().last());
    }

    /** A table [V, D] and ids of any shape; returns [ids.numel, D]. */
    public static Shape embedding(Tensor table, Tensor ids) {
        rank("embedding", table, 2, "[V, D]");
        that(ids.shape().numel() > 0, "embedding", "no ids: " + ids.shape());
        return Shape.of(ids.shape().size(), table.shape().last());
    }

    /** An even dimension; returns [t, dim]. */
    public static Shape timestepEmbedding(float[] t, int dim) {
        that(dim > 0 && dim % 2 == 0, "timestepEmbedding", "dimension " + dim + " must be positive and even");
        return Shape.of(t.length, dim);
    }

    /** x [N, C, H, W] with H and W multiples of p; returns [N, (H/p)·(W/p), C·p·p]. */
    public static Shape patchify(Tensor x, int p) {
        rank("patchify", x, 4, "[N, C, H, W]");
        Shape s = x.shape();
        that(p > 0 && s.dim(2) % p == 0 && s.dim(3) % p == 0, "patchify", "image " + s + " is not a whole number of " + p + "×" + p + " patches");
        return Shape.of(s.dim(0), (s.dim(2) / p) * (s.dim(3) / p), s.dim(1) * p * p);
    }

    /** x [N, h·w, p·p·C]; returns [N, C, h·p, w·p]. */
    public static Shape unpatchify(Tensor x, int p, int channels, int h, int w) {
        Shape s = x.shape();
        that(s.rank() == 3 && s.dim(1) == h * w && s.last() == p * p * channels, "unpatchify", s + " is not [N, " + (h * w) + ", " + (p * p * channels) + "]");
        return Shape.of(s.dim(0), channels, h * p, w * p);
    }

    // ------------------------------------------------------------------ images

    /** x [N, H, W, Ci], w [Co, 3, 3, Ci], bias [Co] or null; returns [N, H, W, Co]. */
    public static Shape conv3x3(Tensor x, Tensor w, Tensor bias) {
        rank("conv3x3", x, 4, "[N, H, W, Ci]");
        Shape s = x.shape(), sw = w.shape();
        that(sw.rank() == 4 && sw.dim(1) == 3 && sw.dim(2) == 3 && sw.dim(3) == s.last(), "conv3x3", "weight " + sw + " is not [Co, 3, 3, " + s.last() + "]");
        int co = sw.dim(0);
        if (bias != null) that(bias.shape().numel() == co, "conv3x3", "bias " + bias.shape() + " does not match " + co + " output channels");
        return s.withLast(co);
    }

    /** x [N, H, W, C]; returns [N, 2H, 2W, C]. */
    public static Shape upsampleNearest2x(Tensor x) {
        rank("upsampleNearest2x", x, 4, "[N, H, W, C]");
        Shape s = x.shape();
        return Shape.of(s.dim(0), 2 * s.dim(1), 2 * s.dim(2), s.last());
    }

    /** x [N, H, W, C] to positive outH × outW; returns [N, outH, outW, C]. */
    public static Shape resize(String op, Tensor x, int outH, int outW) {
        rank(op, x, 4, "[N, H, W, C]");
        that(outH > 0 && outW > 0, op, "output size " + outH + "×" + outW + " must be positive");
        Shape s = x.shape();
        return Shape.of(s.dim(0), outH, outW, s.last());
    }

    // ------------------------------------------------------------------ sampler state

    /** A batch of two halves. */
    public static void halves(String op, Tensor x) {
        that(x.shape().rank() > 0 && x.shape().dim(0) % 2 == 0, op, "batch of " + x.shape() + " is not two halves");
    }

    /** x and v alike; with guidance, a batch of two halves. */
    public static void flowEulerStep(Tensor x, Tensor v, boolean guided) {
        sameShape("flowEulerStep", x, v);
        that(!guided || x.shape().dim(0) % 2 == 0, "flowEulerStep", "guided step needs a batch of two halves, got " + x.shape());
    }

    /** x [B, side², C]; returns [B, (2·side)², C]. */
    public static Shape stageJump(Tensor x, int side) {
        rank("stageJump", x, 3, "[B, r², C]");
        Shape s = x.shape();
        that(side > 0 && s.dim(1) == side * side, "stageJump", s + " is not a " + side + "×" + side + " token grid");
        return Shape.of(s.dim(0), 4 * side * side, s.last());
    }

    /** Given noise of the shape it replaces; per-image noise with one image per row of the first dimension. */
    public static void noise(String op, Noise noise, Shape expected) {
        if (noise instanceof Noise.Given g) that(g.eps().shape().equals(expected), op, "noise " + g.eps().shape() + ", expected " + expected);
        if (noise instanceof Noise.PerImage p) imageRows(op, p.rows(), expected);
    }

    /** One image index per row of the first dimension, and rows short enough to number their elements within an image. */
    public static void imageRows(String op, int images, Shape shape) {
        that(shape.rank() >= 1 && shape.dim(0) == images, op, "per-image noise for " + images + " images, expected one per row of " + shape);
        that(shape.rank() == 0 || shape.dim(0) == 0 || shape.numel() / shape.dim(0) < 1L << 32, op,
                "rows of " + shape + " have 2^32 or more elements: too many to number within one image");
    }

    /** out [2N, C, H, W] with at most C guided channels. */
    public static void cfgCombineChannels(Tensor out, int guidedChannels) {
        rank("cfgCombineChannels", out, 4, "[2N, C, H, W]");
        Shape s = out.shape();
        that(s.dim(0) % 2 == 0 && guidedChannels <= s.dim(1), "cfgCombineChannels",
                "needs two batch halves and at most " + s.dim(1) + " guided channels, got " + s + " and " + guidedChannels);
    }

    /** x [N, C, H, W] and the model output: [N, 2C, H, W] with learned variance, [N, C, H, W] with a fixed one. */
    public static void posterior(Tensor x, Tensor modelOut, PosteriorVariance variance) {
        rank("diffusionPosterior", x, 4, "[N, C, H, W]");
        that(variance != null, "diffusionPosterior", "the posterior variance kind is required");
        Shape s = x.shape(), so = modelOut.shape();
        boolean learned = variance == PosteriorVariance.LEARNED_RANGE;
        that(so.rank() == 4 && so.dim(0) == s.dim(0) && so.dim(1) == variance.modelChannels(s.dim(1)) && so.dim(2) == s.dim(2) && so.dim(3) == s.dim(3),
                "diffusionPosterior", "model output " + so + " must be " + (learned ? "[N, 2C, H, W]" : "[N, C, H, W]") + " for x " + s
                        + (learned ? " (learned variance: ε and the variance interpolation)" : " (" + variance + ": ε alone)"));
    }

    /** The DDPM draw's operands alike (and its noise, when given). */
    public static void ddpmSample(Tensor x, Tensor mean, Tensor logVar, Noise noise) {
        sameShape("ddpmSample", x, mean);
        sameShape("ddpmSample", x, logVar);
        noise("ddpmSample", noise, x.shape());
    }

    /** Logits [2N, .., V] (halves: conditional, unconditional) and a temperature; returns [N, .., V]. */
    public static Shape guideLogits(Tensor logits, float temperature) {
        Shape s = logits.shape();
        that(s.rank() >= 2 && s.dim(0) % 2 == 0 && s.dim(0) > 0, "guideLogits", "logits " + s + " are not two batch halves [2N, .., V]");
        that(Float.isFinite(temperature) && temperature >= 0f, "guideLogits", "temperature " + temperature + " must be finite and not negative");
        int[] d = s.toArray();
        d[0] /= 2;
        return new Shape(d);
    }

    /** Logits with at least one row of V ≥ 1 entries. */
    public static void logitRows(String op, Tensor logits) {
        Shape s = logits.shape();
        that(s.rank() >= 1 && s.numel() > 0 && s.last() > 0, op, "logits " + s + " hold no rows of vocabulary entries");
    }

    /** Logits [.., V] and ids with one element per row of logits. */
    public static void sampleTokens(Tensor logits, Tensor ids) {
        logitRows("sampleTokens", logits);
        that(ids.shape().numel() == logits.shape().rows(), "sampleTokens",
                "ids " + ids.shape() + " for " + logits.shape().rows() + " rows of logits " + logits.shape() + ", expected one id per row");
    }

    /** Positive stage sizes that add up to q's and k's token count (stage-block-causal attention). */
    public static void stageTokens(Tensor q, Tensor k, int[] stageTokens) {
        int total = 0;
        for (int n : stageTokens) {
            that(n > 0, "attentionBlockCausal", "stage sizes must be positive: " + Arrays.toString(stageTokens));
            total += n;
        }
        that(q.shape().rank() == 3 && q.shape().dim(1) == total && k.shape().rank() == 3 && k.shape().dim(1) == total, "attentionBlockCausal",
                "q " + q.shape() + " and k " + k.shape() + " must hold the " + total + " tokens of stages " + Arrays.toString(stageTokens));
    }
}
