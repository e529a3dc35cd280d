package ecar.cuda.ops;

import ecar.backend.Activation;
import ecar.cuda.CudaProbe;
import ecar.cuda.DeviceAddress;
import ecar.cuda.LaunchShape;
import ecar.cuda.TensorMap;
import ecar.cuda.TensorMapEncoder;
import ecar.cuda.TensorMapSpec;

import static ecar.cuda.ops.OpCheck.buffer;
import static ecar.cuda.ops.OpCheck.optional;
import static ecar.cuda.ops.OpCheck.positive;
import static ecar.cuda.ops.OpCheck.that;

/**
 * kernels/gemm.cu and kernels/gemm_sm90.cu: Y[M, N] = X[M, K] · W[N, K]ᵀ (+ bias) → activation → epilogue, bf16
 * operands, fp32 accumulation, Y in float32 or bf16. The CPU twin is {@code Backend.linear} (with {@code mul} and
 * {@code gatedResidual} for the fused epilogues).
 *
 * <p>Two kernel families: gemm_sm90 (TMA + wgmma, warp-specialised and persistent) on a device of compute capability
 * 9.0 for shapes whose 128 × 128 tiles fill the SMs ({@link #wgmmaTakes}; its 128 × 256 tile, gemm_sm90w, where asked for
 * and its tiles fill them too: {@link #withWideTiles}), the mma.sync kernels of gemm.cu everywhere else; the path is fixed
 * per instance ({@link GemmPath}: {@code -Decar.gemm} / {@code ECAR_GEMM} force one).
 *
 * <p>Limits, checked here: K a multiple of 8 (a 16-byte chunk of a row is wholly inside K or wholly past it), every
 * matrix 16-byte aligned, buffers large enough for their shapes, M ≤ 65535 tiles, Y disjoint from X, W, mul and gate
 * (Y may be res). FlowAR's MLP hidden width int(4d·2/3) = 2730 (d = 1024) is not a multiple of 8: pad it to 2736 when
 * loading the weights (zero rows of fc1_g/fc1_x and their biases, zero columns of fc2), which is exact;
 * GemmGpuTest.flowArGatedMlpPaddedHidden runs exactly that against the unpadded CPU MLP.
 */
public final class GemmKernels {

    /** What follows the activation (the {@code post} parameter of gemm.cu). */
    public enum Post {
        /** y */
        STORE,
        /** y ⊙ mul[m, n] (bf16): a product gated by another tensor (the models' gated MLPs use {@link #GATE_PAIRS}, one GEMM). */
        MUL,
        /** res[m, n] + gate[m / gateRatio, n] · y (float32, gate rows gateLd apart; gate null means 1; res may be Y): adaLN-Zero. */
        RESIDUAL,
        /**
         * Nothing: Y is not written. For measurement only (GemmBench's {@code -nostore} paths): the kernel's time without its
         * output, which tells the main loop's cost from the epilogue's.
         */
        DISCARD,
        /**
         * The gated MLP's hidden layer from interleaved gate and value rows: output columns n and n + 1 of the product
         * (N even) make Y[m, n / 2] = act(y[n] + bias[n]) · (y[n + 1] + bias[n + 1]); Y is [M, N / 2].
         */
        GATE_PAIRS
    }

    /**
     * RoPE applied by the epilogue to projected queries (and keys): after the bias, output columns below
     * {@code columns} (a fused qkv's q and k: 2·W; queries alone: N) rotate in pairs (n, n + 1) by (cos, sin)[r,
     * (n % headDim) / 2] of f32 tables [table rows, headDim / 2], where row m of Y is token t = m % tokens of its sample
     * and r is t (FlowAR's 2D tables of the stage, the float operations of qkv_to_bf16) or, with {@code rows} ([tokens]
     * f32 exact integers), rows[t] of {@code tableRows} (ARPG's, those of rope_rows_f32; a row outside writes NaN).
     */
    public record Rope(RopeTable table, int tokens, int headDim, int columns) {
        /** FlowAR's: the tables of the stage, a row per token. */
        public Rope(DeviceAddress cos, DeviceAddress sin, int tokens, int headDim, int columns) {
            this(RopeTable.ofStage(cos, sin, tokens), tokens, headDim, columns);
        }

        /** ARPG's: tables of {@code tableRows} rows, token t by row rows[t]. */
        public Rope(DeviceAddress cos, DeviceAddress sin, int tokens, int headDim, int columns, DeviceAddress rows, int tableRows) {
            this(new RopeTable(cos, sin, rows, tableRows), tokens, headDim, columns);
        }
    }

    /**
     * The fused epilogue: bias [N] f32 (or null), activation, and what follows it. {@code gateLd}: floats between the
     * gate's rows, 0 for N (a gate of its own); more for one chunk of an adaLN modulation read in place. {@code rope}:
     * a fused qkv's RoPE (STORE, no activation), or null.
     */
    public record Epilogue(DeviceAddress bias, Activation act, Post post, DeviceAddress res, DeviceAddress gate, int gateRatio, int gateLd,
                           DeviceAddress mul, Rope rope) {
        public Epilogue(DeviceAddress bias, Activation act, Post post, DeviceAddress res, DeviceAddress gate, int gateRatio, int gateLd,
                        DeviceAddress mul) {
            this(bias, act, post, res, gate, gateRatio, gateLd, mul, null);
        }

        /** x·Wᵀ + bias with its q and k columns rotated by {@code rope} as they are stored. */
        public static Epilogue rope(DeviceAddress bias, Rope rope) {
            return new Epilogue(bias, Activation.NONE, Post.STORE, null, null, 1, 0, null, java.util.Objects.requireNonNull(rope, "rope"));
        }

        /** The kernels' trailing RoPE arguments, in the order of {@link #ROPE_PARAMS} (nulls and zeros for none). */
        Object[] ropeArgs() {
            if (rope == null) return new Object[]{null, null, 0, 0, 0, null, 0};
            RopeTable t = rope.table();
            return new Object[]{t.cos(), t.sin(), rope.tokens(), rope.headDim(), rope.columns(), t.rows(), t.tableRows()};
        }

        public static Epilogue of(DeviceAddress bias, Activation act) {
            return new Epilogue(bias, act, Post.STORE, null, null, 1, 0, null);
        }

        /** act(gate) ⊙ value of interleaved gate and value columns, bias [N] interleaved likewise (or null): {@link Post#GATE_PAIRS}. */
        public static Epilogue gatePairs(DeviceAddress bias, Activation act) {
            return new Epilogue(bias, act, Post.GATE_PAIRS, null, null, 1, 0, null);
        }

        /** Y is not written (measurement only: {@link Post#DISCARD}). */
        public static Epilogue discard() {
            return new Epilogue(null, Activation.NONE, Post.DISCARD, null, null, 1, 0, null);
        }

        /** The gate's row stride for an output of n columns (the kernels' gateLd argument). */
        public int gateLd(int n) {
            return gateLd == 0 ? n : gateLd;
        }

        /** GELU(erf)(x·Wᵀ + bias) ⊙ mul. */
        public static Epilogue gatedGelu(DeviceAddress bias, DeviceAddress mul) {
            return gated(bias, Activation.GELU_ERF, mul);
        }

        /** act(x·Wᵀ + bias) ⊙ mul (mul bf16 [M, N]). */
        public static Epilogue gated(DeviceAddress bias, Activation act, DeviceAddress mul) {
            return new Epilogue(bias, act, Post.MUL, null, null, 1, 0, mul);
        }

        /** res + gate[row / gateRatio] ⊙ (x·Wᵀ + bias). */
        public static Epilogue residual(DeviceAddress bias, DeviceAddress res, DeviceAddress gate, int gateRatio) {
            return residual(bias, res, gate, gateRatio, 0);
        }

        /** The same with the gate's rows gateLd floats apart (0: N). */
        public static Epilogue residual(DeviceAddress bias, DeviceAddress res, DeviceAddress gate, int gateRatio, int gateLd) {
            return new Epilogue(bias, Activation.NONE, Post.RESIDUAL, res, gate, gateRatio, gateLd, null);
        }
    }

