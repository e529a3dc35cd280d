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
}
