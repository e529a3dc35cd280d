package ecar.vae;

import ecar.tensor.FloatTensor;
import ecar.tensor.Shape;

/**
 * What a discrete-token generator hands a VQ decoder: token ids as a float tensor [N, 1, side, side] in raster
 * order. float32 holds every id below 2^24 exactly, so the ids travel through the same Tensor path as latents.
 */
public final class IndexMap {
    private IndexMap() {}

    /** ids [batch · side²], image after image, each in raster order (row by row). */
    public static FloatTensor of(int[] ids, int batch, int side) {
        if (batch <= 0 || side <= 0 || ids.length != batch * side * side) {
            throw new IllegalArgumentException(ids.length + " token ids do not make " + batch + " index maps of " + side + "×" + side);
        }
        float[] v = new float[ids.length];
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= 1 << 24) throw new IllegalArgumentException("token id " + ids[i] + " at " + i + " is not in [0, 2^24)");
            v[i] = ids[i];
        }
        return new FloatTensor(Shape.of(batch, 1, side, side), v);
    }
}
