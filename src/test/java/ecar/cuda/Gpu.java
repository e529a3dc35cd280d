package ecar.cuda;

import org.junit.jupiter.api.Assumptions;

/** GPU tests skip, with the probe's reason, on machines without a usable GPU or without built kernels. */
final class Gpu {
    private Gpu() {}

    private static volatile boolean said;

    /** A GPU and built kernels: GPU tests can run. */
    static boolean usable() {
        return CudaProbe.available() && Gpu.class.getResource("/kernels/flow.fatbin") != null;
    }

    static void assume() {
        if (!CudaProbe.available() && !said) {
            said = true;
            System.err.println("[gpu tests] skipped: no GPU: " + CudaProbe.probe().reason());
        }
        Assumptions.assumeTrue(CudaProbe.available(), () -> "no GPU: " + CudaProbe.probe().reason());
        Assumptions.assumeTrue(Gpu.class.getResource("/kernels/flow.fatbin") != null,
                "kernels were not built (nvcc was missing at build time)");
    }
}
