package ecar.cuda;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the runtime says on a machine without a GPU or without kernels: plain reasons, no crash. */
class RuntimeNoGpuTest {
    @Test
    void missingFatbinSaysNvccWasMissing() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> KernelModule.fatbin("no_such_family"));
        assertTrue(e.getMessage().contains("kernels were not built: nvcc was missing at build time"), e.getMessage());
    }

    @Test
    void contextWithoutGpuReportsTheProbeReason() {
        Assumptions.assumeFalse(CudaProbe.available(), "only meaningful on a machine without a GPU");
        IllegalStateException e = assertThrows(IllegalStateException.class, CudaContext::get);
        assertTrue(e.getMessage().startsWith("no CUDA GPU to run on: "), e.getMessage());
        assertFalse(CudaProbe.probe().reason().isBlank());
    }

    @Test
    void everyKernelSourceIsAFamilyTheBackendLoads() throws java.io.IOException {
        java.util.Set<String> sources = new java.util.TreeSet<>();
        try (var files = java.nio.file.Files.list(java.nio.file.Path.of("kernels"))) {
            files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".cu")).forEach(n -> sources.add(n.substring(0, n.length() - 3)));
        }
        assertEquals(sources, new java.util.TreeSet<>(KernelModule.FAMILIES));
    }

    @Test
    void deviceOrdinalFromEnvironment() {
        assertEquals(0, CudaContext.deviceOrdinal(null, 1));
        assertEquals(1, CudaContext.deviceOrdinal(" 1 ", 2));
        assertThrows(IllegalArgumentException.class, () -> CudaContext.deviceOrdinal("2", 2));
        assertThrows(IllegalArgumentException.class, () -> CudaContext.deviceOrdinal("gpu0", 2));
    }

    /** ecar info shows these; without a GPU only the value's form can be wrong. */
    @Test
    void aBadDeviceVariableIsNamed() {
        assertEquals(java.util.Optional.of("ECAR_CUDA_DEVICE='abc' is not a device number (0..1)"), CudaContext.deviceProblem("abc", 2));
        assertEquals(java.util.Optional.of("ECAR_CUDA_DEVICE='abc' is not a device number (0 for the first GPU)"), CudaContext.deviceProblem("abc", 0));
        assertEquals(java.util.Optional.of("ECAR_CUDA_DEVICE=-1 is not a device number (0..1)"), CudaContext.deviceProblem("-1", 2));
        assertEquals(java.util.Optional.of("ECAR_CUDA_DEVICE=2 but the driver reports 2 device(s)"), CudaContext.deviceProblem("2", 2));
        assertEquals(java.util.Optional.empty(), CudaContext.deviceProblem("5", 0), "no GPU: any number may be right elsewhere");
        assertEquals(java.util.Optional.empty(), CudaContext.deviceProblem(" 1 ", 2));
        assertEquals(java.util.Optional.empty(), CudaContext.deviceProblem(null, 2));
    }
}
