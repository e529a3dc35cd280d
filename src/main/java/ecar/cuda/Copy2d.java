package ecar.cuda;

/**
 * One device-to-device 2D copy as cuMemcpy2DAsync takes it, built and validated here without the driver, so its
 * documented constraints are tested on machines without a GPU:
 * <ul>
 *   <li>{@code WidthInBytes + srcXInBytes <= srcPitch} and {@code WidthInBytes + dstXInBytes <= dstPitch}. We always
 *       pass X = 0 and Y = 0 and put every offset into the device pointers: an arena slice's offset in XInBytes
 *       breaks this rule as soon as it exceeds pitch − width (every 2D copy failed on an H100 with
 *       CUDA_ERROR_INVALID_VALUE when offsets went there);</li>
 *   <li>pitches at most {@link #MAX_PITCH} (CU_DEVICE_ATTRIBUTE_MAX_PITCH: 2³¹ − 1 on every GPU we target);</li>
 *   <li>the two areas do not overlap (cudaMemcpy2D: "the memory areas may not overlap").</li>
 * </ul>
 *
 * @param src      address of the first source byte
 * @param srcPitch bytes from one source row to the next
 * @param dst      address of the first destination byte
 * @param dstPitch bytes from one destination row to the next
 * @param width    bytes copied per row
 * @param rows     rows copied
 */
public record Copy2d(long src, long srcPitch, long dst, long dstPitch, long width, long rows) {
    /** CU_DEVICE_ATTRIBUTE_MAX_PITCH on sm_80 … sm_90 (the driver reports 2147483647). */
    public static final long MAX_PITCH = Integer.MAX_VALUE;

    public Copy2d {
        String what = "2D copy of " + rows + " rows of " + width + " bytes";
        if (width <= 0 || rows <= 0) throw new IllegalArgumentException(what + ": width and rows must be positive");
        if (src == 0 || dst == 0) throw new IllegalArgumentException(what + ": null device address (src " + hex(src) + ", dst " + hex(dst) + ")");
        if (srcPitch < width || dstPitch < width) {
            throw new IllegalArgumentException(what + ": pitches " + srcPitch + " (src) and " + dstPitch + " (dst) must be at least the width");
        }
        if (srcPitch > MAX_PITCH || dstPitch > MAX_PITCH) {
            throw new IllegalArgumentException(what + ": pitches " + srcPitch + " (src) and " + dstPitch + " (dst) must be at most " + MAX_PITCH
                    + " (CU_DEVICE_ATTRIBUTE_MAX_PITCH)");
        }
        long srcEnd = src + (rows - 1) * srcPitch + width, dstEnd = dst + (rows - 1) * dstPitch + width;
        if (src < dstEnd && dst < srcEnd) {
            throw new IllegalArgumentException(what + ": source [" + hex(src) + ", " + hex(srcEnd) + ") and destination [" + hex(dst) + ", "
                    + hex(dstEnd) + ") overlap");
        }
    }

    /**
     * The driver's descriptor: device memory on both sides, X and Y zero, the given pointers (which must point at
     * {@link #src} and {@link #dst}: the caller passes the arena base advanced by the slice offset).
     */
    public jcuda.driver.CUDA_MEMCPY2D descriptor(jcuda.driver.CUdeviceptr srcPointer, jcuda.driver.CUdeviceptr dstPointer) {
        jcuda.driver.CUDA_MEMCPY2D c = new jcuda.driver.CUDA_MEMCPY2D();
        c.srcMemoryType = jcuda.driver.CUmemorytype.CU_MEMORYTYPE_DEVICE;
        c.srcDevice = srcPointer;
        c.srcXInBytes = 0;
        c.srcY = 0;
        c.srcPitch = srcPitch;
        c.dstMemoryType = jcuda.driver.CUmemorytype.CU_MEMORYTYPE_DEVICE;
        c.dstDevice = dstPointer;
        c.dstXInBytes = 0;
        c.dstY = 0;
        c.dstPitch = dstPitch;
        c.WidthInBytes = width;
        c.Height = rows;
        return c;
    }

    /**
     * True when a descriptor obeys the driver's rules for device-to-device copies (what {@link #descriptor} must
     * always produce; tests check it, and it documents the rules in one place).
     */
    public static boolean driverAccepts(jcuda.driver.CUDA_MEMCPY2D c) {
        return c.WidthInBytes > 0 && c.Height > 0
                && c.srcXInBytes + c.WidthInBytes <= c.srcPitch && c.dstXInBytes + c.WidthInBytes <= c.dstPitch
                && c.srcPitch <= MAX_PITCH && c.dstPitch <= MAX_PITCH
                && c.srcMemoryType == jcuda.driver.CUmemorytype.CU_MEMORYTYPE_DEVICE && c.dstMemoryType == jcuda.driver.CUmemorytype.CU_MEMORYTYPE_DEVICE
                && c.srcDevice != null && c.dstDevice != null;
    }

    private static String hex(long a) {
        return "0x" + Long.toHexString(a);
    }
}
