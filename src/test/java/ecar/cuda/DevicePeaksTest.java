package ecar.cuda;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DevicePeaksTest {
    @Test
    void theDriversNamesOfKnownCardsGiveTheirDenseBf16Peaks() {
        assertEquals(989.4, DevicePeaks.bf16Teraflops("NVIDIA H100 80GB HBM3"));
        assertEquals(756.0, DevicePeaks.bf16Teraflops("NVIDIA H100 PCIe"));
        assertEquals(989.4, DevicePeaks.bf16Teraflops("NVIDIA H200"));
        assertEquals(312.0, DevicePeaks.bf16Teraflops("NVIDIA A100-SXM4-80GB"));
        assertEquals(362.05, DevicePeaks.bf16Teraflops("NVIDIA L40S"));
        assertEquals(121.0, DevicePeaks.bf16Teraflops("NVIDIA L4"));
    }

    @Test
    void anUnknownCardHasNoPeakRatherThanAGuess() {
        assertTrue(Double.isNaN(DevicePeaks.bf16Teraflops("NVIDIA L40")));
        assertTrue(Double.isNaN(DevicePeaks.bf16Teraflops("NVIDIA GeForce RTX 4090")));
    }
}
