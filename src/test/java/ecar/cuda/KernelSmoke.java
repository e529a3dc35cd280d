package ecar.cuda;

import ecar.backend.KvCache;

import ecar.cuda.backend.CudaBackend;
import ecar.backend.Noise;
import ecar.tensor.Shape;
import ecar.tensor.Tensor;

/**
 * Runs every attention and flow kernel once on small ragged shapes, a few ragged GEMMs (gemm_sm90's on Hopper), then
 * the tiny DiT and ECAR pipelines (every other kernel family through CudaBackend), for compute-sanitizer (memcheck, racecheck, synccheck, initcheck) on a GPU
 * machine: dist/gpu-kit/run.sh sanitize starts it under each tool (tools/gpu_kit.sh; tools/gpu_session.sh runs that).
 * Exits non-zero on any error.
 */
public final class KernelSmoke {
    private KernelSmoke() {}

    private static final long T0 = System.nanoTime();

    /** A line per part done, so that a sanitizer stopped at its time limit shows how far the smoke got. */
    private static void progress(String done) {
        System.out.printf(java.util.Locale.ROOT, "kernel smoke: done %s (%.0f s)%n", done, (System.nanoTime() - T0) / 1e9);
        System.out.flush();
    }

    public static void main(String[] args) {
        if (!CudaProbe.available()) {
            System.err.println("kernel smoke: no GPU: " + CudaProbe.probe().reason());
            System.exit(2);
        }
        try (CudaBackend gpu = new CudaBackend(128L << 20)) {
            for (int d : new int[]{64, 72, 96, 128}) {
                for (int[] lens : new int[][]{{1, 1}, {5, 5}, {85, 85}, {70, 130}, {130, 5}}) {
                    Tensor q = gpu.upload(Compare.random(d + lens[0], 1f, 2, lens[0], 2 * d));
                    Tensor k = gpu.upload(Compare.random(d + lens[1] + 1, 1f, 2, lens[1], 2 * d));
                    gpu.attention(q, k, k, 2);
                }
                Tensor x = gpu.upload(Compare.random(d, 1f, 2, 85, 2 * d));
                gpu.attentionBlockCausal(x, x, x, 2, new int[]{1, 4, 16, 64});
                Tensor g = gpu.upload(Compare.random(d + 3, 1f, 2, 81, 2 * d));
                gpu.attentionRope(g, g, g, 2, 9, 16, true);
                gpu.rope2d(g, 2, 9, 16);
                KvCache fused = gpu.kvCache(2, 21, 2 * d);   // the AR pass from a fused qkv: one strided kv_append writing the queries too
                for (int side : new int[]{1, 2, 4}) gpu.selfAttention(gpu.upload(Compare.random(side + d, 1f, 2, side * side, 6 * d)), fused, 2, side, 16);
                float[][] arpgTables = ecar.backend.RopeTables.arpg(4, d, 10000);   // ARPG: kv_append rotating by table rows, queries beside
                Tensor cos = gpu.upload(ecar.tensor.FloatTensor.of(arpgTables[0], 17, d / 2)), sin = gpu.upload(ecar.tensor.FloatTensor.of(arpgTables[1], 17, d / 2));
                Tensor rows = gpu.upload(ecar.tensor.FloatTensor.of(new float[]{0, 16, 5}, 3));
                KvCache arpg = gpu.kvCache(2, 7, 2 * d);
                gpu.selfAttentionRopeRows(gpu.upload(Compare.random(d + 5, 1f, 2, 3, 6 * d)), arpg, 2, cos, sin, rows);
                gpu.kvAppendRopeRows(arpg, gpu.upload(Compare.random(d + 6, 1f, 2, 3, 4 * d)), 2, cos, sin, rows);
                gpu.attention(gpu.linearRopeRows(gpu.upload(Compare.random(d + 8, 1f, 2, 3, 2 * d)), gpu.weight(Compare.random(d + 9, 0.1f, 2 * d, 2 * d)), null,
                        2, cos, sin, rows), arpg, 2);   // ARPG's cross-attention queries, rotated by the GEMM's epilogue
                KvCache cross = gpu.kvCache(2, 25, 2 * d);   // the flow head's cross keys and values from a fused kv (stride 2·width)
                gpu.kvAppendRope(cross, gpu.upload(Compare.random(d + 7, 1f, 2, 25, 4 * d)), 2, 5, 16);
                KvCache cache = gpu.kvCache(2, 85, 2 * d);
                for (int side : new int[]{1, 2, 4, 8}) {
                    Tensor s = gpu.upload(Compare.random(side, 1f, 2, side * side, 2 * d));
                    gpu.kvAppend(cache, s, s);
                    gpu.attentionRope(s, cache, 2, side, 16);
                    gpu.attention(s, cache, 2);
                }
            }
            for (int[] sn : new int[][]{{2, 2}, {2, 8}, {8, 16}}) {   // the RoPE epilogue on the skinny kernel, gemm.cu's tiles, gemm_sm90
                Tensor xr = gpu.upload(Compare.random(sn[1], 1f, sn[0], sn[1] * sn[1], 256));
                gpu.selfAttention(gpu.linearRope(xr, gpu.weight(Compare.random(sn[1] + 1, 0.05f, 3 * 256, 256)), null, 4, sn[1], 16), 4, 0, 0, false);
                gpu.linearRopeQueries(xr, gpu.weight(Compare.random(sn[1] + 2, 0.05f, 256, 256)), null, 4, sn[1], 16);
            }
            Tensor x = gpu.upload(Compare.random(1, 1f, 6, 85, 7)), v = gpu.upload(Compare.random(2, 1f, 6, 85, 7));
            gpu.flowEulerStep(x, v, -0.1f, 2f, true);
            gpu.flowEulerStep(x, v, -0.1f, 2f, false);
            Tensor y = gpu.upload(Compare.random(3, 1f, 8, 256, 16)), w = gpu.upload(Compare.random(4, 1f, 8, 256, 16));
            gpu.flowEulerStep(y, w, -0.1f, 2f, true);
            Tensor t = gpu.upload(Compare.random(5, 1f, 3, 25, 7));
            gpu.stageJump(t, 5, 0.7f, 0.4f, 1f / 3, Noise.philox(1, 2));
            gpu.stageJump(t, 5, 0.7f, 0.4f, 1f / 3, Noise.of(gpu.randn(Shape.of(3, 100, 7), 3, 4)));
            Tensor o = gpu.upload(Compare.random(6, 1f, 4, 8, 5, 5));
            gpu.cfgCombineChannels(o, 3, 1.5f);
            gpu.condTwice(o);
            gpu.watchFinite(o, 3);
            gpu.firstNonFinite();
            gpu.deviceTimer(10_000).open().read();   // ecar profile's spin_gate between its events
            progress("attention, RoPE, KV-cache and flow kernels");
            // GEMMs: two with enough 128 × 128 tiles for gemm_sm90 where the device has it (1100 × 1904 and 1100 × 1900: 9 × 15
            // tiles, ragged in M, N and K (K padded to 8); N % 8 == 0 takes the row stores, with the GELU applied in place, and
            // N % 8 == 4 the pair stores); gemm.cu's tiles for fewer tiles than SMs; the skinny kernel for 1 to 16 rows
            for (int[] mkn : new int[][]{{1100, 72, 1904}, {1100, 72, 1900}, {130, 72, 200}, {64, 1000, 129}, {300, 13, 256}, {2, 1152, 333}, {16, 264, 1024}}) {
                linearAndResidual(gpu, mkn[0], mkn[1], mkn[2]);
            }
            // a gated MLP's hidden layer (GATE_PAIRS epilogue) on 9 × 30 tiles: gemm_sm90's row stores where the device has
            // it, N % 8 == 4 as FlowAR's 2 × 2730 (each row's last group of eight columns holds two hidden units)
            Tensor ga = gpu.upload(Compare.random(55, 1f, 1100, 72)), gw = gpu.upload(Compare.random(56, 0.1f, 3812, 72));
            gpu.gatedLinear(ga, gw, gpu.upload(Compare.random(57, 1f, 3812)), ecar.backend.Activation.GELU_ERF);
            progress("GEMMs");
            // the fused self-attention (qkv_to_bf16, then attention_sm90 on Hopper from 128 tokens with head 64, else
            // attention.cu) with and without the 2D RoPE, and adaLN read from a modulation tensor's chunks
            Tensor qkv = gpu.upload(Compare.random(40, 1f, 2, 256, 3 * 128));
            gpu.selfAttention(qkv, 2, 16, 16, true);
            gpu.selfAttention(qkv, 2, 0, 0, false);
            Tensor mod = gpu.upload(Compare.random(41, 0.5f, 2, 6 * 128)), hx = gpu.upload(Compare.random(42, 1f, 2, 256, 128));
            gpu.normModulate(hx, ecar.backend.Norm.RMS, 1e-6f, mod, 6, 4, 2);
            // norm_rows with the row in registers (d 1024) and in its four-byte loop (d 33)
            for (int d : new int[]{1024, 33}) {
                gpu.normForMatmul(gpu.upload(Compare.random(43 + d, 1f, 6, d)), ecar.backend.Norm.LAYER, gpu.upload(Compare.random(44, 1f, d)), 1e-6f);
            }
            gpu.synchronize();
            progress("fused self-attention and norms");
        }
        // the kernel settings' other choices first, the tiny pipelines last: a sanitizer that runs out of time (racecheck
        // and initcheck did on the H100, 2026-11-28, inside the pipelines) has then checked every kernel path
        underSetting(ecar.cuda.ops.GemmKernels.STORES_PROPERTY, "pairs", 128L << 20, gpu -> linearAndResidual(gpu, 1100, 72, 1904));
        progress("gemm_sm90 pair stores");
        // gemm_sm90's wide 128 × 256 tile (ECAR_GEMM_TILE=128x256) on shapes with a wide tile for each SM of an H100
        // (2200 × 1904 and 2200 × 1900: 18 × 8 tiles, ragged in M, N and K; row stores and pair stores)
        underSetting(ecar.cuda.ops.GemmKernels.TILE_PROPERTY, "128x256", 256L << 20, gpu -> {
            linearAndResidual(gpu, 2200, 72, 1904);
            linearAndResidual(gpu, 2200, 72, 1900);
        });
        progress("gemm_sm90 wide tiles");
        // gemm_sm90c, clusters of two sharing W by multicast (ECAR_GEMM_CLUSTER=on): 9 m-tiles, so the last pair's second
        // tile is all past M; ragged in N and K
        underSetting(ecar.cuda.ops.GemmKernels.CLUSTER_PROPERTY, "on", 128L << 20, gpu -> linearAndResidual(gpu, 1100, 72, 1904));
        progress("gemm_sm90 clusters");
        // programmatic dependent launch (ECAR_PDL=on): the GEMMs and an attention launched with the attribute, each kernel
        // free to start while the one before it ends
        underSetting(LaunchDriver.PROGRAMMATIC.property(), "on", 128L << 20, gpu -> {
            linearAndResidual(gpu, 1100, 72, 1904);
            Tensor q = gpu.upload(Compare.random(77, 1f, 2, 130, 128)), k = gpu.upload(Compare.random(78, 1f, 2, 300, 128));
            gpu.attention(q, k, k, 2);
        });
        progress("programmatic launches");
        // norms in the skinny GEMMs' prologues (ECAR_NORM_PROLOGUE=on, gemm_skinny_norm): 1, 3 and 8 rows of 64, 1032 and
        // 2048 columns, adaLN chunks read in place and a weight, LayerNorm and RMSNorm, odd N (K split where N is small),
        // the shared rows written by the prologue and read by the main loop (racecheck)
        underSetting(ecar.cuda.ops.GemmKernels.NORM_PROLOGUE_PROPERTY, "on", 128L << 20, gpu -> {
            for (int[] rd : new int[][]{{1, 64}, {3, 1032}, {8, 2048}}) {
                int rows = rd[0], d = rd[1];
                Tensor x = gpu.upload(Compare.random(80 + d, 1f, rows, 1, d)), mod = gpu.upload(Compare.random(81, 0.5f, rows, 6 * d));
                Tensor g = gpu.upload(Compare.random(82, 1f, d));
                for (int n : new int[]{7, 1001}) {
                    Tensor w = gpu.weight(Compare.random(83 + n, 0.1f, n, d));
                    gpu.linear(gpu.normModulate(x, ecar.backend.Norm.RMS, 1e-6f, mod, 6, 4, 2), w, null, ecar.backend.Activation.NONE);
                    gpu.linearOperand(gpu.normForMatmul(x, ecar.backend.Norm.LAYER, g, 1e-6f), w, null);
                }
            }
            gpu.synchronize();
            if (gpu.normPrologues() != 12) throw new IllegalStateException("expected 12 norms in GEMM prologues, got " + gpu.normPrologues());
        });
        progress("norm prologues");
        // attention_sm90's overlapped schedule (ECAR_ATTENTION_OVERLAP=on): the next K/V tile's S before this tile's P·V,
        // on 1, 3 and a ragged 3 K/V tiles, head sizes 64, 72 and 128 (where the device has the Hopper kernel)
        underSetting(ecar.cuda.ops.AttentionSm90.OVERLAP_PROPERTY, "on", 128L << 20, gpu -> {
            for (int d : new int[]{64, 72, 128}) {
                for (int lk : new int[]{100, 384, 300}) {
                    Tensor q = gpu.upload(Compare.random(70 + d, 1f, 2, 130, 2 * d)), k = gpu.upload(Compare.random(71 + lk, 1f, 2, lk, 2 * d));
                    gpu.attention(q, k, k, 2);
                }
            }
        });
        progress("attention_sm90 overlapped");
        try (CudaBackend gpu = new CudaBackend(128L << 20)) {
            // every other kernel family, as the models call it through the backend: tiny DiT latents, a tiny ECAR picture
            ecar.sample.GenerateRequest r = ecar.sample.GenerateRequest.of(1, 3).seed(5);
            ecar.sample.Pipeline.random(ecar.sample.Presets.get("dit-tiny"), 1, gpu).sampleLatents(r, ecar.model.Progress.NONE);
            progress("dit-tiny");
            ecar.sample.Pipeline.random(ecar.sample.Presets.get("ecar-tiny"), 1, gpu).generate(r, ecar.model.Progress.NONE);
            progress("ecar-tiny with its decode");
            // ARPG three times: its generation loop eager, captured, replayed (the device-scalar draw and guidance kernels)
            ecar.sample.Pipeline arpg = ecar.sample.Pipeline.random(ecar.sample.Presets.get("arpg-tiny"), 1, gpu);
            for (int i = 0; i < 3; i++) arpg.generate(r, ecar.model.Progress.NONE);
            gpu.synchronize();
            progress("arpg-tiny three times");
        }
        System.out.println("kernel smoke: every attention and flow kernel ran, the GEMM paths (skinny, mma.sync tiles, wgmma where the device has it, "
                + "with pair and row stores, and its wide tiles, norm prologues), attention_sm90 overlapped, and tiny DiT, ECAR and ARPG pipelines");
    }

    /** A GEMM with a bias and the GELU epilogue, then the gated residual reading its gate chunk (the last of 3) from a per-row modulation at row stride 3·N. */
    private static void linearAndResidual(CudaBackend gpu, int m, int k, int n) {
        Tensor a = gpu.upload(Compare.random(10 + m, 1f, m, k)), wt = gpu.upload(Compare.random(20 + n, 0.1f, n, k));
        gpu.linear(a, wt, gpu.upload(Compare.random(30, 1f, n)), ecar.backend.Activation.GELU_TANH);
        Tensor res = gpu.upload(Compare.random(31, 1f, m, n)), mod = gpu.upload(Compare.random(32, 1f, m, 3 * n));
        gpu.linearIntoResidual(res, a, wt, null, mod, 3, 2);
    }

    /** body on a backend opened while a kernel setting's system property says {@code value} (read when it opens), cleared after. */
    private static void underSetting(String property, String value, long arenaBytes, java.util.function.Consumer<CudaBackend> body) {
        System.setProperty(property, value);
        try (CudaBackend gpu = new CudaBackend(arenaBytes)) {
            body.accept(gpu);
            gpu.synchronize();
        } finally {
            System.clearProperty(property);
        }
    }
}