    /** The two tiles gemm.cu (and conv.cu) are compiled for. */
    public enum Tile {
        T128(128, 256, 65536),
        T64(64, 128, 32768);

        public final int size, threads, sharedBytes;

        Tile(int size, int threads, int sharedBytes) {
            this.size = size;
            this.threads = threads;
            this.sharedBytes = sharedBytes;
        }

        /** The big tile when it alone gives every SM a block; the small one otherwise (small M or N). */
        public static Tile choose(int m, int n, int multiprocessors) {
            long bigTiles = (long) OpCheck.ceilDiv(m, 128) * OpCheck.ceilDiv(n, 128);
            return bigTiles >= multiprocessors ? T128 : T64;
        }

        LaunchShape shape(int m, int n) {
            return new LaunchShape(OpCheck.ceilDiv(n, size), OpCheck.ceilDiv(m, size), 1, threads, 1, 1, sharedBytes);
        }
    }

    /** The RoPE parameters every GEMM entry point ends with (kernels/gemm_tile.cuh's ECAR_ROPE_PARAMS). */
    static final String ROPE_PARAMS = "ptr? rope_cos, ptr? rope_sin, i32 rope_tokens, i32 rope_head, i32 rope_cols, ptr? rope_rows, i32 rope_table_rows";

    /** args, then the epilogue's RoPE arguments (the order of {@link #ROPE_PARAMS}). */
    static Object[] withRope(Epilogue e, Object... args) {
        Object[] rope = e.ropeArgs(), all = java.util.Arrays.copyOf(args, args.length + rope.length);
        System.arraycopy(rope, 0, all, args.length, rope.length);
        return all;
    }

    static String signature(String kernel) {
        return kernel + "(ptr y, ptr x, ptr w, ptr? bias, ptr? res, ptr? gate, ptr? mul, i32 M, i32 N, i32 K, i32 act, i32 post, i32 gateRatio, i32 gateLd, i32 epi, "
                + ROPE_PARAMS + ")";
    }

    /** kernels/gemm_sm90.cu's launch: its tile, block and dynamic shared memory (the constants at the top of the file). */
    public static final class Sm90 {
        public static final int BM = 128, BN = 128, BK = 64, THREADS = 384, SHARED_BYTES = 218368;
        /** The wide tile's columns (gemm_sm90w: 128 × 256, both consumers on every tile; the same shared memory). */
        public static final int WIDE_BN = 256;

        private Sm90() {}

        /** The most ranges K is cut into, and the fewest k-tiles (of 64) a range gets. */
        public static final int MAX_SPLITS = 16, MIN_RANGE = 2;

        static String signature(Precision out) {
            return signature(out, false);
        }

        /** @param wide the 128 × 256 tile's entry point, gemm_sm90w (the same parameters; it does not read coop) */
        static String signature(Precision out, boolean wide) {
            return signature(wide ? "gemm_sm90w_bf16_" : "gemm_sm90_bf16_", out);
        }

        /** The clusters' entry point, gemm_sm90c (the same parameters; it does not read coop). */
        static String clusterSignature(Precision out) {
            return signature("gemm_sm90c_bf16_", out);
        }

        private static String signature(String entry, Precision out) {
            return entry + out.suffix + "(tmap tmX, tmap tmW, ptr y, ptr? bias, ptr? res, ptr? gate, ptr? mul, i32 M, i32 N, i32 K, "
                    + "i32 act, i32 post, i32 gateRatio, i32 gateLd, ptr? ws, i32 splits, i32 kPer, i32 epi, i32 coop, " + ROPE_PARAMS + ")";
        }

        static String reduceSignature(Precision out) {
            return "gemm_splitk_reduce_" + out.suffix + "(ptr y, ptr ws, i32 splits, ptr? bias, ptr? res, ptr? gate, ptr? mul, i32 M, i32 N, "
                    + "i32 act, i32 post, i32 gateRatio, i32 gateLd, " + ROPE_PARAMS + ")";
        }

        /**
         * How K is cut: {@code splits} ranges of {@code kPer} k-tiles (the last may run past K), none empty.
         * @param splits ranges; 1 is the plain kernel
         */
        public record SplitK(int splits, int kPer) {}

        /**
         * One range while the output tiles alone give at least half the SMs work (or a single tile-row's K is short);
         * otherwise enough ranges to give every SM a unit, at most {@link #MAX_SPLITS}, each of at least {@link #MIN_RANGE}
         * k-tiles — batch-1 shapes like ECAR-L's flow head at stage 3 (128 × 1024 × 2736: 8 tiles) would otherwise run
         * on 8 of 132 SMs. The partial sums (splits·M·N floats) stay in L2 at these sizes.
         */
        public static SplitK splitK(int m, int n, int k, int multiprocessors) {
            return splitK(m, n, k, multiprocessors, BN);
        }

        /** As above for tiles {@code bn} columns wide. */
        public static SplitK splitK(int m, int n, int k, int multiprocessors, int bn) {
            long tiles = tiles(m, n, bn);
            int kTiles = OpCheck.ceilDiv(k, BK);
            if (2 * tiles >= multiprocessors || kTiles < 2 * MIN_RANGE || m > 65535) return new SplitK(1, kTiles);
            int splits = (int) Math.min(Math.min(multiprocessors / tiles, kTiles / MIN_RANGE), MAX_SPLITS);
            if (splits < 2) return new SplitK(1, kTiles);
            int kPer = OpCheck.ceilDiv(kTiles, splits);
            return new SplitK(OpCheck.ceilDiv(kTiles, kPer), kPer);
        }

        /** The tensor map of a row-major bf16 matrix [rows, k] read in boxes of 128 rows × 64 k, 128-byte swizzled. */
        public static TensorMapSpec operand(DeviceAddress a, int rows, int k) {
            return operand(a, rows, k, BM);
        }

