package ecar.cuda;

import jcuda.driver.CUresult;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * cuLaunchKernelEx, which JCuda 12.6 does not bind, called in libcuda.so.1 through Java's FFM API: the launch
 * {@link Kernel#launch} makes for programmatic dependent launch ({@link #PROGRAMMATIC}, ECAR_PDL=on, on compute
 * capability 9.0 and later). Each launch then carries CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION: the
 * driver may schedule the kernel while the one before it in the stream still runs, and the kernel's first statement
 * (pdl_enter, kernels/common.cuh) waits for that one to finish. In a captured graph the edge becomes programmatic.
 *
 * <p>C (cuda.h, CUDA 12.0 and later): {@code CUresult cuLaunchKernelEx(const CUlaunchConfig* config, CUfunction f,
 * void** kernelParams, void** extra)}, with
 * <pre>
 * struct CUlaunchConfig    { unsigned gridDimX, gridDimY, gridDimZ, blockDimX, blockDimY, blockDimZ, sharedMemBytes;
 *                            CUstream hStream; CUlaunchAttribute* attrs; unsigned numAttrs; }          56 bytes
 * struct CUlaunchAttribute { CUlaunchAttributeID id; char pad[4]; union (64 bytes) value; }             72 bytes
 * </pre>
 * The offsets below were read from CUDA 13.0's cuda.h and are checked against it by LaunchDriverTest where a C
 * compiler and cuda.h are at hand. Everything but the call itself is pure and tested without a GPU.
 */
