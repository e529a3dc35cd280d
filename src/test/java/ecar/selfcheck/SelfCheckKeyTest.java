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
        CudaProbe.Result r = new CudaProbe.Result(true, List.of(new CudaProbe.Device(0, "NVIDIA H100", 9, 0, 80L << 30, 132),
                new CudaProbe.Device(1, "NVIDIA A100", 8, 0, 40L << 30, 108)), 12060, "");
        SelfCheckKey k = SelfCheckKey.current(r);
        assertEquals("NVIDIA H100", k.device());
        assertEquals("9.0", k.computeCapability());
        assertEquals(12060, k.driverVersion());
        assertTrue(k.build().matches("dev-[0-9a-f]{16} gemm (wgmma|mma\\.sync|invalid .*)"), k.build());
    }

    @Test
    void theBuildFingerprintIsTheVersionAndSha256OverEachFamilysNameAndFatbin() throws Exception {
        // expected values from Python: hashlib.sha256(b"flow" + b"abc" + b"gemm").hexdigest()[:16]
        java.util.Map<String, byte[]> fatbins = java.util.Map.of("flow", "abc".getBytes());
        assertEquals("1.2-4f58258668d188c0", SelfCheckKey.fingerprint("1.2", List.of("flow", "gemm"), fatbins::get));
        java.util.Map<String, byte[]> changed = java.util.Map.of("flow", "abd".getBytes());
        assertEquals("1.2-7534172321eb1de3", SelfCheckKey.fingerprint("1.2", List.of("flow", "gemm"), changed::get), "one changed byte, a new key");
        assertEquals("1.2-unreadable", SelfCheckKey.fingerprint("1.2", List.of("flow"), f -> {
            throw new java.io.IOException("disk");
        }));
    }

    @Test
    void noGpuHasNoKey() {
        CudaProbe.Result none = new CudaProbe.Result(false, List.of(), 0, "no driver");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> SelfCheckKey.current(none));
        assertTrue(e.getMessage().contains("no driver"), e.getMessage());
    }
}