        /** The same in boxes of {@code boxRows} rows (the wide tile reads W 256 rows at a time). */
        public static TensorMapSpec operand(DeviceAddress a, int rows, int k, int boxRows) {
            return TensorMapSpec.rowMajor(TensorMapSpec.DataType.BFLOAT16, a.address(), rows, k, boxRows, BK, TensorMapSpec.Swizzle.B128);
        }

        /** A persistent grid: one CTA per SM, or one per tile when there are fewer tiles. */
        public static LaunchShape shape(int m, int n, int multiprocessors) {
            return shape(m, n, 1, multiprocessors);
        }

        /** A persistent grid over the work units (tile × K range): one CTA per SM, or one per unit when there are fewer. */
        public static LaunchShape shape(int m, int n, int splits, int multiprocessors) {
            return shape(m, n, splits, multiprocessors, BN);
        }

        /** As above for tiles {@code bn} columns wide ({@link #BN} or {@link #WIDE_BN}). */
        public static LaunchShape shape(int m, int n, int splits, int multiprocessors, int bn) {
            long units = tiles(m, n, bn) * splits;
            return new LaunchShape((int) Math.min(units, multiprocessors), 1, 1, THREADS, 1, 1, SHARED_BYTES);
        }

        /** Rows of W each CTA of a cluster loads (its half of the 128-row tile), multicast to both: tmW's box. */
        public static final int CLUSTER_W_ROWS = BN / 2;

        /**
         * gemm_sm90c's persistent grid: clusters of two CTAs, one CTA per SM, or a cluster per unit (a pair of vertically
         * adjacent tiles × a K range) when there are fewer; always even.
         */
        public static LaunchShape clusterShape(int m, int n, int splits, int multiprocessors) {
            return clusterShape(m, n, splits, multiprocessors, Integer.MAX_VALUE);
        }

        /** As above, with at most {@code maxClusters} clusters (as many as the device holds at once: no second wave). */
        public static LaunchShape clusterShape(int m, int n, int splits, int multiprocessors, int maxClusters) {
            long pairs = (long) OpCheck.ceilDiv(OpCheck.ceilDiv(m, BM), 2) * OpCheck.ceilDiv(n, BN) * splits;
            int clusters = (int) Math.max(1, Math.min(Math.min(pairs, multiprocessors / 2), maxClusters));
            return new LaunchShape(2 * clusters, 1, 1, THREADS, 1, 1, SHARED_BYTES);
        }

        /** Output tiles of 128 rows × {@code bn} columns. */
        public static long tiles(int m, int n, int bn) {
            return (long) OpCheck.ceilDiv(m, BM) * OpCheck.ceilDiv(n, bn);
        }

        /** gemm_splitk_reduce's grid: a thread per column pair, a row of blocks per row of Y. */
        static LaunchShape reduceShape(int m, int n) {
            return new LaunchShape(OpCheck.ceilDiv(OpCheck.ceilDiv(n, 2), 256), m, 1, 256, 1, 1, 0);
        }
    }

    /** Device memory for split-K partial sums, held while a GEMM's launches are queued (stream order keeps it safe after). */
    @FunctionalInterface
    public interface Scratch {
        Lease floats(long count, String label);

        /** The range; closing it hands it back. */
        interface Lease extends AutoCloseable {
            DeviceAddress address();

            @Override
            void close();
        }
    }

    private final Launcher launcher;
    private final int multiprocessors;
    private final GemmPath path;
    private final TensorMapEncoder maps;
    /** Where split-K partial sums go; null: gemm_sm90 never splits K. */
    private final Scratch scratch;
    /** gemm_sm90's and gemm.cu's epilogues store eight outputs at a time where they can ({@link #withRowStores}); else two. */
    private boolean rowStores = true;
    /** gemm_sm90's consumers share each tile ({@link #withCooperative}) instead of taking alternate tiles. */
    private boolean cooperative;
    /** {@link #linear} sends the shapes with fewer tiles than SMs to gemm_sm90's cooperative consumers ({@link #withSmallOnSm90}). */
    private boolean smallOnSm90;

    /** {@link #linear} gives gemm_sm90's wide 128 × 256 tiles the shapes that have enough of them ({@link #withWideTiles}). */
    private boolean wideTiles;
    /** {@link #withSkinnySplit} */
    private boolean skinnySplit = true;
    /** {@link #withClusters} */
    private boolean clusters;
    /** {@link #withNormPrologue} */
    private boolean normPrologue;
    /** {@link #withNormPrologueRows} */
    private int normPrologueRows = NORM_PROLOGUE_MAX_M;
    /**
     * {@code ecar.norm.prologue} / {@code ECAR_NORM_PROLOGUE}: {@code off} (the default, until a GPU has timed it) or
     * {@code on}, see {@link #withNormPrologue}.
     */
    public static final String NORM_PROLOGUE_PROPERTY = "ecar.norm.prologue", NORM_PROLOGUE_ENV = "ECAR_NORM_PROLOGUE";
    public static final ecar.cuda.Switch NORM_PROLOGUE = new ecar.cuda.Switch(NORM_PROLOGUE_PROPERTY, NORM_PROLOGUE_ENV, "off", "on");
    /**
     * {@code ecar.gemm.cluster} / {@code ECAR_GEMM_CLUSTER}: {@code off} (the default) or {@code on}, see {@link #withClusters}.
     */
    public static final String CLUSTER_PROPERTY = "ecar.gemm.cluster", CLUSTER_ENV = "ECAR_GEMM_CLUSTER";
    public static final ecar.cuda.Switch CLUSTERS = new ecar.cuda.Switch(CLUSTER_PROPERTY, CLUSTER_ENV, "off", "on");
    /** {@code ecar.gemm.tile} / {@code ECAR_GEMM_TILE}: {@code 128x128} (the default) or {@code 128x256}, see {@link #withWideTiles}. */
    public static final String TILE_PROPERTY = "ecar.gemm.tile", TILE_ENV = "ECAR_GEMM_TILE";
    public static final ecar.cuda.Switch WIDE_TILES = new ecar.cuda.Switch(TILE_PROPERTY, TILE_ENV, "128x128", "128x256");

    /**
     * {@code ecar.gemm.small} / {@code ECAR_GEMM_SMALL}: {@code coop} (the default: {@link #withSmallOnSm90}) or
     * {@code mma.sync} (those shapes on gemm.cu's tiles, as before 2026-11-28). Flipped is mma.sync.
     */
    public static final String SMALL_PROPERTY = "ecar.gemm.small", SMALL_ENV = "ECAR_GEMM_SMALL";
    public static final ecar.cuda.Switch SMALL_ON_MMA_SYNC = new ecar.cuda.Switch(SMALL_PROPERTY, SMALL_ENV, "coop", "mma.sync");

