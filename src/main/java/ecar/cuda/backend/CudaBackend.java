package ecar.cuda.backend;

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

import ecar.cuda.ArenaLedger;
import ecar.cuda.CudaContext;
import ecar.cuda.CudaTensor;
import ecar.cuda.DeviceAddress;
import ecar.cuda.DeviceArena;
import ecar.cuda.DeviceBuffer;
import ecar.cuda.KernelModule;
import ecar.cuda.OwnerThread;
import ecar.cuda.Stream;
import ecar.cuda.ops.Attention;
import ecar.cuda.ops.ConvKernels;
import ecar.cuda.ops.DiffusionKernels;
import ecar.cuda.ops.ElementwiseKernels;
import ecar.cuda.ops.EmbedKernels;
import ecar.cuda.ops.Flow;
import ecar.cuda.ops.GemmKernels;
import ecar.cuda.ops.Launcher;
import ecar.cuda.ops.NormInput;
import ecar.cuda.ops.NormKernels;
import ecar.cuda.ops.Precision;
import ecar.cuda.ops.RopeTable;
import ecar.cuda.ops.SampleKernels;
import ecar.io.Bf16;
import ecar.tensor.DType;
import ecar.tensor.FloatTensor;
import ecar.tensor.Shape;
import ecar.tensor.Tensor;

import java.util.List;

import static ecar.cuda.backend.CudaOperands.c;
import static ecar.cuda.backend.CudaOperands.f32;

/**
 * The GPU backend: our kernels (kernels/*.cu) through JCuda, all work queued in order on one stream.
 *
 * <p>Every op of {@link Backend} is wired to the wrappers of ecar.cuda.ops (issue 6), one launch or a few per op, in
 * the simplest correct form: each op reads and writes float32 and casts a GEMM's or convolution's input to bf16 in
 * scratch; no fusion across ops yet. Sampling steps ({@link #step}) are captured as CUDA graphs and replayed (see there).
 * <b>Not yet verified on a GPU</b>: the CLI's {@code --backend auto} uses it only after
 * ecar.selfcheck.GpuSelfCheck has passed on the device ({@code --backend cuda} forces it); CudaBackendOpsGpuTest and
 * CudaPipelineGpuTest are what a GPU run checks first.
 *
 * <p>Storage: activations and the ODE state are device-resident float32 ({@link DType#F32}); matrices, convolution
 * kernels and tables are bfloat16 ({@link #weight}), vectors (biases, norm weights) float32. Attention converts its
 * operands to bf16 in arena scratch (tensor cores take bf16), accumulates in f32 and writes f32; head sizes without a
 * flash kernel (the VAE's one head of C channels, tiny test models) go through GEMMs and a row softmax. Tensors made
 * inside a {@link #scope()} live in one arena and are reclaimed together when it closes; others get their own
 * allocation, freed when unreachable. Confined to one thread ({@link OwnerThread}): the first thread to use it owns it,
 * and a call from another fails; open one backend per thread.
 *
 * <p>K padding: the GEMM and the convolution read K (Ci) in chunks of 8; {@link CudaOperands} pads with zeros.
 *
 * <p>This class checks each op's arguments and dispatches; the machinery lives in package-private classes with one
 * job each: {@link CudaMemory} (arena, scopes' depth, own allocations), {@link CudaOperands} (operand dtypes and K
 * padding), {@link CudaSteps} (captured steps), {@link CudaAttention}, {@link CudaDiffusion} and {@link CudaFlow}.
 */
public final class CudaBackend implements Backend {
    /**
     * Arena for scopes and scratch, unless ECAR_CUDA_ARENA_MB says otherwise: most of the device memory free when the
     * backend opens (the rest holds the weights and the tensors made outside scopes; blocks free their activations as
     * they end, so a generation needs the weights, its KV caches and one block's work at a time), at least 256 MiB.
     */
    private static final long MIN_ARENA = 1L << 28;
    /** The arena's share of the device memory free when the backend opens (the rest: weights and other own allocations). */
    static final int ARENA_SHARE_PERCENT = 80;

    private final CudaContext ctx;
    private final Stream stream;
    private final CudaMemory memory;
    private final DeviceArena arena;
    /** The smallest step watchFinite found non-finite, or Integer.MAX_VALUE. */
    private final DeviceBuffer firstNonFinite;
    private final CudaSteps steps;
    private final CudaAttention attention;
    private final CudaOperands operands;
    private final GemmKernels gemm;
    private final ConvKernels conv;
    private final NormKernels norms;
    private final EmbedKernels embed;
    private final ElementwiseKernels ew;
    private final SampleKernels sample;
    private final CudaDiffusion diffusion;
    private final CudaFlow flow;
    /** Every public method but name() is checked first: the backend is confined to the thread that first uses it. */
    private final OwnerThread owner = new OwnerThread("the CUDA backend");
    /** A norm left for the next op's GEMM prologue (ECAR_NORM_PROLOGUE=on): run first by every op that does not take it. */
    private final DeferredNorm deferred;
    private boolean closed;

    public CudaBackend() {
        this(arenaBytesFromEnv());
    }

    public CudaBackend(long arenaBytes) {
        ctx = CudaContext.get();
        for (String family : KernelModule.FAMILIES) KernelModule.get(family);   // fail now, with the reason, if the kernels were not built
        stream = new Stream();
        Launcher launcher = Launcher.on(stream);
        int sms = ctx.device().multiprocessors();
        gemm = GemmKernels.forDevice(launcher, ctx.device(), this::splitScratch);
        conv = new ConvKernels(launcher, sms);
        norms = new NormKernels(launcher);
        deferred = new DeferredNorm((out, in) -> norms.rows(out.buffer(), Precision.BF16, in));
        embed = new EmbedKernels(launcher);
        ew = new ElementwiseKernels(launcher);
        sample = new SampleKernels(launcher);
        DiffusionKernels diffusionKernels = new DiffusionKernels(launcher);
        memory = new CudaMemory(stream, arenaBytes);
        arena = memory.arena();
        operands = new CudaOperands(memory, stream);
        firstNonFinite = memory.keep(DeviceBuffer.allocate(4, "first non-finite step"));
        firstNonFinite.upload(new int[]{Integer.MAX_VALUE}, stream);
        steps = new CudaSteps(memory, stream);
        steps.useGraphs(GraphSetting.on());
        attention = new CudaAttention(this, memory, operands, steps, stream, gemm, norms, embed, launcher,
                gemm.path() == ecar.cuda.ops.GemmPath.WGMMA ? ecar.cuda.TensorMapEncoder.DRIVER : null);
        diffusion = new CudaDiffusion(memory, operands, steps, stream, diffusionKernels);
        flow = new CudaFlow(memory, operands, steps, stream);
        settingsNotAtDefault(gemm.path());   // a bad value of any kernel setting is refused here, naming it, not at its first use
    }

    /**
     * The GEMM kernels this backend would take on {@code device} under the current setting (GemmPath: wgmma on compute
     * capability 9.0, mma.sync elsewhere or when forced), as a label, with the Hopper kernels' settings that are not the
     * default (pair stores, attention_sm90 not persistent, small GEMMs on gemm_sm90, RoPE not in the GEMM, clusters, programmatic
     * launches, norm prologues); "invalid (reason)" for a bad setting, which the backend itself rejects when it opens. The self-check keys its
     * verdict on it, so a setting not yet checked on this device is checked before auto trusts it.
     */
    public static String gemmPath(ecar.cuda.CudaProbe.Device device) {
        try {
            ecar.cuda.ops.GemmPath path = ecar.cuda.ops.GemmPath.choose(device.major(), device.minor(), ecar.cuda.ops.GemmPath.setting());
            return path.label + settingsNotAtDefault(path);
        } catch (IllegalArgumentException e) {
            return "invalid (" + e.getMessage() + ")";
        }
    }

