package ecar.flops;

/** One line of a count: what (a region or a layer), how many times an image needs it, and its multiply-accumulates per call. */
public record Count(String component, double calls, double macsPerCall) {

    public double macs() {
        return calls * macsPerCall;
    }

    public double flops() {
        return 2 * macs();
    }
}
