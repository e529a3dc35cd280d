package ecar.backend.cpu;

import ecar.backend.Activation;
import ecar.backend.Backend;
import ecar.backend.Check;
import ecar.backend.DiffusionCoefficients;
import ecar.backend.PosteriorVariance;
import ecar.backend.KvCache;
import ecar.backend.LogitFilter;
import ecar.backend.Noise;
import ecar.backend.Norm;
import ecar.backend.Philox;
import ecar.backend.StepKey;
import ecar.backend.StepLoop;
import ecar.backend.StepScalars;

import ecar.tensor.FloatTensor;
import ecar.tensor.Shape;
import ecar.tensor.Tensor;

import java.util.List;

/**
 * The pure-Java reference backend: float32 everywhere, all cores, the Vector API in the matrix multiply.
 * Its tensors are {@link FloatTensor}s. Every GPU kernel is tested against these ops.
 */
public final class CpuBackend implements Backend {
    /** Each thread's scopes and free arrays (a backend may serve several pipelines on several threads). */
    private final ThreadLocal<CpuScratch> scratch = ThreadLocal.withInitial(CpuScratch::new);
    /** Each thread's loop contract and non-finite watch. */
    private final ThreadLocal<CpuLoopState> loops = ThreadLocal.withInitial(CpuLoopState::new);

    /** An output array of n floats, contents undefined (every op writes all of it): reused inside scopes. */
    private float[] alloc(int n) {
        return scratch.get().take(n);
    }

    /** Tensors made inside give their arrays back when it closes (see {@link CpuScratch}). */
    @Override
    public Scope scope() {
        CpuScratch s = scratch.get();
        s.enter();
        int depth = s.depth();
        return Scope.closing(() -> {
            if (s.depth() != depth) throw new IllegalStateException("cpu backend: scopes closed out of order (depth " + s.depth() + ", expected " + depth + ")");
            s.leave();
        });
    }

    /** Runs the body, checking the steps it makes against the loop's declared ones (StepLoop). */
    @Override
    public void loop(StepKey key, List<StepScalars> steps, Runnable body) {
        CpuLoopState state = loops.get();
        state.begin(new StepLoop(key, steps));
        boolean finished = false;
        try (Scope s = scope()) {
            body.run();
            finished = true;
        } finally {
            state.end(finished);
        }
    }

    @Override
    public void step(StepKey key, StepScalars scalars, Runnable body) {
        loops.get().step(scalars);
        try (Scope s = scope()) {
            body.run();
        }
    }

    @Override
    public String name() {
        return "cpu (" + Parallel.threads() + " threads, " + Activations.S.length() * 32 + "-bit vectors)";
    }

    private static FloatTensor f(Tensor t) {
        if (t instanceof FloatTensor ft) return ft;
        throw new IllegalArgumentException("the CPU backend was given a " + t.getClass().getSimpleName() + "; expected a tensor it made");
    }

    private static float[] d(Tensor t) {
        return t == null ? null : f(t).data();
    }

    private static FloatTensor out(Shape s, float[] data) {
        return new FloatTensor(s, data);
    }

    // ------------------------------------------------------------------ memory

    @Override
    public Tensor upload(FloatTensor host) {
        return host.copy();
    }

    @Override
    public Tensor weight(FloatTensor host) {
        return host;
    }

    @Override
    public FloatTensor download(Tensor t) {
        return f(t).copy();
    }

    @Override
    public Tensor zeros(Shape shape) {
        return FloatTensor.zeros(shape);
    }

    @Override
    public Tensor reshape(Tensor t, Shape shape) {
        return f(t).reshape(shape);
    }

    // ------------------------------------------------------------------ linear algebra

    @Override
    public Tensor linear(Tensor x, Tensor w, Tensor bias, Activation act) {
        Shape so = Check.linear(x, w, bias);
        int n = so.last(), k = x.shape().last(), m = so.rows();
        float[] c = alloc(m * n);
        CpuGemm.gemm(m, n, k, d(x), 0, k, d(w), 0, k, CpuGemm.BLayout.NK, c, 0, n, d(bias), act, true);
        return out(so, c);
    }