public final class LaunchDriver {
    static final String SYMBOL = "cuLaunchKernelEx";
    static final FunctionDescriptor SIGNATURE = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS);

    /** CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION; its value is the int programmaticStreamSerializationAllowed. */
    static final int PROGRAMMATIC_STREAM_SERIALIZATION = 6;
    static final int CONFIG_BYTES = 56, CONFIG_SHARED = 24, CONFIG_STREAM = 32, CONFIG_ATTRS = 40, CONFIG_NUM_ATTRS = 48;
    static final int ATTRIBUTE_BYTES = 72, ATTRIBUTE_VALUE = 8;

    /**
     * {@code ecar.pdl} / {@code ECAR_PDL}: {@code on} launches every kernel on a compute capability 9.0+ device with the
     * programmatic attribute; {@code off} (the default) launches through JCuda's cuLaunchKernel as before. Off by
     * default until a GPU visit has measured it and checked it bit for bit (ProgrammaticLaunchGpuTest).
     */
    public static final Switch PROGRAMMATIC = new Switch("ecar.pdl", "ECAR_PDL", "off", "on");

    private LaunchDriver() {}

    /** Bound on first use (class initialisation of this holder), never earlier; keeps the reason when it cannot be. */
    private static final class Binding {
        static final LibCuda.Binding BOUND = LibCuda.bind(SYMBOL, SIGNATURE, "a driver older than CUDA 12.0");
    }

    /** {@code CUresult cuOccupancyMaxActiveClusters(int* numClusters, CUfunction func, const CUlaunchConfig* config)}. */
    static final String OCCUPANCY_SYMBOL = "cuOccupancyMaxActiveClusters";
    static final FunctionDescriptor OCCUPANCY_SIGNATURE = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS);

    private static final class OccupancyBinding {
        static final LibCuda.Binding BOUND = LibCuda.bind(OCCUPANCY_SYMBOL, OCCUPANCY_SIGNATURE, "a driver older than CUDA 12.0");
    }

    /**
     * How many clusters of {@code function} (a CUfunction's handle; its cluster size compiled in) can be resident at
     * once with {@code shape}'s block and dynamic shared memory; {@code what} names it in errors.
     */
    static int maxActiveClusters(long function, LaunchShape shape, String what) {
        MethodHandle h = OccupancyBinding.BOUND.handle();
        if (h == null) throw new IllegalStateException(OCCUPANCY_SYMBOL + " is not available for " + what + ": " + OccupancyBinding.BOUND.failure());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment count = arena.allocate(JAVA_INT), config = arena.allocate(CONFIG_BYTES, 8);
            writeConfig(config, shape, 0L, MemorySegment.NULL, 0);
            int r = LibCuda.call(OCCUPANCY_SYMBOL, () -> (int) h.invokeExact(count, MemorySegment.ofAddress(function), config));
            if (r != CUresult.CUDA_SUCCESS) {
                throw new CudaErrors.CudaFailure(OCCUPANCY_SYMBOL + " for " + what + " failed: " + CUresult.stringFor(r), r);
            }
            int n = count.get(JAVA_INT, 0);
            if (n < 1) throw new IllegalStateException(OCCUPANCY_SYMBOL + " says no cluster of " + what + " fits the device");
            return n;
        }
    }

    /** Whether launches on a device of compute capability {@code major} take the programmatic path now. */
    public static boolean programmatic(int major) {
        return major >= 9 && PROGRAMMATIC.flipped();
    }

    /** Whether cuLaunchKernelEx could be bound (loads libcuda.so.1 on the first call), or why not (null if it could). */
    public static String unavailableReason() {
        return Binding.BOUND.failure();
    }

    /** Writes the CUlaunchConfig of {@code shape} on {@code stream} with {@code attrs} (count {@code numAttrs}) into config. */
    static void writeConfig(MemorySegment config, LaunchShape shape, long stream, MemorySegment attrs, int numAttrs) {
        int[] dims = {shape.gridX(), shape.gridY(), shape.gridZ(), shape.blockX(), shape.blockY(), shape.blockZ(), shape.sharedBytes()};
        config.fill((byte) 0);
        for (int i = 0; i < dims.length; i++) config.set(JAVA_INT, 4L * i, dims[i]);
        config.set(JAVA_LONG, CONFIG_STREAM, stream);
        config.set(ADDRESS, CONFIG_ATTRS, attrs);
        config.set(JAVA_INT, CONFIG_NUM_ATTRS, numAttrs);
    }

    /** Writes one CUlaunchAttribute {PROGRAMMATIC_STREAM_SERIALIZATION, allowed = 1} into attr. */
    static void writeProgrammatic(MemorySegment attr) {
        attr.fill((byte) 0);
        attr.set(JAVA_INT, 0, PROGRAMMATIC_STREAM_SERIALIZATION);
        attr.set(JAVA_INT, ATTRIBUTE_VALUE, 1);
    }

    /**
     * The kernelParams array for {@code types} holding {@code bits} (KernelSignature.encode: pointers and 64-bit values
     * whole, 32-bit ones in the low word) and, for a tensor map, its 128 bytes (64-byte aligned, as __grid_constant__
     * wants): one slot per parameter with the value, and the array of the slots' addresses.
     */
    static MemorySegment params(Arena arena, List<ArgType> types, long[] bits, Object[] args) {
        MemorySegment array = arena.allocate(ADDRESS, Math.max(1, types.size()));
        for (int i = 0; i < types.size(); i++) {
            MemorySegment slot = switch (types.get(i)) {
                case TMAP -> arena.allocate(TensorMap.BYTES, TensorMap.ALIGNMENT).copyFrom(MemorySegment.ofArray(((TensorMap) args[i]).bytes()));
                case I32, U32, F32 -> arena.allocateFrom(JAVA_INT, (int) bits[i]);
                case PTR, PTR_OR_NULL, I64, U64 -> arena.allocateFrom(JAVA_LONG, bits[i]);
            };
            array.setAtIndex(ADDRESS, i, slot);
        }
        return array;
    }

    /** Launches {@code function} (a CUfunction's handle) with the programmatic attribute; {@code what} names it in errors. */
    static void launchProgrammatic(long function, LaunchShape shape, long stream, List<ArgType> types, long[] bits, Object[] args, String what) {
        MethodHandle h = Binding.BOUND.handle();
        if (h == null) throw new IllegalStateException(SYMBOL + " is not available for the launch of " + what + ": " + Binding.BOUND.failure());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(ATTRIBUTE_BYTES, 8), config = arena.allocate(CONFIG_BYTES, 8);
            writeProgrammatic(attr);
            writeConfig(config, shape, stream, attr, 1);
            MemorySegment params = params(arena, types, bits, args);
            int r = LibCuda.call(SYMBOL, () -> (int) h.invokeExact(config, MemorySegment.ofAddress(function), params, MemorySegment.NULL));
            if (r != CUresult.CUDA_SUCCESS) {
                throw new CudaErrors.CudaFailure(SYMBOL + " (programmatic dependent launch, ECAR_PDL=on) of " + what + " failed: " + CUresult.stringFor(r), r);
            }
        }
    }
}
