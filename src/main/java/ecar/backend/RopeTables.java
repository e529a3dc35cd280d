package ecar.backend;

/**
 * Rotary position tables computed on the host, shared by every backend (the GPU uploads them once): cos and sin of
 * each token's angles, [tokens, d/2], pair p of a head rotating (x[2p], x[2p+1]) as a complex number.
 */
public final class RopeTables {
    private RopeTables() {}

    /** cos and sin tables [side², d/2] of FlowAR's 2D RoPE for one head of d dims (one entry per rotated pair). */
    public static float[][] flowAr(int side, int span, int d) {
        int half = d / 2;          // dims rotating with the row; the other half rotate with the column
        int pairs = half / 2;      // frequencies per axis
        float[] freq = new float[pairs];
        for (int j = 0; j < pairs; j++) {
            // float32 as the reference computes it: 1 / 10000^((2j)/half)
            freq[j] = (float) (1.0 / Math.pow(10000.0, (float) (2 * j) / (float) half));
        }
        float[] pos = new float[side];
        for (int i = 0; i < side; i++) pos[i] = (float) i / (float) side * (float) span;
        int l = side * side;
        float[] cos = new float[l * half], sin = new float[l * half];
        for (int t = 0; t < l; t++) {
            int row = t / side, col = t % side;
            for (int j = 0; j < pairs; j++) {
                float ar = pos[row] * freq[j], ac = pos[col] * freq[j];
                cos[t * half + j] = (float) Math.cos(ar);
                sin[t * half + j] = (float) Math.sin(ar);
                cos[t * half + pairs + j] = (float) Math.cos(ac);
                sin[t * half + pairs + j] = (float) Math.sin(ac);
            }
        }
        return new float[][]{cos, sin};
    }

    /**
     * cos and sin tables [1 + grid², d/2] of ARPG's 2D RoPE ({@code precompute_freqs_cis_2d} with one class token), in
     * float32 as the reference computes them. Row 0, the class token's, is all zeros, as the reference's is: its query and
     * key rotate to zero (not the identity). Row 1 + i·grid + j, the token at grid (i, j), holds for k &lt; d/4 the angle
     * i·f_k in pair k and j·f_k in pair d/4 + k, with f_k = base^(−4k/d).
     */
    public static float[][] arpg(int grid, int d, double base) {
        Check.that(grid > 0 && d > 0 && d % 4 == 0, "RopeTables.arpg", "grid " + grid + " and head size " + d + " (a multiple of 4) must be positive");
        int half = d / 2, quarter = d / 4;
        float[] freq = new float[quarter];
        for (int k = 0; k < quarter; k++) freq[k] = 1f / (float) Math.pow(base, (float) (2 * k) / (float) half);
        int rows = 1 + grid * grid;
        float[] cos = new float[rows * half], sin = new float[rows * half];   // row 0 stays zero
        for (int i = 0; i < grid; i++) {
            for (int j = 0; j < grid; j++) {
                int r = 1 + i * grid + j;
                for (int k = 0; k < quarter; k++) {
                    float ai = i * freq[k], aj = j * freq[k];
                    cos[r * half + k] = (float) Math.cos(ai);
                    sin[r * half + k] = (float) Math.sin(ai);
                    cos[r * half + quarter + k] = (float) Math.cos(aj);
                    sin[r * half + quarter + k] = (float) Math.sin(aj);
                }
            }
        }
        return new float[][]{cos, sin};
    }
}
