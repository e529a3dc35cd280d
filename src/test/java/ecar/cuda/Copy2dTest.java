package ecar.cuda;

import jcuda.driver.CUDA_MEMCPY2D;
import jcuda.driver.CUdeviceptr;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The 2D-copy descriptor against the driver's documented rules, without a GPU. */
class Copy2dTest {
    private static final long ARENA = 0x7f00_0000_0000L;

    @Test
    void offsetsGoIntoThePointersNeverIntoX() {
        // a chunk of an adaLN modulation at arena offset 1 MiB: 16 rows of 384 floats out of 2304 per row
        Copy2d c = new Copy2d(ARENA + (1 << 20) + 4 * 384 * 3, 4 * 2304, ARENA + (2 << 20), 4 * 384, 4 * 384, 16);
        CUDA_MEMCPY2D d = c.descriptor(new CUdeviceptr(), new CUdeviceptr());
        assertEquals(0, d.srcXInBytes);
        assertEquals(0, d.dstXInBytes);
        assertEquals(0, d.srcY);
        assertEquals(0, d.dstY);
        assertEquals(4 * 2304, d.srcPitch);
        assertEquals(4 * 384, d.dstPitch);
        assertEquals(4 * 384, d.WidthInBytes);
        assertEquals(16, d.Height);
        assertTrue(Copy2d.driverAccepts(d));
    }

    @Test
    void theOldLayoutWithTheArenaOffsetInXBreaksTheDriversRule() {
        // what DeviceBuffer did before: base pointer of the arena, slice offset in XInBytes
        CUDA_MEMCPY2D old = new Copy2d(ARENA + 4096, 1536, ARENA + 65536, 1536, 1536, 8).descriptor(new CUdeviceptr(), new CUdeviceptr());
        old.srcXInBytes = 4096;
        old.dstXInBytes = 65536;
        assertFalse(Copy2d.driverAccepts(old), "XInBytes + WidthInBytes > pitch must be refused");
    }

    @Test
    void pitchesMustHoldARowAndStayUnderTheDeviceMaximum() {
        IllegalArgumentException narrow = assertThrows(IllegalArgumentException.class, () -> new Copy2d(ARENA, 100, ARENA + 8192, 256, 128, 4));
        assertTrue(narrow.getMessage().contains("at least the width"), narrow.getMessage());
        IllegalArgumentException wide = assertThrows(IllegalArgumentException.class,
                () -> new Copy2d(ARENA, Copy2d.MAX_PITCH + 1, ARENA + (1L << 40), 256, 128, 2));
        assertTrue(wide.getMessage().contains("CU_DEVICE_ATTRIBUTE_MAX_PITCH"), wide.getMessage());
        assertTrue(Copy2d.driverAccepts(new Copy2d(ARENA, Copy2d.MAX_PITCH, ARENA + (1L << 40), 256, 128, 2)
                .descriptor(new CUdeviceptr(), new CUdeviceptr())));
    }

    @Test
    void emptyNullAndOverlappingCopiesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new Copy2d(ARENA, 256, ARENA + 4096, 256, 0, 4));
        assertThrows(IllegalArgumentException.class, () -> new Copy2d(ARENA, 256, ARENA + 4096, 256, 128, 0));
        assertThrows(IllegalArgumentException.class, () -> new Copy2d(0, 256, ARENA, 256, 128, 4));
        IllegalArgumentException overlap = assertThrows(IllegalArgumentException.class, () -> new Copy2d(ARENA, 256, ARENA + 512, 256, 128, 4));
        assertTrue(overlap.getMessage().contains("overlap"), overlap.getMessage());
        // interleaved rows that never touch are fine only when the spans do not overlap at all: the driver's rule is about areas
        new Copy2d(ARENA, 256, ARENA + 4 * 256, 256, 128, 4);
    }

    @Test
    void aBufferPlansItsCopyFromTheSliceAddresses() {
        DeviceBuffer src = new DeviceBuffer(new RawPointer(), ARENA, 4096, 8 * 1536, "src", false);
        DeviceBuffer dst = new DeviceBuffer(new RawPointer(), ARENA, 1 << 20, 8 * 512, "dst", false);
        Copy2d c = dst.plan2d(src, 1024, 1536, 0, 512, 512, 8);
        assertEquals(ARENA + 4096 + 1024, c.src());
        assertEquals(ARENA + (1 << 20), c.dst());
        assertThrows(IllegalArgumentException.class, () -> dst.plan2d(src, 1025 + 512, 1536, 0, 512, 512, 8), "past the end of src");
    }
}