    /** The product with the pairs side by side, then each row's gates activated together (as linear's epilogue does) and multiplied by their values. */
    @Override
    public Tensor gatedLinear(Tensor x, Tensor w, Tensor bias, Activation act) {
        Shape so = Check.gatedLinear(x, w, bias);
        int n = so.last(), k = x.shape().last(), m = so.rows();
        float[] pairs = alloc(2 * m * n), out = alloc(m * n);
        CpuGemm.gemm(m, 2 * n, k, d(x), 0, k, d(w), 0, k, CpuGemm.BLayout.NK, pairs, 0, 2 * n, d(bias), Activation.NONE, true);
        for (int r = 0; r < m; r++) {
            int o = r * n, p = 2 * o;
            for (int j = 0; j < n; j++) out[o + j] = pairs[p + 2 * j];
            Activations.apply(act, out, o, n);
            for (int j = 0; j < n; j++) out[o + j] *= pairs[p + 2 * j + 1];
        }
        return out(so, out);
    }

    @Override
    public Tensor attention(Tensor q, Tensor k, Tensor v, int heads) {
        Shape sq = Check.attention("attention", q, k, v, heads), sk = k.shape();
        float[] o = alloc(sq.size());
        CpuAttention.attention(d(q), d(k), d(v), o, sq.dim(0), sq.dim(1), sk.dim(1), heads, sq.last() / heads);
        return out(sq, o);
    }

    // ------------------------------------------------------------------ KV caches

    /** Keys and values in two arrays [batch, capacity, width]; attention reads the first length rows of each sample. */
    private static final class CpuKvCache extends KvCache {
        final float[] k, v;

        CpuKvCache(int batch, int capacity, int width, java.util.function.IntFunction<float[]> alloc) {
            super(batch, capacity, width);   // checks the sizes before anything is allocated
            this.k = alloc.apply(batch * capacity * width);
            this.v = alloc.apply(batch * capacity * width);
        }

        void write(float[] keys, float[] values, int l) {
            int w = width();
            for (int b = 0; b < batch(); b++) {
                System.arraycopy(keys, b * l * w, k, (b * capacity() + length()) * w, l * w);
                System.arraycopy(values, b * l * w, v, (b * capacity() + length()) * w, l * w);
            }
            appended(l);
        }
    }

    @Override
    public KvCache kvCache(int batch, int capacity, int width) {
        return new CpuKvCache(batch, capacity, width, this::alloc);
    }

    @Override
    public void kvAppend(KvCache cache, Tensor keys, Tensor values) {
        int l = cache.checkAppend(keys, values);
        cpu(cache).write(d(keys), d(values), l);
    }

    @Override
    public Tensor attention(Tensor q, KvCache cache, int heads) {
        cache.checkAttend(q, heads);
        CpuKvCache c = cpu(cache);
        Shape sq = q.shape();
        float[] o = alloc(sq.size());
        CpuAttention.attention(d(q), c.k, c.v, o, c.batch(), sq.dim(1), c.length(), c.capacity(), heads, c.width() / heads);
        return out(sq, o);
    }

    private static CpuKvCache cpu(KvCache c) {
        if (c instanceof CpuKvCache k) return k;
        throw new IllegalArgumentException("the CPU backend was given a " + c.getClass().getSimpleName() + "; expected a KV cache it made");
    }

    // ------------------------------------------------------------------ elementwise

    @Override
    public Tensor add(Tensor a, Tensor b) {
        int ratio = Check.groupRatio("add", a, b);
        float[] x = d(a), y = d(b), o = alloc(x.length);
        int w = a.shape().last();
        for (int i = 0; i < o.length; i++) o[i] = x[i] + y[(i / w / ratio) * w + i % w];
        return out(a.shape(), o);
    }

    @Override
    public Tensor addTiled(Tensor a, Tensor b) {
        Check.tiles(a, b);
        float[] x = d(a), y = d(b), o = alloc(x.length);
        for (int i = 0; i < o.length; i++) o[i] = x[i] + y[i % y.length];
        return out(a.shape(), o);
    }

