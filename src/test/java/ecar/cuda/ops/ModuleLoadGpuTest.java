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
 * up in it (what failed on the first H100 run: a null handle made every cuModuleGetFunction fail). The families that
 * OpsValidationTest cannot record (attention, attention_sm90 and flow launch on a Stream) are looked up by the
 * signatures they list.
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
        // the families launched from static wrappers on a Stream (not through a Launcher that records): every kernel they list
        for (var f : java.util.Map.of(Attention.FAMILY, Attention.signatures(), AttentionSm90.FAMILY, AttentionSm90.signatures(),
                Flow.FAMILY, Flow.signatures()).entrySet()) {
            KernelModule m = KernelModule.get(f.getKey());
            assertNotEquals(0L, m.handle(), "kernels/" + f.getKey() + ".fatbin: null module handle");
            for (String sig : f.getValue()) m.kernel(sig);
            families.add(f.getKey());
        }
        assertTrue(families.containsAll(KernelModule.FAMILIES), "launched families " + families + " miss some of " + KernelModule.FAMILIES);
    }
}
