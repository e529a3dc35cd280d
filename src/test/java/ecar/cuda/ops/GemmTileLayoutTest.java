package ecar.cuda.ops;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * kernels/gemm_tile.cuh's data movement replayed on the CPU, without a GPU: every thread's cp.async chunks into the
 * XOR-swizzled stage ring, every lane's ldmatrix row addresses, the fragments ldmatrix hands out and mma.sync
 * m16n8k16 consumes (as the PTX ISA defines them), and the epilogue's fragment-to-output mapping. The index
 * arithmetic below is copied from the kernel line by line; the fragment semantics are written independently from
 * the PTX ISA tables. Exact small-integer data makes every sum exact, so any mapping error shows as a wrong element.
 * Also checks that the swizzle makes each ldmatrix phase and each warp's cp.async stores free of bank conflicts.
 * It cannot catch what only hardware shows (PTX syntax, asynchrony, the real fragment layout if the ISA tables were
 * misread): the GPU tests do.
 */
class GemmTileLayoutTest {
    static final int BK = 32;

    record Cfg(int bm, int bn, int warpsM, int warpsN, int stages) {
        int threads() { return 32 * warpsM * warpsN; }
        int wtm() { return bm / warpsM; }
        int wtn() { return bn / warpsN; }
        int mi() { return wtm() / 16; }
        int ni() { return wtn() / 8; }
        int aBytes() { return bm * BK * 2; }
        int stageBytes() { return (bm + bn) * BK * 2; }
        int aChunks() { return bm * (BK / 8) / threads(); }
        int bChunks() { return bn * (BK / 8) / threads(); }
    }

    static final Cfg BIG = new Cfg(128, 128, 2, 4, 4), SMALL = new Cfg(64, 64, 2, 2, 4);

    /** swizzle(row, chunk) of gemm_tile.cuh. */
    static int swizzle(int row, int chunk) {
        return row * (BK * 2) + ((chunk ^ ((row >> 1) & 3)) << 4);
    }

    /** Where A's chunk (tile row, k) comes from: a plain matrix, or conv.cu's implicit im2col. Returns -1 for zero fill. */
    interface ASource {
        int src(int thread, int i, int row, int k);   // element index into the A array, or -1
    }

    /** One block of the kernel with pair stores, replayed (conv.cu's epilogue). */
    static void runBlock(Cfg c, int by, int bx, float[] a, ASource asrc, float[] w, int M, int N, int K, float[] out) {
        runBlock(c, by, bx, a, asrc, w, M, N, K, out, false);
    }

