package ecar.cuda;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.lang.invoke.MethodHandle;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The FFM binding of cuTensorMapEncodeTiled: bound lazily (in a holder class, on the first encode), and on a machine
 * without libcuda.so.1 every encode fails the same way with a message naming the library and the function (never an
 * ExceptionInInitializerError followed by NoClassDefFoundError, the way JCuda fails). With a GPU: a real encode.
 */
class TensorMapDriverTest {

    @Test
    void theOuterClassHoldsNoBindingSoLoadingItLoadsNoLibrary() {
        for (Field f : TensorMapDriver.class.getDeclaredFields()) {
            if (!Modifier.isStatic(f.getModifiers())) continue;
            assertFalse(MethodHandle.class.isAssignableFrom(f.getType()), f + ": a handle bound at class initialisation would load libcuda.so.1 there");
        }
        // the signature matches the C prototype: CUresult f(CUtensorMap*, enum, cuuint32_t, void*, 4 pointers, 4 enums)
        assertEquals(12, TensorMapDriver.SIGNATURE.argumentLayouts().size());
        assertEquals(java.lang.foreign.ValueLayout.JAVA_INT, TensorMapDriver.SIGNATURE.returnLayout().orElseThrow());
        assertEquals("libcuda.so.1", TensorMapDriver.LIBRARY);
    }

    @Test
    void withoutTheDriverEncodingFailsWithTheReasonEveryTime() {
        Assumptions.assumeFalse(TensorMapDriver.available(), "libcuda.so.1 is present here: the no-driver message cannot be seen");
        TensorMapSpec spec = TensorMapSpecTest.ditX();
        for (int i = 0; i < 2; i++) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> TensorMapEncoder.DRIVER.encode(spec));
            assertTrue(e.getMessage().contains("cuTensorMapEncodeTiled is not available") && e.getMessage().contains("libcuda.so.1"), e.getMessage());
        }
        assertNotNull(TensorMapDriver.unavailableReason());
    }

    @Test
    void withTheDriverADescriptorIsEncoded() {
        Assumptions.assumeTrue(CudaProbe.available(), () -> "no GPU: " + CudaProbe.probe().reason());
        Assumptions.assumeTrue(CudaContext.get().device().major() >= 9, "tensor maps need compute capability 9.0 or higher");
        try (DeviceBuffer b = DeviceBuffer.allocate(2L * 256 * 1152, "x")) {
            TensorMapSpec spec = TensorMapSpec.rowMajor(TensorMapSpec.DataType.BFLOAT16, b.address(), 256, 1152, 128, 64, TensorMapSpec.Swizzle.B128);
            TensorMap m = TensorMapEncoder.DRIVER.encode(spec);
            assertEquals(TensorMap.BYTES, m.bytes().length);
            assertFalse(java.util.Arrays.equals(new byte[TensorMap.BYTES], m.bytes()), "the driver wrote nothing");
        }
    }
}