    /** The kernel settings on {@code path} that are not at their default, each in brackets with the variable that chose it ("" for none). */
    private static String settingsNotAtDefault(ecar.cuda.ops.GemmPath path) {
        boolean hopper = path == ecar.cuda.ops.GemmPath.WGMMA;
        boolean pairs = hopper && ecar.cuda.ops.GemmKernels.PAIR_STORES.flipped();
        boolean perItem = hopper && ecar.cuda.ops.AttentionSm90.PER_ITEM.flipped();
        boolean small = hopper && ecar.cuda.ops.GemmKernels.SMALL_ON_MMA_SYNC.flipped();
        boolean wide = hopper && ecar.cuda.ops.GemmKernels.WIDE_TILES.flipped();
        boolean overlap = hopper && ecar.cuda.ops.AttentionSm90.OVERLAP.flipped();
        boolean ropePass = ecar.cuda.ops.GemmKernels.ROPE_PASS.flipped();
        boolean skinnyPlain = ecar.cuda.ops.GemmKernels.SKINNY_PLAIN.flipped();
        boolean clusters = hopper && ecar.cuda.ops.GemmKernels.CLUSTERS.flipped();
        boolean pdl = hopper && ecar.cuda.LaunchDriver.PROGRAMMATIC.flipped();
        boolean normPrologue = ecar.cuda.ops.GemmKernels.NORM_PROLOGUE.flipped();
        return (pairs ? " (pair stores: " + ecar.cuda.ops.GemmKernels.STORES_ENV + "=pairs)" : "")
                + (perItem ? " (attention_sm90 a CTA per item: " + ecar.cuda.ops.AttentionSm90.PERSISTENT_ENV + "=off)" : "")
                + (small ? " (fewer tiles than SMs on gemm.cu: " + ecar.cuda.ops.GemmKernels.SMALL_ENV + "=mma.sync)" : "")
                + (wide ? " (128 x 256 tiles where there is one per SM: " + ecar.cuda.ops.GemmKernels.TILE_ENV + "=128x256)" : "")
                + (overlap ? " (attention_sm90's S overlapping P·V: " + ecar.cuda.ops.AttentionSm90.OVERLAP_ENV + "=on)" : "")
                + (ropePass ? " (RoPE in a pass of its own: " + ecar.cuda.ops.GemmKernels.ROPE_ENV + "=pass)" : "")
                + (skinnyPlain ? " (gemm_skinny without K split or block rows: " + ecar.cuda.ops.GemmKernels.SKINNY_ENV + "=plain)" : "")
                + (clusters ? " (clusters of two sharing W by multicast: " + ecar.cuda.ops.GemmKernels.CLUSTER_ENV + "=on)" : "")
                + (pdl ? " (programmatic dependent launches: " + ecar.cuda.LaunchDriver.PROGRAMMATIC.env() + "=on)" : "")
                + (normPrologue ? " (norms in skinny GEMMs' prologues: " + ecar.cuda.ops.GemmKernels.NORM_PROLOGUE_ENV + "=on)" : "");
    }

    /** The default arena for this much free device memory: {@link #ARENA_SHARE_PERCENT}%, at least 256 MiB. */
    static long defaultArenaBytes(long freeBytes) {
        return Math.max(MIN_ARENA, freeBytes / 100 * ARENA_SHARE_PERCENT);
    }

    private static long arenaBytesFromEnv() {
        String mb = System.getenv("ECAR_CUDA_ARENA_MB");
        if (mb == null || mb.isBlank()) return defaultArenaBytes(CudaContext.get().memoryInfo()[0]);
        try {
            return Long.parseLong(mb.strip()) << 20;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("ECAR_CUDA_ARENA_MB='" + mb + "' is not a number of MiB");
        }
    }

    /**
     * What every op does first: checks the calling thread, and runs a norm held for a GEMM prologue that this op does
     * not take (DeferredNorm), so that it is queued before this op's kernels, as if it had not been deferred. The
     * linears that may take it check the thread alone, and take or run it before their first launch.
     */
    private void enter() {
        owner.check();
        deferred.flush();
    }

    /**
     * The device, and the kernels, their settings not at the default and the launch mode in force, so that a table or
     * results file says what ran (a compare run under ECAR_GEMM_SMALL=mma.sync says so in its JSON).
     */
    @Override
    public String name() {
        return "cuda:" + ctx.device().ordinal() + " " + ctx.device().name() + " (" + gemm.path().label + " kernels" + settingsNotAtDefault(gemm.path()) + ", sampling graphs "
                + (steps.graphsOn() ? "on" : "off") + ")";
    }

    /**
     * How many norms ran in the prologue of the GEMM that read them so far (ECAR_NORM_PROLOGUE=on): each a norm_rows
     * launch fewer. Tests check that the prologue was taken at all; ecar profile prints it.
     */
    public long normPrologues() {
        owner.check();
        return deferred.taken();
    }

    /** The stream every op is queued on (benchmarks record events on it). */
    public Stream stream() {
        enter();
        return stream;
    }

    public void synchronize() {
        enter();
        stream.synchronize();
    }

    /** Times the device's share of ops, gated so that the host's launch gaps drop out (ecar profile): see DeviceTimer. */
    public DeviceTimer deviceTimer(long gateNanos) {
        enter();
        return new DeviceTimer(stream, ew, gateNanos);
    }

    /** When on, every new tensor is filled with NaN before an op writes it: a kernel that skips an element shows. */
    public void poisonAllocations(boolean on) {
        enter();
        memory.poison(on);
    }

    // ------------------------------------------------------------------ allocation

    /** gemm_sm90's split-K partial sums: arena memory in a scope of their own, free again once the GEMM is queued. */
    private GemmKernels.Scratch.Lease splitScratch(long count, String label) {
        Scope s = scope();
        DeviceBuffer b = memory.reserve(4L * count, label);
        return new GemmKernels.Scratch.Lease() {
            @Override
            public ecar.cuda.DeviceAddress address() {
                return b;
            }

            @Override
            public void close() {
                s.close();
            }
        };
    }

    @Override
    public Scope scope() {
        enter();
        ArenaLedger.Mark m = arena.mark();
        int level = memory.enter();
        return Scope.closing(() -> {
            enter();
            // A graph still in flight is freed by the driver when it completes; its memory is reused only by work queued
            // after it on this stream.
            steps.closeLevel(level);
            memory.leave();
            arena.reset(m);   // later kernels on the stream run after the ones that used this memory
        });
    }

    // ------------------------------------------------------------------ captured sampling steps

    /**
     * The first step with a key runs eagerly (it fills the lazy caches: RoPE tables, padded and widened weights, whose
     * uploads cannot be captured); the second is captured as a CUDA graph and launched; later ones write the scalars
     * and replay it. The graph's scratch is the arena range its capture used, kept reserved (its addresses are baked
     * in) until the scope open at capture closes, which also destroys the graph; a replay allocates nothing.
     */
    @Override
    public void step(StepKey key, StepScalars scalars, Runnable body) {
        enter();
        Runnable whole = endingQueued(body);
        steps.step(key, scalars, whole, () -> Backend.super.step(key, scalars, whole));
    }

    /**
     * The first run of a loop key runs eagerly (its steps captured one by one); the second is captured whole as one
     * graph and launched; later ones, in later generations, write every step's scalars and replay it, where the arena
     * holds what it held at the capture (else it is captured again). The loop's scratch is the arena range its capture
     * used, taken for the launch and free again after it. Graphs of up to 24 loops are kept, the least recently used
     * going first.
     */
    @Override
    public void loop(StepKey key, java.util.List<StepScalars> scalars, Runnable body) {
        enter();
        Runnable whole = endingQueued(body);
        steps.loop(key, scalars, whole, () -> Backend.super.loop(key, scalars, whole));
    }

    /**
     * The body, then any norm it left for a GEMM prologue that never came: run inside the body, so that a capture of it
     * holds every kernel of the body (a norm run after the capture would be missing from the replays).
     */
    private Runnable endingQueued(Runnable body) {
        return () -> {
            body.run();
            deferred.flush();
        };
    }

    /** Whether the loop's capture failed once, so that it runs eagerly for good (said on stderr when it happened). */
    public boolean loopCaptureRefused(StepKey key, int steps) {
        enter();
        return this.steps.loopRefused(key, steps);
    }

    /** Two with graphs on: one eager run (filling the lazy caches), one capture; the third run replays. */
    @Override
    public int loopRunsBeforeReplay() {
        enter();
        return steps.graphsOn() ? 2 : 0;
    }

    /** Off: {@link #step} and {@link #loop} run every body eagerly (the uncaptured path, for comparisons). On by default. */
    public void useGraphs(boolean on) {
        enter();
        steps.useGraphs(on);
    }