    /**
     * One block of the kernel, replayed: returns Y (float) for the tile at (by, bx); out must be pre-filled with NaN.
     * rows: gemm.cu's epi 1, the accumulators staged in the pipeline's memory and stored eight a lane where N % 8 == 0.
     */
    static void runBlock(Cfg c, int by, int bx, float[] a, ASource asrc, float[] w, int M, int N, int K, float[] out, boolean rows) {
        short[][] smem = new short[c.stages()][c.stageBytes() / 2];
        int m0 = by * c.bm(), n0 = bx * c.bn();
        int kTiles = (K + BK - 1) / BK;
        float[][][][][] acc = new float[c.threads() / 32][32][c.mi()][c.ni()][4];

        java.util.function.BiConsumer<Integer, Integer> load = (s, kt) -> {
            for (int tid = 0; tid < c.threads(); tid++) {
                for (int i = 0; i < c.aChunks(); i++) {
                    int ch = tid + i * c.threads(), row = ch >> 2, cc = ch & 3;
                    int src = asrc.src(tid, i, row, kt * BK + cc * 8);
                    copy16(smem[s], swizzle(row, cc), a, src);
                }
                for (int i = 0; i < c.bChunks(); i++) {
                    int ch = tid + i * c.threads(), row = ch >> 2, cc = ch & 3;
                    int n = n0 + row, k = kt * BK + cc * 8;
                    boolean valid = n < N && k < K;
                    copy16(smem[s], c.aBytes() + swizzle(row, cc), w, valid ? n * K + k : -1);
                }
            }
        };
        for (int s = 0; s < c.stages() - 1; s++) if (s < kTiles) load.accept(s, s);
        for (int kt = 0; kt < kTiles; kt++) {
            int next = kt + c.stages() - 1;
            if (next < kTiles) load.accept(next % c.stages(), next);   // issued before this tile's compute, as in the kernel
            short[] st = smem[kt % c.stages()];
            for (int warp = 0; warp < c.threads() / 32; warp++) {
                int warpM = warp / c.warpsN(), warpN = warp % c.warpsN();
                for (int kk = 0; kk < BK / 16; kk++) {
                    int[][][] af = new int[32][c.mi()][4];
                    int[][][] bf = new int[32][c.ni()][2];
                    for (int i = 0; i < c.mi(); i++) {
                        int[] addr = new int[32];
                        for (int lane = 0; lane < 32; lane++) {
                            int row = warpM * c.wtm() + i * 16 + (lane & 15);
                            int ch = kk * 2 + (lane >> 4);
                            addr[lane] = swizzle(row, ch);
                        }
                        assertConflictFree(addr);
                        int[][] r = ldmatrixX4(st, 0, addr);
                        for (int lane = 0; lane < 32; lane++) af[lane][i] = r[lane];
                    }
                    for (int j = 0; j < c.ni(); j += 2) {
                        int[] addr = new int[32];
                        for (int lane = 0; lane < 32; lane++) {
                            int row = warpN * c.wtn() + j * 8 + (lane & 7) + ((lane >> 4) << 3);
                            int ch = kk * 2 + ((lane >> 3) & 1);
                            addr[lane] = swizzle(row, ch);
                        }
                        assertConflictFree(addr);
                        int[][] r = ldmatrixX4(st, c.aBytes(), addr);
                        for (int lane = 0; lane < 32; lane++) {
                            bf[lane][j][0] = r[lane][0];
                            bf[lane][j][1] = r[lane][1];
                            bf[lane][j + 1][0] = r[lane][2];
                            bf[lane][j + 1][1] = r[lane][3];
                        }
                    }
                    for (int i = 0; i < c.mi(); i++)
                        for (int j = 0; j < c.ni(); j++) mma16816(acc[warp], i, j, af, bf);
                }
            }
        }
        if (rows && N % 8 == 0) {   // row8_ok for a plain epilogue with aligned operands
            stageAndStoreRows(c, m0, n0, acc, M, N, out);
            return;
        }
        for (int warp = 0; warp < c.threads() / 32; warp++) {
            int warpM = warp / c.warpsN(), warpN = warp % c.warpsN();
            for (int lane = 0; lane < 32; lane++) {
                int g = lane >> 2, t = lane & 3;
                for (int i = 0; i < c.mi(); i++)
                    for (int j = 0; j < c.ni(); j++) {
                        int m = m0 + warpM * c.wtm() + i * 16 + g, n = n0 + warpN * c.wtn() + j * 8 + 2 * t;
                        storePair(out, m, n, acc[warp][lane][i][j][0], acc[warp][lane][i][j][1], M, N);
                        storePair(out, m + 8, n, acc[warp][lane][i][j][2], acc[warp][lane][i][j][3], M, N);
                    }
            }
        }
    }

    /** gemm_tile.cuh's STAGE_ROWS, STAGE_COLS, STAGE_PITCH. */
    static final int STAGE_ROWS = 32, STAGE_COLS = 32, STAGE_PITCH = 40;

