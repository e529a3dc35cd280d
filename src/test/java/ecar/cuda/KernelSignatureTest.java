package ecar.cuda;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KernelSignatureTest {
    record Fake(long address, long bytes, String label) implements DeviceAddress {}

    @Test
    void parsesAndPrintsBack() {
        KernelSignature s = KernelSignature.parse(" flow_euler( ptr x, ptr? v , i64 n, f32 dt, u32 stream ) ");
        assertEquals("flow_euler", s.name());
        assertEquals(5, s.params().size());
        assertEquals(ArgType.PTR_OR_NULL, s.params().get(1).type());
        assertEquals("flow_euler(ptr x, ptr? v, i64 n, f32 dt, u32 stream)", s.toString());
        assertEquals(0, KernelSignature.parse("k()").params().size());
    }

    @Test
    void rejectsMalformedSignatures() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> KernelSignature.parse("k(float x)")).getMessage().contains("'float x'"));
        assertThrows(IllegalArgumentException.class, () -> KernelSignature.parse("k(ptr)"));
        assertThrows(IllegalArgumentException.class, () -> KernelSignature.parse("1k(ptr x)"));
        assertThrows(IllegalArgumentException.class, () -> KernelSignature.parse("k ptr x"));
    }

    @Test
    void encodesEachTypeToItsBits() {
        KernelSignature s = KernelSignature.parse("k(ptr a, ptr? b, i32 c, u32 d, i64 e, u64 f, f32 g)");
        long[] bits = s.encode(new Fake(0x7f0000001000L, 64, "a"), null, -2, -1, 5L, -1L, 1.5f);
        assertArrayEquals(new long[]{0x7f0000001000L, 0L, -2L, 0xffffffffL, 5L, -1L, Float.floatToRawIntBits(1.5f)}, bits);
    }

    @Test
    void namesTheKernelParameterAndExpectedTypeOnMismatch() {
        KernelSignature s = KernelSignature.parse("flow_euler(ptr x, ptr v, i64 n, f32 dt)");
        Fake x = new Fake(256, 16, "x");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.encode(x, x, 5, 0.1f));
        assertTrue(e.getMessage().contains("flow_euler") && e.getMessage().contains("argument 2 (n)") && e.getMessage().contains("a long"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> s.encode(x, x, 5L, 0.1));
        assertTrue(e.getMessage().contains("argument 3 (dt)") && e.getMessage().contains("Double"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> s.encode(x, null, 5L, 0.1f));
        assertTrue(e.getMessage().contains("argument 1 (v) is null"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> s.encode(x, x, 5L));
        assertTrue(e.getMessage().contains("got 3 arguments, expected 4"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> s.encode(x, new Fake(0, 16, "gone"), 5L, 0.1f));
        assertTrue(e.getMessage().contains("released buffer 'gone'"), e.getMessage());
    }

    @Test
    void aTensorMapParameterTakesATensorMapAndNothingElse() {
        KernelSignature s = KernelSignature.parse("gemm_sm90(tmap tmX, ptr y, i32 M)");
        assertEquals(ArgType.TMAP, s.params().get(0).type());
        assertEquals(128, ArgType.TMAP.bytes);
        TensorMapSpec spec = TensorMapSpec.rowMajor(TensorMapSpec.DataType.BFLOAT16, 0x7f0000000000L, 256, 1152, 128, 64, TensorMapSpec.Swizzle.B128);
        TensorMap map = new TensorMap(spec, new byte[TensorMap.BYTES]);
        Fake y = new Fake(0x7f0000100000L, 64, "y");
        assertArrayEquals(new long[]{0L, 0x7f0000100000L, 3L}, s.encode(map, y, 3));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.encode(y, y, 3));
        assertTrue(e.getMessage().contains("argument 0 (tmX)") && e.getMessage().contains("a TensorMap") && e.getMessage().contains("tmap"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> s.encode(null, y, 3));
        assertTrue(e.getMessage().contains("argument 0 (tmX) is null"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new TensorMap(spec, new byte[64]));
    }
}
