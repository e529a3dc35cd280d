package ecar.vae;

import ecar.backend.Backend;
import ecar.model.Linear;
import ecar.model.Weights;
import ecar.tensor.Shape;
import ecar.tensor.Tensor;

/** LDM's AttnBlock: one head over all H·W positions, channels C as the head dimension, 1×1 q/k/v/proj_out. */
final class AttnBlock {
    private final GroupNorm norm;
    private final Linear q, k, v, proj;

    AttnBlock(Weights w, int c) {
        norm = GroupNorm.load(w, "norm", c);
        q = Conv.conv1x1(w, "q", c, c);
        k = Conv.conv1x1(w, "k", c, c);
        v = Conv.conv1x1(w, "v", c, c);
        proj = Conv.conv1x1(w, "proj_out", c, c);
    }

    Tensor apply(Backend b, Tensor x) {
        Shape s = x.shape();   // [N, H, W, C]
        Shape tokens = Shape.of(s.dim(0), s.dim(1) * s.dim(2), s.last());
        Tensor h = b.reshape(norm.apply(b, x, false), tokens);
        Tensor a = b.attention(q.apply(b, h), k.apply(b, h), v.apply(b, h), 1);   // softmax(q·kᵀ/√C)·v
        return b.add(x, b.reshape(proj.apply(b, a), s));
    }
}
