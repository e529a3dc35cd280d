package ecar.vae;

import ecar.backend.Backend;
import ecar.model.Weights;
import ecar.tensor.FloatTensor;
import ecar.tensor.Shape;
import ecar.tensor.Tensor;

/**
 * LlamaGen's VectorQuantizer at decode time (get_codebook_entry with l2_norm): token ids to their codebook rows,
 * each row divided by max(‖row‖₂, 1e-12) as F.normalize does. The rows are normalised once, when the table is
 * uploaded, since they are constants.
 */
final class Codebook {
    static final String KEY = "quantize.embedding.weight";

    private final Tensor table;   // [codebookSize, dim], rows normalised
    private final int size, dim;
    private final String owner;

    Codebook(Weights w, VaeConfig c) {
        size = c.codebookSize();
        dim = c.embedDim();
        owner = c.name();
        table = w.param(KEY, new int[]{size, dim}, Shape.of(size, dim), Codebook::normalizeRows);
    }

    static FloatTensor normalizeRows(FloatTensor t) {
        int dim = t.shape().last();
        float[] s = t.data(), d = new float[s.length];
        for (int r = 0; r < s.length; r += dim) {
            double sq = 0;
            for (int k = 0; k < dim; k++) sq += (double) s[r + k] * s[r + k];
            float norm = (float) Math.max(Math.sqrt(sq), 1e-12);
            for (int k = 0; k < dim; k++) d[r + k] = s[r + k] / norm;
        }
        return new FloatTensor(t.shape(), d);
    }

    /**
     * Index map [N, 1, h, w] (raster order, exact integer ids) to the decoder's first activation [N, h, w, dim].
     * The ids are read on the host (a few hundred numbers per image), where the embedding op wants them.
     */
    Tensor lookup(Backend b, Tensor indexMap) {
        Shape s = indexMap.shape();
        return b.reshape(b.embedding(table, ids(b.download(indexMap).data(), s)), Shape.of(s.dim(0), s.dim(2), s.dim(3), dim));
    }

    private int[] ids(float[] v, Shape s) {
        int[] ids = new int[v.length];
        int h = s.dim(2), w = s.dim(3);
        for (int i = 0; i < v.length; i++) {
            float x = v[i];
            if (!(x >= 0 && x < size) || x != Math.rint(x)) {
                throw new IllegalArgumentException("VQ decoder " + owner + ": token id " + x + " of image " + i / (h * w) + " at row "
                        + i % (h * w) / w + ", column " + i % w + " is not a codebook index (a whole number in [0, " + size + "))");
            }
            ids[i] = (int) x;
        }
        return ids;
    }
}
