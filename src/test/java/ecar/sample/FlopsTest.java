package ecar.sample;

import ecar.flops.Flops;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FlopsTest {
    @Test
    void ditXl2IsThePapers118Point6GigaMacs() {
        var r = Flops.of(Presets.get("dit-xl-2"));
        assertEquals(118.6e9, r.forwardMacs(), 0.05e9);
        // 250 DDPM steps, guidance doubles the batch
        assertEquals(500 * r.forwardMacs(), r.macsPerImage(), 1e3);
    }

    @Test
    void ditSizesScaleAsThePaperReports() {
        // DiT paper, Table 1 (Gflops = GMAC per forward at 256²): S/2 6.06, B/2 23.01, L/2 80.71, XL/4 29.05
        assertEquals(6.06e9, Flops.of(Presets.get("dit-s-2")).forwardMacs(), 0.05e9);
        assertEquals(23.01e9, Flops.of(Presets.get("dit-b-2")).forwardMacs(), 0.1e9);
        assertEquals(80.71e9, Flops.of(Presets.get("dit-l-2")).forwardMacs(), 0.3e9);
        assertEquals(29.05e9, Flops.of(Presets.get("dit-xl-4")).forwardMacs(), 0.2e9);
    }

    @Test
    void ecarNeedsFarFewerFlopsThanFlowArAndDiT() {
        double ecar = Flops.of(Presets.get("ecar-l")).macsPerImage();
        double flowar = Flops.of(Presets.get("flowar-l")).macsPerImage();
        double dit = Flops.of(Presets.get("dit-xl-2")).macsPerImage();
        assertTrue(dit / ecar > 10, "ECAR-L vs DiT-XL/2: " + dit / ecar);
        assertTrue(flowar / ecar > 3, "ECAR-L vs FlowAR-L: " + flowar / ecar);
        // the schedules share the AR passes: only the flow-head steps differ (5 vs 24 per stage)
        var e = Flops.of(Presets.get("ecar-l")).pipeline();
        var f = Flops.of(Presets.get("flowar-l")).pipeline();
        for (int i = 0; i < e.size(); i++) {
            if (e.get(i).component().startsWith("head steps")) assertEquals(24.0 / 5, f.get(i).calls() / e.get(i).calls(), 1e-12);
            else assertEquals(f.get(i).macs(), e.get(i).macs(), 1e-6);
        }
    }
}
