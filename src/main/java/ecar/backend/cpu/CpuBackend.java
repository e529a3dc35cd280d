package ecar.backend.cpu;

import ecar.backend.Activation;
import ecar.backend.Backend;
import ecar.backend.Check;
import ecar.backend.DiffusionCoefficients;
import ecar.backend.Noise;
import ecar.backend.Norm;
import ecar.backend.Philox;

import ecar.tensor.FloatTensor;
import ecar.tensor.Shape;
import ecar.tensor.Tensor;

/**
 * The pure-Java reference backend: float32 everywhere, all cores, the Vector API in the matrix multiply.
 * Its tensors are {@link FloatTensor}s. Every GPU kernel is tested against these ops.
 */
public final class CpuBackend implements Backend {

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
        Check.linear(x, w, bias);
        Shape sx = x.shape(), sw = w.shape();
        int n = sw.dim(0), k = sw.dim(1), m = sx.rows();
        float[] c = new float[m * n];
        CpuGemm.gemm(m, n, k, d(x), 0, k, d(w), 0, k, CpuGemm.BLayout.NK, c, 0, n, d(bias), act, true);
        return out(sx.withLast(n), c);
    }

    @Override
    public Tensor attention(Tensor q, Tensor k, Tensor v, int heads) {
        Check.rank("attention", q, 3, "[B, L, H·d]");
        Check.rank("attention", k, 3, "[B, L, H·d]");
        Check.sameShape("attention", k, v);
        Shape sq = q.shape(), sk = k.shape();
        Check.that(sq.dim(0) == sk.dim(0) && sq.last() == sk.last() && sq.last() % heads == 0, "attention",
                "q " + sq + " and k/v " + sk + " must share batch and width, a multiple of " + heads + " heads");
        float[] o = new float[sq.size()];
        CpuAttention.attention(d(q), d(k), d(v), o, sq.dim(0), sq.dim(1), sk.dim(1), heads, sq.last() / heads);
        return out(sq, o);
    }

    // ------------------------------------------------------------------ elementwise

    @Override
    public Tensor add(Tensor a, Tensor b) {
        int ratio = Check.groupRatio("add", a, b);
        float[] x = d(a), y = d(b), o = new float[x.length];
        int w = a.shape().last();
        for (int i = 0; i < o.length; i++) o[i] = x[i] + y[(i / w / ratio) * w + i % w];
        return out(a.shape(), o);
    }

    @Override
    public Tensor addTiled(Tensor a, Tensor b) {
        Check.tiles(a, b);
        float[] x = d(a), y = d(b), o = new float[x.length];
        for (int i = 0; i < o.length; i++) o[i] = x[i] + y[i % y.length];
        return out(a.shape(), o);
    }

    @Override
    public Tensor mul(Tensor a, Tensor b) {
        Check.sameShape("mul", a, b);
        float[] x = d(a), y = d(b), o = new float[x.length];
        for (int i = 0; i < o.length; i++) o[i] = x[i] * y[i];
        return out(a.shape(), o);
    }

    @Override
    public Tensor silu(Tensor x) {
        float[] o = d(x).clone();
        Activations.apply(Activation.SILU, o, 0, o.length);
        return out(x.shape(), o);
    }

    @Override
    public Tensor gatedResidual(Tensor x, Tensor gate, Tensor y) {
        Check.sameShape("gatedResidual", x, y);
        int ratio = Check.groupRatio("gatedResidual", x, gate);
        float[] a = d(x), g = d(gate), b = d(y), o = new float[a.length];
        int w = x.shape().last();
        for (int i = 0; i < o.length; i++) o[i] = a[i] + g[(i / w / ratio) * w + i % w] * b[i];
        return out(x.shape(), o);
    }

    @Override
    public Tensor chunk(Tensor x, int n, int i) {
        Shape s = x.shape();
        Check.that(n > 0 && s.last() % n == 0 && i >= 0 && i < n, "chunk", "cannot take slice " + i + " of " + n + " from " + s);
        int w = s.last(), cw = w / n, rows = s.rows();
        float[] a = d(x), o = new float[rows * cw];
        for (int r = 0; r < rows; r++) System.arraycopy(a, r * w + i * cw, o, r * cw, cw);
        return out(s.withLast(cw), o);
    }

    @Override
    public Tensor sliceBatch(Tensor x, int from, int to) {
        Shape s = x.shape();
        Check.that(0 <= from && from < to && to <= s.dim(0), "sliceBatch", "rows [" + from + ", " + to + ") outside " + s);
        int per = s.size() / s.dim(0);
        int[] dims = s.toArray();
        dims[0] = to - from;
        float[] o = new float[(to - from) * per];
        System.arraycopy(d(x), from * per, o, 0, o.length);
        return out(new Shape(dims), o);
    }

    @Override
    public Tensor concatBatch(Tensor a, Tensor b) {
        Shape sa = a.shape(), sb = b.shape();
        Check.that(sa.rank() == sb.rank() && sa.size() / sa.dim(0) == sb.size() / Math.max(1, sb.dim(0)), "concatBatch",
                sa + " and " + sb + " differ beyond the first dimension");
        int[] dims = sa.toArray();
        dims[0] += sb.dim(0);
        float[] o = new float[sa.size() + sb.size()];
        System.arraycopy(d(a), 0, o, 0, sa.size());
        System.arraycopy(d(b), 0, o, sa.size(), sb.size());
        return out(new Shape(dims), o);
    }

    @Override
    public Tensor concatTokens(Tensor a, Tensor b) {
        Check.rank("concatTokens", a, 3, "[B, L, D]");
        Check.rank("concatTokens", b, 3, "[B, L, D]");
        Shape sa = a.shape(), sb = b.shape();
        Check.that(sa.dim(0) == sb.dim(0) && sa.last() == sb.last(), "concatTokens", sa + " and " + sb + " differ in batch or width");
        int batch = sa.dim(0), la = sa.dim(1), lb = sb.dim(1), w = sa.last();
        float[] o = new float[batch * (la + lb) * w];
        for (int i = 0; i < batch; i++) {
            System.arraycopy(d(a), i * la * w, o, i * (la + lb) * w, la * w);
            System.arraycopy(d(b), i * lb * w, o, (i * (la + lb) + la) * w, lb * w);
        }
        return out(Shape.of(batch, la + lb, w), o);
    }

    // ------------------------------------------------------------------ norms

    @Override
    public Tensor norm(Tensor x, Norm kind, Tensor weight, float eps) {
        Shape s = x.shape();
        if (weight != null) Check.that(weight.shape().numel() == s.last(), "norm", "weight " + weight.shape() + " for rows of " + s.last());
        float[] o = new float[s.size()];
        CpuNorm.rows(d(x), o, s.rows(), s.last(), kind, eps, d(weight), null, null, 1);
        return out(s, o);
    }

    @Override
    public Tensor normModulate(Tensor x, Norm kind, float eps, Tensor shift, Tensor scale) {
        Check.sameShape("normModulate", shift, scale);
        int ratio = Check.groupRatio("normModulate", x, shift);
        Shape s = x.shape();
        float[] o = new float[s.size()];
        CpuNorm.rows(d(x), o, s.rows(), s.last(), kind, eps, null, d(shift), d(scale), ratio);
        return out(s, o);
    }

    @Override
    public Tensor groupNorm(Tensor x, int groups, Tensor weight, Tensor bias, float eps, boolean silu) {
        Check.groupNorm(x, groups, weight, bias);
        Shape s = x.shape();
        int c = s.last();
        float[] o = new float[s.size()];
        CpuNorm.group(d(x), o, s.dim(0), s.dim(1) * s.dim(2), c, groups, d(weight), d(bias), eps, silu);
        return out(s, o);
    }

    // ------------------------------------------------------------------ embeddings and layouts

    @Override
    public Tensor embedding(Tensor table, int[] ids) {
        Shape s = table.shape();
        int rows = s.dim(0), w = s.last();
        float[] t = d(table), o = new float[ids.length * w];
        for (int i = 0; i < ids.length; i++) {
            Check.that(ids[i] >= 0 && ids[i] < rows, "embedding", "id " + ids[i] + " outside the table's " + rows + " rows");
            System.arraycopy(t, ids[i] * w, o, i * w, w);
        }
        return out(Shape.of(ids.length, w), o);
    }

    @Override
    public Tensor timestepEmbedding(float[] t, int dim) {
        Check.that(dim % 2 == 0, "timestepEmbedding", "dimension " + dim + " must be even");
        return out(Shape.of(t.length, dim), CpuEmbed.timestep(t, dim));
    }

    @Override
    public Tensor rope2d(Tensor x, int heads, int side, int span) {
        Check.rank("rope2d", x, 3, "[B, L, H·d]");
        Shape s = x.shape();
        Check.that(s.dim(1) == side * side, "rope2d", s + " does not hold a " + side + "×" + side + " token grid");
        Check.that(s.last() % heads == 0 && (s.last() / heads) % 4 == 0, "rope2d", "head size of " + s + " over " + heads + " heads must be a multiple of 4");
        float[] o = new float[s.size()];
        CpuAttention.rope2d(d(x), o, s.dim(0), side, heads, s.last() / heads, span);
        return out(s, o);
    }

    @Override
    public Tensor patchify(Tensor x, int p) {
        Check.patchify(x, p);
        Shape s = x.shape();
        int n = s.dim(0), c = s.dim(1), h = s.dim(2), w = s.dim(3);
        return out(Shape.of(n, (h / p) * (w / p), c * p * p), CpuEmbed.patchify(d(x), n, c, h, w, p));
    }

    @Override
    public Tensor unpatchify(Tensor x, int p, int channels, int h, int w) {
        Check.unpatchify(x, p, channels, h, w);
        int n = x.shape().dim(0);
        return out(Shape.of(n, channels, h * p, w * p), CpuEmbed.unpatchify(d(x), n, p, channels, h, w));
    }

    @Override
    public Tensor nchwToNhwc(Tensor x) {
        Check.rank("nchwToNhwc", x, 4, "[N, C, H, W]");
        Shape s = x.shape();
        return out(Shape.of(s.dim(0), s.dim(2), s.dim(3), s.dim(1)), CpuEmbed.transpose(d(x), s.dim(0), s.dim(1), s.dim(2) * s.dim(3)));
    }

    @Override
    public Tensor nhwcToNchw(Tensor x) {
        Check.rank("nhwcToNchw", x, 4, "[N, H, W, C]");
        Shape s = x.shape();
        return out(Shape.of(s.dim(0), s.dim(3), s.dim(1), s.dim(2)), CpuEmbed.transpose(d(x), s.dim(0), s.dim(1) * s.dim(2), s.dim(3)));
    }

    // ------------------------------------------------------------------ images

    @Override
    public Tensor conv3x3(Tensor x, Tensor w, Tensor bias) {
        int co = Check.conv3x3(x, w, bias);
        Shape s = x.shape();
        float[] o = CpuConv.conv3x3(d(x), s.dim(0), s.dim(1), s.dim(2), s.last(), d(w), co, d(bias));
        return out(s.withLast(co), o);
    }

    @Override
    public Tensor upsampleNearest2x(Tensor x) {
        Check.rank("upsampleNearest2x", x, 4, "[N, H, W, C]");
        Shape s = x.shape();
        return out(Shape.of(s.dim(0), 2 * s.dim(1), 2 * s.dim(2), s.last()),
                CpuConv.upsample2x(d(x), s.dim(0), s.dim(1), s.dim(2), s.last()));
    }

    @Override
    public Tensor resizeBicubic(Tensor x, int outH, int outW) {
        Check.rank("resizeBicubic", x, 4, "[N, H, W, C]");
        Shape s = x.shape();
        return out(Shape.of(s.dim(0), outH, outW, s.last()), CpuEmbed.bicubic(d(x), s.dim(0), s.dim(1), s.dim(2), s.last(), outH, outW));
    }

    @Override
    public Tensor resizeArea(Tensor x, int outH, int outW) {
        Check.rank("resizeArea", x, 4, "[N, H, W, C]");
        Shape s = x.shape();
        return out(Shape.of(s.dim(0), outH, outW, s.last()), CpuEmbed.area(d(x), s.dim(0), s.dim(1), s.dim(2), s.last(), outH, outW));
    }

    // ------------------------------------------------------------------ sampler state

    @Override
    public Tensor randn(Shape shape, long seed, int stream) {
        float[] o = new float[shape.size()];
        Parallel.forRange(o.length, 4096, (i0, i1) -> {
            for (int i = i0; i < i1; i++) o[i] = Philox.normal(seed, stream, i);
        });
        return out(shape, o);
    }

    @Override
    public Tensor condTwice(Tensor x) {
        Shape s = x.shape();
        Check.that(s.dim(0) % 2 == 0, "condTwice", "batch of " + s + " is not two halves");
        float[] a = d(x), o = new float[a.length];
        int half = a.length / 2;
        System.arraycopy(a, 0, o, 0, half);
        System.arraycopy(a, 0, o, half, half);
        return out(s, o);
    }

    @Override
    public void flowEulerStep(Tensor x, Tensor v, float dt, float cfgWeight, boolean guided) {
        Check.sameShape("flowEulerStep", x, v);
        Check.that(!guided || x.shape().dim(0) % 2 == 0, "flowEulerStep", "guided step needs a batch of two halves, got " + x.shape());
        CpuFlow.eulerStep(d(x), d(v), dt, cfgWeight, guided);
    }

    @Override
    public Tensor stageJump(Tensor x, int side, float alpha, float beta, float gamma, Noise noise) {
        Check.rank("stageJump", x, 3, "[B, r², C]");
        Shape s = x.shape();
        Check.that(s.dim(1) == side * side, "stageJump", s + " is not a " + side + "×" + side + " token grid");
        Shape outShape = Shape.of(s.dim(0), 4 * side * side, s.last());
        float[] eps = switch (noise) {
            case Noise.Given g -> {
                Check.that(g.eps().shape().equals(outShape), "stageJump", "noise " + g.eps().shape() + ", expected " + outShape);
                yield d(g.eps());
            }
            case Noise.Philox p -> d(randn(outShape, p.seed(), p.stream()));
        };
        return out(outShape, CpuFlow.stageJump(d(x), s.dim(0), side, s.last(), alpha, beta, gamma, eps));
    }

    @Override
    public void cfgCombineChannels(Tensor out, int guidedChannels, float scale) {
        Check.rank("cfgCombineChannels", out, 4, "[2N, C, H, W]");
        Shape s = out.shape();
        Check.that(s.dim(0) % 2 == 0 && guidedChannels <= s.dim(1), "cfgCombineChannels",
                "needs two batch halves and at most " + s.dim(1) + " guided channels, got " + s + " and " + guidedChannels);
        CpuDiffusion.cfgCombine(d(out), s.dim(0), s.dim(1), s.dim(2) * s.dim(3), guidedChannels, scale);
    }

    @Override
    public Tensor[] diffusionPosterior(Tensor x, Tensor modelOut, DiffusionCoefficients k) {
        Check.posterior(x, modelOut);
        Shape s = x.shape();
        float[] mean = new float[s.size()], logVar = new float[s.size()], x0 = new float[s.size()];
        CpuDiffusion.posterior(d(x), d(modelOut), s.dim(0), s.dim(1), s.dim(2) * s.dim(3), k, mean, logVar, x0);
        return new Tensor[]{out(s, mean), out(s, logVar), out(s, x0)};
    }

    @Override
    public void ddpmSample(Tensor x, Tensor mean, Tensor logVar, Noise noise) {
        Check.sameShape("ddpmSample", x, mean);
        Check.sameShape("ddpmSample", x, logVar);
        float[] n = switch (noise) {
            case null -> null;
            case Noise.Given g -> {
                Check.sameShape("ddpmSample", x, g.eps());
                yield d(g.eps());
            }
            case Noise.Philox p -> d(randn(x.shape(), p.seed(), p.stream()));
        };
        CpuDiffusion.ddpm(d(x), d(mean), d(logVar), n);
    }

    @Override
    public void ddimSample(Tensor x, Tensor predX0, DiffusionCoefficients k) {
        Check.sameShape("ddimSample", x, predX0);
        CpuDiffusion.ddim(d(x), d(predX0), k);
    }

    @Override
    public boolean allFinite(Tensor x) {
        for (float v : d(x)) if (!Float.isFinite(v)) return false;
        return true;
    }
}