    /**
     * {@code ecar.gemm.skinny} / {@code ECAR_GEMM_SKINNY}: {@code split} (the default, {@link #withSkinnySplit}: K split
     * over 2 or 4 warps where the columns are few, and 17 to 63 rows in block rows) or {@code plain} (a warp per pair
     * over all of K, up to 16 rows, as on the H100 of 2026-11-28). Flipped is plain.
     */
    public static final String SKINNY_PROPERTY = "ecar.gemm.skinny", SKINNY_ENV = "ECAR_GEMM_SKINNY";
    public static final ecar.cuda.Switch SKINNY_PLAIN = new ecar.cuda.Switch(SKINNY_PROPERTY, SKINNY_ENV, "split", "plain");

    /** {@code ecar.gemm.stores} / {@code ECAR_GEMM_STORES}: {@code rows} (the default) or {@code pairs}, see {@link #withRowStores}. */
    public static final String STORES_PROPERTY = "ecar.gemm.stores", STORES_ENV = "ECAR_GEMM_STORES";
    /** {@code ecar.gemm.rope} / {@code ECAR_GEMM_ROPE}: {@code epilogue} (the default: linearRope rotates in the GEMM) or {@code pass}. */
    public static final String ROPE_PROPERTY = "ecar.gemm.rope", ROPE_ENV = "ECAR_GEMM_ROPE";
    public static final ecar.cuda.Switch ROPE_PASS = new ecar.cuda.Switch(ROPE_PROPERTY, ROPE_ENV, "epilogue", "pass");
    public static final ecar.cuda.Switch PAIR_STORES = new ecar.cuda.Switch(STORES_PROPERTY, STORES_ENV, "rows", "pairs");

    /** The mma.sync kernels only (any GPU). @param multiprocessors the device's SM count, for the tile choice */
    public GemmKernels(Launcher launcher, int multiprocessors) {
        this(launcher, multiprocessors, GemmPath.MMA_SYNC, null);
    }

    /** @param maps encodes the TMA descriptors of the WGMMA path (unused, and may be null, on MMA_SYNC) */
    public GemmKernels(Launcher launcher, int multiprocessors, GemmPath path, TensorMapEncoder maps) {
        this(launcher, multiprocessors, path, maps, null);
    }

    /** @param scratch holds split-K partial sums (Sm90.splitK); null keeps every GEMM in one K range */
    public GemmKernels(Launcher launcher, int multiprocessors, GemmPath path, TensorMapEncoder maps, Scratch scratch) {
        that(path != null, "gemm", "a GEMM path must be given");
        that(path == GemmPath.MMA_SYNC || maps != null, "gemm", "the wgmma path needs a tensor-map encoder");
        that(multiprocessors >= 1, "gemm", "multiprocessors = " + multiprocessors + " must be at least 1");
        this.launcher = launcher;
        this.multiprocessors = multiprocessors;
        this.path = path;
        this.maps = maps;
        this.scratch = scratch;
    }

    /** The kernels for this device: wgmma on compute capability 9.0 unless {@link GemmPath#setting()} says otherwise. */
    public static GemmKernels forDevice(Launcher launcher, CudaProbe.Device device) {
        return forDevice(launcher, device, null);
    }

    /** As above, splitting K into ranges where few tiles would leave SMs idle, their partial sums in {@code scratch}. */
    public static GemmKernels forDevice(Launcher launcher, CudaProbe.Device device, Scratch scratch) {
        GemmPath p = GemmPath.choose(device.major(), device.minor(), GemmPath.setting());
        return new GemmKernels(launcher, device.multiprocessors(), p, p == GemmPath.WGMMA ? TensorMapEncoder.DRIVER : null, scratch)
                .withRowStores(rowStoresSetting()).withSmallOnSm90(p == GemmPath.WGMMA && smallOnSm90Setting())
                .withWideTiles(p == GemmPath.WGMMA && WIDE_TILES.flipped()).withSkinnySplit(!SKINNY_PLAIN.flipped())
                .withClusters(p == GemmPath.WGMMA && CLUSTERS.flipped()).withNormPrologue(NORM_PROLOGUE.flipped());
    }

    public GemmPath path() {
        return path;
    }

    /**
     * This instance with gemm_sm90's epilogue storing eight adjacent outputs per lane with 16-byte accesses (kernel
     * argument epi = 1; an activation is applied to the eight at once first (activate8), and GATE_PAIRS
     * stores its four hidden units as two words; it falls back to pairs where N % 8 != 0 (N % 4 != 0 for GATE_PAIRS) or
     * an operand is not aligned) instead of two:
     * the same values, a quarter of the epilogue's loads, stores and index arithmetic. On by default: on an H100
     * (2026-11-27, GemmBench, bf16 out) it took gemm_sm90 from 303 to 581 TFLOP/s on 16384 × 1152 × 3456, 283 to 554 on
     * 16384 × 1024 × 3072, 275 to 503 on 16384 × 1024 × 1024 and 523 to 619 on 16384 × 4608 × 1152, against 617–635 with
     * no output written at all; GemmSm90GpuTest found it bit-identical to pairs there. gemm.cu's tiles take the same
     * setting (their argument epi): each warp stages 32 × 32 accumulators at a time in the pipeline's shared memory,
     * then stores them as gemm_sm90 does (on the H100 of 2026-11-28, 280 TFLOP/s with its output and 303 without on
     * DiT-XL/2's batch-64 qkv, against 171 with pairs the day before). Off ({@code pairs}) only to measure or rule it
     * out. Returns this.
     */
    public GemmKernels withRowStores(boolean on) {
        rowStores = on;
        return this;
    }

    /**
     * This instance with gemm_sm90's two consumer warp groups sharing every tile, each the product's 64 rows of it
     * (kernel argument coop = 1), instead of taking alternate tiles (ping-pong, the default, where one consumer's
     * epilogue overlaps the other's main loop). For grids where a CTA gets a single tile, as on batch 1's 512-row
     * GEMMs (96 tiles on 132 SMs), ping-pong leaves one consumer idle; cooperative does not. The same float operations.
     * Off by default: on the H100 of 2026-11-28 (GemmBench's {@code sm90coop} path) it was slower or equal on the
     * batch-64 shapes; {@link #linear} uses it for the shapes {@link #withSmallOnSm90} sends to gemm_sm90. Returns this.
     */
    public GemmKernels withCooperative(boolean on) {
        cooperative = on;
        return this;
    }

    /**
     * This instance with {@link #linear} sending the shapes that {@link #wgmmaTakes} refuses for having fewer 128 × 128
     * tiles than SMs (but M, N ≥ 64, K % 8 == 0: batch 1's 512-row GEMMs) to gemm_sm90 with cooperative consumers
     * instead of gemm.cu's tiles, K split where the tiles would leave over half the SMs idle (DiT-XL/2's 36-tile
     * proj and fc2: 3 ranges, 108 units). On by default ({@code ECAR_GEMM_SMALL=mma.sync} turns it off): on the H100
     * (2026-11-28, one compare run each way) it took DiT-XL/2 at batch 1 from 1.218 to 0.993 s and ECAR-L from 52.2 to
     * 49.5 ms, and GemmSm90GpuTest found its bits equal to ping-pong's. The session script runs compare both ways. Returns this.
     */
    public GemmKernels withSmallOnSm90(boolean on) {
        smallOnSm90 = on;
        return this;
    }

