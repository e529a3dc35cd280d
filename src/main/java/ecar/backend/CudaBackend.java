package ecar.backend;

import ecar.cuda.ArenaLedger;
import ecar.cuda.CudaContext;
import ecar.cuda.CudaTensor;
import ecar.cuda.DeviceArena;
import ecar.cuda.DeviceBuffer;
import ecar.cuda.KernelModule;
import ecar.cuda.Stream;
import ecar.cuda.ops.Attention;
import ecar.cuda.ops.Flow;
import ecar.io.Bf16;
import ecar.tensor.DType;
import ecar.tensor.FloatTensor;
import ecar.tensor.Shape;
import ecar.tensor.Tensor;

import java.lang.ref.Cleaner;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The GPU backend: our kernels (kernels/*.cu) through JCuda, all work queued in order on one stream.
 *
 * <p><b>Incomplete (issue 5 delivers it, issue 6 completes it).</b> Wired: memory (upload, weight, download, zeros,
 * reshape, batch slices and concatenation, chunk), attention and attentionRope (flash attention on tensor cores),
 * rope2d, a stage-block-causal attention and a KV cache for stage-wise decoding, and the sampler state ops
 * (flowEulerStep, stageJump, cfgCombineChannels, randn, condTwice, allFinite). Every other op throws
 * UnsupportedOperationException naming the op and its kernel family ("kernel family gemm not wired yet"): those
 * kernels (gemm, norm, embed, diffusion, conv and elementwise) are issue 6's. The CLI therefore does not select this
 * backend yet.
 *
 * <p>Storage: activations and the ODE state are device-resident float32 ({@link DType#F32}); weights are bfloat16
 * ({@link #weight}). Attention converts its operands to bf16 in arena scratch (tensor cores take bf16), accumulates in
 * f32 and writes f32. Tensors made inside a {@link #scope()} live in one arena and are reclaimed together when it
 * closes; others get their own allocation, freed when unreachable. Not thread-safe: one backend per thread.
 */
public final class CudaBackend implements Backend {
    private static final Cleaner CLEANER = Cleaner.create();
    /** Arena for scopes and scratch: 1 GiB unless ECAR_CUDA_ARENA_MB says otherwise. */
    private static final long DEFAULT_ARENA = 1L << 30;

    private final CudaContext ctx;
    private final Stream stream;
    private final DeviceArena arena;
    private final DeviceBuffer flag;
    private final Map<String, CudaTensor[]> ropeTables = new HashMap<>();
    private final List<DeviceBuffer> owned = new ArrayList<>();
    private int scopeDepth;
    private boolean closed;
    private boolean poison;

    public CudaBackend() {
        this(arenaBytesFromEnv());
    }

    public CudaBackend(long arenaBytes) {
        ctx = CudaContext.get();
        KernelModule.get(Attention.FAMILY);   // fail now, with the reason, if the kernels were not built
        KernelModule.get(Flow.FAMILY);
        stream = new Stream();
        arena = new DeviceArena("cuda backend", arenaBytes);
        flag = keep(DeviceBuffer.allocate(4, "allFinite flag"));
    }

    private static long arenaBytesFromEnv() {
        String mb = System.getenv("ECAR_CUDA_ARENA_MB");
        if (mb == null || mb.isBlank()) return DEFAULT_ARENA;
        try {
            return Long.parseLong(mb.strip()) << 20;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("ECAR_CUDA_ARENA_MB='" + mb + "' is not a number of MiB");
        }
    }

    @Override
    public String name() {
        return "cuda:" + ctx.device().ordinal() + " " + ctx.device().name() + " (attention and flow kernels; other ops not wired yet)";
    }

    /** The stream every op is queued on (benchmarks record events on it). */
    public Stream stream() {
        return stream;
    }

    public void synchronize() {
        stream.synchronize();
    }

    /** When on, every new tensor is filled with NaN before an op writes it: a kernel that skips an element shows. */
    public void poisonAllocations(boolean on) {
        poison = on;
    }

    // ------------------------------------------------------------------ allocation

    private DeviceBuffer keep(DeviceBuffer b) {
        owned.add(b);
        return b;
    }

    private CudaTensor alloc(Shape s, DType t, String label) {
        long bytes = ArenaLedger.alignUp(Math.max(1, s.numel()) * t.bytes, 4);
        CudaTensor out;
        if (scopeDepth > 0) {
            out = new CudaTensor(s, t, arena.allocate(bytes, label), null);
        } else {
            DeviceBuffer b = DeviceBuffer.allocate(bytes, label);
            Object owner = new Object();
            CLEANER.register(owner, () -> {
                CudaContext.get().synchronize();   // no queued kernel may still use it
                b.close();
            });
            out = new CudaTensor(s, t, b, owner);
        }
        if (poison) out.buffer().fill32(t == DType.F32 ? 0x7fc00000 : 0x7fc07fc0, stream);   // NaN in f32 / in both bf16 halves
        return out;
    }

    @Override
    public Scope scope() {
        ArenaLedger.Mark m = arena.mark();
        scopeDepth++;
        return new Scope() {
            boolean done;

            @Override
            public void close() {
                if (done) return;
                done = true;
                scopeDepth--;
                arena.reset(m);   // later kernels on the stream run after the ones that used this memory
            }
        };
    }

    private static CudaTensor c(Tensor t, String op) {
        if (t instanceof CudaTensor ct) return ct;
        throw new IllegalArgumentException(op + ": the CUDA backend was given a " + (t == null ? "null" : t.getClass().getSimpleName())
                + "; expected a tensor it made (upload host tensors first)");
    }

    private static CudaTensor f32(Tensor t, String op) {
        CudaTensor ct = c(t, op);
        if (ct.dtype() != DType.F32) throw new IllegalArgumentException(op + ": expected a float32 tensor, got " + ct.dtype() + " " + ct.shape());
        return ct;
    }

    private static UnsupportedOperationException notWired(String op, String family) {
        return new UnsupportedOperationException(op + ": kernel family " + family + " not wired yet (issue 6); use the CPU backend for this op");
    }

    // ------------------------------------------------------------------ memory

    @Override
    public Tensor upload(FloatTensor host) {
        CudaTensor t = alloc(host.shape(), DType.F32, "upload " + host.shape());
        if (host.shape().numel() > 0) t.buffer().upload(host.data(), stream);
        return t;
    }

    @Override
    public Tensor weight(FloatTensor host) {
        float[] d = host.data();
        short[] h = new short[d.length];
        for (int i = 0; i < d.length; i++) h[i] = Bf16.fromFloat(d[i]);
        CudaTensor t = alloc(host.shape(), DType.BF16, "weight " + host.shape());
        if (h.length > 0) t.buffer().upload(h, stream);
        return t;
    }

    @Override
    public FloatTensor download(Tensor t) {
        CudaTensor ct = c(t, "download");
        float[] out = new float[ct.shape().size()];
        if (out.length == 0) return new FloatTensor(ct.shape(), out);
        if (ct.dtype() == DType.F32) {
            ct.buffer().download(out, stream);
        } else {
            short[] h = new short[out.length];
            ct.buffer().download(h, stream);
            for (int i = 0; i < h.length; i++) out[i] = Bf16.toFloat(h[i]);
        }
        return new FloatTensor(ct.shape(), out);
    }

    @Override
    public Tensor zeros(Shape shape) {
        CudaTensor t = alloc(shape, DType.F32, "zeros " + shape);
        if (shape.numel() > 0) t.buffer().slice(0, t.bytes(), "zeros").fill32(0, stream);
        return t;
    }

    @Override
    public Tensor reshape(Tensor t, Shape shape) {
        return c(t, "reshape").view(shape);
    }

    @Override
    public Tensor sliceBatch(Tensor x, int from, int to) {
        Shape s = x.shape();
        Check.that(0 <= from && from < to && to <= s.dim(0), "sliceBatch", "rows [" + from + ", " + to + ") outside " + s);
        return c(x, "sliceBatch").sliceFirst(from, to);
    }

    @Override
    public Tensor concatBatch(Tensor a, Tensor b) {
        CudaTensor x = f32(a, "concatBatch"), y = f32(b, "concatBatch");
        Shape sa = a.shape(), sb = b.shape();
        Check.that(sa.rank() == sb.rank() && sa.size() / sa.dim(0) == sb.size() / Math.max(1, sb.dim(0)), "concatBatch",
                sa + " and " + sb + " differ beyond the first dimension");
        int[] dims = sa.toArray();
        dims[0] += sb.dim(0);
        CudaTensor o = alloc(new Shape(dims), DType.F32, "concatBatch");
        o.buffer().copyFrom(x.buffer(), 0, 0, x.bytes(), stream);
        o.buffer().copyFrom(y.buffer(), 0, x.bytes(), y.bytes(), stream);
        return o;
    }

    @Override
    public Tensor concatTokens(Tensor a, Tensor b) {
        Check.rank("concatTokens", a, 3, "[B, L, D]");
        Check.rank("concatTokens", b, 3, "[B, L, D]");
        CudaTensor x = f32(a, "concatTokens"), y = f32(b, "concatTokens");
        Shape sa = a.shape(), sb = b.shape();
        Check.that(sa.dim(0) == sb.dim(0) && sa.last() == sb.last(), "concatTokens", sa + " and " + sb + " differ in batch or width");
        int batch = sa.dim(0), la = sa.dim(1), lb = sb.dim(1), w = sa.last();
        CudaTensor o = alloc(Shape.of(batch, la + lb, w), DType.F32, "concatTokens");
        long ra = 4L * la * w, rb = 4L * lb * w, ro = ra + rb;
        o.buffer().copy2dFrom(x.buffer(), 0, ra, 0, ro, ra, batch, stream);
        o.buffer().copy2dFrom(y.buffer(), 0, rb, ra, ro, rb, batch, stream);
        return o;
    }

    @Override
    public Tensor chunk(Tensor x, int n, int i) {
        Shape s = x.shape();
        Check.that(n > 0 && s.last() % n == 0 && i >= 0 && i < n, "chunk", "cannot take slice " + i + " of " + n + " from " + s);
        CudaTensor t = f32(x, "chunk");
        int w = s.last(), cw = w / n;
        CudaTensor o = alloc(s.withLast(cw), DType.F32, "chunk " + i + "/" + n);
        o.buffer().copy2dFrom(t.buffer(), 4L * i * cw, 4L * w, 0, 4L * cw, 4L * cw, s.rows(), stream);
        return o;
    }

    // ------------------------------------------------------------------ attention

    @Override
    public Tensor attention(Tensor q, Tensor k, Tensor v, int heads) {
        return attend("attention", q, k, v, heads, 0, 0, false, false, null);
    }

    @Override
    public Tensor attentionRope(Tensor q, Tensor k, Tensor v, int heads, int side, int span, boolean ropeKeys) {
        return attend("attentionRope", q, k, v, heads, side, span, true, ropeKeys, null);
    }

    /**
     * Attention over a sequence of stages with the stage-block-causal mask: a query of stage s sees the keys of
     * stages 0..s. q, k, v [B, L, H·d] with L = the sum of {@code stageTokens}.
     */
    public Tensor attentionBlockCausal(Tensor q, Tensor k, Tensor v, int heads, int[] stageTokens) {
        int total = 0;
        for (int n : stageTokens) {
            Check.that(n > 0, "attentionBlockCausal", "stage sizes must be positive: " + java.util.Arrays.toString(stageTokens));
            total += n;
        }
        Check.that(q.shape().rank() == 3 && q.shape().dim(1) == total && k.shape().rank() == 3 && k.shape().dim(1) == total, "attentionBlockCausal",
                "q " + q.shape() + " and k " + k.shape() + " must hold the " + total + " tokens of stages " + java.util.Arrays.toString(stageTokens));
        return attend("attentionBlockCausal", q, k, v, heads, 0, 0, false, false, stageTokens);
    }

    private Tensor attend(String op, Tensor q, Tensor k, Tensor v, int heads, int side, int span, boolean ropeQ, boolean ropeK, int[] stageTokens) {
        Check.rank(op, q, 3, "[B, L, H·d]");
        Check.rank(op, k, 3, "[B, L, H·d]");
        Check.sameShape(op, k, v);
        Shape sq = q.shape(), sk = k.shape();
        Check.that(heads > 0 && sq.dim(0) == sk.dim(0) && sq.last() == sk.last() && sq.last() % heads == 0, op,
                "q " + sq + " and k/v " + sk + " must share batch and width, a multiple of " + heads + " heads");
        int d = sq.last() / heads;
        if (ropeQ) {
            Check.that(sq.dim(1) == side * side, op, "q " + sq + " does not hold a " + side + "×" + side + " token grid");
            Check.that(!ropeK || sk.dim(1) == side * side, op, "k " + sk + " does not hold a " + side + "×" + side + " token grid");
            Check.that(d % 4 == 0, op, "head size " + d + " must be a multiple of 4 for the 2D RoPE");
        }
        Attention.Problem p = Attention.Problem.dense(sq.dim(0), heads, d, sq.dim(1), sk.dim(1));
        CudaTensor out = alloc(sq, DType.F32, op + " out");
        try (Scope scratch = scope()) {
            CudaTensor qb = bf16(q, op), kb = bf16(k, op), vb = bf16(v, op);
            Attention.Rope rope = null;
            if (ropeQ) {
                CudaTensor[] cs = ropeTable(side, span, d);
                rope = new Attention.Rope(cs[0].buffer(), cs[1].buffer(), side * side, true, ropeK);
            }
            Attention.Stages stages = null;
            if (stageTokens != null) {
                int[] ends = new int[stageTokens.length];
                for (int i = 0, acc = 0; i < ends.length; i++) ends[i] = acc += stageTokens[i];
                DeviceBuffer e = arena.allocate(4L * ends.length, "stage ends");
                e.upload(ends, stream);
                stages = new Attention.Stages(e, ends.length, 0);
            }
            Attention.forward(stream, p, qb.buffer(), kb.buffer(), vb.buffer(), out.buffer(), false, rope, stages);
        }
        return out;
    }

    /** t in bf16: itself when it is, else a cast into the current scope. */
    private CudaTensor bf16(Tensor t, String op) {
        CudaTensor ct = c(t, op);
        if (ct.dtype() == DType.BF16) return ct;
        CudaTensor o = alloc(ct.shape(), DType.BF16, op + " bf16 operand");
        Attention.castToBf16(stream, o.buffer(), ct.buffer(), ct.shape().numel());
        return o;
    }

    /** cos, sin [side², d/2] of CpuAttention.ropeTables, uploaded once per (side, span, d). */
    private CudaTensor[] ropeTable(int side, int span, int d) {
        return ropeTables.computeIfAbsent(side + "/" + span + "/" + d, key -> {
            float[][] cs = CpuAttention.ropeTables(side, span, d);
            CudaTensor[] t = new CudaTensor[2];
            for (int i = 0; i < 2; i++) {
                DeviceBuffer b = keep(DeviceBuffer.allocate(4L * cs[i].length, "rope " + (i == 0 ? "cos " : "sin ") + key));
                b.upload(cs[i], stream);
                t[i] = new CudaTensor(Shape.of(side * side, d / 2), DType.F32, b, null);
            }
            return t;
        });
    }

    @Override
    public Tensor rope2d(Tensor x, int heads, int side, int span) {
        Check.rank("rope2d", x, 3, "[B, L, H·d]");
        Shape s = x.shape();
        Check.that(s.dim(1) == side * side, "rope2d", s + " does not hold a " + side + "×" + side + " token grid");
        Check.that(s.last() % heads == 0 && (s.last() / heads) % 4 == 0, "rope2d", "head size of " + s + " over " + heads + " heads must be a multiple of 4");
        CudaTensor t = f32(x, "rope2d");
        int d = s.last() / heads;
        CudaTensor[] cs = ropeTable(side, span, d);
        CudaTensor o = alloc(s, DType.F32, "rope2d");
        Attention.rope2d(stream, o.buffer(), t.buffer(), s.dim(0), s.dim(1), s.last(), d, cs[0].buffer(), cs[1].buffer());
        return o;
    }

    /**
     * The bf16 keys and values of one attention layer for stage-wise decoding: [B, capacity, H·d] each, filled stage
     * by stage with {@link #append}; {@link #attend} runs a stage's queries against every token cached so far.
     */
    public final class KvCache {
        final CudaTensor k, v;
        final int batch, capacity, width, heads;
        int length;

        KvCache(int batch, int capacity, int width, int heads) {
            this.batch = batch;
            this.capacity = capacity;
            this.width = width;
            this.heads = heads;
            Shape s = Shape.of(batch, capacity, width);
            this.k = alloc(s, DType.BF16, "kv cache keys");
            this.v = alloc(s, DType.BF16, "kv cache values");
        }

        public int length() {
            return length;
        }

        /** Appends a stage's keys (rotated with the stage's 2D RoPE on the way in when ropeKeys) and values. */
        public void append(Tensor keys, Tensor values, int side, int span, boolean ropeKeys) {
            Check.sameShape("kvAppend", keys, values);
            Shape s = keys.shape();
            Check.that(s.rank() == 3 && s.dim(0) == batch && s.last() == width, "kvAppend", "keys " + s + ", expected [" + batch + ", L, " + width + "]");
            Check.that(!ropeKeys || s.dim(1) == side * side, "kvAppend", s + " does not hold a " + side + "×" + side + " token grid");
            int d = width / heads;
            CudaTensor[] cs = ropeKeys ? ropeTable(side, span, d) : null;
            Attention.kvAppend(stream, k.buffer(), v.buffer(), f32(keys, "kvAppend").buffer(), f32(values, "kvAppend").buffer(),
                    batch, s.dim(1), width, length, capacity, d, cs == null ? null : cs[0].buffer(), cs == null ? null : cs[1].buffer());
            length += s.dim(1);
        }

        /** softmax(rope2d(q)·kᵀ/√d)·v over the {@link #length()} cached tokens; q [B, side², H·d] f32. */
        public Tensor attend(Tensor q, int side, int span) {
            Shape sq = q.shape();
            Check.that(length > 0, "kvAttend", "the cache is empty");
            Check.that(sq.rank() == 3 && sq.dim(0) == batch && sq.last() == width && sq.dim(1) == side * side, "kvAttend",
                    "q " + sq + ", expected [" + batch + ", " + side * side + ", " + width + "]");
            int d = width / heads;
            CudaTensor out = alloc(sq, DType.F32, "kvAttend out");
            try (Scope scratch = scope()) {
                CudaTensor qb = bf16(q, "kvAttend");
                CudaTensor[] cs = ropeTable(side, span, d);
                Attention.forward(stream, Attention.Problem.cached(batch, heads, d, sq.dim(1), length, capacity), qb.buffer(), k.buffer(), v.buffer(),
                        out.buffer(), false, new Attention.Rope(cs[0].buffer(), cs[1].buffer(), side * side, true, false), null);
            }
            return out;
        }
    }

    public KvCache kvCache(int batch, int capacity, int width, int heads) {
        Check.that(batch > 0 && capacity > 0 && heads > 0 && width % heads == 0, "kvCache", "batch " + batch + ", capacity " + capacity + ", width " + width + ", heads " + heads);
        Attention.paddedHeadDim(width / heads);
        return new KvCache(batch, capacity, width, heads);
    }

    // ------------------------------------------------------------------ sampler state

    @Override
    public Tensor randn(Shape shape, long seed, int noiseStream) {
        CudaTensor o = alloc(shape, DType.F32, "randn " + shape);
        if (shape.numel() > 0) Flow.randn(stream, o.buffer(), shape.numel(), seed, noiseStream);
        return o;
    }

    @Override
    public Tensor condTwice(Tensor x) {
        Shape s = x.shape();
        Check.that(s.dim(0) % 2 == 0, "condTwice", "batch of " + s + " is not two halves");
        CudaTensor t = f32(x, "condTwice");
        CudaTensor o = alloc(s, DType.F32, "condTwice");
        Flow.condTwice(stream, o.buffer(), t.buffer(), s.numel() / 2);
        return o;
    }

    @Override
    public void flowEulerStep(Tensor x, Tensor v, float dt, float cfgWeight, boolean guided) {
        Check.sameShape("flowEulerStep", x, v);
        Check.that(!guided || x.shape().dim(0) % 2 == 0, "flowEulerStep", "guided step needs a batch of two halves, got " + x.shape());
        CudaTensor xt = f32(x, "flowEulerStep"), vt = f32(v, "flowEulerStep");
        long n = x.shape().numel();
        if (guided) Flow.eulerGuided(stream, xt.buffer(), vt.buffer(), n / 2, dt, cfgWeight);
        else Flow.euler(stream, xt.buffer(), vt.buffer(), n, dt);
    }

    @Override
    public Tensor stageJump(Tensor x, int side, float alpha, float beta, float gamma, Noise noise) {
        Check.rank("stageJump", x, 3, "[B, r², C]");
        Shape s = x.shape();
        Check.that(s.dim(1) == side * side, "stageJump", s + " is not a " + side + "×" + side + " token grid");
        Shape outShape = Shape.of(s.dim(0), 4 * side * side, s.last());
        CudaTensor eps = null;
        long seed = 0;
        int noiseStream = 0;
        switch (noise) {
            case Noise.Given g -> {
                Check.that(g.eps().shape().equals(outShape), "stageJump", "noise " + g.eps().shape() + ", expected " + outShape);
                eps = f32(g.eps(), "stageJump");
            }
            case Noise.Philox p -> {
                seed = p.seed();
                noiseStream = p.stream();
            }
        }
        CudaTensor o = alloc(outShape, DType.F32, "stageJump");
        float amp = (float) Math.sqrt(1.0 + gamma), cc = CpuFlow.blockNoiseC(gamma);
        Flow.stageJump(stream, o.buffer(), f32(x, "stageJump").buffer(), eps == null ? null : eps.buffer(), s.dim(0), side, s.last(),
                alpha, beta, amp, cc, seed, noiseStream);
        return o;
    }

    @Override
    public void cfgCombineChannels(Tensor out, int guidedChannels, float scale) {
        Check.rank("cfgCombineChannels", out, 4, "[2N, C, H, W]");
        Shape s = out.shape();
        Check.that(s.dim(0) % 2 == 0 && guidedChannels <= s.dim(1), "cfgCombineChannels",
                "needs two batch halves and at most " + s.dim(1) + " guided channels, got " + s + " and " + guidedChannels);
        if (guidedChannels <= 0) return;
        Flow.cfgCombineChannels(stream, f32(out, "cfgCombineChannels").buffer(), s.dim(0) / 2, s.dim(1), s.dim(2) * s.dim(3), guidedChannels, scale);
    }

    @Override
    public boolean allFinite(Tensor x) {
        CudaTensor t = f32(x, "allFinite");
        if (x.shape().numel() == 0) return true;
        flag.upload(new int[]{1}, stream);
        Flow.allFinite(stream, t.buffer(), x.shape().numel(), flag);
        int[] r = new int[1];
        flag.download(r, stream);
        return r[0] == 1;
    }

    // ------------------------------------------------------------------ not wired yet (issue 6)

    @Override
    public Tensor linear(Tensor x, Tensor w, Tensor bias, Activation act) {
        throw notWired("linear", "gemm");
    }

    @Override
    public Tensor add(Tensor a, Tensor b) {
        throw notWired("add", "elementwise");
    }

    @Override
    public Tensor addTiled(Tensor a, Tensor b) {
        throw notWired("addTiled", "elementwise");
    }

    @Override
    public Tensor mul(Tensor a, Tensor b) {
        throw notWired("mul", "elementwise");
    }

    @Override
    public Tensor silu(Tensor x) {
        throw notWired("silu", "elementwise");
    }

    @Override
    public Tensor gatedResidual(Tensor x, Tensor gate, Tensor y) {
        throw notWired("gatedResidual", "elementwise");
    }

    @Override
    public Tensor norm(Tensor x, Norm kind, Tensor weight, float eps) {
        throw notWired("norm", "norm");
    }

    @Override
    public Tensor normModulate(Tensor x, Norm kind, float eps, Tensor shift, Tensor scale) {
        throw notWired("normModulate", "norm");
    }

    @Override
    public Tensor groupNorm(Tensor x, int groups, Tensor weight, Tensor bias, float eps, boolean silu) {
        throw notWired("groupNorm", "conv");
    }

    @Override
    public Tensor embedding(Tensor table, int[] ids) {
        throw notWired("embedding", "embed");
    }

    @Override
    public Tensor timestepEmbedding(float[] t, int dim) {
        throw notWired("timestepEmbedding", "embed");
    }

    @Override
    public Tensor patchify(Tensor x, int p) {
        throw notWired("patchify", "embed");
    }

    @Override
    public Tensor unpatchify(Tensor x, int p, int channels, int h, int w) {
        throw notWired("unpatchify", "embed");
    }

    @Override
    public Tensor nchwToNhwc(Tensor x) {
        throw notWired("nchwToNhwc", "embed");
    }

    @Override
    public Tensor nhwcToNchw(Tensor x) {
        throw notWired("nhwcToNchw", "embed");
    }

    @Override
    public Tensor conv3x3(Tensor x, Tensor w, Tensor bias) {
        throw notWired("conv3x3", "conv");
    }

    @Override
    public Tensor upsampleNearest2x(Tensor x) {
        throw notWired("upsampleNearest2x", "conv");
    }

    @Override
    public Tensor resizeBicubic(Tensor x, int outH, int outW) {
        throw notWired("resizeBicubic", "embed");
    }

    @Override
    public Tensor resizeArea(Tensor x, int outH, int outW) {
        throw notWired("resizeArea", "embed");
    }

    @Override
    public Tensor[] diffusionPosterior(Tensor x, Tensor modelOut, DiffusionCoefficients k) {
        throw notWired("diffusionPosterior", "diffusion");
    }

    @Override
    public void ddpmSample(Tensor x, Tensor mean, Tensor logVar, Noise noise) {
        throw notWired("ddpmSample", "diffusion");
    }

    @Override
    public void ddimSample(Tensor x, Tensor predX0, DiffusionCoefficients k) {
        throw notWired("ddimSample", "diffusion");
    }

    // ------------------------------------------------------------------ lifetime

    /** Waits for the stream, frees the arena (failing, with names, if a scope was left open) and owned tables. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        try {
            stream.synchronize();
        } finally {
            for (DeviceBuffer b : owned) b.close();
            owned.clear();
            String open = scopeDepth > 0 ? scopeDepth + " scope(s) still open at close" : null;
            try {
                arena.close();
            } finally {
                stream.close();
            }
            if (open != null) throw new IllegalStateException("cuda backend: " + open);
        }
    }
}
