package ecar.cuda;

import ecar.tensor.DType;
import ecar.tensor.Shape;

/** Device tensors that name memory without any: an address and a size, for host-side bookkeeping tests (no GPU). */
public final class FakeDeviceMemory {
    private static final java.util.concurrent.atomic.AtomicLong NEXT = new java.util.concurrent.atomic.AtomicLong(0x7e0000000000L);

    private FakeDeviceMemory() {}

    /** A fresh 256-byte aligned range of {@code shape}'s elements of {@code dtype}, never dereferenced. */
    public static CudaTensor tensor(Shape shape, DType dtype, String label) {
        long bytes = Math.max(1, shape.numel() * dtype.bytes);
        long address = NEXT.getAndAdd((bytes + 255) / 256 * 256 + 256);
        return new CudaTensor(shape, dtype, new DeviceBuffer(new RawPointer(), address, 0, bytes, label, false), label);
    }
}