    /** The arena's bookkeeping (tests check that a replay allocates nothing). */
    public ArenaLedger arenaLedger() {
        enter();
        return arena.ledger();
    }

    // ------------------------------------------------------------------ memory

    @Override
    public Tensor upload(FloatTensor host) {
        enter();
        steps.noHostTraffic("upload");
        CudaTensor t = memory.alloc(host.shape(), DType.F32, "upload " + host.shape());
        if (host.shape().numel() > 0) t.buffer().upload(host.data(), stream);
        return t;
    }

    /**
     * Vectors (biases, norm and GroupNorm weights) stay float32, as the kernels read them and at no cost in memory;
     * everything else (matrices, convolution kernels, tables, position embeddings) is stored in bf16.
     */
    @Override
    public Tensor weight(FloatTensor host) {
        enter();
        steps.noHostTraffic("weight");
        if (host.shape().rank() <= 1) return upload(host);
        float[] d = host.data();
        short[] h = new short[d.length];
        for (int i = 0; i < d.length; i++) h[i] = Bf16.fromFloat(d[i]);
        CudaTensor t = memory.alloc(host.shape(), DType.BF16, "weight " + host.shape());
        if (h.length > 0) t.buffer().upload(h, stream);
        return t.asConstant();
    }

    @Override
    public FloatTensor download(Tensor t) {
        enter();
        steps.noHostTraffic("download");
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
        enter();
        return memory.zeroed(shape, DType.F32, "zeros " + shape);
    }

    @Override
    public Tensor reshape(Tensor t, Shape shape) {
        enter();
        return c(t, "reshape").view(shape);
    }

    @Override
    public Tensor sliceBatch(Tensor x, int from, int to) {
        enter();
        Check.sliceBatch(x, from, to);
        return c(x, "sliceBatch").sliceFirst(from, to);
    }

    @Override
    public Tensor concatBatch(Tensor a, Tensor b) {
        enter();
        Shape so = Check.concatBatch(a, b);
        CudaTensor x = operands.f32In(a, "concatBatch"), y = operands.f32In(b, "concatBatch");
        CudaTensor o = memory.alloc(so, DType.F32, "concatBatch");
        o.buffer().copyFrom(x.buffer(), 0, 0, x.bytes(), stream);
        o.buffer().copyFrom(y.buffer(), 0, x.bytes(), y.bytes(), stream);
        return o;
    }

    @Override
    public Tensor concatTokens(Tensor a, Tensor b) {
        enter();
        Shape so = Check.concatTokens(a, b), sa = a.shape(), sb = b.shape();
        CudaTensor x = operands.f32In(a, "concatTokens"), y = operands.f32In(b, "concatTokens");
        int batch = sa.dim(0), la = sa.dim(1), lb = sb.dim(1), w = sa.last();
        CudaTensor o = memory.alloc(so, DType.F32, "concatTokens");
        long ra = 4L * la * w, rb = 4L * lb * w, ro = ra + rb;
        o.buffer().copy2dFrom(x.buffer(), 0, ra, 0, ro, ra, batch, stream);
        o.buffer().copy2dFrom(y.buffer(), 0, rb, ra, ro, rb, batch, stream);
        return o;
    }

    @Override
    public Tensor chunk(Tensor x, int n, int i) {
        enter();
        Shape s = x.shape(), so = Check.chunk(x, n, i);
        CudaTensor t = operands.f32In(x, "chunk");
        int w = s.last(), cw = so.last();
        CudaTensor o = memory.alloc(so, DType.F32, "chunk " + i + "/" + n);
        o.buffer().copy2dFrom(t.buffer(), 4L * i * cw, 4L * w, 0, 4L * cw, 4L * cw, s.rows(), stream);
        return o;
    }

    // ------------------------------------------------------------------ attention

    @Override
    public Tensor attention(Tensor q, Tensor k, Tensor v, int heads) {
        enter();
        Check.attention("attention", q, k, v, heads);
        return attention.attend("attention", q, k, v, heads, 0, 0, false, false, null);
    }

    @Override
    public Tensor attentionRope(Tensor q, Tensor k, Tensor v, int heads, int side, int span, boolean ropeKeys) {
        enter();
        Check.attentionRope(q, k, v, heads, side, ropeKeys);
        return attention.attend("attentionRope", q, k, v, heads, side, span, true, ropeKeys, null);
    }

    /**
     * Attention over a sequence of stages with the stage-block-causal mask: a query of stage s sees the keys of
     * stages 0..s. q, k, v [B, L, H·d] with L = the sum of {@code stageTokens}.
     */
    public Tensor attentionBlockCausal(Tensor q, Tensor k, Tensor v, int heads, int[] stageTokens) {
        enter();
        Check.stageTokens(q, k, stageTokens);
        Check.attention("attentionBlockCausal", q, k, v, heads);
        return attention.attend("attentionBlockCausal", q, k, v, heads, 0, 0, false, false, stageTokens);
    }

    /** The fused qkv read in place: one pass to bf16 (q and k rotated on the way), then the flash kernel on its row stride. */
    @Override
    public Tensor selfAttention(Tensor qkv, int heads, int side, int span, boolean rope) {
        enter();
        Shape s = qkv.shape();
        Check.that(s.rank() == 3 && s.last() % 3 == 0 && heads > 0 && (s.last() / 3) % heads == 0, "selfAttention",
                "qkv " + s + " with " + heads + " heads; expected [B, L, 3·W] with W a multiple of the heads");
        Check.that(!rope || s.dim(1) == side * side, "selfAttention", "qkv " + s + " does not hold a " + side + "×" + side + " token grid");
        int d = s.last() / 3 / heads;
        if (!Attention.hasKernel(d) || (s.last() / 3) % 8 != 0) return Backend.super.selfAttention(qkv, heads, side, span, rope);
        return attention.selfAttention(qkv, heads, side, span, rope);
    }

    /** One qkv_to_bf16 pass: q and k rotated, all three rounded to bf16 (a matmul operand). */
    @Override
    public Tensor rope2dQk(Tensor qkv, int heads, int side, int span) {
        enter();
        Check.rope2dQk("rope2dQk", qkv, heads, side);
        return attention.qkvToBf16("rope2dQk", qkv, heads, side, span);
    }

    /**
     * One GEMM whose epilogue rotates q and k (GemmKernels.Rope) and writes bf16: no float32 product, no RoPE pass
     * (ECAR_GEMM_ROPE=pass runs them as before, for comparisons).
     */
    @Override
    public Tensor linearRope(Tensor x, Tensor w, Tensor bias, int heads, int side, int span) {
        owner.check();   // the GEMM below takes a deferred norm, or runs it first
        if (GemmKernels.ROPE_PASS.flipped()) return Backend.super.linearRope(x, w, bias, heads, side, span);
        int width = Check.rope2dQk("linearRope", Check.linear(x, w, bias), heads, side);
        return linearRotating("linearRope", x, w, bias, side, span, width / heads, 2 * width);
    }

    /** The same for queries alone: every column rotated, bf16 out (ECAR_GEMM_ROPE=pass: the product, then rope2d). */
    @Override
    public Tensor linearRopeQueries(Tensor x, Tensor w, Tensor bias, int heads, int side, int span) {
        owner.check();   // the GEMM below takes a deferred norm, or runs it first
        if (GemmKernels.ROPE_PASS.flipped()) return Backend.super.linearRopeQueries(x, w, bias, heads, side, span);
        Shape so = Check.linear(x, w, bias);
        return linearRotating("linearRopeQueries", x, w, bias, side, span, Check.rope2d("linearRopeQueries", so, heads, side), so.last());
    }

    /**
     * ARPG's queries: one GEMM whose epilogue rotates every column by the table rows (GemmKernels.Rope with a row list)
     * and writes bf16, where a rope_rows pass and a cast read the float32 product (ECAR_GEMM_ROPE=pass runs them).
     */
    @Override
    public Tensor linearRopeRows(Tensor x, Tensor w, Tensor bias, int heads, Tensor cos, Tensor sin, Tensor rows) {
        owner.check();   // the GEMM below takes a deferred norm, or runs it first
        if (GemmKernels.ROPE_PASS.flipped()) return Backend.super.linearRopeRows(x, w, bias, heads, cos, sin, rows);
        String op = "linearRopeRows";
        Shape so = Check.linear(x, w, bias);
        Check.that(so.rank() == 3, op, "x " + x.shape() + ": expected [B, L, K]");
        Check.ropeTables(op, so.last(), heads, so.dim(1), cos, sin, rows);
        return linear(op, Precision.BF16, x, w, bias, Activation.NONE, new GemmKernels.Rope(tableRope(op, cos, sin, rows), so.dim(1), so.last() / heads, so.last()));
    }