    /**
     * The row-store epilogue of run(), transcribed: each warp writes the fragments of 32 rows × 32 columns into its
     * staging area (float2 writes: each half warp must hit 32 distinct banks), then each lane reads eight adjacent
     * columns of one row (two float4: at most 2-way conflicts per quarter warp) and stores them (store_row8).
     */
    static void stageAndStoreRows(Cfg c, int m0, int n0, float[][][][][] acc, int M, int N, float[] out) {
        int warps = c.threads() / 32;
        assertEquals(STAGE_COLS, c.wtn(), "a warp's tile is 32 columns wide");
        assertEquals(0, c.wtm() % STAGE_ROWS, "a warp's tile is whole blocks of 32 rows");
        assertTrue(warps * STAGE_ROWS * STAGE_PITCH * 4 <= c.stages() * c.stageBytes(), "the staging fits the pipeline's memory");
        float[] smem = new float[warps * STAGE_ROWS * STAGE_PITCH];
        for (int warp = 0; warp < warps; warp++) {
            int warpM = warp / c.warpsN(), warpN = warp % c.warpsN(), base = warp * STAGE_ROWS * STAGE_PITCH;
            for (int b = 0; b < c.wtm() / STAGE_ROWS; b++) {
                java.util.Arrays.fill(smem, base, base + STAGE_ROWS * STAGE_PITCH, Float.NaN);
                for (int ii = 0; ii < 2; ii++)
                    for (int j = 0; j < c.ni(); j++)
                        for (int half = 0; half < 2; half++) {   // rows g and g + 8
                            int[] word = new int[32];
                            for (int lane = 0; lane < 32; lane++) {
                                int g = lane >> 2, t = lane & 3;
                                word[lane] = base + (16 * ii + g + 8 * half) * STAGE_PITCH + 8 * j + 2 * t;
                                smem[word[lane]] = acc[warp][lane][2 * b + ii][j][2 * half];
                                smem[word[lane] + 1] = acc[warp][lane][2 * b + ii][j][2 * half + 1];
                            }
                            for (int h = 0; h < 2; h++) {
                                Set<Integer> banks = new HashSet<>();
                                for (int l = 16 * h; l < 16 * h + 16; l++) {
                                    banks.add(word[l] % 32);
                                    banks.add((word[l] + 1) % 32);
                                }
                                assertEquals(32, banks.size(), "a bank conflict in the staging writes");
                            }
                        }
                for (int pass = 0; pass < STAGE_ROWS / 8; pass++) {
                    int[] word = new int[32];
                    for (int lane = 0; lane < 32; lane++) {
                        int col = 8 * (lane & 3), r = 8 * pass + (lane >> 2);
                        word[lane] = base + r * STAGE_PITCH + col;
                        int m = m0 + warpM * c.wtm() + STAGE_ROWS * b + r, n = n0 + warpN * c.wtn() + col;
                        if (m >= M || n >= N) continue;
                        for (int q = 0; q < 8; q++) {
                            float v = smem[word[lane] + q];
                            assertTrue(!Float.isNaN(v), "staged (" + r + ", " + (col + q) + ") read before it was written");
                            assertTrue(Float.isNaN(out[m * N + n + q]), "output (" + m + ", " + (n + q) + ") written twice");
                            out[m * N + n + q] = v;
                        }
                    }
                    for (int quarter = 0; quarter < 4; quarter++)
                        for (int h = 0; h < 2; h++) {   // the two float4 reads
                            int[] count = new int[32];
                            for (int l = 8 * quarter; l < 8 * quarter + 8; l++)
                                for (int q = 0; q < 4; q++) count[(word[l] + 4 * h + q) % 32]++;
                            assertTrue(java.util.Arrays.stream(count).max().getAsInt() <= 2, "a bank conflict of more than 2 ways in the row reads");
                        }
                }
            }
        }
    }

    static void storePair(float[] y, int m, int n, float v0, float v1, int M, int N) {
        if (m >= M || n >= N) return;
        assertTrue(Float.isNaN(y[m * N + n]), "output (" + m + ", " + n + ") written twice");
        y[m * N + n] = v0;
        if (n + 1 < N) {
            assertTrue(Float.isNaN(y[m * N + n + 1]), "output (" + m + ", " + (n + 1) + ") written twice");
            y[m * N + n + 1] = v1;
        }
    }

    /** cp.async 16 bytes: 8 bf16 from src (element index) or zeros when src < 0. Values are exact small integers. */
    static void copy16(short[] smem, int byteOff, float[] g, int src) {
        assertEquals(0, byteOff % 16, "cp.async destination not 16-byte aligned");
        for (int e = 0; e < 8; e++) smem[byteOff / 2 + e] = src < 0 ? 0 : (short) Math.round(g[src + e]);
    }

