package ecar.backend.cpu;

import ecar.backend.Activation;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Single-precision matrix multiply for the CPU backend: C[M, N] = A[M, K] · op(B) (+ bias, activation).
 * op(B) is Bᵀ when B is stored [N, K] (PyTorch's Linear weight, attention's keys) and B when stored [K, N]
 * (attention's values). All matrices are row-major with explicit leading dimensions and offsets, so heads of
 * a [B, L, H·d] tensor are addressed in place.
 *
 * <p>Blocked as in BLIS/GotoBLAS: K is cut into blocks of KC; each block of op(B) is packed into NR-column
 * panels (zero padded) shared by all threads; C is cut into MC×NC tiles claimed by the threads; a 6×32
 * register-blocked micro-kernel (12 vector accumulators of 16 floats with AVX-512) streams a panel against
 * six rows of A.
 *
 * <p>Batch-invariant: every output element is the same chain of fused multiply-adds along K (in blocks of KC) for
 * any M, so a row of C does not depend on the other rows or their number, and an image comes out the same in a
 * batch of 1 or 256. Few rows (M &lt; 6: adaLN and embedding MLPs) therefore take the packed path too; dot products
 * along K would read each weight once instead of three times but sum in another order.
 */
public final class CpuGemm {
    private CpuGemm() {}

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int V = S.length();
    /** micro-tile: MR rows of A times NR = 2 vectors of op(B) columns */
    private static final int MR = 6, NR = 2 * V;
    private static final int KC = 4096, MC = 8 * MR, NC = 8 * NR;

    private static final ThreadLocal<float[]> PACK = ThreadLocal.withInitial(() -> new float[0]);

    /** Operand layout of B. */
    public enum BLayout {
        /** B stored [N, K]: C = A·Bᵀ. */
        NK,
        /** B stored [K, N]: C = A·B. */
        KN
    }

    /**
     * C[m, n] = Σ_k A[m, k]·op(B)[k, n] + bias[n], then act. bias may be null. Runs on all cores when
     * {@code parallel}, else on the calling thread.
     */
    public static void gemm(int M, int N, int K,
                            float[] a, int aOff, int lda,
                            float[] b, int bOff, int ldb, BLayout layout,
                            float[] c, int cOff, int ldc,
                            float[] bias, Activation act, boolean parallel) {
        if (M == 0 || N == 0) return;
        if (K == 0) {
            for (int m = 0; m < M; m++) {
                for (int n = 0; n < N; n++) c[cOff + m * ldc + n] = bias == null ? 0f : bias[n];
                Activations.apply(act, c, cOff + m * ldc, N);
            }
            return;
        }
        int panels = (N + NR - 1) / NR;
        int kcMax = Math.min(K, KC);
        float[] packed = PACK.get();
        if (packed.length < panels * NR * kcMax) {
            packed = new float[panels * NR * kcMax];
            PACK.set(packed);
        }
        final float[] bp = packed;
        int mTiles = (M + MC - 1) / MC, nTiles = (N + NC - 1) / NC;
        for (int k0 = 0; k0 < K; k0 += KC) {
            final int kc = Math.min(KC, K - k0), kStart = k0;
            final boolean first = k0 == 0, last = k0 + kc == K;
            if (parallel) {
                Parallel.forRange(panels, 8, (p0, p1) -> pack(p0, p1, N, kStart, kc, b, bOff, ldb, layout, bp));
                Parallel.forEach(mTiles * nTiles, t -> tile(t / nTiles, t % nTiles, M, N, kStart, kc, first, last,
                        a, aOff, lda, bp, c, cOff, ldc, bias, act));
            } else {
                pack(0, panels, N, kStart, kc, b, bOff, ldb, layout, bp);
                for (int t = 0; t < mTiles * nTiles; t++) {
                    tile(t / nTiles, t % nTiles, M, N, kStart, kc, first, last, a, aOff, lda, bp, c, cOff, ldc, bias, act);
                }
            }
        }
    }

    /** Packs panels [p0, p1) of op(B)[k0 : k0+kc, :] as panel-major [panel][k][NR], zero padded past N. */
    private static void pack(int p0, int p1, int N, int k0, int kc, float[] b, int bOff, int ldb, BLayout layout, float[] bp) {
        for (int p = p0; p < p1; p++) {
            int base = p * kc * NR, n0 = p * NR, width = Math.min(NR, N - n0);
            if (layout == BLayout.KN) {
                for (int k = 0; k < kc; k++) {
                    int src = bOff + (k0 + k) * ldb + n0, dst = base + k * NR;
                    System.arraycopy(b, src, bp, dst, width);
                    for (int j = width; j < NR; j++) bp[dst + j] = 0f;
                }
            } else {
                for (int j = 0; j < NR; j++) {
                    if (j < width) {
                        int src = bOff + (n0 + j) * ldb + k0;
                        for (int k = 0; k < kc; k++) bp[base + k * NR + j] = b[src + k];
                    } else {
                        for (int k = 0; k < kc; k++) bp[base + k * NR + j] = 0f;
                    }
                }
            }
        }
    }

    private static void tile(int mt, int nt, int M, int N, int k0, int kc, boolean first, boolean last,
                             float[] a, int aOff, int lda, float[] bp, float[] c, int cOff, int ldc,
                             float[] bias, Activation act) {
        int m0 = mt * MC, m1 = Math.min(M, m0 + MC);
        int n0 = nt * NC, n1 = Math.min(N, n0 + NC);
        for (int n = n0; n < n1; n += NR) {
            int panelOff = (n / NR) * kc * NR;
            int width = Math.min(NR, N - n);
            int m = m0;
            for (; m + MR <= m1; m += MR) {
                kernel6(kc, a, aOff + m * lda + k0, lda, bp, panelOff, c, cOff + m * ldc + n, ldc, first, width);
            }
            for (; m < m1; m++) {
                kernel1(kc, a, aOff + m * lda + k0, bp, panelOff, c, cOff + m * ldc + n, first, width);
            }
            if (last) {
                for (int r = m0; r < m1; r++) epilogue(c, cOff + r * ldc + n, width, bias, n, act);
            }
        }
    }

    private static void epilogue(float[] c, int off, int width, float[] bias, int n, Activation act) {
        if (bias != null) {
            for (int j = 0; j < width; j++) c[off + j] += bias[n + j];
        }
        Activations.apply(act, c, off, width);
    }

    /** Six rows of A against one packed panel: 12 accumulators stay in registers over the whole kc loop. */
    private static void kernel6(int kc, float[] a, int aOff, int lda, float[] bp, int bOff,
                                float[] c, int cOff, int ldc, boolean first, int width) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        int a0 = aOff, a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda, a4 = a3 + lda, a5 = a4 + lda;
        for (int k = 0, p = bOff; k < kc; k++, p += NR) {
            FloatVector b0 = FloatVector.fromArray(S, bp, p);
            FloatVector b1 = FloatVector.fromArray(S, bp, p + V);
            FloatVector x = FloatVector.broadcast(S, a[a0 + k]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, a[a1 + k]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, a[a2 + k]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, a[a3 + k]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(S, a[a4 + k]);
            c40 = x.fma(b0, c40);
            c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(S, a[a5 + k]);
            c50 = x.fma(b0, c50);
            c51 = x.fma(b1, c51);
        }
        store(c00, c01, c, cOff, first, width);
        store(c10, c11, c, cOff + ldc, first, width);
        store(c20, c21, c, cOff + 2 * ldc, first, width);
        store(c30, c31, c, cOff + 3 * ldc, first, width);
        store(c40, c41, c, cOff + 4 * ldc, first, width);
        store(c50, c51, c, cOff + 5 * ldc, first, width);
    }

    private static void kernel1(int kc, float[] a, int aOff, float[] bp, int bOff, float[] c, int cOff, boolean first, int width) {
        FloatVector c0 = FloatVector.zero(S), c1 = FloatVector.zero(S);
        for (int k = 0, p = bOff; k < kc; k++, p += NR) {
            FloatVector x = FloatVector.broadcast(S, a[aOff + k]);
            c0 = x.fma(FloatVector.fromArray(S, bp, p), c0);
            c1 = x.fma(FloatVector.fromArray(S, bp, p + V), c1);
        }
        store(c0, c1, c, cOff, first, width);
    }

    /** Scratch for the last, partial panel: masked vector stores are not intrinsified everywhere and would box the accumulators. */
    private static final ThreadLocal<float[]> EDGE = ThreadLocal.withInitial(() -> new float[NR]);

    /** Writes (or adds, after the first K block) one row of a micro-tile; columns past N are dropped. */
    private static void store(FloatVector v0, FloatVector v1, float[] c, int off, boolean first, int width) {
        if (width == NR) {
            if (!first) {
                v0 = v0.add(FloatVector.fromArray(S, c, off));
                v1 = v1.add(FloatVector.fromArray(S, c, off + V));
            }
            v0.intoArray(c, off);
            v1.intoArray(c, off + V);
            return;
        }
        float[] edge = EDGE.get();
        v0.intoArray(edge, 0);
        v1.intoArray(edge, V);
        for (int j = 0; j < width; j++) c[off + j] = first ? edge[j] : c[off + j] + edge[j];
    }

    /** Σ x[xo + k]·y[yo + k] over k < n, vectorized with four independent accumulators. */
    public static float dot(float[] x, int xo, float[] y, int yo, int n) {
        FloatVector s0 = FloatVector.zero(S), s1 = FloatVector.zero(S), s2 = FloatVector.zero(S), s3 = FloatVector.zero(S);
        int k = 0;
        for (; k <= n - 4 * V; k += 4 * V) {
            s0 = FloatVector.fromArray(S, x, xo + k).fma(FloatVector.fromArray(S, y, yo + k), s0);
            s1 = FloatVector.fromArray(S, x, xo + k + V).fma(FloatVector.fromArray(S, y, yo + k + V), s1);
            s2 = FloatVector.fromArray(S, x, xo + k + 2 * V).fma(FloatVector.fromArray(S, y, yo + k + 2 * V), s2);
            s3 = FloatVector.fromArray(S, x, xo + k + 3 * V).fma(FloatVector.fromArray(S, y, yo + k + 3 * V), s3);
        }
        for (; k <= n - V; k += V) {
            s0 = FloatVector.fromArray(S, x, xo + k).fma(FloatVector.fromArray(S, y, yo + k), s0);
        }
        float s = VecMath.sumLanes(s0.add(s1).add(s2.add(s3)));
        for (; k < n; k++) s += x[xo + k] * y[yo + k];
        return s;
    }
}