    /** bf16 x·wᵀ + bias with its first {@code columns} columns rotated in the epilogue by the 2D RoPE tables of the grid. */
    private CudaTensor linearRotating(String op, Tensor x, Tensor w, Tensor bias, int side, int span, int headDim, int columns) {
        return linear(op, Precision.BF16, x, w, bias, Activation.NONE, new GemmKernels.Rope(stageRope(side, span, headDim), side * side, headDim, columns));
    }

    @Override
    public Tensor rope2d(Tensor x, int heads, int side, int span) {
        enter();
        Check.rope2d(x, heads, side);
        CudaTensor t = operands.f32In(x, "rope2d");
        return attention.rope2d(t, heads, side, span);
    }

    @Override
    public Tensor ropeRows(Tensor x, int heads, Tensor cos, Tensor sin, Tensor rows) {
        enter();
        String op = "ropeRows";
        Shape s = Check.ropeRows(x, heads, cos, sin, rows);
        CudaTensor o = memory.alloc(s, DType.F32, op);
        embed.ropeRows(o.buffer(), operands.f32In(x, op).buffer(), operands.f32In(rows, op).buffer(), s.dim(0), s.dim(1), s.last(), s.last() / heads,
                operands.f32In(cos, op).buffer(), operands.f32In(sin, op).buffer(), cos.shape().dim(0));
        return o;
    }

    /**
     * The bf16 keys and values of one attention layer over a generation: [B, capacity, H·d] each in the scope open
     * when it is made, filled by {@link #kvAppend} (kv_append writes the new rows in place).
     */
    private final class CudaKvCache extends KvCache {
        final CudaTensor k, v;

        CudaKvCache(int batch, int capacity, int width) {
            super(batch, capacity, width);
            Shape s = Shape.of(batch, capacity, width);
            this.k = memory.alloc(s, DType.BF16, "kv cache keys");
            this.v = memory.alloc(s, DType.BF16, "kv cache values");
        }

        /**
         * kv_append: l tokens of keys and values (f32 rows ld floats apart) after those held, the keys rotated by
         * {@code rope} (head size headDim) where given; where {@code queries} is given (same rows), they are rotated the
         * same way into a new bf16 [B, l, width] tensor, returned (else null).
         */
        CudaTensor append(DeviceAddress keys, DeviceAddress values, int l, int ld, int headDim, RopeTable rope, DeviceAddress queries) {
            CudaTensor q = queries == null ? null : memory.alloc(Shape.of(batch(), l, width()), DType.BF16, "queries, rotated");
            Attention.kvAppend(stream, k.buffer(), v.buffer(), keys, values, batch(), l, width(), ld, length(), capacity(), headDim, rope,
                    queries, q == null ? null : q.buffer());
            appended(l);
            return q;
        }

        /** The held tokens as contiguous [B, length, width] tensors (bf16 keys, f32 values) for the GEMM fallback. */
        CudaTensor[] dense() {
            Shape s = Shape.of(batch(), length(), width());
            CudaTensor kd = memory.alloc(s, DType.BF16, "kv cache keys, dense"), vb = memory.alloc(s, DType.BF16, "kv cache values, dense");
            long row = 2L * length() * width(), pitch = 2L * capacity() * width();
            kd.buffer().copy2dFrom(k.buffer(), 0, pitch, 0, row, row, batch(), stream);
            vb.buffer().copy2dFrom(v.buffer(), 0, pitch, 0, row, row, batch(), stream);
            CudaTensor vd = memory.alloc(s, DType.F32, "kv cache values, dense f32");
            Attention.castToF32(stream, vd.buffer(), vb.buffer(), s.numel());
            return new CudaTensor[]{kd, vd};
        }
    }

    @Override
    public KvCache kvCache(int batch, int capacity, int width) {
        enter();
        Check.that(width % 2 == 0, "kvCache", "width " + width + " must be even (kv_append writes pairs)");
        return new CudaKvCache(batch, capacity, width);
    }

    @Override
    public void kvAppend(KvCache cache, Tensor keys, Tensor values) {
        enter();
        int l = cache.checkAppend(keys, values);
        // the head size only matters for the RoPE the kernel can apply on the way in; none here (keys come rotated)
        cuda(cache).append(operands.f32In(keys, "kvAppend").buffer(), operands.f32In(values, "kvAppend").buffer(), l, cache.width(), cache.width(), null, null);
    }

    /**
     * Straight from the fused qkv: kv_append reads its keys, values and queries at row stride 3·width, writes the keys
     * (rotated) and values to the cache and the rotated bf16 queries, in one pass; then attention on the cache.
     */
    @Override
    public Tensor selfAttention(Tensor qkv, KvCache cache, int heads, int side, int span) {
        enter();
        String op = "selfAttention";
        int l = cache.checkAppendFused(op, qkv, 3, heads, side), d = cache.width() / heads;
        CudaKvCache c = cuda(cache);
        CudaTensor q = appendFused(op, c, operands.f32In(qkv, op).buffer(), 3, l, d, stageRope(side, span, d));
        return attendCache(op, q, c, heads, side, span, false);
    }

    /** kv_append reading the keys and the values of the fused kv at row stride 2·width, rotating the keys. */
    @Override
    public void kvAppendRope(KvCache cache, Tensor kv, int heads, int side, int span) {
        enter();
        int l = cache.checkAppendFused("kvAppendRope", kv, 2, heads, side), d = cache.width() / heads;
        appendFused("kvAppendRope", cuda(cache), operands.f32In(kv, "kvAppendRope").buffer(), 2, l, d, stageRope(side, span, d));
    }

    /** As {@link #selfAttention(Tensor, KvCache, int, int, int)} with ARPG's RoPE by table rows: one kv_append pass, then attention. */
    @Override
    public Tensor selfAttentionRopeRows(Tensor qkv, KvCache cache, int heads, Tensor cos, Tensor sin, Tensor rows) {
        enter();
        String op = "selfAttentionRopeRows";
        int l = cache.checkAppendFusedRows(op, qkv, 3, heads, cos, sin, rows), d = cache.width() / heads;
        CudaKvCache c = cuda(cache);
        CudaTensor q = appendFused(op, c, operands.f32In(qkv, op).buffer(), 3, l, d, tableRope(op, cos, sin, rows));
        return attendCache(op, q, c, heads, 0, 0, false);
    }

    /** kv_append reading the fused kv at row stride 2·width, rotating the keys by ARPG's table rows. */
    @Override
    public void kvAppendRopeRows(KvCache cache, Tensor kv, int heads, Tensor cos, Tensor sin, Tensor rows) {
        enter();
        String op = "kvAppendRopeRows";
        int l = cache.checkAppendFusedRows(op, kv, 2, heads, cos, sin, rows), d = cache.width() / heads;
        appendFused(op, cuda(cache), operands.f32In(kv, op).buffer(), 2, l, d, tableRope(op, cos, sin, rows));
    }

    /**
     * kv_append from a fused projection f [B, l, parts·width] (qkv: 3 parts, kv: 2), read in place at row stride
     * parts·width: keys and values into the cache, and for a qkv its rotated bf16 queries, returned (for a kv, null).
     */
    private CudaTensor appendFused(String op, CudaKvCache c, DeviceBuffer f, int parts, int l, int headDim, RopeTable rope) {
        int w = c.width();
        long skip = 4L * w * (parts - 2);   // the queries come first in a qkv
        DeviceBuffer keys = f.slice(skip, f.bytes() - skip, op + " keys"), values = f.slice(skip + 4L * w, f.bytes() - skip - 4L * w, op + " values");
        return c.append(keys, values, l, parts * w, headDim, rope, parts == 3 ? f : null);
    }

    /** FlowAR's 2D RoPE tables of a side×side stage (made once per grid), token t by row t. */
    private RopeTable stageRope(int side, int span, int headDim) {
        CudaTensor[] cs = attention.ropeTable(side, span, headDim);
        return RopeTable.ofStage(cs[0].buffer(), cs[1].buffer(), side * side);
    }

