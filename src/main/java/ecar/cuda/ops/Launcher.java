package ecar.cuda.ops;

import ecar.cuda.KernelModule;
import ecar.cuda.LaunchShape;
import ecar.cuda.Stream;

/**
 * Where the op wrappers send their launches: the real kernels on a stream ({@link #on(Stream)}), or a recorder in
 * tests, so that every wrapper's validation and launch arithmetic is testable without a GPU.
 */
@FunctionalInterface
public interface Launcher {

    /**
     * Launches {@code signature} (see {@link ecar.cuda.KernelSignature}) of kernels/{@code family}.fatbin.
     * Arguments: {@link ecar.cuda.DeviceAddress} (or null for an optional pointer), Integer, Long, Float.
     */
    void launch(String family, String signature, LaunchShape shape, Object... args);

    /**
     * How many clusters of {@code signature}'s kernel (whose cluster size is compiled in) the device can hold at once
     * with {@code shape}'s block and shared memory: what a persistent grid of clusters may have without a second wave.
     * {@link Integer#MAX_VALUE} where nothing can be asked (a recorder in tests).
     */
    default int maxActiveClusters(String family, String signature, LaunchShape shape) {
        return Integer.MAX_VALUE;
    }

    /** The kernels themselves, queued on {@code stream}. */
    static Launcher on(Stream stream) {
        return new Launcher() {
            @Override
            public void launch(String family, String signature, LaunchShape shape, Object... args) {
                KernelModule.get(family).kernel(signature).launch(shape, stream, args);
            }

            @Override
            public int maxActiveClusters(String family, String signature, LaunchShape shape) {
                return KernelModule.get(family).kernel(signature).maxActiveClusters(shape);
            }
        };
    }
}