    /**
     * This instance with gemm_sm90's 128 × 256 tile (entry points gemm_sm90w_*: a 4-stage ring of 48 KiB stages, both
     * consumer warp groups on every tile, each 64 rows × 256 columns in 128 accumulator registers) for the shapes that
     * have at least one such tile per SM ({@link #wideTakes}); {@link #linearSm90} then takes it for every shape. Per
     * k-step a wide tile reads 3/4 of the operand bytes per FLOP of a 128 × 128 one; on the H100 (2026-11-27) the
     * 128 × 128 main loop without its output moved 9.6–9.9 TB/s from L2, which bounds it near 630 TFLOP/s (README).
     * Off by default ({@code ECAR_GEMM_TILE=128x256} turns it on): on the H100 of 2026-11-28 GemmBench's
     * {@code sm90wide} path ran it slower than the 128 × 128 tiles on 5 of 6 shapes. Returns this.
     */
    public GemmKernels withWideTiles(boolean on) {
        wideTiles = on;
        return this;
    }

    /**
     * This instance with gemm_skinny splitting K over 2 or 4 warps where the columns are few ({@link #skinnySplit}) and
     * {@link #linear} sending it 17 to 63 rows where {@link #skinnyTakes} (on by default; both written after the H100
     * visit of 2026-11-28 and not yet run on a GPU). Off: a warp per pair of columns over all of K, up to
     * {@link #SKINNY_MAX_M} rows, for comparisons ({@code ECAR_GEMM_SKINNY=plain}). Returns this.
     */
    public GemmKernels withSkinnySplit(boolean on) {
        skinnySplit = on;
        return this;
    }

    /**
     * This instance with gemm_sm90's ping-pong GEMMs run in clusters of two CTAs (entry points gemm_sm90c_*): the two
     * take vertically adjacent tiles of the same columns, and each loads half of the shared W tile by TMA multicast into
     * both, so W leaves L2 once for two tiles: per k-step a CTA reads 24 of the 32 KiB it otherwise reads. On the H100
     * (2026-11-27) the plain main loop without its output moved 9.6–9.9 TB/s from L2, which bounds it near 630 TFLOP/s
     * (README); this is the other way to cut that traffic, keeping the 128 × 128 tile and its ping-pong epilogue overlap.
     * The same float operations in the same order as ping-pong. Off by default ({@code ECAR_GEMM_CLUSTER=on}): written
     * after the 2026-11-28 visit, replayed in numpy (tools/emulate_gemm_sm90.py), not yet run on a GPU. Cooperative and
     * wide launches are not clustered. Returns this.
     */
    public GemmKernels withClusters(boolean on) {
        clusters = on;
        return this;
    }

    /**
     * This instance with {@link #fusesNorm} answering for the shapes gemm_skinny's norm entries take (any GPU): the CUDA
     * backend then hands a norm that only such a GEMM reads to {@link #linearNormed} instead of launching norm_rows.
     * Returns this.
     */
    public GemmKernels withNormPrologue(boolean on) {
        this.normPrologue = on;
        return this;
    }

    /**
     * This instance with norm prologues for up to {@code rows} rows (1 to {@link #SKINNY_MAX_M}) instead of
     * {@link #NORM_PROLOGUE_MAX_M}: for NormPrologueGpuBench, which times 16 rows to say whether the default should
     * grow (ARPG-L has 400 norms of 10 to 14 rows an image). Returns this.
     */
    public GemmKernels withNormPrologueRows(int rows) {
        that(rows >= 1 && rows <= SKINNY_MAX_M, "gemm_skinny_norm", "norm prologue rows = " + rows + ", expected 1 to " + SKINNY_MAX_M
                + " (one block row of gemm_skinny)");
        this.normPrologueRows = rows;
        return this;
    }

    /** Whether a shape gemm_sm90 takes has at least one 128 × 256 tile per SM (the wide tile's grid fills the GPU). */
    public static boolean wideTakes(int m, int n, int k, int multiprocessors) {
        return wgmmaTakes(m, n, k, multiprocessors) && Sm90.tiles(m, n, Sm90.WIDE_BN) >= multiprocessors;
    }

    /** Whether {@link #SMALL_ON_MMA_SYNC} leaves {@link #withSmallOnSm90} on (unset or coop); anything but coop or mma.sync is refused. */
    public static boolean smallOnSm90Setting() {
        return !SMALL_ON_MMA_SYNC.flipped();
    }

    /** Whether {@link #STORES_PROPERTY}/{@link #STORES_ENV} leaves row stores on (unset or rows) or asks for pairs; anything else is refused. */
    public static boolean rowStoresSetting() {
        return !PAIR_STORES.flipped();
    }

    /**
     * Whether {@link #linear} sends this shape to gemm_sm90 on the WGMMA path: K a multiple of 8 (the TMA row stride),
     * M, N at least 64 (a 128 × 128 tile at least half used in each direction), and at least one 128 × 128 output tile
     * per SM. Measured on an H100 (2026-11-27, GemmBench, bf16 out): wherever the tiles were fewer than the SMs, with K
     * split or not, gemm.cu's 64-row tiles were faster — 512 × 1024 × 3072 (96 tiles) 106 against 75 TFLOP/s,
     * 512 × 2736 × 1024 (32 tiles, K split 4 ways) 93 against 47, 128 × 1024 × 3072 42 against 12.5, 64 × 1152 × 6912 41
     * against 16 — while 512 × 1152 × 4608 (144 tiles) ran 146 against 114, and every batch-64 shape 1.6 to 2.1 times
     * faster on gemm_sm90. {@link #linearSm90} still takes any shape (K split where few tiles would leave SMs idle).
     */
    public static boolean wgmmaTakes(int m, int n, int k, int multiprocessors) {
        return k > 0 && k % 8 == 0 && m >= 64 && n >= 64 && (long) OpCheck.ceilDiv(m, Sm90.BM) * OpCheck.ceilDiv(n, Sm90.BN) >= multiprocessors;
    }