    /** ARPG's RoPE tables, token t by table row rows[t]. */
    private RopeTable tableRope(String op, Tensor cos, Tensor sin, Tensor rows) {
        return new RopeTable(operands.f32In(cos, op).buffer(), operands.f32In(sin, op).buffer(), operands.f32In(rows, op).buffer(),
                cos.shape().dim(0));
    }

    /** kv_append with the 2D RoPE table: rotation, bf16 rounding and the cache write in one pass. */
    @Override
    public void kvAppendRope(KvCache cache, Tensor keys, Tensor values, int heads, int side, int span) {
        enter();
        Check.rope2d(keys, heads, side);
        int l = cache.checkAppend(keys, values), d = cache.width() / heads;
        cuda(cache).append(operands.f32In(keys, "kvAppendRope").buffer(), operands.f32In(values, "kvAppendRope").buffer(), l, cache.width(), d,
                stageRope(side, span, d), null);
    }

    @Override
    public Tensor attention(Tensor q, KvCache cache, int heads) {
        enter();
        return attendCache("attention", q, cuda(cache), heads, 0, 0, false);
    }

    @Override
    public Tensor attentionRope(Tensor q, KvCache cache, int heads, int side, int span) {
        enter();
        Check.that(q.shape().rank() == 3 && q.shape().dim(1) == side * side, "attentionRope", "q " + q.shape() + " does not hold a " + side + "×" + side + " token grid");
        return attendCache("attentionRope", q, cuda(cache), heads, side, span, true);
    }

    /** The flash kernel straight on the cache (rows capacity apart) where the head size has one; else the GEMMs on a dense copy. */
    private Tensor attendCache(String op, Tensor q, CudaKvCache c, int heads, int side, int span, boolean ropeQ) {
        c.checkAttend(q, heads);
        Shape sq = q.shape();
        int d = c.width() / heads;
        if (!Attention.hasKernel(d)) {
            CudaTensor[] kv = c.dense();
            return attention.attend(op, q, kv[0], kv[1], heads, side, span, ropeQ, false, null);
        }
        CudaTensor out = attention.output(sq, op);
        Attention.Problem p = Attention.Problem.cached(c.batch(), heads, d, sq.dim(1), c.length(), c.capacity());
        try (Scope scratch = scope()) {
            if (attention.hopper(p, false)) {   // the cache is bf16 with its keys rotated when they were appended
                CudaTensor qb = ropeQ ? attention.rope2dBf16(operands.f32In(q, op), heads, side, span) : operands.bf16(q, op);
                ecar.cuda.ops.AttentionSm90.forward(attention.launcher(), attention.hopperMaps(), CudaAttention.hopperCtas(), p, qb.buffer(), c.k.buffer(), c.v.buffer(), out.buffer(), true);
                return out;
            }
            CudaTensor qb = operands.bf16(q, op);
            Attention.Rope rope = null;
            if (ropeQ) {
                CudaTensor[] cs = attention.ropeTable(side, span, d);
                rope = new Attention.Rope(cs[0].buffer(), cs[1].buffer(), side * side, true, false);
            }
            Attention.forward(stream, p, qb.buffer(), c.k.buffer(), c.v.buffer(), out.buffer(), true, rope, null);
        }
        return out;
    }

    private static CudaKvCache cuda(KvCache c) {
        if (c instanceof CudaKvCache k) return k;
        throw new IllegalArgumentException("the CUDA backend was given a " + c.getClass().getSimpleName() + "; expected a KV cache it made");
    }

    // ------------------------------------------------------------------ sampler state

    @Override
    public Tensor randn(Shape shape, long seed, int noiseStream) {
        enter();
        steps.noHostTraffic("randn (its seed would be baked into the graph)");
        CudaTensor o = memory.alloc(shape, DType.F32, "randn " + shape);
        if (shape.numel() > 0) Flow.randn(stream, o.buffer(), shape.numel(), seed, noiseStream);
        return o;
    }

    @Override
    public Tensor randn(Shape shape, long seed, int noiseStream, int[] images) {
        enter();
        steps.noHostTraffic("randn (its seed would be baked into the graph)");
        Check.imageRows("randn", images.length, shape);
        CudaTensor o = memory.alloc(shape, DType.F32, "randn " + shape);
        if (shape.numel() == 0) return o;
        long perImage = shape.numel() / shape.dim(0);
        for (int[] run : new Noise.PerImage(seed, noiseStream, images).runs()) {   // one launch per run of consecutive images
            Flow.randn(stream, o.buffer().slice(4L * run[0] * perImage, 4L * run[1] * perImage, "randn rows"), run[1] * perImage, seed, noiseStream,
                    run[2], perImage);
        }
        return o;
    }

    @Override
    public Tensor condTwice(Tensor x) {
        enter();
        Check.halves("condTwice", x);
        Shape s = x.shape();
        CudaTensor t = operands.f32In(x, "condTwice");
        CudaTensor o = memory.alloc(s, DType.F32, "condTwice");
        Flow.condTwice(stream, o.buffer(), t.buffer(), s.numel() / 2);
        return o;
    }

    @Override
    public void flowEulerStep(Tensor x, Tensor v, float dt, float cfgWeight, boolean guided) {
        enter();
        Check.flowEulerStep(x, v, guided);
        flow.eulerStep(x, v, dt, cfgWeight, guided);
    }

    @Override
    public Tensor stageJump(Tensor x, int side, float alpha, float beta, float gamma, Noise noise) {
        enter();
        steps.noHostTraffic("stageJump (its noise would be baked into the graph)");
        Check.noise("stageJump", noise, Check.stageJump(x, side));
        return flow.stageJump(x, side, alpha, beta, gamma, noise);
    }

    @Override
    public void cfgCombineChannels(Tensor out, int guidedChannels, float scale) {
        enter();
        Check.cfgCombineChannels(out, guidedChannels);
        if (guidedChannels <= 0) return;
        diffusion.cfgCombineChannels(out, guidedChannels, scale);
    }

    /** Queued on the stream, captured with the step or loop it is in: the step is a launch argument. */
    @Override
    public void watchFinite(Tensor x, int step) {
        enter();
        Check.that(step >= 0, "watchFinite", "step " + step + "; expected ≥ 0");
        CudaTensor t = operands.f32In(x, "watchFinite");
        if (x.shape().numel() > 0) Flow.firstNonFinite(stream, t.buffer(), x.shape().numel(), step, firstNonFinite);
    }

    @Override
    public int firstNonFinite() {
        enter();
        steps.noHostTraffic("firstNonFinite");
        int[] r = new int[1];
        firstNonFinite.download(r, stream);
        firstNonFinite.upload(new int[]{Integer.MAX_VALUE}, stream);
        return r[0] == Integer.MAX_VALUE ? -1 : r[0];
    }

    // ------------------------------------------------------------------ linear algebra and convolution

    @Override
    public Tensor linear(Tensor x, Tensor w, Tensor bias, Activation act) {
        owner.check();   // the GEMM below takes a deferred norm, or runs it first
        return linear("linear", Precision.F32, x, w, bias, act);
    }

    /** The GEMM writes bf16: the value a cast pass would have rounded from its float32 output, without that pass. */
    @Override
    public Tensor linearOperand(Tensor x, Tensor w, Tensor bias, Activation act) {
        owner.check();   // the GEMM below takes a deferred norm, or runs it first
        return linear("linearOperand", Precision.BF16, x, w, bias, act);
    }

    /** y = act(x·wᵀ + bias) in {@code out}'s precision, by one GEMM on the bf16 operands (K padded to 8 where needed). */
    private CudaTensor linear(String op, Precision out, Tensor x, Tensor w, Tensor bias, Activation act) {
        return linear(op, out, x, w, bias, act, null);
    }

