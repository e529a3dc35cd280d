package ecar.cuda.ops;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The machine-code size of each kernel in a fatbin, read from the ELF cubins it holds (nvcc stores them uncompressed
 * here): the size of each {@code .text.NAME} section. No CUDA tool is needed, so a test can watch code size where
 * cuobjdump and nvdisasm are missing. SASS instructions are 16 bytes on sm_70 and later.
 */
final class CubinSections {
    private CubinSections() {}

    /** For each cubin in the fatbin, its kernels' machine code in bytes, by kernel name. */
    static List<Map<String, Long>> textSizes(byte[] fatbin) {
        List<Map<String, Long>> cubins = new ArrayList<>();
        for (int at = indexOfElf(fatbin, 0); at >= 0; at = indexOfElf(fatbin, at + 4)) {
            Map<String, Long> sizes = textSizes(fatbin, at);
            if (sizes != null) cubins.add(sizes);
        }
        return cubins;
    }

    /** The largest size each kernel has in any cubin (the sm_90a copy of a Hopper kernel: the others only trap). */
    static Map<String, Long> largestTextSizes(byte[] fatbin) {
        Map<String, Long> largest = new LinkedHashMap<>();
        for (Map<String, Long> cubin : textSizes(fatbin)) cubin.forEach((k, v) -> largest.merge(k, v, Math::max));
        return largest;
    }

    private static int indexOfElf(byte[] b, int from) {
        for (int i = from; i + 4 <= b.length; i++) {
            if (b[i] == 0x7f && b[i + 1] == 'E' && b[i + 2] == 'L' && b[i + 3] == 'F') return i;
        }
        return -1;
    }

    /** The .text.* section sizes of the 64-bit little-endian ELF at {@code base}, or null if it is not one. */
    private static Map<String, Long> textSizes(byte[] b, int base) {
        if (base + 64 > b.length || b[base + 4] != 2 || b[base + 5] != 1) return null;
        ByteBuffer e = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        long shoff = e.getLong(base + 0x28);
        int shentsize = Short.toUnsignedInt(e.getShort(base + 0x3A)), shnum = Short.toUnsignedInt(e.getShort(base + 0x3C));
        int shstrndx = Short.toUnsignedInt(e.getShort(base + 0x3E));
        if (shentsize != 64 || shstrndx >= shnum || base + shoff + (long) shnum * 64 > b.length) return null;
        long strtab = base + e.getLong((int) (base + shoff + (long) shstrndx * 64 + 24));
        Map<String, Long> sizes = new LinkedHashMap<>();
        for (int i = 0; i < shnum; i++) {
            int h = (int) (base + shoff + (long) i * 64);
            String name = cString(b, (int) (strtab + Integer.toUnsignedLong(e.getInt(h))));
            if (name.startsWith(".text.")) sizes.put(name.substring(".text.".length()), e.getLong(h + 32));
        }
        return sizes;
    }

    private static String cString(byte[] b, int at) {
        int end = at;
        while (end < b.length && b[end] != 0) end++;
        return new String(b, at, end - at, StandardCharsets.US_ASCII);
    }
}
