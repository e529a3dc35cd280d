package ecar.selfcheck;

import ecar.cuda.CudaProbe;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SelfCheckKeyTest {
    @Test
    void theKeyNamesDeviceCapabilityDriverAndBuildOnOneField() {
        SelfCheckKey k = new SelfCheckKey("Odd\tGPU\n|name", "9.0", 12060, "dev-abc");
        assertFalse(k.text().contains("\t") || k.text().contains("\n"), k.text());
        assertTrue(k.text().contains("sm 9.0") && k.text().contains("driver 12060") && k.text().contains("build dev-abc"), k.text());
    }

    @Test
    void theCurrentKeyIsTheFirstDeviceWithThisBuild() {
        CudaProbe.Result r = new CudaProbe.Result(true, List.of(new CudaProbe.Device(0, "NVIDIA H100", 9, 0, 80L << 30, 132)), 12060, "");
        SelfCheckKey k = SelfCheckKey.current(r);
        assertEquals(new SelfCheckKey("NVIDIA H100", "9.0", 12060, SelfCheckKey.buildFingerprint() + " gemm " + ecar.cuda.backend.CudaBackend.gemmPath(r.devices().get(0))), k);
        assertTrue(k.build().matches("[^-]+-([0-9a-f]{16}|unreadable) gemm (wgmma|mma\\.sync|invalid .*)"), k.build());
        assertEquals(SelfCheckKey.buildFingerprint(), SelfCheckKey.buildFingerprint(), "stable within a build");
    }

    @Test
    void noGpuHasNoKey() {
        CudaProbe.Result none = new CudaProbe.Result(false, List.of(), 0, "no driver");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> SelfCheckKey.current(none));
        assertTrue(e.getMessage().contains("no driver"), e.getMessage());
    }
}