    /** The same with a fused qkv's q and k rotated by the epilogue where {@code rope} is given (then act is NONE). */
    private CudaTensor linear(String op, Precision out, Tensor x, Tensor w, Tensor bias, Activation act, GemmKernels.Rope rope) {
        Shape so = Check.linear(x, w, bias);
        int n = so.last(), k = x.shape().last(), m = so.rows();
        CudaTensor y = memory.alloc(so, out == Precision.F32 ? DType.F32 : DType.BF16, op + " out");
        NormInput normed = takeNorm(x, n, y, op);
        try (Scope scratch = scope()) {
            int kp = CudaOperands.padTo8(k);
            CudaTensor wb = operands.gemmWeight(w, kp, op);
            DeviceAddress b = operands.address(bias, op);
            GemmKernels.Epilogue e = rope == null ? GemmKernels.Epilogue.of(b, act) : GemmKernels.Epilogue.rope(b, rope);
            if (normed != null) gemm.linearNormed(y.buffer(), out, normed, wb.buffer(), n, e);
            else gemm.linear(y.buffer(), out, operands.gemmInput(x, m, k, kp, op).buffer(), wb.buffer(), m, n, kp, e);
        }
        return y;
    }

    /**
     * The norm held for a GEMM prologue where x is its output and gemm_skinny's norm entry takes the product with N =
     * {@code n} columns into y (the caller then launches GemmKernels.linearNormed); else null, the held norm (if any) run first.
     */
    private NormInput takeNorm(Tensor x, int n, CudaTensor y, String op) {
        return deferred.take(x, in -> gemm.fusesNorm(in, n, y.buffer()), op);
    }

    /** One GEMM whose epilogue adds gate ⊙ (input·wᵀ + bias) to x in place (the RESIDUAL epilogue, res = Y = x). */
    @Override
    public void linearIntoResidual(Tensor x, Tensor input, Tensor w, Tensor bias, Tensor gate) {
        owner.check();   // the GEMM below takes a deferred norm, or runs it first
        int ratio = gate == null ? 1 : Check.groupRatio("linearIntoResidual", x, gate);
        linearIntoResidual(x, input, w, bias, gate == null ? null : operands.f32In(gate, "linearIntoResidual").buffer(), ratio, 0);
    }

    /** The gate chunk read in place: its first element, and the modulation's row stride (chunks·N) as the epilogue's gateLd. */
    @Override
    public void linearIntoResidual(Tensor x, Tensor input, Tensor w, Tensor bias, Tensor mod, int chunks, int gateChunk) {
        owner.check();   // the GEMM below takes a deferred norm, or runs it first
        Shape sg = Check.chunk(mod, chunks, gateChunk), s = x.shape();
        Check.that(sg.last() == s.last() && sg.rows() > 0 && s.rows() % sg.rows() == 0, "linearIntoResidual",
                "modulation " + mod.shape() + " in " + chunks + " chunks for x " + s + "; expected chunks of " + s.last() + " per group of x's rows");
        DeviceBuffer mb = operands.f32In(mod, "linearIntoResidual").buffer();
        long at = 4L * gateChunk * s.last();
        linearIntoResidual(x, input, w, bias, mb.slice(at, mb.bytes() - at, "gate chunk " + gateChunk), s.rows() / sg.rows(), chunks * s.last());
    }

    /** x += gate ⊙ (input·wᵀ + bias) in one GEMM: gate rows {@code gateLd} floats apart (0: dense), one per {@code ratio} rows of x. */
    private void linearIntoResidual(Tensor x, Tensor input, Tensor w, Tensor bias, DeviceAddress gate, int ratio, int gateLd) {
        Shape so = Check.linear(input, w, bias);
        Check.that(so.equals(x.shape()), "linearIntoResidual", "the projection " + so + " does not match the residual stream " + x.shape());
        int n = so.last(), k = input.shape().last(), m = so.rows();
        CudaTensor y = f32(x, "linearIntoResidual");
        NormInput normed = takeNorm(input, n, y, "linearIntoResidual");
        try (Scope scratch = scope()) {
            int kp = CudaOperands.padTo8(k);
            CudaTensor wb = operands.gemmWeight(w, kp, "linearIntoResidual");
            GemmKernels.Epilogue e = GemmKernels.Epilogue.residual(operands.address(bias, "linearIntoResidual"), y.buffer(), gate, ratio, gateLd);
            if (normed != null) gemm.linearNormed(y.buffer(), Precision.F32, normed, wb.buffer(), n, e);
            else gemm.linear(y.buffer(), Precision.F32, operands.gemmInput(input, m, k, kp, "linearIntoResidual").buffer(), wb.buffer(), m, n, kp, e);
        }
    }

    /**
     * One GEMM over the interleaved gate and value rows whose GATE_PAIRS epilogue writes act(gate) ⊙ value per hidden
     * unit: neither half is ever stored.
     */
    @Override
    public Tensor gatedLinear(Tensor x, Tensor w, Tensor bias, Activation act) {
        owner.check();   // the GEMM below takes a deferred norm, or runs it first
        Shape so = Check.gatedLinear(x, w, bias);
        int n = so.last(), k = x.shape().last(), m = so.rows();
        CudaTensor y = memory.alloc(so, DType.BF16, "gatedLinear out (bf16)");   // a matmul operand: the MLP's output projection reads it
        NormInput normed = takeNorm(x, 2 * n, y, "gatedLinear");
        try (Scope scratch = scope()) {
            int kp = CudaOperands.padTo8(k);
            CudaTensor wb = operands.gemmWeight(w, kp, "gatedLinear");
            GemmKernels.Epilogue e = GemmKernels.Epilogue.gatePairs(operands.address(bias, "gatedLinear"), act);
            if (normed != null) gemm.linearNormed(y.buffer(), Precision.BF16, normed, wb.buffer(), 2 * n, e);
            else gemm.linear(y.buffer(), Precision.BF16, operands.gemmInput(x, m, k, kp, "gatedLinear").buffer(), wb.buffer(), m, 2 * n, kp, e);
        }
        return y;
    }

    @Override
    public Tensor conv3x3(Tensor x, Tensor w, Tensor bias) {
        enter();
        Shape s = x.shape(), so = Check.conv3x3(x, w, bias);
        int co = so.last();
        int ci = s.last(), cip = CudaOperands.padTo8(ci);
        CudaTensor y = memory.alloc(so, DType.F32, "conv3x3 out");
        try (Scope scratch = scope()) {
            CudaTensor xb = operands.gemmInput(x, s.rows(), ci, cip, "conv3x3"), wb = operands.gemmWeight(w, cip, "conv3x3");
            conv.conv3x3(y.buffer(), Precision.F32, xb.buffer(), wb.buffer(), operands.address(bias, "conv3x3"), null,
                    s.dim(0), s.dim(1), s.dim(2), cip, co, Activation.NONE);
        }
        return y;
    }

    // ------------------------------------------------------------------ elementwise

    @Override
    public Tensor add(Tensor a, Tensor b) {
        enter();
        int ratio = Check.groupRatio("add", a, b);
        Shape s = a.shape();
        CudaTensor o = memory.alloc(s, DType.F32, "add");
        ew.add(o.buffer(), Precision.F32, operands.f32In(a, "add").buffer(), operands.f32In(b, "add").buffer(), s.rows(), s.last(), ratio);
        return o;
    }

    @Override
    public Tensor addTiled(Tensor a, Tensor b) {
        enter();
        Check.tiles(a, b);
        CudaTensor o = memory.alloc(a.shape(), DType.F32, "addTiled");
        ew.addTiled(o.buffer(), Precision.F32, operands.f32In(a, "addTiled").buffer(), operands.f32In(b, "addTiled").buffer(), a.shape().numel(), b.shape().numel());
        return o;
    }

    @Override
    public Tensor mul(Tensor a, Tensor b) {
        enter();
        Check.sameShape("mul", a, b);
        CudaTensor o = memory.alloc(a.shape(), DType.F32, "mul");
        ew.mul(o.buffer(), Precision.F32, operands.f32In(a, "mul").buffer(), operands.f32In(b, "mul").buffer(), a.shape().numel());
        return o;
    }

    @Override
    public Tensor silu(Tensor x) {
        enter();
        CudaTensor o = memory.alloc(x.shape(), DType.F32, "silu");
        ew.silu(o.buffer(), Precision.F32, operands.f32In(x, "silu").buffer(), x.shape().numel());
        return o;
    }

    @Override
    public Tensor gatedResidual(Tensor x, Tensor gate, Tensor y) {
        enter();
        Check.sameShape("gatedResidual", x, y);
        int ratio = Check.groupRatio("gatedResidual", x, gate);
        Shape s = x.shape();
        CudaTensor o = memory.alloc(s, DType.F32, "gatedResidual");
        ew.gatedResidual(o.buffer(), operands.f32In(x, "gatedResidual").buffer(), operands.f32In(gate, "gatedResidual").buffer(),
                operands.f32In(y, "gatedResidual").buffer(), s.rows(), s.last(), ratio);
        return o;
    }

