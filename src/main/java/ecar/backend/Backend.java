package ecar.backend;


import ecar.tensor.FloatTensor;
import ecar.tensor.Shape;
import ecar.tensor.Tensor;

/**
 * The op set every model is written against. Tensors are row-major; "rows" are all dimensions but the last.
 * Token tensors are [B, L, D]; image tensors are channels-last [N, H, W, C], except DiT's latents, which
 * keep the reference's [N, C, H, W] layout. Ops return new tensors unless documented as in-place (the
 * sampler state updates). Each op has a CPU reference ({@code CpuBackend}); a GPU backend must match it
 * within the tolerances of fixtures/README.md.
 *
 * <p>Broadcasting is explicit in the op names: a "per group" operand with R' rows serves an R-row tensor by
 * row r → r / (R/R'), which covers same-shape (R' = R) and per-sample modulation ([B, D] for [B, L, D]);
 * "tiled" row r → r % R', which serves position embeddings.
 *
 * <p>Matmul operands: the ops whose results the models only ever project next (attention, {@link #normModulate},
 * {@link #normForMatmul}, {@link #gatedLinear}) may return them rounded to bf16 on a GPU, whose GEMMs read bf16 anyway: the rounding happens
 * as the result is written instead of in a pass of its own. Read such a result with any op; do not write it in place.
 * A norm's ({@link #normModulate}, {@link #normForMatmul}) is read once, by one op: a GPU backend may compute it inside the
 * GEMM of the linear that reads it, never storing it (ecar.cuda.backend.DeferredNorm; a second read fails, saying so).
 */
public interface Backend extends AutoCloseable {

    /** A short name for tables and logs, e.g. "cpu (2 threads)" or "cuda:0 NVIDIA H100". */
    String name();

    // ------------------------------------------------------------------ memory

    /** Activations or state, stored in float32. */
    Tensor upload(FloatTensor host);

    /** A constant (weights, embeddings); a GPU backend may store it in bf16. */
    Tensor weight(FloatTensor host);

    /**
     * A constant known by name and shape whose values come from {@code values} when the backend needs them. A backend
     * that only counts work (ecar.flops) never asks, so counting a model of billions of parameters reads none.
     */
    default Tensor weight(String name, Shape shape, java.util.function.Supplier<FloatTensor> values) {
        FloatTensor t = values.get();
        if (!t.shape().equals(shape)) throw new IllegalArgumentException("weight " + name + ": values " + t.shape() + " for a tensor of " + shape);
        return weight(t);
    }

    FloatTensor download(Tensor t);

    Tensor zeros(Shape shape);

    /** The same elements under another shape (a view where the backend can). */
    Tensor reshape(Tensor t, Shape shape);

    /**
     * Opens an allocation scope: tensors made inside it may be reclaimed when it closes, so a sampling step
     * allocates nothing that outlives it. Scopes nest. The CPU backend leaves reclaiming to the GC.
     */
    default Scope scope() {
        return Scope.NONE;
    }

    interface Scope extends AutoCloseable {
        Scope NONE = () -> {};

        @Override
        void close();

        /** A scope whose closing runs {@code onClose} once, however often close is called. */
        static Scope closing(Runnable onClose) {
            return new Scope() {
                private boolean done;

                @Override
                public void close() {
                    if (done) return;
                    done = true;
                    onClose.run();
                }
            };
        }
    }

    /**
     * Names the work queued until the returned region closes ("AR pass, stage 2 (4×4)", "DiT forward"), for tools
     * that attribute work (the FLOP counter of ecar.flops). Regions nest. The CPU and CUDA backends ignore them.
     */
    default Scope region(String name) {
        return Scope.NONE;
    }

