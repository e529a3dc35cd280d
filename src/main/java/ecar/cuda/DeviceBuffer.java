package ecar.cuda;

import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.JCudaDriver;

/**
 * A range of device memory: either a slice of a {@link DeviceArena} (freed by resetting the arena) or its own
 * cuMemAlloc (freed by {@link #close()}). Copies are synchronous on the legacy stream unless a stream is given.
 */
public final class DeviceBuffer implements DeviceAddress, AutoCloseable {
    private final CUdeviceptr base;
    private final long offset;
    private final long bytes;
    private final String label;
    private final boolean owned;
    private long address;

    DeviceBuffer(CUdeviceptr base, long baseAddress, long offset, long bytes, String label, boolean owned) {
        this.base = base;
        this.offset = offset;
        this.bytes = bytes;
        this.label = label;
        this.owned = owned;
        this.address = baseAddress + offset;
    }

    /** A buffer of its own (cuMemAlloc); close it when done. */
    public static DeviceBuffer allocate(long bytes, String label) {
        if (bytes <= 0) throw new IllegalArgumentException("device buffer '" + label + "' of " + bytes + " bytes; expected > 0");
        CudaContext.get();
        RawPointer p = new RawPointer();
        CudaErrors.call("cuMemAlloc of " + bytes + " bytes for '" + label + "'", () -> JCudaDriver.cuMemAlloc(p, bytes));
        return new DeviceBuffer(p, p.address(), 0, bytes, label, true);
    }

    @Override
    public long address() {
        return address;
    }

    @Override
    public long bytes() {
        return bytes;
    }

    @Override
    public String label() {
        return label;
    }

    /** The driver's pointer to the first byte. */
    public CUdeviceptr pointer() {
        checkLive();
        return offset == 0 ? base : base.withByteOffset(offset);
    }

    /** A sub-range [from, from + length) in bytes (a view; not separately freeable). */
    public DeviceBuffer slice(long from, long length, String what) {
        if (from < 0 || length <= 0 || from + length > bytes) {
            throw new IllegalArgumentException("slice [" + from + ", " + (from + length) + ") of '" + label + "' (" + bytes + " bytes)");
        }
        return new DeviceBuffer(base, address - offset, offset + from, length, what, false);
    }

    /** Copies from the host and waits until the data is on the device (safe for any stream that runs later). */
    public void upload(float[] src) {
        checkFits(4L * src.length, "upload of " + src.length + " floats");
        CudaContext ctx = CudaContext.get();
        CudaErrors.call("cuMemcpyHtoD to '" + label + "'", () -> JCudaDriver.cuMemcpyHtoD(pointer(), Pointer.to(src), 4L * src.length));
        ctx.synchronize();   // a pageable upload may return before its DMA lands
    }

    public void upload(short[] src) {
        checkFits(2L * src.length, "upload of " + src.length + " bf16 values");
        CudaContext ctx = CudaContext.get();
        CudaErrors.call("cuMemcpyHtoD to '" + label + "'", () -> JCudaDriver.cuMemcpyHtoD(pointer(), Pointer.to(src), 2L * src.length));
        ctx.synchronize();
    }

    public void upload(int[] src) {
        checkFits(4L * src.length, "upload of " + src.length + " ints");
        CudaContext ctx = CudaContext.get();
        CudaErrors.call("cuMemcpyHtoD to '" + label + "'", () -> JCudaDriver.cuMemcpyHtoD(pointer(), Pointer.to(src), 4L * src.length));
        ctx.synchronize();
    }

    /** Copies to the host once all work on the device has finished. */
    public void download(float[] dst) {
        checkFits(4L * dst.length, "download of " + dst.length + " floats");
        CudaContext.get().synchronize();
        CudaErrors.call("cuMemcpyDtoH from '" + label + "'", () -> JCudaDriver.cuMemcpyDtoH(Pointer.to(dst), pointer(), 4L * dst.length));
    }

    public void download(short[] dst) {
        checkFits(2L * dst.length, "download of " + dst.length + " bf16 values");
        CudaContext.get().synchronize();
        CudaErrors.call("cuMemcpyDtoH from '" + label + "'", () -> JCudaDriver.cuMemcpyDtoH(Pointer.to(dst), pointer(), 2L * dst.length));
    }

    // Stream-ordered copies go through a direct (native-order) buffer: JCuda passes its address as is, and with
    // pageable host memory the driver stages an upload before returning and finishes a download before returning,
    // so the temporary buffer may be dropped right after the call.

    /** Queues a host-to-device copy on the stream (ordered with the stream's kernels). */
    public void upload(float[] src, Stream stream) {
        java.nio.ByteBuffer b = direct(4L * src.length);
        b.asFloatBuffer().put(src);
        uploadDirect(b, stream);
    }

    public void upload(short[] src, Stream stream) {
        java.nio.ByteBuffer b = direct(2L * src.length);
        b.asShortBuffer().put(src);
        uploadDirect(b, stream);
    }

    public void upload(int[] src, Stream stream) {
        java.nio.ByteBuffer b = direct(4L * src.length);
        b.asIntBuffer().put(src);
        uploadDirect(b, stream);
    }

    /** Copies to the host after the stream's earlier work. */
    public void download(float[] dst, Stream stream) {
        downloadDirect(4L * dst.length, stream).asFloatBuffer().get(dst);
    }

    public void download(short[] dst, Stream stream) {
        downloadDirect(2L * dst.length, stream).asShortBuffer().get(dst);
    }

