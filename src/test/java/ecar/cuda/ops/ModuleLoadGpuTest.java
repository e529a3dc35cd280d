package ecar.cuda.ops;

import ecar.cuda.CudaProbe;
import ecar.cuda.KernelModule;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * On a GPU: every kernel family loads with a non-null module handle, and every kernel the wrappers launch can be looked
 * up in it (what failed on the first H100 run: a null handle made every cuModuleGetFunction fail).
 */
class ModuleLoadGpuTest {

    @Test
    void everyFamilyLoadsAndEveryLaunchedKernelIsFound() {
        Assumptions.assumeTrue(CudaProbe.available(), () -> "no GPU: " + CudaProbe.probe().reason());
        Assumptions.assumeTrue(ModuleLoadGpuTest.class.getResource("/kernels/flow.fatbin") != null, "kernels were not built (nvcc was missing at build time)");
        OpsValidationTest calls = new OpsValidationTest();
        calls.launchEverything();
        Set<String> families = new LinkedHashSet<>();
        for (RecordingLauncher.Call c : calls.rec.calls) {
            KernelModule m = KernelModule.get(c.family());
            assertNotEquals(0L, m.handle(), "kernels/" + c.family() + ".fatbin: null module handle");
            m.kernel(c.signature().toString());
            families.add(c.family());
        }
        assertTrue(families.containsAll(KernelModule.FAMILIES), "launched families " + families + " miss some of " + KernelModule.FAMILIES);
    }
}