    /**
     * Runs one sampling step: {@code body} queues the step's ops in a scope of its own (nothing it makes outlives it).
     * A GPU backend may capture the body as a graph once per {@code key} and replay it for later steps with the same
     * key, writing {@code scalars} where the captured kernels read them; the CPU backend just runs it. So the body
     * must:
     * <ul>
     *   <li>pass the step's values from {@code scalars} to the ops that take them (timestepEmbedding's times,
     *       flowEulerStep's dt and weight, cfgCombineChannels' scale, the diffusion coefficients, DDPM's Philox noise);</li>
     *   <li>not upload, download or check for NaN (do that between steps), nor make random noise or weights;</li>
     *   <li>read only tensors that stay where they are until the scope around the loop closes: call step inside a
     *       {@link #scope()} that spans the loop; captured steps and their memory are released when it closes.</li>
     * </ul>
     */
    default void step(StepKey key, StepScalars scalars, Runnable body) {
        try (Scope s = scope()) {
            body.run();
        }
    }

    /**
     * Runs a sampling loop as one unit: {@code body} makes exactly one {@link #step} per element of {@code steps}, in
     * order and with those scalars (checked: {@link StepLoop}), and may run other ops between them (a stage's AR pass,
     * {@link #watchFinite}). A GPU backend may capture the whole loop as one graph and, in a later generation where the
     * key, the number of steps and the backend's memory layout are the same, write every step's scalars and replay it
     * without running the body. So, beyond what {@link #step} asks of a step's body, the loop's body must:
     * <ul>
     *   <li>launch the same work for equal keys: whatever changes it and is not a step scalar (the rows' images of
     *       per-image noise, a guidance mode) belongs in the key's work or variant;</li>
     *   <li>not move host data, draw noise from host seeds or read results between its steps either; check for NaN with
     *       {@link #watchFinite} and read {@link #firstNonFinite} after the loop;</li>
     *   <li>report progress only as a courtesy: a replayed loop makes no calls back.</li>
     * </ul>
     * Call it inside a scope, as {@link #step}; the loop allocates nothing that outlives it.
     */
    default void loop(StepKey key, java.util.List<StepScalars> steps, Runnable body) {
        try (Scope s = scope()) {
            body.run();
        }
    }

    /**
     * How many runs of a loop this backend makes before it replays the loop as a graph: 0 when it never does (the CPU
     * backend). A benchmark warms up with that many runs of the request it times.
     */
    default int loopRunsBeforeReplay() {
        return 0;
    }

    // ------------------------------------------------------------------ linear algebra

    /** x[.., K] · wᵀ + bias, then the activation; w is [N, K] as PyTorch stores it; bias may be null. */
    Tensor linear(Tensor x, Tensor w, Tensor bias, Activation act);

    default Tensor linear(Tensor x, Tensor w, Tensor bias) {
        return linear(x, w, bias, Activation.NONE);
    }

    /**
     * {@link #linear} as the input of attention or a projection and nothing else: a matmul operand (see the class
     * comment), which a GPU returns in bf16, rounded by the GEMM that makes it, after the activation (DiT's qkv, which no
     * RoPE rotates first, and its MLP's hidden layer: the attention and the next GEMM read them as they are, where the
     * float32 result used to be rounded by a pass of its own). Use {@link #linear} where the result is rotated, normed
     * or added.
     */
    default Tensor linearOperand(Tensor x, Tensor w, Tensor bias, Activation act) {
        return linear(x, w, bias, act);
    }

    default Tensor linearOperand(Tensor x, Tensor w, Tensor bias) {
        return linearOperand(x, w, bias, Activation.NONE);
    }

    /**
     * Scaled dot-product attention, softmax(q·kᵀ/√d)·v per batch and head, no mask.
     * q [B, Lq, H·d]; k, v [B, Lk, H·d]; returns [B, Lq, H·d].
     */
    Tensor attention(Tensor q, Tensor k, Tensor v, int heads);

    /**
     * attention(rope2d(q), rope2d(k) or k, v): FlowAR's attention with its 2D RoPE on a side×side grid, queries
     * always rotated, keys when {@code ropeKeys} (a KV cache holds keys already rotated). A GPU backend applies
     * the rotation as it loads Q and K; the default composes the two ops.
     */
    default Tensor attentionRope(Tensor q, Tensor k, Tensor v, int heads, int side, int span, boolean ropeKeys) {
        return attention(rope2d(q, heads, side, span), ropeKeys ? rope2d(k, heads, side, span) : k, v, heads);
    }