    @Override
    public void gatedResidualInPlace(Tensor x, Tensor gate, Tensor y) {
        enter();
        Check.sameShape("gatedResidualInPlace", x, y);
        int ratio = Check.groupRatio("gatedResidualInPlace", x, gate);
        Shape s = x.shape();
        CudaTensor t = f32(x, "gatedResidualInPlace");   // gated_residual allows out = x
        ew.gatedResidual(t.buffer(), t.buffer(), operands.f32In(gate, "gatedResidualInPlace").buffer(),
                operands.f32In(y, "gatedResidualInPlace").buffer(), s.rows(), s.last(), ratio);
    }

    @Override
    public void addInPlace(Tensor x, Tensor y) {
        enter();
        int ratio = Check.groupRatio("addInPlace", x, y);
        Shape s = x.shape();
        CudaTensor t = f32(x, "addInPlace");   // add_grouped allows out = a
        ew.add(t.buffer(), Precision.F32, t.buffer(), operands.f32In(y, "addInPlace").buffer(), s.rows(), s.last(), ratio);
    }

    @Override
    public void assign(Tensor dst, Tensor src) {
        enter();
        Check.sameShape("assign", dst, src);
        CudaTensor d = f32(dst, "assign"), t = operands.f32In(src, "assign");
        d.buffer().copyFrom(t.buffer(), t.bytes(), stream);
    }

    // ------------------------------------------------------------------ norms

    @Override
    public Tensor norm(Tensor x, Norm kind, Tensor weight, float eps) {
        enter();
        return norm(x, kind, weight, eps, Precision.F32);
    }

    /** Rounded to bf16 as norm_rows writes it: the projections that follow read it as is (no cast pass per projection). */
    @Override
    public Tensor normForMatmul(Tensor x, Norm kind, Tensor weight, float eps) {
        enter();
        return norm(x, kind, weight, eps, Precision.BF16);
    }

    private Tensor norm(Tensor x, Norm kind, Tensor weight, float eps, Precision out) {
        Check.norm(x, weight);
        Shape s = x.shape();
        CudaTensor o = memory.alloc(s, out == Precision.BF16 ? DType.BF16 : DType.F32, "norm" + (out == Precision.BF16 ? " (bf16)" : ""));
        CudaTensor xf = operands.f32In(x, "norm");
        NormInput in = NormInput.weighted(xf.buffer(), operands.address(weight, "norm"), s.rows(), s.last(), kind, eps);
        if (out == Precision.BF16) return normForMatmul(o, in, xf, weight);
        norms.rows(o.buffer(), out, in);
        return o;
    }

    /**
     * A norm whose result only matmuls read (bf16): held for the next op's GEMM prologue where one could take it
     * (DeferredNorm, ECAR_NORM_PROLOGUE=on), else run now. {@code operands}: the tensors it reads, kept reachable.
     */
    private Tensor normForMatmul(CudaTensor o, NormInput in, Object... operands) {
        if (gemm.mayFuseNorm(in)) deferred.hold(o, in, operands);
        else norms.rows(o.buffer(), Precision.BF16, in);
        return o;
    }

    @Override
    public Tensor normModulate(Tensor x, Norm kind, float eps, Tensor shift, Tensor scale) {
        enter();
        int ratio = Check.normModulate(x, shift, scale);
        Shape s = x.shape();
        CudaTensor o = memory.alloc(s, DType.BF16, "normModulate (bf16)");
        // shift and scale are contiguous [rows / ratio, d] here, so their row stride is d
        CudaTensor xf = operands.f32In(x, "normModulate"), sh = operands.f32In(shift, "normModulate"), sc = operands.f32In(scale, "normModulate");
        return normForMatmul(o, NormInput.modulated(xf.buffer(), sh.buffer(), sc.buffer(), s.last(), s.rows(), s.last(), kind, eps, ratio), xf, sh, sc);
    }

    /** The two chunks read in place: norm_rows takes the modulation's row stride (chunks·D) and the chunks' first elements. */
    @Override
    public Tensor normModulate(Tensor x, Norm kind, float eps, Tensor mod, int chunks, int shiftChunk, int scaleChunk) {
        enter();
        Shape sm = Check.chunk(mod, chunks, shiftChunk);
        Check.chunk(mod, chunks, scaleChunk);
        Shape s = x.shape();
        Check.that(sm.last() == s.last() && sm.rows() > 0 && s.rows() % sm.rows() == 0, "normModulate",
                "modulation " + mod.shape() + " in " + chunks + " chunks for x " + s + "; expected chunks of " + s.last() + " per group of x's rows");
        CudaTensor m = operands.f32In(mod, "normModulate"), o = memory.alloc(s, DType.BF16, "normModulate (bf16)");
        int d = s.last();
        DeviceBuffer mb = m.buffer();
        CudaTensor xf = operands.f32In(x, "normModulate");
        return normForMatmul(o, NormInput.modulated(xf.buffer(), mb.slice(4L * shiftChunk * d, mb.bytes() - 4L * shiftChunk * d, "shift chunk"),
                mb.slice(4L * scaleChunk * d, mb.bytes() - 4L * scaleChunk * d, "scale chunk"), chunks * d, s.rows(), d, kind, eps, s.rows() / sm.rows()), xf, m);
    }

    @Override
    public Tensor groupNorm(Tensor x, int groups, Tensor weight, Tensor bias, float eps, boolean silu) {
        enter();
        Check.groupNorm(x, groups, weight, bias);
        Shape s = x.shape();
        int c = s.last();
        CudaTensor o = memory.alloc(s, DType.F32, "groupNorm");
        try (Scope scratch = scope()) {
            DeviceBuffer stats = memory.scratch(NormKernels.statsBytes(s.dim(0), groups), "groupNorm statistics");
            norms.groupNorm(o.buffer(), Precision.F32, operands.f32In(x, "groupNorm").buffer(), stats, operands.address(weight, "groupNorm"),
                    operands.address(bias, "groupNorm"), s.dim(0), s.dim(1) * s.dim(2), c, groups, eps, silu);
        }
        return o;
    }

    // ------------------------------------------------------------------ embeddings and layouts

    @Override
    public Tensor embedding(Tensor table, int[] ids) {
        enter();
        Shape so = Check.embedding(table, ids);
        steps.noHostTraffic("embedding (uploads the ids)");
        CudaTensor t = c(table, "embedding");
        int rows = t.shape().dim(0), width = t.shape().last();
        CudaTensor o = memory.alloc(so, DType.F32, "embedding");
        try (Scope scratch = scope()) {
            DeviceBuffer d = memory.scratch(4L * Math.max(1, ids.length), "embedding ids");
            if (ids.length > 0) d.upload(ids, stream);
            embed.embedding(o.buffer(), t.buffer(), t.dtype() == DType.BF16 ? Precision.BF16 : Precision.F32, rows, width, d, ids);
        }
        return o;
    }

    /** No host traffic: allowed inside captured steps and loops (an ARPG step feeds the previous step's draws). */
    @Override
    public Tensor embedding(Tensor table, Tensor ids) {
        enter();
        Shape so = Check.embedding(table, ids);
        CudaTensor t = c(table, "embedding");
        CudaTensor o = memory.alloc(so, DType.F32, "embedding");
        embed.embeddingByDeviceIds(o.buffer(), t.buffer(), t.dtype() == DType.BF16 ? Precision.BF16 : Precision.F32, t.shape().dim(0), t.shape().last(),
                f32(ids, "embedding ids").buffer(), so.dim(0));
        return o;
    }

    @Override
    public Tensor timestepEmbedding(float[] t, int dim) {
        enter();
        CudaTensor o = memory.alloc(Check.timestepEmbedding(t, dim), DType.F32, "timestepEmbedding");
        if (steps.capturing() != null && t.length > 0) {
            for (float ti : t) CudaSteps.stepValue("timestepEmbedding", "time", ti, steps.capturing().time());
            embed.timestepDev(o.buffer(), steps.scalar(StepScalars.TIME), t.length, dim);
            return o;
        }
        steps.noHostTraffic("timestepEmbedding outside a step (uploads the times)");
        try (Scope scratch = scope()) {
            DeviceBuffer d = memory.scratch(4L * Math.max(1, t.length), "timesteps");
            if (t.length > 0) d.upload(t, stream);
            embed.timestep(o.buffer(), d, t.length, dim);
        }
        return o;
    }