    /**
     * Y = epilogue(X · Wᵀ) with the kernel and tile chosen for the path and the shape: gemm_skinny where
     * {@link #skinnyTakes} (any GPU), gemm_sm90 on the WGMMA path where {@link #wgmmaTakes}, else gemm.cu's tiles.
     */
    public void linear(DeviceAddress y, Precision out, DeviceAddress x, DeviceAddress w, int m, int n, int k, Epilogue e) {
        if (skinnySplit ? skinnyTakes(m, n, k, multiprocessors) : m <= SKINNY_MAX_M) {
            linearSkinny(y, out, x, w, m, n, k, e);
        } else if (path == GemmPath.WGMMA && wgmmaTakes(m, n, k, multiprocessors)) {
            sm90(y, out, x, w, m, n, k, e, cooperative, wideTiles && wideTakes(m, n, k, multiprocessors));
        } else if (path == GemmPath.WGMMA && smallOnSm90 && k % 8 == 0 && m >= 64 && n >= 64) {
            sm90(y, out, x, w, m, n, k, e, true, false);   // a CTA gets at most one unit here: both consumers on it
        } else {
            linear(Tile.choose(m, n, multiprocessors), y, out, x, w, m, n, k, e);
        }
    }

    /** Rows up to which {@link #linear} always takes gemm_skinny: the rows a block holds (its accumulators, MAX_M). */
    public static final int SKINNY_MAX_M = 16;

    /**
     * Whether {@link #linear} takes gemm_skinny: up to {@link #SKINNY_MAX_M} rows always; 17 to 63 rows (a block row
     * per 16, each reading W again, from L2 after the first) where gemm.cu's 64-row tiles would be fewer than the SMs
     * (N < 64 · SMs: on the H100 of 2026-11-28 ECAR-L's 32-row fc2, 16 such tiles for 1024 columns, took 32.7 µs for
     * 5.6 MB of weights), and the product is at most {@link #SKINNY_MAX_FMA} multiply-adds: the CUDA cores do about
     * 30 T a second on an H100, so that is under 10 µs of arithmetic; wider or longer layers keep the tensor cores.
     */
    public static boolean skinnyTakes(int m, int n, int k, int multiprocessors) {
        return m <= SKINNY_MAX_M || (m < 64 && OpCheck.ceilDiv(n, 64) < multiprocessors && (long) m * n * k <= SKINNY_MAX_FMA);
    }

    /** The most multiply-adds {@link #skinnyTakes} gives gemm_skinny past {@link #SKINNY_MAX_M} rows (ECAR-L's and ARPG-L's batch-1 layers: up to 1.8e8). */
    public static final long SKINNY_MAX_FMA = 1L << 28;
    /** gemm_skinny's warps a block (its WARPS), each one pair of output columns. */
    static final int SKINNY_WARPS = 4;

    /**
     * kernels/gemm_skinny.cu: a warp per pair of outputs streaming W's rows on the CUDA cores (K split over 2 or 4 warps
     * where the columns are few), a block row per 16 rows, for the few rows of batch-1 sampling, where a tensor-core tile
     * would be mostly padding and leave most SMs idle (any GPU).
     */
    public void linearSkinny(DeviceAddress y, Precision out, DeviceAddress x, DeviceAddress w, int m, int n, int k, Epilogue e) {
        checkOperands("gemm_skinny", y, out, x, w, m, n, k, e);
        skinny("gemm_skinny_" + out.suffix + "(ptr y, ptr x, ptr w, ptr? bias, ptr? res, ptr? gate, ptr? mul, i32 M, i32 N, "
                + "i32 K, i32 act, i32 post, i32 gateRatio, i32 gateLd, i32 ksplit, " + ROPE_PARAMS + ")", y, x, w, m, n, k, e, 0);
    }

    /**
     * One launch of a gemm_skinny entry: its grid (the pairs of columns over the warps, K split as {@link #skinnySplit}
     * says, a block row per {@link #SKINNY_MAX_M} rows), {@code sharedBytes} of dynamic shared memory, and the arguments
     * of {@code signature}: Y, X, W, the epilogue's, M, N, K, ..., ksplit, then {@code extra}, then RoPE's.
     */
    private void skinny(String signature, DeviceAddress y, DeviceAddress x, DeviceAddress w, int m, int n, int k, Epilogue e, int sharedBytes, Object... extra) {
        String op = signature.substring(0, signature.indexOf('('));
        int rowBlocks = OpCheck.ceilDiv(m, SKINNY_MAX_M);
        that(rowBlocks <= 65535, op, "M = " + m + " needs more than 65535 blocks of " + SKINNY_MAX_M + " rows");
        int ksplit = skinnySplit ? skinnySplit(n, k, multiprocessors, rowBlocks) : 1;
        LaunchShape shape = new LaunchShape(OpCheck.ceilDiv(OpCheck.ceilDiv(n, 2), SKINNY_WARPS / ksplit), rowBlocks, 1, 32 * SKINNY_WARPS, 1, 1, sharedBytes);
        Object[] args = {y, x, w, e.bias(), e.res(), e.gate(), e.mul(), m, n, k, e.act().ordinal(), e.post().ordinal(), e.gateRatio(), e.gateLd(n), ksplit};
        Object[] all = java.util.Arrays.copyOf(args, args.length + extra.length);
        System.arraycopy(extra, 0, all, args.length, extra.length);
        launcher.launch("gemm_skinny", signature, shape, withRope(e, all));
    }

    /**
     * The most rows {@link #fusesNorm} gives a norm prologue. Every block of gemm_skinny_norm reads its rows of x whole
     * (the statistics need them), from L2 or L1 after the first, so those reads grow with the rows times the blocks: at
     * 8 rows of 1024 and ECAR-L's qkv (768 blocks) they are 24 MB against W's 6 MB (one block row; ≤ 32 KiB of
     * shared memory). ECAR-L's first two stages (2 and 8 rows guided) and ARPG-L's steps fall within it.
     */
    public static final int NORM_PROLOGUE_MAX_M = 8;

    /**
     * Whether these norm rows could go into a GEMM's prologue at all ({@link #withNormPrologue} on, few enough rows,
     * rows norm_row.cuh holds in registers, K a multiple of 8): the backend defers such a norm to the op that reads it.
     */
    public boolean mayFuseNorm(NormInput in) {
        return normPrologue && in.rows() <= normPrologueRows && in.d() % 8 == 0 && in.rowsFitRegisters();
    }

    /** Whether {@link #linearNormed} takes Y = norm(in)·Wᵀ with N = {@code n}: {@link #mayFuseNorm}, and gemm_skinny takes the shape. */
    public boolean fusesNorm(NormInput in, int n) {
        int m = in.rows(), k = in.d();
        return mayFuseNorm(in) && n > 0 && (skinnySplit ? skinnyTakes(m, n, k, multiprocessors) : m <= SKINNY_MAX_M);
    }

    /**
     * The same for a product stored into {@code y}, which must not overlap what the prologue reads (a residual stream
     * both normalised and added to, x += f(norm(x)), takes norm_rows then the GEMM: other blocks would read rows of x
     * that one block has already updated).
     */
    public boolean fusesNorm(NormInput in, int n, DeviceAddress y) {
        return fusesNorm(in, n) && OpCheck.apart(y, in.x()) && OpCheck.apart(y, in.weight()) && OpCheck.apart(y, in.shift()) && OpCheck.apart(y, in.scale());
    }