    @Override
    public Tensor mul(Tensor a, Tensor b) {
        Check.sameShape("mul", a, b);
        float[] x = d(a), y = d(b), o = alloc(x.length);
        for (int i = 0; i < o.length; i++) o[i] = x[i] * y[i];
        return out(a.shape(), o);
    }

    @Override
    public Tensor silu(Tensor x) {
        float[] a = d(x), o = alloc(a.length);
        System.arraycopy(a, 0, o, 0, a.length);
        Activations.apply(Activation.SILU, o, 0, o.length);
        return out(x.shape(), o);
    }

    @Override
    public Tensor gatedResidual(Tensor x, Tensor gate, Tensor y) {
        Check.sameShape("gatedResidual", x, y);
        int ratio = Check.groupRatio("gatedResidual", x, gate);
        float[] a = d(x), g = d(gate), b = d(y), o = alloc(a.length);
        int w = x.shape().last();
        for (int i = 0; i < o.length; i++) o[i] = a[i] + g[(i / w / ratio) * w + i % w] * b[i];
        return out(x.shape(), o);
    }

    @Override
    public void gatedResidualInPlace(Tensor x, Tensor gate, Tensor y) {
        Check.sameShape("gatedResidualInPlace", x, y);
        int ratio = Check.groupRatio("gatedResidualInPlace", x, gate);
        float[] a = d(x), g = d(gate), b = d(y);
        int w = x.shape().last();
        for (int i = 0; i < a.length; i++) a[i] = a[i] + g[(i / w / ratio) * w + i % w] * b[i];
    }

    @Override
    public void addInPlace(Tensor x, Tensor y) {
        int ratio = Check.groupRatio("addInPlace", x, y);
        float[] a = d(x), b = d(y);
        int w = x.shape().last();
        for (int i = 0; i < a.length; i++) a[i] = a[i] + b[(i / w / ratio) * w + i % w];
    }

    @Override
    public void assign(Tensor dst, Tensor src) {
        Check.sameShape("assign", dst, src);
        System.arraycopy(d(src), 0, d(dst), 0, src.shape().size());
    }

    @Override
    public Tensor chunk(Tensor x, int n, int i) {
        Shape so = Check.chunk(x, n, i);
        int w = x.shape().last(), cw = so.last(), rows = so.rows();
        float[] a = d(x), o = alloc(rows * cw);
        for (int r = 0; r < rows; r++) System.arraycopy(a, r * w + i * cw, o, r * cw, cw);
        return out(so, o);
    }

    @Override
    public Tensor sliceBatch(Tensor x, int from, int to) {
        Shape so = Check.sliceBatch(x, from, to);
        int per = so.size() / so.dim(0);
        float[] o = alloc(so.size());
        System.arraycopy(d(x), from * per, o, 0, o.length);
        return out(so, o);
    }

    @Override
    public Tensor concatBatch(Tensor a, Tensor b) {
        Shape so = Check.concatBatch(a, b), sa = a.shape();
        float[] o = alloc(so.size());
        System.arraycopy(d(a), 0, o, 0, sa.size());
        System.arraycopy(d(b), 0, o, sa.size(), b.shape().size());
        return out(so, o);
    }

    @Override
    public Tensor concatTokens(Tensor a, Tensor b) {
        Shape so = Check.concatTokens(a, b), sa = a.shape(), sb = b.shape();
        int batch = sa.dim(0), la = sa.dim(1), lb = sb.dim(1), w = sa.last();
        float[] o = alloc(batch * (la + lb) * w);
        for (int i = 0; i < batch; i++) {
            System.arraycopy(d(a), i * la * w, o, i * (la + lb) * w, la * w);
            System.arraycopy(d(b), i * lb * w, o, (i * (la + lb) + la) * w, lb * w);
        }
        return out(so, o);
    }

    // ------------------------------------------------------------------ norms

    @Override
    public Tensor norm(Tensor x, Norm kind, Tensor weight, float eps) {
        Check.norm(x, weight);
        Shape s = x.shape();
        float[] o = alloc(s.size());
        CpuNorm.rows(d(x), o, s.rows(), s.last(), kind, eps, d(weight), null, null, 1);
        return out(s, o);
    }

