package ecar.cuda;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The FFM launch of programmatic dependent launch (cuLaunchKernelEx) without a GPU: the structs it writes, byte by byte,
 * against the offsets and the enum value of cuda.h (compiled with the C compiler where one and cuda.h are at hand),
 * the kernel parameter array, the switch, and the reading of JCuda's native handles.
 */
class LaunchDriverTest {

    @Test
    void theOuterClassHoldsNoBindingSoLoadingItLoadsNoLibrary() {
        for (Field f : LaunchDriver.class.getDeclaredFields()) {
            if (!Modifier.isStatic(f.getModifiers())) continue;
            assertFalse(MethodHandle.class.isAssignableFrom(f.getType()), f + ": a handle bound at class initialisation would load libcuda.so.1 there");
        }
        assertEquals(4, LaunchDriver.SIGNATURE.argumentLayouts().size());
        assertEquals(JAVA_INT, LaunchDriver.SIGNATURE.returnLayout().orElseThrow());
        // cuOccupancyMaxActiveClusters(int* numClusters, CUfunction func, const CUlaunchConfig* config)
        assertEquals(3, LaunchDriver.OCCUPANCY_SIGNATURE.argumentLayouts().size());
        assertEquals(JAVA_INT, LaunchDriver.OCCUPANCY_SIGNATURE.returnLayout().orElseThrow());
    }

    @Test
    void theConfigHoldsTheShapeTheStreamAndTheAttributes() {
        LaunchShape shape = new LaunchShape(132, 3, 2, 384, 1, 1, 197_696);
        ByteBuffer b = ByteBuffer.wrap(configBytes(shape, 0x1122334455667788L, 0x0a0b0c0d0e0fL, 1)).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(LaunchDriver.CONFIG_BYTES, b.capacity());
        int[] want = {132, 3, 2, 384, 1, 1, 197_696};
        for (int i = 0; i < want.length; i++) assertEquals(want[i], b.getInt(4 * i), "field " + i);
        assertEquals(LaunchDriver.CONFIG_SHARED, 4 * 6);
        assertEquals(0, b.getInt(28), "padding before hStream");
        assertEquals(0x1122334455667788L, b.getLong(LaunchDriver.CONFIG_STREAM));
        assertEquals(0x0a0b0c0d0e0fL, b.getLong(LaunchDriver.CONFIG_ATTRS));
        assertEquals(1, b.getInt(LaunchDriver.CONFIG_NUM_ATTRS));
        assertEquals(0, b.getInt(52), "tail padding");
    }

