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

    public void upload(float[] src) {
        checkFits(4L * src.length, "upload of " + src.length + " floats");
        CudaContext.get();
        CudaErrors.call("cuMemcpyHtoD to '" + label + "'", () -> JCudaDriver.cuMemcpyHtoD(pointer(), Pointer.to(src), 4L * src.length));
    }

    public void upload(short[] src) {
        checkFits(2L * src.length, "upload of " + src.length + " bf16 values");
        CudaContext.get();
        CudaErrors.call("cuMemcpyHtoD to '" + label + "'", () -> JCudaDriver.cuMemcpyHtoD(pointer(), Pointer.to(src), 2L * src.length));
    }

    public void upload(int[] src) {
        checkFits(4L * src.length, "upload of " + src.length + " ints");
        CudaContext.get();
        CudaErrors.call("cuMemcpyHtoD to '" + label + "'", () -> JCudaDriver.cuMemcpyHtoD(pointer(), Pointer.to(src), 4L * src.length));
    }

    public void download(float[] dst) {
        checkFits(4L * dst.length, "download of " + dst.length + " floats");
        CudaContext.get();
        CudaErrors.call("cuMemcpyDtoH from '" + label + "'", () -> JCudaDriver.cuMemcpyDtoH(Pointer.to(dst), pointer(), 4L * dst.length));
    }

    public void download(short[] dst) {
        checkFits(2L * dst.length, "download of " + dst.length + " bf16 values");
        CudaContext.get();
        CudaErrors.call("cuMemcpyDtoH from '" + label + "'", () -> JCudaDriver.cuMemcpyDtoH(Pointer.to(dst), pointer(), 2L * dst.length));
    }

    /** Asynchronous device-to-device copy of {@code n} bytes from src into this buffer. */
    public void copyFrom(DeviceBuffer src, long n, Stream stream) {
        checkFits(n, "copy of " + n + " bytes from '" + src.label + "'");
        src.checkFits(n, "copy of " + n + " bytes into '" + label + "'");
        CudaErrors.call("cuMemcpyDtoDAsync '" + src.label + "' → '" + label + "'",
                () -> JCudaDriver.cuMemcpyDtoDAsync(pointer(), src.pointer(), n, stream.handle()));
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