    @Override
    public Tensor normModulate(Tensor x, Norm kind, float eps, Tensor shift, Tensor scale) {
        int ratio = Check.normModulate(x, shift, scale);
        Shape s = x.shape();
        float[] o = alloc(s.size());
        CpuNorm.rows(d(x), o, s.rows(), s.last(), kind, eps, null, d(shift), d(scale), ratio);
        return out(s, o);
    }

    @Override
    public Tensor groupNorm(Tensor x, int groups, Tensor weight, Tensor bias, float eps, boolean silu) {
        Check.groupNorm(x, groups, weight, bias);
        Shape s = x.shape();
        int c = s.last();
        float[] o = alloc(s.size());
        CpuNorm.group(d(x), o, s.dim(0), s.dim(1) * s.dim(2), c, groups, d(weight), d(bias), eps, silu);
        return out(s, o);
    }

    // ------------------------------------------------------------------ embeddings and layouts

    @Override
    public Tensor embedding(Tensor table, int[] ids) {
        Shape so = Check.embedding(table, ids);
        int w = so.last();
        float[] t = d(table), o = alloc(so.size());
        for (int i = 0; i < ids.length; i++) System.arraycopy(t, ids[i] * w, o, i * w, w);
        return out(so, o);
    }

    @Override
    public Tensor embedding(Tensor table, Tensor ids) {
        Shape so = Check.embedding(table, ids);
        int w = so.last(), rows = table.shape().dim(0);
        float[] t = d(table), id = d(ids), o = alloc(so.size());
        for (int i = 0; i < id.length; i++) {
            int r = CpuEmbed.row(id[i], rows);
            if (r >= 0) System.arraycopy(t, r * w, o, i * w, w);
            else java.util.Arrays.fill(o, i * w, (i + 1) * w, Float.NaN);
        }
        return out(so, o);
    }

    @Override
    public Tensor timestepEmbedding(float[] t, int dim) {
        Shape so = Check.timestepEmbedding(t, dim);
        float[] o = alloc(so.size());
        CpuEmbed.timestep(o, t, dim);
        return out(so, o);
    }

    @Override
    public Tensor rope2d(Tensor x, int heads, int side, int span) {
        Check.rope2d(x, heads, side);
        Shape s = x.shape();
        float[] o = alloc(s.size());
        CpuAttention.rope2d(d(x), o, s.dim(0), side, heads, s.last() / heads, span);
        return out(s, o);
    }

    /** A copy of qkv with q (offset 0) and k (offset W) rotated in place, v as it is. */
    @Override
    public Tensor rope2dQk(Tensor qkv, int heads, int side, int span) {
        int w = Check.rope2dQk("rope2dQk", qkv, heads, side);
        Shape s = qkv.shape();
        float[] o = alloc(s.size());
        System.arraycopy(d(qkv), 0, o, 0, s.size());
        for (int part = 0; part < 2; part++) CpuAttention.rope2d(o, o, s.dim(0), side, heads, w / heads, span, 3 * w, part * w);
        return out(s, o);
    }

    @Override
    public Tensor ropeRows(Tensor x, int heads, Tensor cos, Tensor sin, Tensor rows) {
        Shape s = Check.ropeRows(x, heads, cos, sin, rows);
        int[] r = integers("ropeRows", "row", d(rows), cos.shape().dim(0));
        float[] o = alloc(s.size());
        CpuAttention.ropeRows(d(x), o, s.dim(0), s.dim(1), heads, s.last() / heads, d(cos), d(sin), r);
        return out(s, o);
    }

