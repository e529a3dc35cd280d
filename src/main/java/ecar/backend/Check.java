package ecar.backend;

import ecar.tensor.Shape;
import ecar.tensor.Tensor;

/** Shape checks shared by backends: each failure names the op, the operands and what was expected. */
public final class Check {
    private Check() {}

    public static void that(boolean ok, String op, String message) {
        if (!ok) throw new IllegalArgumentException(op + ": " + message);
    }

    public static void sameShape(String op, Tensor a, Tensor b) {
        that(a.shape().equals(b.shape()), op, "operands have shapes " + a.shape() + " and " + b.shape() + ", expected equal shapes");
    }

    /** b serves a per group: same width and a row count that divides a's. */
    public static int groupRatio(String op, Tensor a, Tensor b) {
        Shape sa = a.shape(), sb = b.shape();
        int ra = sa.rows(), rb = sb.rows();
        that(sa.last() == sb.last() && rb > 0 && ra % rb == 0, op,
                "operand " + sb + " cannot broadcast per group over " + sa + " (needs width " + sa.last() + " and a row count dividing " + ra + ")");
        return ra / rb;
    }

    public static void rank(String op, Tensor t, int rank, String layout) {
        that(t.shape().rank() == rank, op, "expected a rank-" + rank + " tensor " + layout + ", got " + t.shape());
    }

    // The shapes of the ops with more than one operand, shared by every backend.

    /** x [.., K], w [N, K], bias [N] or null. */
    public static void linear(Tensor x, Tensor w, Tensor bias) {
        Shape sx = x.shape(), sw = w.shape();
        that(sw.rank() == 2 && sx.last() == sw.dim(1), "linear",
                "input " + sx + " has " + sx.last() + " features but the weight " + sw + " expects " + (sw.rank() == 2 ? sw.dim(1) : "a matrix"));
        if (bias != null) that(bias.shape().numel() == sw.dim(0), "linear", "bias " + bias.shape() + " does not match " + sw.dim(0) + " outputs");
    }

    /** x [N, H, W, Ci], w [Co, 3, 3, Ci], bias [Co] or null; returns Co. */
    public static int conv3x3(Tensor x, Tensor w, Tensor bias) {
        rank("conv3x3", x, 4, "[N, H, W, Ci]");
        Shape s = x.shape(), sw = w.shape();
        that(sw.rank() == 4 && sw.dim(1) == 3 && sw.dim(2) == 3 && sw.dim(3) == s.last(), "conv3x3", "weight " + sw + " is not [Co, 3, 3, " + s.last() + "]");
        int co = sw.dim(0);
        if (bias != null) that(bias.shape().numel() == co, "conv3x3", "bias " + bias.shape() + " does not match " + co + " output channels");
        return co;
    }

    /** b [.., D] tiles a [.., D]: a position embedding. */
    public static void tiles(Tensor a, Tensor b) {
        that(a.shape().last() == b.shape().last() && a.shape().numel() % b.shape().numel() == 0, "addTiled", b.shape() + " cannot tile " + a.shape());
    }

    /** x [N, H, W, C] with C a multiple of groups, weight and bias [C]. */
    public static void groupNorm(Tensor x, int groups, Tensor weight, Tensor bias) {
        rank("groupNorm", x, 4, "[N, H, W, C]");
        int c = x.shape().last();
        that(groups > 0 && c % groups == 0, "groupNorm", c + " channels do not split into " + groups + " groups");
        that(weight.shape().numel() == c && bias.shape().numel() == c, "groupNorm", "weight/bias must have " + c + " entries");
    }

    /** x [N, C, H, W] with H and W multiples of p. */
    public static void patchify(Tensor x, int p) {
        rank("patchify", x, 4, "[N, C, H, W]");
        Shape s = x.shape();
        that(p > 0 && s.dim(2) % p == 0 && s.dim(3) % p == 0, "patchify", "image " + s + " is not a whole number of " + p + "×" + p + " patches");
    }

    /** x [N, h·w, p·p·C]. */
    public static void unpatchify(Tensor x, int p, int channels, int h, int w) {
        Shape s = x.shape();
        that(s.rank() == 3 && s.dim(1) == h * w && s.last() == p * p * channels, "unpatchify", s + " is not [N, " + (h * w) + ", " + (p * p * channels) + "]");
    }

    /** x [N, C, H, W] and the learned-variance model output [N, 2C, H, W]. */
    public static void posterior(Tensor x, Tensor modelOut) {
        rank("diffusionPosterior", x, 4, "[N, C, H, W]");
        Shape s = x.shape(), so = modelOut.shape();
        that(so.rank() == 4 && so.dim(0) == s.dim(0) && so.dim(1) == 2 * s.dim(1) && so.dim(2) == s.dim(2) && so.dim(3) == s.dim(3),
                "diffusionPosterior", "model output " + so + " must be [N, 2C, H, W] for x " + s + " (learned variance)");
    }
}
