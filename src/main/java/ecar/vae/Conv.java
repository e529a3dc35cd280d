package ecar.vae;

import ecar.backend.Backend;
import ecar.model.Linear;
import ecar.model.Weights;
import ecar.tensor.FloatTensor;
import ecar.tensor.Shape;
import ecar.tensor.Tensor;

/**
 * The decoder's convolutions on channels-last [N, H, W, C]. A 1×1 convolution is a linear map over the last
 * dimension; a 3×3 one keeps PyTorch's [Co, Ci, 3, 3] in the checkpoint and is permuted once at load to
 * the backend's [Co, 3, 3, Ci].
 */
final class Conv {
    private Conv() {}

    record Conv3x3(Tensor weight, Tensor bias) {
        static Conv3x3 load(Weights w, String name, int in, int out) {
            Tensor weight = w.param(name + ".weight", new int[]{out, in, 3, 3}, Shape.of(out, 3, 3, in), pt -> toChannelsLast(pt, in, out));
            return new Conv3x3(weight, w.param(name + ".bias", out));
        }

        Tensor apply(Backend b, Tensor x) {
            return b.conv3x3(x, weight, bias);
        }
    }

    /** A 1×1 convolution [Co, Ci, 1, 1] loaded as the Linear it is. */
    static Linear conv1x1(Weights w, String name, int in, int out) {
        Tensor weight = w.param(name + ".weight", new int[]{out, in, 1, 1}, Shape.of(out, in), pt -> pt.reshape(out, in));
        return new Linear(weight, w.param(name + ".bias", out), in, out);
    }

    static FloatTensor toChannelsLast(FloatTensor w, int in, int out) {
        float[] s = w.data(), d = new float[s.length];
        for (int o = 0; o < out; o++)
            for (int i = 0; i < in; i++)
                for (int k = 0; k < 9; k++) d[(o * 9 + k) * in + i] = s[(o * in + i) * 9 + k];
        return new FloatTensor(Shape.of(out, 3, 3, in), d);
    }
}
