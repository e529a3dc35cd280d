package ecar.vae;

import ecar.backend.Backend;
import ecar.model.Weights;
import ecar.tensor.Tensor;

/** GroupNorm(32, eps 1e-6) with affine weight and bias, optionally followed by SiLU (fused in the backend). */
record GroupNorm(Tensor weight, Tensor bias) {
    static GroupNorm load(Weights w, String name, int channels) {
        return new GroupNorm(w.param(name + ".weight", channels), w.param(name + ".bias", channels));
    }

    Tensor apply(Backend b, Tensor x, boolean silu) {
        return b.groupNorm(x, VaeConfig.GROUPS, weight, bias, VaeConfig.EPS, silu);
    }
}
