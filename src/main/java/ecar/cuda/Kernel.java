package ecar.cuda;

import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUfunction;
import jcuda.driver.CUfunction_attribute;
import jcuda.driver.JCudaDriver;

/**
 * A kernel entry point with its declared {@link KernelSignature}. {@link #launch} checks the arguments against the
 * signature, and on a failed launch reports the kernel, its grid and block. It launches through JCuda's cuLaunchKernel,
 * or with ECAR_PDL=on on a Hopper or newer device through {@link LaunchDriver} (programmatic dependent launch).
 * Launches are asynchronous: a fault inside the kernel surfaces at the next synchronizing call ({@link Stream#synchronize()}).
 */
public final class Kernel {
    private static final int DEFAULT_SHARED_LIMIT = 48 * 1024;

    private final String family;
    private final KernelSignature signature;
    private final CUfunction function;
    private final java.util.List<ArgType> types;
    private volatile int sharedLimit = DEFAULT_SHARED_LIMIT;
    /** Every launch of every kernel in this JVM (ecar profile counts the kernels of a generation with it). */
    private static final java.util.concurrent.atomic.LongAdder LAUNCHES = new java.util.concurrent.atomic.LongAdder();
    /** {@link #maxActiveClusters}' answers, by shared memory (high word) and threads a block (low word). */
    private final java.util.concurrent.ConcurrentHashMap<Long, Integer> activeClusters = new java.util.concurrent.ConcurrentHashMap<>();

    Kernel(String family, KernelSignature signature, CUfunction function) {
        this.family = family;
        this.signature = signature;
        this.function = function;
        this.types = signature.types();
    }

    public KernelSignature signature() {
        return signature;
    }

    /** Kernels launched so far in this JVM, by any Kernel (captured launches included; a graph's replays are not launches). */
    public static long launches() {
        return LAUNCHES.sum();
    }

    public void launch(LaunchShape shape, Stream stream, Object... args) {
        long[] bits = signature.encode(args);
        LAUNCHES.increment();
        CudaContext context = CudaContext.get();
        if (shape.sharedBytes() > sharedLimit) raiseSharedLimit(shape);
        String what = family + "/" + signature.name() + " with " + shape;
        if (LaunchDriver.programmatic(context.device().major())) {
            LaunchDriver.launchProgrammatic(LibCuda.handle(function), shape, LibCuda.handle(stream.handle()), types, bits, args, what);
            return;
        }
        NativePointerObject[] params = new NativePointerObject[bits.length];
        for (int i = 0; i < bits.length; i++) {
            params[i] = switch (types.get(i)) {
                case TMAP -> Pointer.to(((TensorMap) args[i]).bytes());
                case I32, U32, F32 -> Pointer.to(new int[]{(int) bits[i]});
                case PTR, PTR_OR_NULL, I64, U64 -> Pointer.to(new long[]{bits[i]});
            };
        }
        CudaErrors.call("launch of " + what, () -> JCudaDriver.cuLaunchKernel(function,
                shape.gridX(), shape.gridY(), shape.gridZ(), shape.blockX(), shape.blockY(), shape.blockZ(),
                shape.sharedBytes(), stream.handle(), Pointer.to(params), null));
    }

    /**
     * The clusters of this kernel (cluster size compiled in) that fit the device at once with {@code shape}'s block and
     * dynamic shared memory (cuOccupancyMaxActiveClusters, through {@link LaunchDriver}); asked once per shared-memory
     * size and block.
     */
    public int maxActiveClusters(LaunchShape shape) {
        CudaContext.get();
        if (shape.sharedBytes() > sharedLimit) raiseSharedLimit(shape);
        long key = ((long) shape.sharedBytes() << 32) | ((long) shape.blockX() * shape.blockY() * shape.blockZ());
        return activeClusters.computeIfAbsent(key, k -> LaunchDriver.maxActiveClusters(LibCuda.handle(function), shape,
                family + "/" + signature.name() + " with " + shape));
    }

    private synchronized void raiseSharedLimit(LaunchShape shape) {
        if (shape.sharedBytes() <= sharedLimit) return;
        CudaErrors.call("cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES = " + shape.sharedBytes() + ") for " + signature.name()
                        + " (the device may have less shared memory per block)",
                () -> JCudaDriver.cuFuncSetAttribute(function, CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, shape.sharedBytes()));
        sharedLimit = shape.sharedBytes();
    }

    /** Registers per thread as compiled for this device (for reports). */
    public int registers() {
        int[] v = new int[1];
        CudaErrors.call("cuFuncGetAttribute(NUM_REGS)", () -> JCudaDriver.cuFuncGetAttribute(v, CUfunction_attribute.CU_FUNC_ATTRIBUTE_NUM_REGS, function));
        return v[0];
    }

    @Override
    public String toString() {
        return family + "/" + signature;
    }
}