    /** ldmatrix.x4: lanes 8i..8i+7 address the rows of matrix i; lane l receives row l/4, elements 2(l%4), 2(l%4)+1. */
    static int[][] ldmatrixX4(short[] smem, int base, int[] addr) {
        int[][] r = new int[32][4];
        for (int lane = 0; lane < 32; lane++)
            for (int mat = 0; mat < 4; mat++) {
                int rowAddr = base + addr[8 * mat + lane / 4];
                assertEquals(0, rowAddr % 16, "ldmatrix row address not 16-byte aligned");
                int e = rowAddr / 2 + 2 * (lane % 4);
                r[lane][mat] = (smem[e] & 0xffff) | (smem[e + 1] << 16);   // lower address in the low half
            }
        return r;
    }

    /**
     * mma.sync.m16n8k16.row.col: A from a-fragments (lane l, reg r: row l/4 + 8(r%2), cols 2(l%4) + 8(r/2) + {0,1}),
     * B from b-fragments (lane l, reg r: k = 2(l%4) + 8r + {0,1}, n = l/4), D into c (lane l, reg r: row l/4 + 8(r/2),
     * col 2(l%4) + r%2).
     */
    static void mma16816(float[][][][] accWarp, int i, int j, int[][][] af, int[][][] bf) {
        float[][] A = new float[16][16], B = new float[16][8];
        for (int l = 0; l < 32; l++) {
            for (int r = 0; r < 4; r++) {
                int row = l / 4 + 8 * (r % 2), col = 2 * (l % 4) + 8 * (r / 2);
                A[row][col] = (short) af[l][i][r];
                A[row][col + 1] = (short) (af[l][i][r] >> 16);
            }
            for (int r = 0; r < 2; r++) {
                int k = 2 * (l % 4) + 8 * r, n = l / 4;
                B[k][n] = (short) bf[l][j][r];
                B[k + 1][n] = (short) (bf[l][j][r] >> 16);
            }
        }
        for (int l = 0; l < 32; l++)
            for (int r = 0; r < 4; r++) {
                int row = l / 4 + 8 * (r / 2), col = 2 * (l % 4) + r % 2;
                float s = 0;
                for (int k = 0; k < 16; k++) s += A[row][k] * B[k][col];
                accWarp[l][i][j][r] += s;
            }
    }

    /** ldmatrix reads 8 rows of 16 bytes per phase: they must fall in 8 distinct 16-byte bank groups of 128 bytes. */
    static void assertConflictFree(int[] addr) {
        for (int mat = 0; mat < 4; mat++) {
            Set<Integer> groups = new HashSet<>();
            for (int r = 0; r < 8; r++) groups.add((addr[8 * mat + r] % 128) / 16);
            assertEquals(8, groups.size(), "ldmatrix matrix " + mat + " has a bank conflict");
        }
    }

