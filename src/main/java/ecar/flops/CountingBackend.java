package ecar.flops;

import ecar.backend.Activation;
import ecar.backend.Backend;
import ecar.backend.Check;
import ecar.backend.DiffusionCoefficients;
import ecar.backend.PosteriorVariance;
import ecar.backend.KvCache;
import ecar.backend.LogitFilter;
import ecar.backend.Noise;
import ecar.backend.Norm;
import ecar.backend.StepKey;
import ecar.backend.StepScalars;
import ecar.tensor.FloatTensor;
import ecar.tensor.Shape;
import ecar.tensor.Tensor;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * A backend that computes nothing and counts the multiply-accumulates of every matrix product, attention and
 * convolution the models queue, by region ({@link Backend#region}) and by layer (the weight's name with block
 * numbers folded: "blocks.N.attn.qkv"). Running a real generation on it counts exactly what the runtime executes,
 * from the same model code, so there is one description of each architecture. Tensors are shapes only; weights are
 * never read; checks are the real backends' ({@link Check}), so a run that counts would also run.
 *
 * <p>It also keeps the bytes the CUDA backend would hold ({@link #memory()}): weights in bf16 (vectors in float32),
 * activations in float32 reclaimed when their scope closes, KV caches in bf16, and the bf16 operand copies a GEMM or an
 * attention makes for the length of the op. An estimate of the arena's peak, from the same model code.
 */
public final class CountingBackend implements Backend {

    /** A tensor that is only a shape (and, for weights, the parameter's name). */
    record Meta(Shape shape, String name) implements Tensor {}

    private final Map<String, double[]> regions = new LinkedHashMap<>();   // path → {calls, macs}
    private final Map<String, Double> layers = new LinkedHashMap<>();
    private final Deque<String> path = new ArrayDeque<>();
    private String lastLayer = "";
    private final Deque<long[]> scopes = new ArrayDeque<>();   // bytes made in each open scope
    private long liveBytes, peakBytes, weightBytes, largestScores;
    private double stepMacs, evaluations;
    private int stepDepth;

    @Override
    public String name() {
        return "FLOP counter";
    }

    /** The bytes counted so far: weights, and the most activation memory live at once. */
    public MemoryEstimate memory() {
        return new MemoryEstimate(weightBytes, peakBytes);
    }

    /**
     * The most query·key scores one head of one attention compares (Lq × Lk): the CPU backend holds that many floats per
     * thread (the GPU's flash kernels hold none), so a heap estimate needs it.
     */
    public long largestAttentionScores() {
        return largestScores;
    }

    /** Device bytes of weights (bf16 matrices, f32 vectors) and of the activation arena at its peak. */
    public record MemoryEstimate(long weightBytes, long peakActivationBytes) {}

    /** What was counted, for the given number of images. */
    public FlopsReport report(String title, int images) {
        return new FlopsReport(title, images, regions, layers, stepMacs, evaluations);
    }

    private String where() {
        return path.isEmpty() ? "(outside any region)" : String.join(" › ", path);
    }

    private void count(double macs, String layer) {
        regions.computeIfAbsent(where(), k -> new double[2])[1] += macs;
        layers.merge(layer, macs, Double::sum);
        if (stepDepth > 0) stepMacs += macs;
    }

    /** "blocks.12.attn.qkv.weight" → "blocks.N.attn.qkv". */
    static String layerOf(String weightName) {
        String n = weightName == null ? "(unnamed weight)" : weightName.replaceAll("\\.weight$", "");
        return n.replaceAll("\\.\\d+\\.", ".N.").replaceAll("\\.\\d+$", ".N");
    }

    /** A new float32 activation, held until its scope closes. */
    private Meta m(Shape s) {
        hold(4L * s.numel());
        return new Meta(s, null);
    }

    private void hold(long bytes) {
        liveBytes += bytes;
        if (!scopes.isEmpty()) scopes.peek()[0] += bytes;
        peakBytes = Math.max(peakBytes, liveBytes);
    }

    /** Scratch an op holds only while it runs (bf16 operand copies). */
    private void transientBytes(long bytes) {
        peakBytes = Math.max(peakBytes, liveBytes + bytes);
    }

    /** A view: no memory of its own. */
    private static Meta view(Shape s, Tensor of) {
        return new Meta(s, of instanceof Meta mt ? mt.name() : null);
    }

    private static long weightBytes(Shape s) {
        return (s.rank() >= 2 ? 2L : 4L) * s.numel();
    }

    @Override
    public Scope scope() {
        scopes.push(new long[1]);
        int depth = scopes.size();
        return Scope.closing(() -> {
            if (scopes.size() != depth) throw new IllegalStateException("counting backend: scopes closed out of order");
            liveBytes -= scopes.pop()[0];
        });
    }

    // ------------------------------------------------------------------ memory, regions, steps

    @Override
    public Tensor upload(FloatTensor host) {
        return m(host.shape());
    }

    @Override
    public Tensor weight(FloatTensor host) {
        weightBytes += weightBytes(host.shape());
        return new Meta(host.shape(), null);
    }

    @Override
    public Tensor weight(String name, Shape shape, Supplier<FloatTensor> values) {
        weightBytes += weightBytes(shape);
        return new Meta(shape, name);
    }

    @Override
    public FloatTensor download(Tensor t) {
        return FloatTensor.zeros(t.shape());
    }

    @Override
    public Tensor zeros(Shape shape) {
        return m(shape);
    }

    @Override
    public Tensor reshape(Tensor t, Shape shape) {
        if (shape.numel() != t.shape().numel()) throw new IllegalArgumentException("cannot reshape " + t.shape() + " to " + shape);
        return view(shape, t);
    }

    @Override
    public Scope region(String name) {
        path.addLast(name);
        regions.computeIfAbsent(where(), k -> new double[2])[0]++;
        return Scope.closing(path::removeLast);
    }

    /** Each step is one network evaluation of its key's batch; its MACs are also counted per evaluation. */
    @Override
    public void step(StepKey key, StepScalars scalars, Runnable body) {
        evaluations += key.batch();
        stepDepth++;
        try (Scope s = scope()) {
            body.run();
        } finally {
            stepDepth--;
        }
    }

    // ------------------------------------------------------------------ the counted ops

    @Override
    public Tensor linear(Tensor x, Tensor w, Tensor bias, Activation act) {
        Shape out = Check.linear(x, w, bias);
        transientBytes(2L * x.shape().numel());   // the input cast to bf16
        lastLayer = layerOf(w instanceof Meta mw ? mw.name() : null);
        count((double) out.rows() * x.shape().last() * out.last(), lastLayer);
        return m(out);
    }

    /** The product, rotated as it is stored (a GPU's epilogue): one output, as linear's, and no RoPE pass. */
    @Override
    public Tensor linearRope(Tensor x, Tensor w, Tensor bias, int heads, int side, int span) {
        Check.rope2dQk("linearRope", Check.linear(x, w, bias), heads, side);
        return linear(x, w, bias, Activation.NONE);
    }

    @Override
    public Tensor linearRopeQueries(Tensor x, Tensor w, Tensor bias, int heads, int side, int span) {
        Check.rope2d("linearRopeQueries", Check.linear(x, w, bias), heads, side);
        return linear(x, w, bias, Activation.NONE);
    }

    /** One product with the gate and value rows side by side (2N outputs), combined in its epilogue: [.., N]. */
    @Override
    public Tensor gatedLinear(Tensor x, Tensor w, Tensor bias, Activation act) {
        Shape out = Check.gatedLinear(x, w, bias);
        transientBytes(2L * x.shape().numel());   // the input cast to bf16
        lastLayer = layerOf(w instanceof Meta mw ? mw.name() : null);
        count((double) out.rows() * x.shape().last() * w.shape().dim(0), lastLayer);
        return m(out);
    }

    /** QKᵀ and PV: 2·B·Lq·Lk·D, attributed to the attention whose projection ran last. */
    @Override
    public Tensor attention(Tensor q, Tensor k, Tensor v, int heads) {
        Shape sq = Check.attention("attention", q, k, v, heads);
        transientBytes(2L * (q.shape().numel() + k.shape().numel() + v.shape().numel()));   // bf16 operands
        largestScores = Math.max(largestScores, (long) sq.dim(1) * k.shape().dim(1));
        String layer = lastLayer.contains(".") ? lastLayer.substring(0, lastLayer.lastIndexOf('.')) : lastLayer;
        count(2.0 * sq.dim(0) * sq.dim(1) * k.shape().dim(1) * sq.last(), layer + " (QKᵀ, PV)");
        return m(sq);
    }

    @Override
    public Tensor conv3x3(Tensor x, Tensor w, Tensor bias) {
        Shape out = Check.conv3x3(x, w, bias);
        transientBytes(2L * x.shape().numel());
        lastLayer = layerOf(w instanceof Meta mw ? mw.name() : null);
        count(9.0 * out.rows() * x.shape().last() * out.last(), lastLayer);
        return m(out);
    }

    /** A cache that only counts the tokens it holds. */
    private static final class MetaCache extends KvCache {
        MetaCache(int batch, int capacity, int width) {
            super(batch, capacity, width);
        }

        void count(int tokens) {
            appended(tokens);
        }
    }

    @Override
    public KvCache kvCache(int batch, int capacity, int width) {
        hold(2L * 2 * batch * capacity * width);   // bf16 keys and values
        return new MetaCache(batch, capacity, width);
    }

    @Override
    public void kvAppend(KvCache cache, Tensor keys, Tensor values) {
        ((MetaCache) cache).count(cache.checkAppend(keys, values));
    }

    /** The CUDA layout: keys and values into the cache and the rotated queries beside in one pass, then attention. */
    @Override
    public Tensor selfAttentionRopeRows(Tensor qkv, KvCache cache, int heads, Tensor cos, Tensor sin, Tensor rows) {
        int l = cache.checkAppendFusedRows("selfAttentionRopeRows", qkv, 3, heads, cos, sin, rows);
        ((MetaCache) cache).count(l);
        return attention(m(Shape.of(cache.batch(), l, cache.width())), cache, heads);
    }

    @Override
    public void kvAppendRopeRows(KvCache cache, Tensor kv, int heads, Tensor cos, Tensor sin, Tensor rows) {
        ((MetaCache) cache).count(cache.checkAppendFusedRows("kvAppendRopeRows", kv, 2, heads, cos, sin, rows));
    }

    @Override
    public Tensor linearRopeRows(Tensor x, Tensor w, Tensor bias, int heads, Tensor cos, Tensor sin, Tensor rows) {
        Tensor q = linear(x, w, bias, Activation.NONE);
        Check.ropeRows(q, heads, cos, sin, rows);
        return q;
    }

    @Override
    public Tensor attention(Tensor q, KvCache cache, int heads) {
        cache.checkAttend(q, heads);
        Shape sq = q.shape();
        transientBytes(2L * q.shape().numel());
        largestScores = Math.max(largestScores, (long) sq.dim(1) * cache.length());
        String layer = lastLayer.contains(".") ? lastLayer.substring(0, lastLayer.lastIndexOf('.')) : lastLayer;
        count(2.0 * sq.dim(0) * sq.dim(1) * cache.length() * sq.last(), layer + " (QKᵀ, PV)");
        return m(sq);
    }

    // ------------------------------------------------------------------ shapes only

    @Override
    public Tensor add(Tensor a, Tensor b) {
        Check.groupRatio("add", a, b);
        return m(a.shape());
    }

    @Override
    public Tensor addTiled(Tensor a, Tensor b) {
        Check.tiles(a, b);
        return m(a.shape());
    }

    @Override
    public Tensor mul(Tensor a, Tensor b) {
        Check.sameShape("mul", a, b);
        return m(a.shape());
    }

    @Override
    public Tensor silu(Tensor x) {
        return m(x.shape());
    }

    @Override
    public Tensor gatedResidual(Tensor x, Tensor gate, Tensor y) {
        Check.sameShape("gatedResidual", x, y);
        Check.groupRatio("gatedResidual", x, gate);
        return m(x.shape());
    }

    @Override
    public void gatedResidualInPlace(Tensor x, Tensor gate, Tensor y) {
        Check.sameShape("gatedResidualInPlace", x, y);
        Check.groupRatio("gatedResidualInPlace", x, gate);
    }

    @Override
    public void addInPlace(Tensor x, Tensor y) {
        Check.groupRatio("addInPlace", x, y);
    }

    @Override
    public void assign(Tensor dst, Tensor src) {
        Check.sameShape("assign", dst, src);
    }

    @Override
    public Tensor chunk(Tensor x, int n, int i) {
        return m(Check.chunk(x, n, i));
    }

    @Override
    public Tensor sliceBatch(Tensor x, int from, int to) {
        return view(Check.sliceBatch(x, from, to), x);
    }

    @Override
    public Tensor concatBatch(Tensor a, Tensor b) {
        return m(Check.concatBatch(a, b));
    }

    @Override
    public Tensor concatTokens(Tensor a, Tensor b) {
        return m(Check.concatTokens(a, b));
    }

    @Override
    public Tensor norm(Tensor x, Norm kind, Tensor weight, float eps) {
        Check.norm(x, weight);
        return m(x.shape());
    }

    @Override
    public Tensor normModulate(Tensor x, Norm kind, float eps, Tensor shift, Tensor scale) {
        Check.normModulate(x, shift, scale);
        return m(x.shape());
    }

    @Override
    public Tensor groupNorm(Tensor x, int groups, Tensor weight, Tensor bias, float eps, boolean silu) {
        Check.groupNorm(x, groups, weight, bias);
        return m(x.shape());
    }

    @Override
    public Tensor embedding(Tensor table, int[] ids) {
        return m(Check.embedding(table, ids));
    }

    @Override
    public Tensor embedding(Tensor table, Tensor ids) {
        return m(Check.embedding(table, ids));
    }

    @Override
    public Tensor timestepEmbedding(float[] t, int dim) {
        return m(Check.timestepEmbedding(t, dim));
    }

    @Override
    public Tensor rope2d(Tensor x, int heads, int side, int span) {
        Check.rope2d(x, heads, side);
        return m(x.shape());
    }

    @Override
    public Tensor rope2dQk(Tensor qkv, int heads, int side, int span) {
        Check.rope2dQk("rope2dQk", qkv, heads, side);
        return m(qkv.shape());
    }

    @Override
    public Tensor ropeRows(Tensor x, int heads, Tensor cos, Tensor sin, Tensor rows) {
        return m(Check.ropeRows(x, heads, cos, sin, rows));
    }

    @Override
    public Tensor patchify(Tensor x, int p) {
        return m(Check.patchify(x, p));
    }

    @Override
    public Tensor unpatchify(Tensor x, int p, int channels, int h, int w) {
        return m(Check.unpatchify(x, p, channels, h, w));
    }

    @Override
    public Tensor nchwToNhwc(Tensor x) {
        return m(Check.nchwToNhwc(x));
    }

    @Override
    public Tensor nhwcToNchw(Tensor x) {
        return m(Check.nhwcToNchw(x));
    }

    @Override
    public Tensor upsampleNearest2x(Tensor x) {
        return m(Check.upsampleNearest2x(x));
    }

    @Override
    public Tensor resizeBicubic(Tensor x, int outH, int outW) {
        return m(Check.resize("resizeBicubic", x, outH, outW));
    }

    @Override
    public Tensor resizeArea(Tensor x, int outH, int outW) {
        return m(Check.resize("resizeArea", x, outH, outW));
    }

    @Override
    public Tensor randn(Shape shape, long seed, int stream) {
        return m(shape);
    }

    @Override
    public Tensor randn(Shape shape, long seed, int stream, int[] images) {
        Check.imageRows("randn", images.length, shape);
        return m(shape);
    }

    @Override
    public Tensor condTwice(Tensor x) {
        Check.halves("condTwice", x);
        return m(x.shape());
    }

    @Override
    public void flowEulerStep(Tensor x, Tensor v, float dt, float cfgWeight, boolean guided) {
        Check.flowEulerStep(x, v, guided);
    }

    @Override
    public Tensor stageJump(Tensor x, int side, float alpha, float beta, float gamma, Noise noise) {
        Shape out = Check.stageJump(x, side);
        Check.noise("stageJump", noise, out);
        return m(out);
    }

    @Override
    public void cfgCombineChannels(Tensor out, int guidedChannels, float scale) {
        Check.cfgCombineChannels(out, guidedChannels);
    }

    @Override
    public Tensor[] diffusionPosterior(Tensor x, Tensor modelOut, DiffusionCoefficients k, PosteriorVariance variance) {
        Check.posterior(x, modelOut, variance);
        return new Tensor[]{m(x.shape()), m(x.shape()), m(x.shape())};
    }

    @Override
    public void ddpmSample(Tensor x, Tensor mean, Tensor logVar, Noise noise) {
        Check.ddpmSample(x, mean, logVar, noise);
    }

    @Override
    public void ddimSample(Tensor x, Tensor predX0, DiffusionCoefficients k) {
        Check.sameShape("ddimSample", x, predX0);
    }

    @Override
    public Tensor guideLogits(Tensor logits, float cfg, float temperature) {
        return m(Check.guideLogits(logits, temperature));
    }

    @Override
    public Tensor filterLogits(Tensor logits, LogitFilter filter) {
        Check.logitRows("filterLogits", logits);
        return m(logits.shape());
    }

    @Override
    public void sampleTokens(Tensor logits, LogitFilter filter, long seed, int stream, Tensor ids) {
        Check.sampleTokens(logits, ids);
    }

    @Override
    public void watchFinite(Tensor x, int step) {
        Check.that(step >= 0, "watchFinite", "step " + step + "; expected ≥ 0");
    }

    /** Shapes hold no values: nothing is ever non-finite. */
    @Override
    public int firstNonFinite() {
        return -1;
    }
}