    @Test
    void theAttributeAllowsProgrammaticStreamSerialization() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(LaunchDriver.ATTRIBUTE_BYTES, 8);
            attr.fill((byte) 0x55);
            LaunchDriver.writeProgrammatic(attr);
            assertEquals(LaunchDriver.PROGRAMMATIC_STREAM_SERIALIZATION, attr.get(JAVA_INT, 0));
            assertEquals(0, attr.get(JAVA_INT, 4), "the id's padding");
            assertEquals(1, attr.get(JAVA_INT, LaunchDriver.ATTRIBUTE_VALUE));
            for (long i = LaunchDriver.ATTRIBUTE_VALUE + 4; i < LaunchDriver.ATTRIBUTE_BYTES; i++) assertEquals(0, attr.get(java.lang.foreign.ValueLayout.JAVA_BYTE, i), "byte " + i);
        }
    }

    @Test
    void eachParameterSlotHoldsItsValueAtItsWidth() {
        KernelSignature sig = KernelSignature.parse("k(tmap map, ptr y, ptr? bias, i32 m, u32 seed, i64 n, f32 scale)");
        byte[] mapBytes = new byte[TensorMap.BYTES];
        for (int i = 0; i < mapBytes.length; i++) mapBytes[i] = (byte) (i * 7 + 1);
        TensorMap map = new TensorMap(TensorMapSpecTest.ditX(), mapBytes);
        DeviceAddress y = new DeviceAddress() {
            public long address() { return 0x7f0012345600L; }
            public long bytes() { return 256; }
            public String label() { return "y"; }
        };
        Object[] args = {map, y, null, -5, 0xfffffffe, 1L << 40, 0.5f};
        long[] bits = sig.encode(args);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment array = LaunchDriver.params(arena, sig.types(), bits, args);
            MemorySegment[] slot = new MemorySegment[args.length];
            for (int i = 0; i < args.length; i++) slot[i] = array.getAtIndex(ADDRESS, i).reinterpret(TensorMap.BYTES);
            assertEquals(0, slot[0].address() % TensorMap.ALIGNMENT, "a tensor map is passed 64-byte aligned");
            assertArrayEquals(mapBytes, slot[0].asSlice(0, TensorMap.BYTES).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
            assertEquals(0x7f0012345600L, slot[1].get(JAVA_LONG, 0));
            assertEquals(0L, slot[2].get(JAVA_LONG, 0), "a null pointer");
            assertEquals(-5, slot[3].get(JAVA_INT, 0));
            assertEquals(0xfffffffe, slot[4].get(JAVA_INT, 0));
            assertEquals(1L << 40, slot[5].get(JAVA_LONG, 0));
            assertEquals(0.5f, Float.intBitsToFloat(slot[6].get(JAVA_INT, 0)));
        }
    }

    @Test
    void theSwitchIsOffByDefaultAndNeedsHopper() {
        String before = System.getProperty("ecar.pdl");
        try {
            System.clearProperty("ecar.pdl");
            Assumptions.assumeTrue(System.getenv("ECAR_PDL") == null, "ECAR_PDL is set in this environment");
            assertFalse(LaunchDriver.programmatic(9));
            System.setProperty("ecar.pdl", "on");
            assertTrue(LaunchDriver.programmatic(9));
            assertTrue(LaunchDriver.programmatic(10));
            assertFalse(LaunchDriver.programmatic(8), "compute capability 8.x has no programmatic dependent launch");
            System.setProperty("ecar.pdl", "yes");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LaunchDriver.programmatic(9));
            assertTrue(e.getMessage().contains("ECAR_PDL") && e.getMessage().contains("off") && e.getMessage().contains("on"), e.getMessage());
        } finally {
            if (before == null) System.clearProperty("ecar.pdl");
            else System.setProperty("ecar.pdl", before);
        }
    }

    @Test
    void jcudasNativeHandlesCanBeRead() {
        assertEquals(0L, LibCuda.handle(new jcuda.driver.CUfunction()), "a CUfunction no driver call has filled");
        assertEquals(0L, LibCuda.handle(new jcuda.driver.CUstream()));
    }

    /**
     * The constants against cuda.h itself: a C program prints sizeof, offsetof and the enum value, and asserts at compile
     * time that cuLaunchKernelEx and cuOccupancyMaxActiveClusters have the prototypes the FFM descriptors assume (4 and 3
     * pointer arguments, a CUresult). Nothing is linked against libcuda.
     */
    @Test
    void theLayoutIsCudaHs() throws IOException, InterruptedException {
        Path include = cudaInclude();
        Assumptions.assumeTrue(include != null, "no cuda.h next to nvcc or under /usr/local/cuda*/include: the layout cannot be compared here");
        Assumptions.assumeTrue(works("cc", "--version"), "no C compiler (cc) to compile against cuda.h");
        Path dir = Files.createTempDirectory("launchcfg");
        Path c = dir.resolve("layout.c"), exe = dir.resolve("layout");
        Files.writeString(c, """
                #include <stdio.h>
                #include <stddef.h>
                #include <cuda.h>
                /* the prototypes the FFM descriptors are written against (a mismatch fails to compile; nothing is linked) */
                _Static_assert(__builtin_types_compatible_p(__typeof__(&cuLaunchKernelEx),
                               CUresult (*)(const CUlaunchConfig*, CUfunction, void**, void**)), "cuLaunchKernelEx's prototype changed");
                _Static_assert(__builtin_types_compatible_p(__typeof__(&cuOccupancyMaxActiveClusters),
                               CUresult (*)(int*, CUfunction, const CUlaunchConfig*)), "cuOccupancyMaxActiveClusters's prototype changed");
                int main(void) {
                    printf("%d %zu %zu %zu %zu %zu %zu %zu\\n", (int)CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION,
                           sizeof(CUlaunchConfig), offsetof(CUlaunchConfig, sharedMemBytes), offsetof(CUlaunchConfig, hStream),
                           offsetof(CUlaunchConfig, attrs), offsetof(CUlaunchConfig, numAttrs),
                           sizeof(CUlaunchAttribute), offsetof(CUlaunchAttribute, value));
                    return 0;
                }
                """);
        Process cc = new ProcessBuilder("cc", "-I", include.toString(), "-o", exe.toString(), c.toString()).redirectErrorStream(true).start();
        String log = new String(cc.getInputStream().readAllBytes());
        assertTrue(cc.waitFor(60, TimeUnit.SECONDS) && cc.exitValue() == 0, "compiling against " + include + "/cuda.h failed:\n" + log);
        Process run = new ProcessBuilder(exe.toString()).redirectErrorStream(true).start();
        String out = new String(run.getInputStream().readAllBytes()).strip();
        assertTrue(run.waitFor(30, TimeUnit.SECONDS) && run.exitValue() == 0, out);
        String want = List.of(LaunchDriver.PROGRAMMATIC_STREAM_SERIALIZATION, LaunchDriver.CONFIG_BYTES, LaunchDriver.CONFIG_SHARED, LaunchDriver.CONFIG_STREAM,
                LaunchDriver.CONFIG_ATTRS, LaunchDriver.CONFIG_NUM_ATTRS, LaunchDriver.ATTRIBUTE_BYTES, LaunchDriver.ATTRIBUTE_VALUE)
                .stream().map(String::valueOf).reduce((a, b) -> a + " " + b).orElseThrow();
        assertEquals(want, out, "id, sizeof(CUlaunchConfig), offsets of sharedMemBytes, hStream, attrs, numAttrs, sizeof(CUlaunchAttribute), offset of value in "
                + include + "/cuda.h");
        for (Path p : new Path[]{c, exe, dir}) Files.deleteIfExists(p);
    }

    private static Path cudaInclude() throws IOException, InterruptedException {
        if (works("nvcc", "--version")) {
            Process p = new ProcessBuilder("sh", "-c", "readlink -f \"$(command -v nvcc)\"").start();
            String nvcc = new String(p.getInputStream().readAllBytes()).strip();
            p.waitFor(10, TimeUnit.SECONDS);
            Path inc = nvcc.isEmpty() ? null : Path.of(nvcc).getParent().resolveSibling("include");
            if (inc != null && Files.exists(inc.resolve("cuda.h"))) return inc;
        }
        try (var dirs = Files.list(Path.of("/usr/local"))) {
            return dirs.filter(d -> d.getFileName().toString().startsWith("cuda")).map(d -> d.resolve("include"))
                    .filter(d -> Files.exists(d.resolve("cuda.h"))).sorted().reduce((a, b) -> b).orElse(null);
        }
    }

    private static boolean works(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    /** The bytes LaunchDriver.writeConfig writes. */
    private static byte[] configBytes(LaunchShape shape, long stream, long attrsAddress, int numAttrs) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment config = arena.allocate(LaunchDriver.CONFIG_BYTES, 8);
            LaunchDriver.writeConfig(config, shape, stream, MemorySegment.ofAddress(attrsAddress), numAttrs);
            return config.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        }
    }
}
