package ecar.cuda;

import org.junit.jupiter.api.Assumptions;

/** GPU tests skip, with the probe's reason, on machines without a usable GPU or without built kernels. */
final class Gpu {
    private Gpu() {}

    private static volatile boolean said;

    static void assume() {
        if (!CudaProbe.available() && !said) {
            said = true;
            System.err.println("[gpu tests] skipped: no GPU: " + CudaProbe.probe().reason());
        }
        Assumptions.assumeTrue(CudaProbe.available(), () -> "no GPU: " + CudaProbe.probe().reason());
        Assumptions.assumeTrue(Gpu.class.getResource("/kernels/flow.fatbin") != null,
                "kernels were not built (nvcc was missing at build time)");
    }

    /**
     * A test class's backend: skips (see {@link #assume}) without a GPU, else {@code open}, or on first use a new one
     * whose outputs are NaN-poisoned (an element a kernel skips shows). The class closes it in its @AfterAll.
     */
    static ecar.cuda.backend.CudaBackend backend(ecar.cuda.backend.CudaBackend open, long arenaBytes) {
        assume();
        if (open != null) return open;
        ecar.cuda.backend.CudaBackend b = new ecar.cuda.backend.CudaBackend(arenaBytes);
        b.poisonAllocations(true);
        return b;
    }
}