    @Override
    public Tensor patchify(Tensor x, int p) {
        enter();
        Shape s = x.shape(), so = Check.patchify(x, p);
        int n = s.dim(0), c = s.dim(1), h = s.dim(2), w = s.dim(3);
        CudaTensor o = memory.alloc(so, DType.F32, "patchify");
        embed.patchify(o.buffer(), Precision.F32, operands.f32In(x, "patchify").buffer(), n, c, h, w, p);
        return o;
    }

    @Override
    public Tensor unpatchify(Tensor x, int p, int channels, int h, int w) {
        enter();
        Shape s = x.shape(), so = Check.unpatchify(x, p, channels, h, w);
        CudaTensor o = memory.alloc(so, DType.F32, "unpatchify");
        embed.unpatchify(o.buffer(), operands.f32In(x, "unpatchify").buffer(), s.dim(0), p, channels, h, w);
        return o;
    }

    @Override
    public Tensor nchwToNhwc(Tensor x) {
        enter();
        Shape s = x.shape();
        CudaTensor o = memory.alloc(Check.nchwToNhwc(x), DType.F32, "nchwToNhwc");
        embed.transpose(o.buffer(), operands.f32In(x, "nchwToNhwc").buffer(), s.dim(0), s.dim(1), s.dim(2) * s.dim(3));
        return o;
    }

    @Override
    public Tensor nhwcToNchw(Tensor x) {
        enter();
        Shape s = x.shape();
        CudaTensor o = memory.alloc(Check.nhwcToNchw(x), DType.F32, "nhwcToNchw");
        embed.transpose(o.buffer(), operands.f32In(x, "nhwcToNchw").buffer(), s.dim(0), s.dim(1) * s.dim(2), s.dim(3));
        return o;
    }

    // ------------------------------------------------------------------ images (channels-last)

    @Override
    public Tensor upsampleNearest2x(Tensor x) {
        enter();
        Shape s = x.shape();
        CudaTensor o = memory.alloc(Check.upsampleNearest2x(x), DType.F32, "upsampleNearest2x");
        conv.upsampleNearest2x(o.buffer(), operands.f32In(x, "upsampleNearest2x").buffer(), Precision.F32, s.dim(0), s.dim(1), s.dim(2), s.last());
        return o;
    }

    @Override
    public Tensor resizeBicubic(Tensor x, int outH, int outW) {
        enter();
        Shape s = x.shape();
        CudaTensor o = memory.alloc(Check.resize("resizeBicubic", x, outH, outW), DType.F32, "resizeBicubic");
        embed.resizeBicubic(o.buffer(), operands.f32In(x, "resizeBicubic").buffer(), s.dim(0), s.dim(1), s.dim(2), s.last(), outH, outW);
        return o;
    }

    @Override
    public Tensor resizeArea(Tensor x, int outH, int outW) {
        enter();
        Shape s = x.shape();
        CudaTensor o = memory.alloc(Check.resize("resizeArea", x, outH, outW), DType.F32, "resizeArea");
        embed.resizeArea(o.buffer(), operands.f32In(x, "resizeArea").buffer(), s.dim(0), s.dim(1), s.dim(2), s.last(), outH, outW);
        return o;
    }

    // ------------------------------------------------------------------ diffusion updates (float32 state)

    @Override
    public Tensor[] diffusionPosterior(Tensor x, Tensor modelOut, DiffusionCoefficients k, PosteriorVariance variance) {
        enter();
        Check.posterior(x, modelOut, variance);
        return diffusion.posterior(x, modelOut, k, variance);
    }

    @Override
    public void ddpmSample(Tensor x, Tensor mean, Tensor logVar, Noise noise) {
        enter();
        Check.ddpmSample(x, mean, logVar, noise);
        diffusion.ddpmSample(x, mean, logVar, noise);
    }

    @Override
    public void ddimSample(Tensor x, Tensor predX0, DiffusionCoefficients k) {
        enter();
        Check.sameShape("ddimSample", x, predX0);
        diffusion.ddimSample(x, predX0, k);
    }

    // ------------------------------------------------------------------ token sampling (ARPG; kernels/sample.cu)

    /**
     * Inside a captured step the kernel reads the guidance weight from the step's scalars (it must be the step's cfg);
     * the temperature is a kernel argument, fixed for a generation (ARPG puts it in its loop's key).
     */
    @Override
    public Tensor guideLogits(Tensor logits, float cfg, float temperature) {
        enter();
        Shape so = Check.guideLogits(logits, temperature);
        CudaTensor o = memory.alloc(so, DType.F32, "guideLogits");
        CudaTensor in = operands.f32In(logits, "guideLogits");
        if (steps.capturing() != null) {
            CudaSteps.stepValue("guideLogits", "guidance weight", cfg, steps.capturing().cfg());
            sample.guideDev(o.buffer(), in.buffer(), so.numel(), steps.scalar(StepScalars.CFG), temperature);
        } else {
            sample.guide(o.buffer(), in.buffer(), so.numel(), cfg, temperature);
        }
        return o;
    }

    @Override
    public Tensor filterLogits(Tensor logits, LogitFilter filter) {
        enter();
        Check.logitRows("filterLogits", logits);
        Shape s = logits.shape();
        CudaTensor o = memory.alloc(s, DType.F32, "filterLogits");
        o.buffer().copyFrom(operands.f32In(logits, "filterLogits").buffer(), 4L * s.numel(), stream);
        if (filter.active()) sample.filter(o.buffer(), s.rows(), s.last(), filter.topK(), filter.topP());
        return o;
    }

    /**
     * The filter on a scratch copy of the logits, then one draw per row into ids (in place). Inside a captured step the
     * draw reads its Philox seed and stream from the step's scalars (they must be the step's); the filter's top-k and
     * top-p are kernel arguments, fixed for a generation (ARPG puts them in its loop's key).
     */
    @Override
    public void sampleTokens(Tensor logits, LogitFilter filter, long seed, int drawStream, Tensor ids) {
        enter();
        Check.sampleTokens(logits, ids);
        Shape s = logits.shape();
        CudaTensor out = f32(ids, "sampleTokens");
        StepScalars step = steps.capturing();
        if (step != null) {
            Check.that(seed == step.seed() && drawStream == step.noiseStream(), "sampleTokens", "draws (seed " + seed + ", stream " + drawStream
                    + ") inside a captured step whose noise is (seed " + step.seed() + ", stream " + step.noiseStream() + "); pass the step's StepScalars values");
        }
        try (Scope scratch = scope()) {
            CudaTensor x = filter.active() ? (CudaTensor) filterLogits(logits, filter) : operands.f32In(logits, "sampleTokens");
            if (step != null) sample.drawDev(out.buffer(), x.buffer(), s.rows(), s.last(), steps.scalar(StepScalars.SEED_LOW));
            else sample.draw(out.buffer(), x.buffer(), s.rows(), s.last(), seed, drawStream);
        }
    }

    // ------------------------------------------------------------------ memory accounting

    @Override
    public long peakMemoryBytes() {
        enter();
        return memory.peakBytes();
    }

    /** From the data-sheet table of {@link ecar.cuda.DevicePeaks} (NaN for a card not in it). */
    @Override
    public double peakTeraflops() {
        enter();
        return ecar.cuda.DevicePeaks.bf16Teraflops(ctx.device().name());
    }

    @Override
    public void resetPeakMemory() {
        enter();
        memory.resetPeak();
    }

    // ------------------------------------------------------------------ lifetime

    /** Waits for the stream, frees the arena (failing, with names, if a scope was left open) and owned tables. */
    @Override
    public void close() {
        enter();
        if (closed) return;
        closed = true;
        try {
            stream.synchronize();
        } finally {
            steps.closeLevel(0);
            memory.closeOwned();
            String open = memory.depth() > 0 ? memory.depth() + " scope(s) still open at close" : null;
            try {
                arena.close();
            } finally {
                stream.close();
            }
            if (open != null) throw new IllegalStateException("cuda backend: " + open);
        }
    }
}
