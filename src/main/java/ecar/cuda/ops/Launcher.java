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

    /** The kernels themselves, queued on {@code stream}. */
    static Launcher on(Stream stream) {
        return (family, signature, shape, args) -> KernelModule.get(family).kernel(signature).launch(shape, stream, args);
    }
}
