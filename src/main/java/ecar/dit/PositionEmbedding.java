package ecar.dit;

import ecar.tensor.FloatTensor;

/** MAE's fixed 2D sin-cos position embedding, as DiT builds its pos_embed buffer. */
public final class PositionEmbedding {
    private PositionEmbedding() {}

    /**
     * [side², dim]: the first dim/2 channels encode the column, the rest the row (the reference meshgrids
     * (w, h) and embeds grid[0] first); each half is [sin(pos·ω), cos(pos·ω)], ω_i = 1/10000^(i/(dim/4)).
     */
    public static FloatTensor sinCos2d(int dim, int side) {
        if (dim % 4 != 0) throw new IllegalArgumentException("sin-cos position embedding needs a width divisible by 4, got " + dim);
        int quarter = dim / 4;
        float[] out = new float[side * side * dim];
        for (int row = 0; row < side; row++)
            for (int col = 0; col < side; col++) {
                int o = (row * side + col) * dim;
                for (int i = 0; i < quarter; i++) {
                    double omega = 1.0 / Math.pow(10000.0, i / (double) quarter);
                    out[o + i] = (float) Math.sin(col * omega);
                    out[o + quarter + i] = (float) Math.cos(col * omega);
                    out[o + 2 * quarter + i] = (float) Math.sin(row * omega);
                    out[o + 3 * quarter + i] = (float) Math.cos(row * omega);
                }
            }
        return new FloatTensor(ecar.tensor.Shape.of(side * side, dim), out);
    }
}