    /**
     * A fused qkv [B, L, 3·W] with its q and k rotated by FlowAR's 2D RoPE on a side×side grid ({@link #rope2d}) and v as
     * it is: a matmul operand (Backend's class comment), so a GPU returns it in bf16, the form attention reads.
     * {@code selfAttention(rope2dQk(qkv, …), heads, 0, 0, false)} is {@code selfAttention(qkv, heads, side, span, true)}.
     */
    Tensor rope2dQk(Tensor qkv, int heads, int side, int span);

    /**
     * rope2dQk(linear(x, w, bias), heads, side, span): the flow head's self-attention projection, ready for attention. A
     * GPU rotates q and k in the GEMM's epilogue (the float operations of rope2dQk on the float32 product) and writes bf16,
     * where the product used to be written in float32, read and written again by a RoPE pass.
     */
    default Tensor linearRope(Tensor x, Tensor w, Tensor bias, int heads, int side, int span) {
        return rope2dQk(linear(x, w, bias), heads, side, span);
    }

    /**
     * rope2d(linear(x, w, bias), heads, side, span): queries rotated as they are projected (the flow head's
     * cross-attention), for attention only. A GPU rotates in the GEMM's epilogue and writes bf16 (a matmul operand),
     * where a RoPE or cast pass read the float32 product.
     */
    default Tensor linearRopeQueries(Tensor x, Tensor w, Tensor bias, int heads, int side, int span) {
        return rope2d(linear(x, w, bias), heads, side, span);
    }

    /**
     * Self-attention of a fused projection qkv [B, L, 3·W] (q, k and v side by side, as a fused qkv Linear makes them):
     * attention(q, k, v), or with {@code rope} attentionRope(q, k, v, heads, side, span, true). A GPU backend reads
     * the three straight from the fused tensor (one rounding pass, the rotation in it); the default splits it.
     */
    default Tensor selfAttention(Tensor qkv, int heads, int side, int span, boolean rope) {
        Tensor q = chunk(qkv, 3, 0), k = chunk(qkv, 3, 1), v = chunk(qkv, 3, 2);
        return rope ? attentionRope(q, k, v, heads, side, span, true) : attention(q, k, v, heads);
    }

    // ------------------------------------------------------------------ KV caches

    /**
     * A cache of keys and values [batch, capacity, width] for one attention layer, allocated once per generation in
     * the current scope (open it around the whole generation, not around a step that appends).
     */
    KvCache kvCache(int batch, int capacity, int width);

    /** Writes keys and values [batch, L, width] after the tokens the cache holds (keys already rotated where the model uses RoPE). */
    void kvAppend(KvCache cache, Tensor keys, Tensor values);

    /**
     * As {@link #kvAppend} with the keys [batch, side², width] rotated by FlowAR's 2D RoPE on the way in, exactly as
     * {@link #rope2d} rotates them (a GPU backend does both in the one pass that writes the cache).
     */
    default void kvAppendRope(KvCache cache, Tensor keys, Tensor values, int heads, int side, int span) {
        kvAppend(cache, rope2d(keys, heads, side, span), values);
    }

    /** As above from a fused projection kv [batch, side², 2·width] (keys, then values), which a GPU reads in place. */
    default void kvAppendRope(KvCache cache, Tensor kv, int heads, int side, int span) {
        cache.checkAppendFused("kvAppendRope", kv, 2, heads, side);
        kvAppendRope(cache, chunk(kv, 2, 0), chunk(kv, 2, 1), heads, side, span);
    }

    /**
     * The stage-wise decoder's self-attention from a fused qkv [batch, side², 3·width]: its keys (rotated by FlowAR's 2D
     * RoPE) and values join the cache, then its queries (rotated) attend to every token the cache holds. A GPU reads q,
     * k and v from the fused tensor in place: no split, no separate rotation.
     */
    default Tensor selfAttention(Tensor qkv, KvCache cache, int heads, int side, int span) {
        cache.checkAppendFused("selfAttention", qkv, 3, heads, side);
        kvAppendRope(cache, chunk(qkv, 3, 1), chunk(qkv, 3, 2), heads, side, span);
        return attentionRope(chunk(qkv, 3, 0), cache, heads, side, span);
    }