    static float[] ints(long seed, int n) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = r.nextInt(-3, 4);
        return a;
    }

    @ParameterizedTest(name = "{0} tile, {1}x{2}x{3}, row stores {4}")
    @CsvSource({"big, 130, 136, 72, false", "big, 85, 200, 8, false", "small, 85, 100, 104, false", "small, 64, 64, 32, false", "small, 1, 3, 168, false",
            "big, 130, 136, 72, true", "big, 200, 264, 40, true", "small, 85, 104, 104, true", "small, 64, 64, 32, true", "big, 85, 100, 8, true"})
    void gemmTileComputesXWt(String tile, int M, int N, int K, boolean rows) {
        Cfg c = tile.equals("big") ? BIG : SMALL;
        float[] x = ints(1, M * K), w = ints(2, N * K);
        float[] y = new float[M * N];
        java.util.Arrays.fill(y, Float.NaN);
        for (int by = 0; by < (M + c.bm() - 1) / c.bm(); by++) {
            final int m0 = by * c.bm();
            ASource matrix = (thread, i, row, k) -> (m0 + row < M && k < K) ? (m0 + row) * K + k : -1;   // MatrixRows::src
            for (int bx = 0; bx < (N + c.bn() - 1) / c.bn(); bx++) runBlock(c, by, bx, x, matrix, w, M, N, K, y, rows);
        }
        for (int m = 0; m < M; m++)
            for (int n = 0; n < N; n++) {
                float e = 0;
                for (int k = 0; k < K; k++) e += x[m * K + k] * w[n * K + k];
                assertEquals(e, y[m * N + n], 0f, "Y[" + m + ", " + n + "]");
            }
    }

    /** conv.cu's ConvPatches::src (precomputed per thread and chunk, as the kernel does) against a direct 3×3 conv. */
    @ParameterizedTest(name = "{0} tile, [{1}, {2}, {3}, {4}] → {5}")
    @CsvSource({"small, 1, 5, 7, 8, 24", "big, 2, 9, 3, 16, 130", "small, 1, 8, 8, 24, 3"})
    void convPatchesGatherTheIm2col(String tile, int n, int h, int wd, int ci, int co) {
        Cfg c = tile.equals("big") ? BIG : SMALL;
        int M = n * h * wd, K = 9 * ci;
        float[] x = ints(3, M * ci), w = ints(4, co * K);
        float[] y = new float[M * co];
        java.util.Arrays.fill(y, Float.NaN);
        for (int by = 0; by < (M + c.bm() - 1) / c.bm(); by++) {
            final int m0 = by * c.bm();
            // per thread and chunk: the row's pixel, as conv3x3() precomputes it
            int[][] py = new int[c.threads()][c.aChunks()], px = new int[c.threads()][c.aChunks()], img = new int[c.threads()][c.aChunks()];
            boolean[][] live = new boolean[c.threads()][c.aChunks()];
            for (int t = 0; t < c.threads(); t++)
                for (int i = 0; i < c.aChunks(); i++) {
                    int p = m0 + ((t + i * c.threads()) >> 2);
                    live[t][i] = p < M;
                    int q = live[t][i] ? p : 0;
                    int s = q / (h * wd), r = q - s * (h * wd);
                    py[t][i] = r / wd;
                    px[t][i] = r - py[t][i] * wd;
                    img[t][i] = s * h * wd;
                }
            ASource patches = (t, i, row, k) -> {
                assertEquals(m0 + row, m0 + ((t + i * c.threads()) >> 2), "chunk row differs from the precomputed row");
                int tap = k / ci, cc = k - tap * ci;
                int yy = py[t][i] + tap / 3 - 1, xx = px[t][i] + tap % 3 - 1;
                boolean valid = live[t][i] && k < K && yy >= 0 && yy < h && xx >= 0 && xx < wd;
                return valid ? (img[t][i] + yy * wd + xx) * ci + cc : -1;
            };
            for (int bx = 0; bx < (co + c.bn() - 1) / c.bn(); bx++) runBlock(c, by, bx, x, patches, w, M, co, K, y);
        }
        for (int p = 0; p < M; p++) {
            int s = p / (h * wd), yy = (p / wd) % h, xx = p % wd;
            for (int o = 0; o < co; o++) {
                float e = 0;
                for (int ky = 0; ky < 3; ky++)
                    for (int kx = 0; kx < 3; kx++) {
                        int sy = yy + ky - 1, sx = xx + kx - 1;
                        if (sy < 0 || sy >= h || sx < 0 || sx >= wd) continue;
                        for (int q = 0; q < ci; q++) e += x[((s * h + sy) * wd + sx) * ci + q] * w[o * K + (ky * 3 + kx) * ci + q];
                    }
                assertEquals(e, y[p * co + o], 0f, "conv output pixel " + p + " channel " + o);
            }
        }
    }

    /** A warp's cp.async stores (32 chunks of 16 bytes) cover 512 distinct bytes: four conflict-free 128-byte phases. */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"big", "small"})
    void cpAsyncStoresCoverDistinctBankGroups(String tile) {
        Cfg c = tile.equals("big") ? BIG : SMALL;
        for (int warp = 0; warp < c.threads() / 32; warp++)
            for (int i = 0; i < c.aChunks(); i++) {
                Set<Integer> offs = new HashSet<>();
                int[] groupsPerLine = new int[64];
                for (int lane = 0; lane < 32; lane++) {
                    int ch = warp * 32 + lane + i * c.threads(), off = swizzle(ch >> 2, ch & 3);
                    assertTrue(offs.add(off), "two chunks land on byte " + off);
                    groupsPerLine[(off % 128) / 16]++;
                }
                for (int gIdx = 0; gIdx < 8; gIdx++) assertEquals(4, groupsPerLine[gIdx], "bank group " + gIdx + " of warp " + warp);
            }
    }
}
