package ecar.cuda;

import jcuda.driver.CUresult;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * cuTensorMapEncodeTiled, which JCuda 12.6 does not bind, called in libcuda.so.1 through Java's FFM API. The library is
 * looked up on the first encode, not when this class (or anything that mentions it) is loaded: on a machine without the
 * NVIDIA driver only that call fails, with the reason. Everything checkable without the driver is checked before the
 * call by {@link TensorMapSpec}.
 *
 * <p>C signature (cuda.h): {@code CUresult cuTensorMapEncodeTiled(CUtensorMap* tensorMap, CUtensorMapDataType,
 * cuuint32_t tensorRank, void* globalAddress, const cuuint64_t* globalDim, const cuuint64_t* globalStrides,
 * const cuuint32_t* boxDim, const cuuint32_t* elementStrides, CUtensorMapInterleave, CUtensorMapSwizzle,
 * CUtensorMapL2promotion, CUtensorMapFloatOOBfill)}; the enums are C ints. The driver must be initialised (cuInit,
 * which CudaProbe does through JCuda on the same libcuda.so.1).
 */
public final class TensorMapDriver {
    static final String LIBRARY = LibCuda.LIBRARY, SYMBOL = "cuTensorMapEncodeTiled";
    static final FunctionDescriptor SIGNATURE = FunctionDescriptor.of(JAVA_INT,
            ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT);

    private TensorMapDriver() {}

    /** Bound on first use (class initialisation of this holder), never earlier; keeps the reason when it cannot be. */
    private static final class Binding {
        static final LibCuda.Binding BOUND = LibCuda.bind(SYMBOL, SIGNATURE, "a driver older than CUDA 12.0");
        static final MethodHandle HANDLE = BOUND.handle();
        static final String FAILURE = BOUND.failure();
    }

    /** Whether the driver function could be bound (loads libcuda.so.1 on the first call). */
    public static boolean available() {
        return Binding.HANDLE != null;
    }

    /** Why it could not be bound, or null. */
    public static String unavailableReason() {
        return Binding.FAILURE;
    }

    static TensorMap encodeTiled(TensorMapSpec spec) {
        if (Binding.HANDLE == null) throw new IllegalStateException(SYMBOL + " is not available: " + Binding.FAILURE);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment map = arena.allocate(TensorMap.BYTES, TensorMap.ALIGNMENT);
            MemorySegment dims = arena.allocateFrom(JAVA_LONG, spec.globalDim());
            // rank 1 has no strides; the driver reads none, but pass a valid pointer all the same
            MemorySegment strides = arena.allocateFrom(JAVA_LONG, spec.rank() > 1 ? spec.globalStrides() : new long[]{0});
            MemorySegment box = arena.allocateFrom(JAVA_INT, spec.boxDim());
            MemorySegment elementStrides = arena.allocateFrom(JAVA_INT, spec.elementStrides());
            int r = LibCuda.call(SYMBOL, () -> (int) Binding.HANDLE.invokeExact(map, spec.dataType().code, spec.rank(),
                    MemorySegment.ofAddress(spec.globalAddress()), dims, strides, box, elementStrides, spec.interleave().code,
                    spec.swizzle().code, spec.l2Promotion().code, spec.oobFill().code));
            if (r != CUresult.CUDA_SUCCESS) {
                throw new CudaErrors.CudaFailure(SYMBOL + " of " + spec + " failed: " + CUresult.stringFor(r)
                        + (r == CUresult.CUDA_ERROR_NOT_INITIALIZED ? " (cuInit was not called: open a CudaContext first)" : ""), r);
            }
            return new TensorMap(spec, map.toArray(JAVA_BYTE));
        }
    }
}