    /**
     * ARPG's self-attention from a fused qkv [batch, L, 3·width]: its keys and values join the cache, the keys rotated by
     * rows of RoPE tables as {@link #ropeRows} rotates them, then its queries (rotated the same way) attend to every
     * token the cache holds. A GPU reads q, k and v from the fused tensor in place and rotates, rounds and writes the
     * keys, values and queries in one pass.
     */
    default Tensor selfAttentionRopeRows(Tensor qkv, KvCache cache, int heads, Tensor cos, Tensor sin, Tensor rows) {
        cache.checkAppendFusedRows("selfAttentionRopeRows", qkv, 3, heads, cos, sin, rows);
        kvAppend(cache, ropeRows(chunk(qkv, 3, 1), heads, cos, sin, rows), chunk(qkv, 3, 2));
        return attention(ropeRows(chunk(qkv, 3, 0), heads, cos, sin, rows), cache, heads);
    }

    /** kvAppend from a fused projection kv [batch, L, 2·width] (keys, then values), the keys rotated as {@link #ropeRows}. */
    default void kvAppendRopeRows(KvCache cache, Tensor kv, int heads, Tensor cos, Tensor sin, Tensor rows) {
        cache.checkAppendFusedRows("kvAppendRopeRows", kv, 2, heads, cos, sin, rows);
        kvAppend(cache, ropeRows(chunk(kv, 2, 0), heads, cos, sin, rows), chunk(kv, 2, 1));
    }

    /** softmax(q·kᵀ/√d)·v over every token the cache holds, no mask; q [batch, Lq, width]. */
    Tensor attention(Tensor q, KvCache cache, int heads);

    /**
     * ropeRows(linear(x, w, bias), heads, cos, sin, rows): ARPG's cross-attention queries, rotated by rows of the RoPE
     * tables as they are projected, for attention only. A GPU rotates in the GEMM's epilogue and writes bf16 (a matmul
     * operand), where a rotation pass and a cast read the float32 product.
     */
    default Tensor linearRopeRows(Tensor x, Tensor w, Tensor bias, int heads, Tensor cos, Tensor sin, Tensor rows) {
        return ropeRows(linear(x, w, bias), heads, cos, sin, rows);
    }

    /** As {@link #attention(Tensor, KvCache, int)} with the queries rotated by FlowAR's 2D RoPE on a side×side grid. */
    default Tensor attentionRope(Tensor q, KvCache cache, int heads, int side, int span) {
        return attention(rope2d(q, heads, side, span), cache, heads);
    }

    // ------------------------------------------------------------------ elementwise

    /** a + b, b per group (see class comment). */
    Tensor add(Tensor a, Tensor b);

    /** a + b, b tiled over a's rows: a position embedding [L, D] added to [B, L, D]. */
    Tensor addTiled(Tensor a, Tensor b);

    /** a ⊙ b, same shape. */
    Tensor mul(Tensor a, Tensor b);

    Tensor silu(Tensor x);

    /** x + gate ⊙ y, gate per group: adaLN-Zero's gated residual. */
    Tensor gatedResidual(Tensor x, Tensor gate, Tensor y);

    // In-place updates of a residual stream: a block's output overwrites its input, so a block can run in a scope of its
    // own (everything else it made is reclaimed when the scope closes) with nothing to copy out.

    /** In place: x += gate ⊙ y, gate per group (the same numbers as {@link #gatedResidual}). */
    void gatedResidualInPlace(Tensor x, Tensor gate, Tensor y);

    /** In place: x += y, y per group (the same numbers as {@link #add}). */
    void addInPlace(Tensor x, Tensor y);

    /** In place: dst ← src, same shape: a result carried out of a scope into a tensor made before it. */
    void assign(Tensor dst, Tensor src);

    // Fused ops: the default composes the plain ops; a GPU runs each as one GEMM with a fused epilogue.