    /**
     * Y = epilogue(bf16(norm(x)) · Wᵀ) in one launch of gemm_skinny's norm entry: each block computes its rows of X as
     * norm_rows would write them (the same bits) into shared memory, then runs gemm_skinny's loop on them. Where
     * {@link #fusesNorm}; Y (and so a residual) must not overlap the norm's operands, which other blocks still read.
     */
    public void linearNormed(DeviceAddress y, Precision out, NormInput x, DeviceAddress w, int n, Epilogue e) {
        String op = "gemm_skinny_norm";
        int m = x.rows(), k = x.d();
        that(fusesNorm(x, n), op, "norm rows [" + m + ", " + k + "] into N = " + n + ": the norm prologue takes up to " + normPrologueRows
                + " rows of a multiple of 8 columns up to " + NormInput.ROW_COLUMNS + ", 16-byte aligned, on the shapes gemm_skinny takes"
                + (normPrologue ? "" : ", and only when on (" + NORM_PROLOGUE_ENV + "=on)"));
        x.check();
        checkProduct(op, y, out, w, m, n, k, e);
        OpCheck.disjoint(op, "Y", y, "the norm's x", x.x());
        OpCheck.disjoint(op, "Y", y, "the norm's weight", x.weight());
        OpCheck.disjoint(op, "Y", y, "the norm's shift", x.shift());
        OpCheck.disjoint(op, "Y", y, "the norm's scale", x.scale());
        skinny("gemm_skinny_norm_" + out.suffix + "(ptr y, ptr nx, ptr w, ptr? bias, ptr? res, ptr? gate, ptr? mul, i32 M, i32 N, i32 K, i32 act, i32 post, "
                        + "i32 gateRatio, i32 gateLd, i32 ksplit, ptr? nweight, ptr? nshift, ptr? nscale, i32 modStride, i32 kind, f32 eps, i32 ratio, " + ROPE_PARAMS + ")",
                y, x.x(), w, m, n, k, e, 2 * Math.min(m, SKINNY_MAX_M) * k, x.weight(), x.shift(), x.scale(), x.modStride(), x.kind().ordinal(), x.eps(), x.ratio());
    }

    /** Warps a skinny block holds, about, on each SM it runs on: each keeps about 4 KB of W in flight. */
    static final int SKINNY_WARPS_PER_SM = 16;

    /**
     * How many of gemm_skinny's warps share a pair of output columns, each a range of K (1, 2 or 4): the fewest that
     * give about {@link #SKINNY_WARPS_PER_SM} warps an SM, so that a layer with few columns still has W's bytes in
     * flight on every SM (ARPG-L's fc2, N = 1024 on 132 SMs: 4; DiT-XL/2's adaLN, N = 6912: 1), and no more than
     * leave each lane of a range one 16-byte chunk of K. Each block row of 16 rows has its own warps.
     */
    static int skinnySplit(int n, int k, int multiprocessors, int rowBlocks) {
        long warps = (long) (n + 1) / 2 * rowBlocks, wanted = (long) SKINNY_WARPS_PER_SM * multiprocessors;   // warps at ksplit 1
        int ksplit = 1;
        while (ksplit < SKINNY_WARPS && warps * ksplit < wanted && k / 8 >= 32 * 2 * ksplit) ksplit *= 2;
        return ksplit;
    }

    /** gemm.cu's mma.sync kernel with this tile, on any GPU. */
    public void linear(Tile tile, DeviceAddress y, Precision out, DeviceAddress x, DeviceAddress w, int m, int n, int k, Epilogue e) {
        String op = "gemm";
        checkOperands(op, y, out, x, w, m, n, k, e);
        that(OpCheck.ceilDiv(m, tile.size) <= 65535, op, "M = " + m + " needs more than 65535 row tiles of " + tile.size);
        launcher.launch("gemm", signature("gemm_bf16_" + tile.name().toLowerCase() + "_" + out.suffix), tile.shape(m, n),
                withRope(e, y, x, w, e.bias(), e.res(), e.gate(), e.mul(), m, n, k, e.act().ordinal(), e.post().ordinal(), e.gateRatio(), e.gateLd(n),
                        rowStores ? 1 : 0));
    }

    /**
     * gemm_sm90.cu's TMA + wgmma kernel, whatever the shape (any M, N ≥ 1; K a multiple of 8). Only on the WGMMA path:
     * its SASS exists for sm_90a alone.
     */
    public void linearSm90(DeviceAddress y, Precision out, DeviceAddress x, DeviceAddress w, int m, int n, int k, Epilogue e) {
        sm90(y, out, x, w, m, n, k, e, cooperative, wideTiles);
    }

    /**
     * gemm_sm90 with cooperative consumers or ping-pong ones, K split where the tiles are few and there is scratch
     * (Sm90.splitK; both kinds of consumer take a unit's K range alike: tools/emulate_gemm_sm90.py replays both).
     */
    private void sm90(DeviceAddress y, Precision out, DeviceAddress x, DeviceAddress w, int m, int n, int k, Epilogue e, boolean coop, boolean wide) {
        String op = wide ? "gemm_sm90w" : "gemm_sm90";
        that(path == GemmPath.WGMMA, op, "the wgmma kernel runs on compute capability 9.0 only; these GEMM kernels are on the " + path.label + " path");
        checkOperands(op, y, out, x, w, m, n, k, e);
        int bn = wide ? Sm90.WIDE_BN : Sm90.BN;
        long positions = (Sm90.tiles(m, n, bn) + multiprocessors - 1) / multiprocessors * OpCheck.ceilDiv(k, Sm90.BK);
        that(positions <= Integer.MAX_VALUE, op, m + " × " + n + " × " + k + " needs " + positions
                + " pipeline positions per CTA; the kernel counts them in 32 bits");
        boolean cluster = clusters && !coop && !wide;   // gemm_sm90c: ping-pong on the plain tile, W in halves
        TensorMap tmX = maps.encode(Sm90.operand(x, m, k)),
                tmW = maps.encode(Sm90.operand(w, n, k, wide ? Sm90.WIDE_BN : cluster ? Sm90.CLUSTER_W_ROWS : Sm90.BM));
        Sm90.SplitK split = scratch == null ? new Sm90.SplitK(1, OpCheck.ceilDiv(k, Sm90.BK)) : Sm90.splitK(m, n, k, multiprocessors, bn);
        String entry = cluster ? Sm90.clusterSignature(out) : Sm90.signature(out, wide);
        // clusters: no more than the device holds at once (H100's SMs pair up, so 66 on 132 SMs is expected; a grid
        // past it would run its last clusters as a second wave, after the others)
        int maxClusters = cluster ? launcher.maxActiveClusters("gemm_sm90", entry, Sm90.clusterShape(2 * Sm90.BM, Sm90.BN, 1, 2)) : 0;
        java.util.function.IntFunction<LaunchShape> grid = splits -> cluster ? Sm90.clusterShape(m, n, splits, multiprocessors, maxClusters)
                : Sm90.shape(m, n, splits, multiprocessors, bn);
        if (split.splits() == 1) {
            launcher.launch("gemm_sm90", entry, grid.apply(1), withRope(e, tmX, tmW, y, e.bias(), e.res(), e.gate(),
                    e.mul(), m, n, k, e.act().ordinal(), e.post().ordinal(), e.gateRatio(), e.gateLd(n), null, 1, split.kPer(), rowStores ? 1 : 0,
                    coop ? 1 : 0));
            return;
        }
        try (Scratch.Lease ws = scratch.floats((long) split.splits() * m * n, "split-K partial sums of " + m + " × " + n + " × " + k)) {
            buffer(op, "split-K workspace", ws.address(), 4L * split.splits() * m * n, 8, "[" + split.splits() + ", " + m + ", " + n + "] f32");
            launcher.launch("gemm_sm90", entry, grid.apply(split.splits()), withRope(RAW_SUMS, tmX, tmW, y, null,
                    null, null, null, m, n, k, 0, 0, 1, n, ws.address(), split.splits(), split.kPer(), 0, coop ? 1 : 0));
            launcher.launch("gemm_sm90", Sm90.reduceSignature(out), Sm90.reduceShape(m, n), withRope(e, y, ws.address(), split.splits(), e.bias(), e.res(),
                    e.gate(), e.mul(), m, n, e.act().ordinal(), e.post().ordinal(), e.gateRatio(), e.gateLd(n)));
        }
    }

