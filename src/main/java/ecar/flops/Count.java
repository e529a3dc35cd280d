package ecar.flops;

/**
 * One line of an analytic count: a component, how many times an image needs it, and its multiply-accumulates
 * per call. FLOPs are 2 × MACs (matrix products and attention dominate; elementwise work is not counted).
 */
public record Count(String component, String detail, double calls, double macsPerCall) {

    public double macs() {
        return calls * macsPerCall;
    }

    public double flops() {
        return 2 * macs();
    }
}