    /**
     * In place: x += gate ⊙ (input·wᵀ + bias), gate per group or null for 1: a block's projection added to the residual
     * stream (adaLN-Zero's gated residual).
     */
    default void linearIntoResidual(Tensor x, Tensor input, Tensor w, Tensor bias, Tensor gate) {
        Tensor y = linear(input, w, bias);
        if (gate == null) addInPlace(x, y);
        else gatedResidualInPlace(x, gate, y);
    }

    /**
     * As above with the gate chunk {@code gateChunk} of {@code chunks} of an adaLN modulation (per sample or per token),
     * which a GPU reads in place (the GEMM epilogue takes the modulation's row stride) instead of copying it out.
     */
    default void linearIntoResidual(Tensor x, Tensor input, Tensor w, Tensor bias, Tensor mod, int chunks, int gateChunk) {
        linearIntoResidual(x, input, w, bias, chunk(mod, chunks, gateChunk));
    }

    /**
     * The hidden layer of a gated MLP (FlowAR's with exact GELU, LlamaGen's SwiGLU with SiLU) from one weight whose rows
     * interleave the two projections ({@code Linear.gatePairs}): with y = x·wᵀ + bias [.., 2N], hidden unit j is
     * act(y[2j]) ⊙ y[2j + 1], that is act(x·wgᵀ + bg) ⊙ (x·wvᵀ + bv); w [2N, K], bias [2N] or null; returns [.., N].
     * One matrix product with the pairs side by side, so a GPU combines them in the product's epilogue and never
     * writes either half. A matmul operand (bf16 on a GPU).
     */
    Tensor gatedLinear(Tensor x, Tensor w, Tensor bias, Activation act);

    /** Slice i of n equal slices along the last dimension. */
    Tensor chunk(Tensor x, int n, int i);

    /** Rows [from, to) along the first dimension. */
    Tensor sliceBatch(Tensor x, int from, int to);

    /** [a; b] along the first dimension. */
    Tensor concatBatch(Tensor a, Tensor b);

    /** [B, La, D] and [B, Lb, D] to [B, La + Lb, D]: appending a stage to a KV cache. */
    Tensor concatTokens(Tensor a, Tensor b);

    // ------------------------------------------------------------------ norms

    /** Normalization over the last dimension times an optional weight [D] (null for none). */
    Tensor norm(Tensor x, Norm kind, Tensor weight, float eps);

    /**
     * {@link #norm} as the input of the projections that follow it: a matmul operand (see the class comment), which a GPU
     * returns in bf16. Use {@link #norm} where the result goes on as a residual stream or a condition.
     */
    default Tensor normForMatmul(Tensor x, Norm kind, Tensor weight, float eps) {
        return norm(x, kind, weight, eps);
    }

    /** norm(x)·(1 + scale) + shift with shift and scale per group: adaLN modulation. */
    Tensor normModulate(Tensor x, Norm kind, float eps, Tensor shift, Tensor scale);

    /**
     * normModulate(x, kind, eps, chunk(mod, chunks, shiftChunk), chunk(mod, chunks, scaleChunk)): adaLN modulation
     * straight from a modulation tensor [.., chunks·D] (an adaLN Linear's output). A GPU backend reads the two chunks
     * in place; the default splits them out first.
     */
    default Tensor normModulate(Tensor x, Norm kind, float eps, Tensor mod, int chunks, int shiftChunk, int scaleChunk) {
        return normModulate(x, kind, eps, chunk(mod, chunks, shiftChunk), chunk(mod, chunks, scaleChunk));
    }

    /** GroupNorm over channels-last [N, H, W, C] with affine weight and bias [C], then SiLU when asked. */
    Tensor groupNorm(Tensor x, int groups, Tensor weight, Tensor bias, float eps, boolean silu);

    // ------------------------------------------------------------------ embeddings and layouts

    /** Rows of table [V, D] at ids: [ids.length, D]. */
    Tensor embedding(Tensor table, int[] ids);

