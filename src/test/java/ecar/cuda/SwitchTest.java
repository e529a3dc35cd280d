package ecar.cuda;

import ecar.cuda.ops.AttentionSm90;
import ecar.cuda.ops.GemmKernels;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CUDA backend's two-way settings (no GPU needed): unset or the default word leaves each off, the other word turns
 * it on, through the system property and as the wrappers read it, and any other word is refused naming the setting and
 * both words. The property is restored after each case.
 */
class SwitchTest {

    /** The switch and how its wrapper reads it: true when the other word is in force. */
    static Stream<org.junit.jupiter.params.provider.Arguments> switches() {
        return Stream.of(
                org.junit.jupiter.params.provider.Arguments.of(GemmKernels.PAIR_STORES, (BooleanSupplier) () -> !GemmKernels.rowStoresSetting()),
                org.junit.jupiter.params.provider.Arguments.of(GemmKernels.SMALL_ON_MMA_SYNC, (BooleanSupplier) () -> !GemmKernels.smallOnSm90Setting() && ecar.cuda.backend.CudaBackend.gemmPath(
                        new CudaProbe.Device(0, "NVIDIA H100", 9, 0, 80L << 30, 132)).contains(GemmKernels.SMALL_ENV + "=mma.sync")),
                org.junit.jupiter.params.provider.Arguments.of(GemmKernels.WIDE_TILES, (BooleanSupplier) () -> ecar.cuda.backend.CudaBackend.gemmPath(
                        new CudaProbe.Device(0, "NVIDIA H100", 9, 0, 80L << 30, 132)).contains(GemmKernels.TILE_ENV + "=128x256")),
                org.junit.jupiter.params.provider.Arguments.of(AttentionSm90.OVERLAP, (BooleanSupplier) () -> ecar.cuda.backend.CudaBackend.gemmPath(
                        new CudaProbe.Device(0, "NVIDIA H100", 9, 0, 80L << 30, 132)).contains(AttentionSm90.OVERLAP_ENV + "=on")),
                org.junit.jupiter.params.provider.Arguments.of(AttentionSm90.PER_ITEM, (BooleanSupplier) () -> AttentionSm90.ctas(132) != 132),
                org.junit.jupiter.params.provider.Arguments.of(GemmKernels.ROPE_PASS, (BooleanSupplier) () -> ecar.cuda.backend.CudaBackend.gemmPath(
                        new CudaProbe.Device(0, "NVIDIA H100", 9, 0, 80L << 30, 132)).contains(GemmKernels.ROPE_ENV + "=pass")),
                org.junit.jupiter.params.provider.Arguments.of(GemmKernels.SKINNY_PLAIN, (BooleanSupplier) () -> ecar.cuda.backend.CudaBackend.gemmPath(
                        new CudaProbe.Device(0, "NVIDIA A100", 8, 0, 80L << 30, 108)).contains(GemmKernels.SKINNY_ENV + "=plain")),
                // any GPU: the norm prologue is gemm_skinny's, which every architecture runs
                org.junit.jupiter.params.provider.Arguments.of(GemmKernels.NORM_PROLOGUE, (BooleanSupplier) () -> ecar.cuda.backend.CudaBackend.gemmPath(
                        new CudaProbe.Device(0, "NVIDIA A100", 8, 0, 80L << 30, 108)).contains(GemmKernels.NORM_PROLOGUE_ENV + "=on")),
                org.junit.jupiter.params.provider.Arguments.of(GemmKernels.CLUSTERS, (BooleanSupplier) () -> ecar.cuda.backend.CudaBackend.gemmPath(
                        new CudaProbe.Device(0, "NVIDIA H100", 9, 0, 80L << 30, 132)).contains(GemmKernels.CLUSTER_ENV + "=on")),
                // the self-check keys its verdict on the label, so a programmatic-launch run is checked apart (Hopper only)
                org.junit.jupiter.params.provider.Arguments.of(LaunchDriver.PROGRAMMATIC, (BooleanSupplier) () -> LaunchDriver.programmatic(9)
                        && ecar.cuda.backend.CudaBackend.gemmPath(new CudaProbe.Device(0, "NVIDIA H100", 9, 0, 80L << 30, 132)).contains("ECAR_PDL=on")
                        && !LaunchDriver.programmatic(8)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("switches")
    void theDefaultWordLeavesItOffTheOtherTurnsItOnAnythingElseIsRefused(Switch s, BooleanSupplier wrapper) {
        String before = System.getProperty(s.property());
        try {
            System.setProperty(s.property(), s.byDefault());
            assertEquals(false, s.flipped());
            assertEquals(false, wrapper.getAsBoolean());
            System.setProperty(s.property(), " " + s.other() + " ");
            assertEquals(true, s.flipped());
            assertEquals(true, wrapper.getAsBoolean());
            System.setProperty(s.property(), "sometimes");
            String msg = assertThrows(IllegalArgumentException.class, s::flipped).getMessage();
            assertTrue(msg.contains(s.property()) && msg.contains(s.env()) && msg.contains("'sometimes'")
                    && msg.contains("expected " + s.byDefault() + " (the default) or " + s.other()), msg);
            if (System.getenv(s.env()) == null) {
                System.clearProperty(s.property());
                assertEquals(false, s.flipped(), "unset is the default");
            }
        } finally {
            if (before == null) System.clearProperty(s.property());
            else System.setProperty(s.property(), before);
        }
    }
}