    /** The ranges of a split product store raw sums: no epilogue, no RoPE (the reduce applies both). */
    private static final Epilogue RAW_SUMS = Epilogue.of(null, Activation.NONE);

    private static void checkOperands(String op, DeviceAddress y, Precision out, DeviceAddress x, DeviceAddress w, int m, int n, int k, Epilogue e) {
        checkProduct(op, y, out, w, m, n, k, e);
        buffer(op, "X", x, 2L * m * k, 16, "[" + m + ", " + k + "] bf16");
        OpCheck.disjoint(op, "Y", y, "X", x);
    }

    /** Everything {@link #checkOperands} checks but X: the sizes, W, Y, the epilogue, and Y apart from what it reads. */
    private static void checkProduct(String op, DeviceAddress y, Precision out, DeviceAddress w, int m, int n, int k, Epilogue e) {
        positive(op, "M", m);
        positive(op, "N", n);
        positive(op, "K", k);
        that(k % 8 == 0, op, "K = " + k + " is not a multiple of 8 (rows of X and W are read in 16-byte chunks of 8 bf16)");
        buffer(op, "W", w, 2L * n * k, 16, "[" + n + ", " + k + "] bf16");
        int yCols = e != null && e.post() == Post.GATE_PAIRS ? n / 2 : n;   // checked against n even below
        buffer(op, "Y", y, (long) out.bytes * m * yCols, 16, "[" + m + ", " + yCols + "] " + out.suffix);
        checkEpilogue(op, e, m, n);
        OpCheck.disjoint(op, "Y", y, "W", w);
        OpCheck.disjoint(op, "Y", y, "mul", e.mul());
        OpCheck.disjoint(op, "Y", y, "gate", e.gate());
    }

    /** A fused qkv's RoPE: a plain store after the bias, whole heads of q and k inside N, whole samples of tokens in M. */
    private static void checkRope(String op, Epilogue e, int m, int n) {
        Rope r = e.rope();
        RopeTable t = r.table();
        that(e.post() == Post.STORE && e.act() == Activation.NONE, op, "a RoPE epilogue stores x·Wᵀ + bias rotated; got " + e.act() + " then " + e.post());
        that(r.headDim() > 0 && r.headDim() % 2 == 0, op, "RoPE head size " + r.headDim() + " must be even");
        that(r.columns() > 0 && r.columns() <= n && r.columns() % r.headDim() == 0, op,
                "RoPE on " + r.columns() + " columns: expected whole heads of " + r.headDim() + " within N = " + n);
        that(r.tokens() > 0 && m % r.tokens() == 0, op, "M = " + m + " rows are not whole samples of " + r.tokens() + " tokens");
        that(t.rows() != null || t.tableRows() == r.tokens(), op, "RoPE tables of " + t.tableRows() + " rows for " + r.tokens()
                + " tokens, a row per token: expected as many (or a row list)");
        that(t.tableRows() > 0, op, "RoPE tables of " + t.tableRows() + " rows");
        if (t.rows() != null) buffer(op, "rope rows", t.rows(), 4L * r.tokens(), 4, "[" + r.tokens() + "] f32");
        long table = (long) t.tableRows() * r.headDim() / 2;
        buffer(op, "rope cos", t.cos(), 4 * table, 4, "[" + t.tableRows() + ", " + r.headDim() / 2 + "] f32");
        buffer(op, "rope sin", t.sin(), 4 * table, 4, "[" + t.tableRows() + ", " + r.headDim() / 2 + "] f32");
    }

    /** Shared with the convolution, whose epilogue is the same code. */
    static void checkEpilogue(String op, Epilogue e, int m, int n) {
        that(e != null && e.act() != null && e.post() != null, op, "epilogue, its activation and its post step must be given");
        optional(op, "bias", e.bias(), 4L * n, 4, "[" + n + "] f32");
        if (e.rope() != null) checkRope(op, e, m, n);
        switch (e.post()) {
            case STORE, DISCARD -> that(e.res() == null && e.gate() == null && e.mul() == null, op, "a " + e.post() + " epilogue takes no res, gate or mul");
            case GATE_PAIRS -> {
                that(n % 2 == 0, op, "N = " + n + " is odd; a GATE_PAIRS epilogue takes gate and value columns in pairs");
                that(e.res() == null && e.gate() == null && e.mul() == null, op, "a GATE_PAIRS epilogue takes no res, gate or mul");
            }
            case MUL -> {
                buffer(op, "mul", e.mul(), 2L * m * n, 16, "[" + m + ", " + n + "] bf16");
                that(e.res() == null && e.gate() == null, op, "a MUL epilogue takes no res or gate");
            }
            case RESIDUAL -> {
                buffer(op, "res", e.res(), 4L * m * n, 16, "[" + m + ", " + n + "] f32");
                that(e.gateRatio() >= 1 && m % e.gateRatio() == 0, op,
                        "gateRatio = " + e.gateRatio() + " must be at least 1 and divide M = " + m + " (rows of Y per gate row)");
                int rows = m / e.gateRatio(), ld = e.gateLd(n);
                that(ld >= n, op, "gateLd = " + ld + " floats between gate rows is less than the " + n + " columns of a row");
                optional(op, "gate", e.gate(), 4L * ((long) (rows - 1) * ld + n), 4, "[" + rows + ", " + n + "] f32" + (ld == n ? "" : ", rows " + ld + " apart"));
                that(e.mul() == null, op, "a RESIDUAL epilogue takes no mul");
            }
        }
    }
}