    /** Values that must be exact integers in [0, bound), named in the error otherwise. */
    private static int[] integers(String op, String what, float[] v, int bound) {
        int[] r = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            r[i] = (int) v[i];
            Check.that(r[i] == v[i] && r[i] >= 0 && r[i] < bound, op, what + " " + v[i] + " (element " + i + ") is not an integer in [0, " + bound + ")");
        }
        return r;
    }

    @Override
    public Tensor patchify(Tensor x, int p) {
        Shape so = Check.patchify(x, p), s = x.shape();
        float[] o = alloc(so.size());
        CpuEmbed.patchify(o, d(x), s.dim(0), s.dim(1), s.dim(2), s.dim(3), p);
        return out(so, o);
    }

    @Override
    public Tensor unpatchify(Tensor x, int p, int channels, int h, int w) {
        Shape so = Check.unpatchify(x, p, channels, h, w);
        float[] o = alloc(so.size());
        CpuEmbed.unpatchify(o, d(x), so.dim(0), p, channels, h, w);
        return out(so, o);
    }

    @Override
    public Tensor nchwToNhwc(Tensor x) {
        Shape s = x.shape();
        Shape so = Check.nchwToNhwc(x);
        float[] o = alloc(so.size());
        CpuEmbed.transpose(o, d(x), s.dim(0), s.dim(1), s.dim(2) * s.dim(3));
        return out(so, o);
    }

    @Override
    public Tensor nhwcToNchw(Tensor x) {
        Shape s = x.shape();
        Shape so = Check.nhwcToNchw(x);
        float[] o = alloc(so.size());
        CpuEmbed.transpose(o, d(x), s.dim(0), s.dim(1) * s.dim(2), s.dim(3));
        return out(so, o);
    }

    // ------------------------------------------------------------------ images

    @Override
    public Tensor conv3x3(Tensor x, Tensor w, Tensor bias) {
        Shape so = Check.conv3x3(x, w, bias), s = x.shape();
        float[] o = alloc(so.size());
        CpuConv.conv3x3(o, d(x), s.dim(0), s.dim(1), s.dim(2), s.last(), d(w), so.last(), d(bias));
        return out(so, o);
    }

    @Override
    public Tensor upsampleNearest2x(Tensor x) {
        Shape s = x.shape();
        Shape so = Check.upsampleNearest2x(x);
        float[] o = alloc(so.size());
        CpuConv.upsample2x(o, d(x), s.dim(0), s.dim(1), s.dim(2), s.last());
        return out(so, o);
    }

    @Override
    public Tensor resizeBicubic(Tensor x, int outH, int outW) {
        Shape s = x.shape();
        Shape so = Check.resize("resizeBicubic", x, outH, outW);
        float[] o = alloc(so.size());
        CpuEmbed.bicubic(o, d(x), s.dim(0), s.dim(1), s.dim(2), s.last(), outH, outW);
        return out(so, o);
    }

    @Override
    public Tensor resizeArea(Tensor x, int outH, int outW) {
        Shape s = x.shape();
        Shape so = Check.resize("resizeArea", x, outH, outW);
        float[] o = alloc(so.size());
        CpuEmbed.area(o, d(x), s.dim(0), s.dim(1), s.dim(2), s.last(), outH, outW);
        return out(so, o);
    }

    // ------------------------------------------------------------------ sampler state

    @Override
    public Tensor randn(Shape shape, long seed, int stream) {
        float[] o = alloc(shape.size());
        Parallel.forRange(o.length, 4096, (i0, i1) -> {
            for (int i = i0; i < i1; i++) o[i] = Philox.normal(seed, stream, i);
        });
        return out(shape, o);
    }

    @Override
    public Tensor randn(Shape shape, long seed, int stream, int[] images) {
        Check.imageRows("randn", images.length, shape);
        float[] o = alloc(shape.size());
        int perImage = images.length == 0 ? 0 : o.length / images.length;
        Parallel.forRange(o.length, 4096, (i0, i1) -> {
            for (int i = i0; i < i1; i++) o[i] = Philox.normal(seed, stream, Philox.imageIndex(images[i / perImage], i % perImage));
        });
        return out(shape, o);
    }

    @Override
    public Tensor condTwice(Tensor x) {
        Check.halves("condTwice", x);
        Shape s = x.shape();
        float[] a = d(x), o = alloc(a.length);
        int half = a.length / 2;
        System.arraycopy(a, 0, o, 0, half);
        System.arraycopy(a, 0, o, half, half);
        return out(s, o);
    }

    @Override
    public void flowEulerStep(Tensor x, Tensor v, float dt, float cfgWeight, boolean guided) {
        Check.flowEulerStep(x, v, guided);
        CpuFlow.eulerStep(d(x), d(v), dt, cfgWeight, guided);
    }

    @Override
    public Tensor stageJump(Tensor x, int side, float alpha, float beta, float gamma, Noise noise) {
        Shape s = x.shape(), outShape = Check.stageJump(x, side);
        Check.noise("stageJump", noise, outShape);
        float[] eps = switch (noise) {
            case Noise.Given g -> d(g.eps());
            case Noise.Philox p -> d(randn(outShape, p.seed(), p.stream()));
            case Noise.PerImage p -> d(randn(outShape, p.seed(), p.stream(), p.images()));
        };
        float[] o = alloc(outShape.size());
        CpuFlow.stageJump(o, d(x), s.dim(0), side, s.last(), alpha, beta, gamma, eps);
        return out(outShape, o);
    }

    @Override
    public void cfgCombineChannels(Tensor out, int guidedChannels, float scale) {
        Check.cfgCombineChannels(out, guidedChannels);
        Shape s = out.shape();
        CpuDiffusion.cfgCombine(d(out), s.dim(0), s.dim(1), s.dim(2) * s.dim(3), guidedChannels, scale);
    }

    @Override
    public Tensor[] diffusionPosterior(Tensor x, Tensor modelOut, DiffusionCoefficients k, PosteriorVariance variance) {
        Check.posterior(x, modelOut, variance);
        Shape s = x.shape();
        float[] mean = alloc(s.size()), logVar = alloc(s.size()), x0 = alloc(s.size());
        CpuDiffusion.posterior(d(x), d(modelOut), s.dim(0), s.dim(1), s.dim(2) * s.dim(3), k, variance, mean, logVar, x0);
        return new Tensor[]{out(s, mean), out(s, logVar), out(s, x0)};
    }

    @Override
    public void ddpmSample(Tensor x, Tensor mean, Tensor logVar, Noise noise) {
        Check.ddpmSample(x, mean, logVar, noise);
        float[] n = switch (noise) {
            case null -> null;
            case Noise.Given g -> d(g.eps());
            case Noise.Philox p -> d(randn(x.shape(), p.seed(), p.stream()));
            case Noise.PerImage p -> d(randn(x.shape(), p.seed(), p.stream(), p.images()));
        };
        CpuDiffusion.ddpm(d(x), d(mean), d(logVar), n);
    }

    @Override
    public void ddimSample(Tensor x, Tensor predX0, DiffusionCoefficients k) {
        Check.sameShape("ddimSample", x, predX0);
        CpuDiffusion.ddim(d(x), d(predX0), k);
    }

    @Override
    public Tensor guideLogits(Tensor logits, float cfg, float temperature) {
        Shape so = Check.guideLogits(logits, temperature);
        float[] o = alloc(so.size());
        CpuSampling.guide(o, d(logits), so.size(), cfg, temperature);
        return out(so, o);
    }

    @Override
    public Tensor filterLogits(Tensor logits, LogitFilter filter) {
        Check.logitRows("filterLogits", logits);
        float[] o = d(logits).clone();
        CpuSampling.filter(o, logits.shape().last(), filter);
        return out(logits.shape(), o);
    }

    @Override
    public void sampleTokens(Tensor logits, LogitFilter filter, long seed, int stream, Tensor ids) {
        Check.sampleTokens(logits, ids);
        float[] x = d(logits).clone();
        CpuSampling.filter(x, logits.shape().last(), filter);
        CpuSampling.draw(x, logits.shape().last(), seed, stream, d(ids));
    }

    @Override
    public void watchFinite(Tensor x, int step) {
        Check.that(step >= 0, "watchFinite", "step " + step + "; expected ≥ 0");
        for (float v : d(x)) {
            if (!Float.isFinite(v)) {
                loops.get().nonFinite(step);
                return;
            }
        }
    }

    @Override
    public int firstNonFinite() {
        return loops.get().takeFirstNonFinite();
    }
}