    /**
     * Rows of table [V, D] at ids held in a tensor (any shape, float exact integers: the ids {@link #sampleTokens}
     * drew): [ids.numel, D]. Moves no host data, so it may run inside a step or loop; the host cannot check the ids
     * there, so an id that is not an integer in [0, V) (a draw's −1) gives a row of NaN, and the caller checks the ids
     * once they are read back.
     */
    Tensor embedding(Tensor table, Tensor ids);

    /** The sinusoid [cos(t·f_i), sin(t·f_i)], f_i = exp(−ln(10⁴)·i/(dim/2)): [t.length, dim]. */
    Tensor timestepEmbedding(float[] t, int dim);

    /**
     * FlowAR's 2D rotary embedding on [B, L, H·d] with L = side²: per head, the first d/2 dims rotate with the
     * token's row and the rest with its column, positions i·span/side, adjacent pairs sharing frequency
     * 1/10000^(2j/(d/2)).
     */
    Tensor rope2d(Tensor x, int heads, int side, int span);

    /**
     * Rotary embedding by explicit rows of a precomputed table (ARPG's 2D RoPE, {@link RopeTables#arpg}): x [B, L, H·d],
     * cos and sin [R, d/2], rows [L] (table rows as exact integers in [0, R), the same for every sample). In each head of
     * token l, pair p (dims 2p, 2p+1) rotates as a complex number by the angle whose cos and sin are at (rows[l], p).
     * The tables and rows stay on the backend (uploaded once per generation), so a step body reads no host data.
     */
    Tensor ropeRows(Tensor x, int heads, Tensor cos, Tensor sin, Tensor rows);

    /** [N, C, H, W] to [N, (H/p)·(W/p), C·p·p], each patch flattened in (c, kh, kw) order (a stride-p conv's input). */
    Tensor patchify(Tensor x, int p);

    /** Inverse of DiT's final layer layout: [N, h·w, p·p·C] in (kh, kw, c) order to [N, C, h·p, w·p]. */
    Tensor unpatchify(Tensor x, int p, int channels, int h, int w);

    /** [N, C, H, W] to [N, H, W, C]. */
    Tensor nchwToNhwc(Tensor x);

    /** [N, H, W, C] to [N, C, H, W]. */
    Tensor nhwcToNchw(Tensor x);

    // ------------------------------------------------------------------ images (channels-last)

    /**
     * 3×3 convolution, stride 1, zero padding 1, on [N, H, W, Ci]; w is [Co, 3, 3, Ci] (PyTorch's [Co, Ci, 3, 3]
     * permuted once at load), bias [Co].
     */
    Tensor conv3x3(Tensor x, Tensor w, Tensor bias);

    /** Nearest-neighbour ×2 upsampling of [N, H, W, C]. */
    Tensor upsampleNearest2x(Tensor x);

    /** Bicubic resize of [N, H, W, C] as PyTorch's interpolate(mode='bicubic', align_corners=False), A = −0.75. */
    Tensor resizeBicubic(Tensor x, int outH, int outW);

    /** Area resize of [N, H, W, C] as PyTorch's interpolate(mode='area') (adaptive average pooling). */
    Tensor resizeArea(Tensor x, int outH, int outW);

    // ------------------------------------------------------------------ sampler state (float32)

    /** Standard normal noise, element i = Philox.normal(seed, stream, i). */
    Tensor randn(Shape shape, long seed, int stream);

    /**
     * Standard normal noise drawn per image ({@link Noise.PerImage}): row r of the first dimension is image
     * {@code images[r]}, its element j = Philox.normal(seed, stream, Philox.imageIndex(images[r], j)).
     */
    Tensor randn(Shape shape, long seed, int stream, int[] images);

    /** A tensor whose both batch halves are x's first half: the model input of a guided step. */
    Tensor condTwice(Tensor x);

    /**
     * In place: x += dt · v, where with guidance v's halves (cond, uncond) are first combined to
     * v_u + w·(v_c − v_u), and both halves of x take that update (FlowAR's convention).
     */
    void flowEulerStep(Tensor x, Tensor v, float dt, float cfgWeight, boolean guided);

