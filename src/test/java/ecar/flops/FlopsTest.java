package ecar.flops;

import ecar.family.Preset;
import ecar.sample.Presets;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The counts of running the models on the counting backend, against the papers' numbers and against the closed
 * forms the previous hand-written counter used (which they must equal: both describe the same work).
 */
class FlopsTest {
    @Test
    void ditXl2IsThePapers118Point6GigaMacs() {
        FlopsReport r = Presets.get("dit-xl-2").flops();
        assertEquals(118.6e9, r.forwardMacs(), 0.05e9);
        // 250 DDPM steps, guidance doubles the batch
        assertEquals(500, r.evaluationsPerImage(), 0);
        assertEquals(500 * r.forwardMacs(), r.macsPerImage(), 1e3);
    }

    @Test
    void ditSizesScaleAsThePaperReports() {
        // DiT paper, Table 1 (Gflops = GMAC per forward at 256²): S/2 6.06, B/2 23.01, L/2 80.71, XL/4 29.05
        assertEquals(6.06e9, Presets.get("dit-s-2").flops().forwardMacs(), 0.05e9);
        assertEquals(23.01e9, Presets.get("dit-b-2").flops().forwardMacs(), 0.1e9);
        assertEquals(80.71e9, Presets.get("dit-l-2").flops().forwardMacs(), 0.3e9);
        assertEquals(29.05e9, Presets.get("dit-xl-4").flops().forwardMacs(), 0.2e9);
    }

    /** DiT's forward pass in closed form: patch embed, t-embedder, blocks (adaLN, qkv, QKᵀ and PV, proj, MLP), final layer. */
    private static double ditForwardMacs(int latent, int patch, int width, int depth, int outChannels) {
        double t = Math.pow(latent / patch, 2), d = width;
        double blocks = depth * (6 * d * d + 12 * t * d * d + 2 * t * t * d);
        return t * 4 * patch * patch * d + 256 * d + d * d + blocks + 2 * d * d + t * d * patch * patch * outChannels;
    }

    @Test
    void ditAt512AndEveryPatchSizeFollowTheClosedForm() {
        // the DiT paper's 512² model: DiT-XL/2 on a 64² latent, 524.6 Gflops
        Preset xl512 = Presets.get("dit-xl-2").atImageSize(512);
        assertEquals(64, xl512.architecture().latentSide());
        assertEquals(524.6e9, xl512.flops().forwardMacs(), 0.1e9);
        assertEquals(ditForwardMacs(64, 2, 1152, 28, 8), xl512.flops().forwardMacs(), 1e3);
        int[][] sizes = {{384, 12}, {768, 12}, {1024, 24}, {1152, 28}};
        String[] names = {"s", "b", "l", "xl"};
        for (int i = 0; i < names.length; i++) {
            for (int p : new int[]{2, 4, 8}) {
                Preset preset = Presets.get("dit-" + names[i] + "-" + p);
                assertEquals(ditForwardMacs(32, p, sizes[i][0], sizes[i][1], 8), preset.flops().forwardMacs(), 1e3, preset.name());
            }
        }
        assertEquals(ditForwardMacs(64, 8, 384, 12, 8), Presets.get("dit-s-8").atImageSize(512).flops().forwardMacs(), 1e3, "S/8 at 512²");
    }

    @Test
    void ecarLMatchesTheClosedForm() {
        // 935.11 GMAC per image: the AR passes, head preparations and 5 guided head steps per stage, summed by hand
        FlopsReport r = Presets.get("ecar-l").flops();
        assertEquals(935.11e9, r.macsPerImage(), 0.01e9);
        assertEquals(50, r.evaluationsPerImage(), 0);
        assertEquals(125.07e9, r.decodeMacs(), 0.01e9);   // the KL-16 decoder at 256²
    }

    @Test
    void ecarNeedsFarFewerFlopsThanFlowArAndDiT() {
        FlopsReport ecar = Presets.get("ecar-l").flops(), flowar = Presets.get("flowar-l").flops(), dit = Presets.get("dit-xl-2").flops();
        assertTrue(dit.macsPerImage() / ecar.macsPerImage() > 60, "ECAR-L vs DiT-XL/2: " + dit.macsPerImage() / ecar.macsPerImage());
        assertTrue(flowar.macsPerImage() / ecar.macsPerImage() > 4, "ECAR-L vs FlowAR-L: " + flowar.macsPerImage() / ecar.macsPerImage());
        // the schedules share the AR passes and preparations; only the head steps differ (5 vs 24 per stage)
        for (int i = 0; i < ecar.regions().size(); i++) {
            Count e = ecar.regions().get(i), f = flowar.regions().get(i);
            assertEquals(e.component(), f.component());
            if (e.component().endsWith("head step")) assertEquals(24.0 / 5, f.calls() / e.calls(), 1e-9, e.component());
            else assertEquals(f.macs(), e.macs(), 1e-6, e.component());
        }
    }

    @Test
    void regionsAndLayersAddUpToTheSameTotal() {
        Preset p = Presets.get("flowar-s");
        FlopsReport r = p.flops();
        double byLayer = r.layers().stream().mapToDouble(Count::macs).sum();
        assertEquals(r.macsPerImage(), byLayer, 1e-6 * byLayer);
        assertTrue(r.layers().get(0).component().startsWith("flownet.") || r.layers().get(0).component().contains("blocks.N"), r.layers().get(0).component());
    }

    @Test
    void countingReadsNoWeights() {
        // a 1.9-billion-parameter model counts in well under a second's worth of allocation: no parameter is materialised
        long before = Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory();
        FlopsReport r = Presets.get("ecar-h").flops();
        long after = Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory();
        assertTrue(r.macsPerImage() > 0);
        assertTrue(after - before < 1L << 30, "counting allocated " + (after - before) / (1 << 20) + " MiB");
    }
}
