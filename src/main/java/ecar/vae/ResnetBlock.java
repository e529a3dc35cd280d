package ecar.vae;

import ecar.backend.Backend;
import ecar.model.Linear;
import ecar.model.Weights;
import ecar.tensor.Tensor;

/** LDM's ResnetBlock: x + conv(SiLU(GN(conv(SiLU(GN(x)))))), with a 1×1 shortcut when channels change. */
final class ResnetBlock {
    private final GroupNorm norm1, norm2;
    private final Conv.Conv3x3 conv1, conv2;
    private final Linear shortcut;

    ResnetBlock(Weights w, int in, int out) {
        norm1 = GroupNorm.load(w, "norm1", in);
        conv1 = Conv.Conv3x3.load(w, "conv1", in, out);
        norm2 = GroupNorm.load(w, "norm2", out);
        conv2 = Conv.Conv3x3.load(w, "conv2", out, out);
        shortcut = in == out ? null : Conv.conv1x1(w, "nin_shortcut", in, out);
    }

    Tensor apply(Backend b, Tensor x) {
        Tensor h = conv1.apply(b, norm1.apply(b, x, true));
        h = conv2.apply(b, norm2.apply(b, h, true));   // dropout is 0 at inference
        return b.add(shortcut == null ? x : shortcut.apply(b, x), h);
    }
}