    /**
     * The ECAR stage jump: α·up2(x) + β·n on [B, r², C] → [B, (2r)², C], up2 nearest, n block noise
     * √(1+γ)·(ε − c·mean₂ₓ₂(ε)) with c = 1 − √((1−3γ)/(1+γ)) and ε from the given noise.
     */
    Tensor stageJump(Tensor x, int side, float alpha, float beta, float gamma, Noise noise);

    /**
     * DiT's classifier-free guidance on a model output [2N, Co, H, W] (halves: cond, uncond), in place: the
     * first {@code guidedChannels} channels of both halves become u + s·(c − u); the rest stay per half.
     */
    void cfgCombineChannels(Tensor out, int guidedChannels, float scale);

    /**
     * One Gaussian step of the DDPM posterior for x [N, C, H, W]: pred_x0 = a·x − b·ε, mean = c1·pred_x0 + c2·x.
     * With {@link PosteriorVariance#LEARNED_RANGE} the model output is [N, 2C, H, W] (ε, then the variance
     * interpolation v) and log σ² = f·maxLog + (1−f)·minLog, f = (v+1)/2; with a fixed kind it is ε [N, C, H, W]
     * and log σ² is the kind's {@link PosteriorVariance#fixedLog}. Writes mean, log-variance and pred_x0 ([N, C, H, W]).
     */
    Tensor[] diffusionPosterior(Tensor x, Tensor modelOut, DiffusionCoefficients k, PosteriorVariance variance);

    /** In place: x = mean + exp(½·logVar)·n (n omitted at the last step, when noise is null). */
    void ddpmSample(Tensor x, Tensor mean, Tensor logVar, Noise noise);

    /** In place: x = √ᾱ_prev·pred_x0 + √(1−ᾱ_prev)·ε̂, ε̂ = (a·x − pred_x0)/b (DDIM, η = 0). */
    void ddimSample(Tensor x, Tensor predX0, DiffusionCoefficients k);

    /**
     * Classifier-free guidance on logits, then the temperature: logits [2N, .., V] (halves: conditional, unconditional)
     * to (u + (c − u)·cfg) / max(temperature, 1e-5), [N, .., V] (ARPG's sampler).
     */
    Tensor guideLogits(Tensor logits, float cfg, float temperature);

    /** {@code top_k_top_p_filtering} on the rows of logits [.., V]: what the filter removes becomes −∞ (see {@link LogitFilter}). */
    Tensor filterLogits(Tensor logits, LogitFilter filter);

    /**
     * In place: one categorical draw per row of logits [.., V] into ids (one element per row, any shape), after the
     * filter: with e_j = exp(x_j − max x) over the kept logits and u = {@link Philox#uniform}(seed, stream, row), the id is
     * the first j whose running sum e_0 + … + e_j exceeds u·Σe. A row with no finite logit gets id −1. Ids are written
     * as exact integers in float32.
     */
    void sampleTokens(Tensor logits, LogitFilter filter, long seed, int stream, Tensor ids);

    /**
     * Queues a check, without waiting for it, of whether x (float32) holds NaN or ±Inf after sampling step {@code step}
     * (≥ 0); {@link #firstNonFinite} reports the smallest step whose check found one. Allowed inside captured steps and
     * loops, where it is part of the graph.
     */
    void watchFinite(Tensor x, int step);

    /**
     * The smallest step given to {@link #watchFinite} since the last call whose tensor held NaN or ±Inf, or −1 when all
     * were finite. Waits for the queued work and starts a new watch. Not inside a step or a loop.
     */
    int firstNonFinite();

    // ------------------------------------------------------------------ memory accounting

    /**
     * The most memory this backend's tensors held at once since {@link #resetPeakMemory()} (weights, caches, live
     * activations and scratch; not what was reserved), in bytes; -1 where the backend does not track it (the CPU's
     * tensors are Java arrays left to the GC).
     */
    default long peakMemoryBytes() {
        return -1;
    }

    /** Starts a new peak from what is held now. */
    default void resetPeakMemory() {}

    /** The device's dense bf16 tensor-core peak in TFLOP/s, for "share of the peak"; NaN where it is not known (the CPU). */
    default double peakTeraflops() {
        return Double.NaN;
    }

    @Override
    default void close() {}
}