    public void download(int[] dst, Stream stream) {
        downloadDirect(4L * dst.length, stream).asIntBuffer().get(dst);
    }

    private java.nio.ByteBuffer direct(long n) {
        checkFits(n, "a copy of " + n + " bytes");
        if (n > Integer.MAX_VALUE) throw new IllegalArgumentException("a host copy of " + n + " bytes is over 2 GiB; copy in parts");
        return java.nio.ByteBuffer.allocateDirect((int) Math.max(n, 1)).order(java.nio.ByteOrder.nativeOrder());
    }

    private void uploadDirect(java.nio.ByteBuffer b, Stream stream) {
        long n = b.capacity();
        CudaErrors.call("cuMemcpyHtoDAsync of " + n + " bytes to '" + label + "'",
                () -> JCudaDriver.cuMemcpyHtoDAsync(pointer(), Pointer.to(b), n, stream.handle()));
    }

    private java.nio.ByteBuffer downloadDirect(long n, Stream stream) {
        java.nio.ByteBuffer b = direct(n);
        CudaErrors.call("cuMemcpyDtoHAsync of " + n + " bytes from '" + label + "'",
                () -> JCudaDriver.cuMemcpyDtoHAsync(Pointer.to(b), pointer(), n, stream.handle()));
        stream.synchronize();
        return b;
    }

    /**
     * Queues a 2D copy: {@code rows} rows of {@code rowBytes}, source rows {@code srcPitch} apart from byte srcOffset of
     * src, destination rows {@code dstPitch} apart from byte dstOffset of this buffer. The offsets go into the device
     * pointers, never into the descriptor's XInBytes ({@link Copy2d} says why and checks the driver's rules).
     */
    public void copy2dFrom(DeviceBuffer src, long srcOffset, long srcPitch, long dstOffset, long dstPitch, long rowBytes, long rows, Stream stream) {
        if (rows <= 0 || rowBytes <= 0) return;
        Copy2d copy = plan2d(src, srcOffset, srcPitch, dstOffset, dstPitch, rowBytes, rows);
        jcuda.driver.CUDA_MEMCPY2D c = copy.descriptor(src.pointer().withByteOffset(srcOffset), pointer().withByteOffset(dstOffset));
        CudaErrors.call("cuMemcpy2DAsync '" + src.label + "' → '" + label + "' (" + copy + ")", () -> JCudaDriver.cuMemcpy2DAsync(c, stream.handle()));
    }

    /** The copy {@link #copy2dFrom} queues, checked against both buffers' bounds and the driver's rules. */
    Copy2d plan2d(DeviceBuffer src, long srcOffset, long srcPitch, long dstOffset, long dstPitch, long rowBytes, long rows) {
        checkFits(dstOffset + (rows - 1) * dstPitch + rowBytes, "2D copy of " + rows + " rows of " + rowBytes + " bytes");
        src.checkFits(srcOffset + (rows - 1) * srcPitch + rowBytes, "2D copy of " + rows + " rows of " + rowBytes + " bytes");
        if (srcOffset < 0 || dstOffset < 0) throw new IllegalArgumentException("2D copy at negative offsets " + srcOffset + ", " + dstOffset);
        return new Copy2d(src.address + srcOffset, srcPitch, address + dstOffset, dstPitch, rowBytes, rows);
    }

    /** Asynchronous device-to-device copy of {@code n} bytes from src into this buffer. */
    public void copyFrom(DeviceBuffer src, long n, Stream stream) {
        copyFrom(src, 0, 0, n, stream);
    }

    /** Asynchronous device-to-device copy of {@code n} bytes from byte srcOffset of src to byte dstOffset of this buffer. */
    public void copyFrom(DeviceBuffer src, long srcOffset, long dstOffset, long n, Stream stream) {
        if (n <= 0) return;
        checkFits(dstOffset + n, "copy of " + n + " bytes at offset " + dstOffset + " from '" + src.label + "'");
        src.checkFits(srcOffset + n, "copy of " + n + " bytes at offset " + srcOffset + " into '" + label + "'");
        CudaErrors.call("cuMemcpyDtoDAsync '" + src.label + "' → '" + label + "'",
                () -> JCudaDriver.cuMemcpyDtoDAsync(pointer().withByteOffset(dstOffset), src.pointer().withByteOffset(srcOffset), n, stream.handle()));
    }

    /** Fills the buffer with a 32-bit pattern (e.g. Float.floatToRawIntBits(NaN) to poison outputs). */
    public void fill32(int pattern, Stream stream) {
        if (bytes % 4 != 0) throw new IllegalStateException("fill32 of '" + label + "': " + bytes + " bytes is not a whole number of words");
        CudaErrors.call("cuMemsetD32Async on '" + label + "'", () -> JCudaDriver.cuMemsetD32Async(pointer(), pattern, bytes / 4, stream.handle()));
    }

    private void checkFits(long n, String what) {
        checkLive();
        if (n > bytes) throw new IllegalArgumentException(what + " does not fit '" + label + "' of " + bytes + " bytes");
    }

    private void checkLive() {
        if (address == 0) throw new IllegalStateException("device buffer '" + label + "' was already freed");
    }

    /** Frees a buffer of its own; a no-op for arena slices and views (the arena frees those). */
    @Override
    public void close() {
        if (owned && address != 0) {
            CudaContext.get();
            CudaErrors.call("cuMemFree of '" + label + "'", () -> JCudaDriver.cuMemFree(base));
        }
        if (owned) address = 0;
    }

    @Override
    public String toString() {
        return "DeviceBuffer[" + label + ", " + bytes + " bytes]";
    }
}
