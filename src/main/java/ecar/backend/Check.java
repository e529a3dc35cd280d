package ecar.backend;

import ecar.tensor.Shape;
import ecar.tensor.Tensor;

/** Shape checks shared by backends: each failure names the op, the operands and what was expected. */
final class Check {
    private Check() {}

    static void that(boolean ok, String op, String message) {
        if (!ok) throw new IllegalArgumentException(op + ": " + message);
    }

    static void sameShape(String op, Tensor a, Tensor b) {
        that(a.shape().equals(b.shape()), op, "operands have shapes " + a.shape() + " and " + b.shape() + ", expected equal shapes");
    }

    /** b serves a per group: same width and a row count that divides a's. */
    static int groupRatio(String op, Tensor a, Tensor b) {
        Shape sa = a.shape(), sb = b.shape();
        int ra = sa.rows(), rb = sb.rows();
        that(sa.last() == sb.last() && rb > 0 && ra % rb == 0, op,
                "operand " + sb + " cannot broadcast per group over " + sa + " (needs width " + sa.last() + " and a row count dividing " + ra + ")");
        return ra / rb;
    }

    static void rank(String op, Tensor t, int rank, String layout) {
        that(t.shape().rank() == rank, op, "expected a rank-" + rank + " tensor " + layout + ", got " + t.shape());
    }
}
