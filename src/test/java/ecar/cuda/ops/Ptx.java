package ecar.cuda.ops;

import ecar.cuda.ArgType;
import ecar.cuda.KernelSignature;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The kernels' real parameter lists, from nvcc -ptx (compute_90), for the ABI tests: a Java signature must match its
 * entry point in count and width (a pointer or 64-bit integer is .u64, an int .u32, a float .f32, a tmap a 64-byte
 * aligned .b8[128]). Needs nvcc, no GPU.
 */
final class Ptx {
    private Ptx() {}

    private static final Pattern ENTRY = Pattern.compile("\\.entry\\s+(\\w+)\\(([^)]*)\\)");
    /** A parameter's type: ".param .u64 name", or a by-value struct ".param .align 64 .b8 name[128]" (written "align64 b8[128]"). */
    private static final Pattern PARAM = Pattern.compile("\\.param\\s+(?:\\.align\\s+(\\d+)\\s+)?\\.(\\w+)\\s+\\w+(\\[\\d+\\])?");

    static final String NO_NVCC = "nvcc is not on the PATH: the kernels' PTX cannot be generated here";

    static boolean nvccAvailable() {
        try {
            Process p = new ProcessBuilder("nvcc", "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    /** Entry point name to its .param types, for kernels/FAMILY.cu. */
    static Map<String, List<String>> entries(String family) {
        Map<String, List<String>> m = new HashMap<>();
        Matcher e = ENTRY.matcher(source(family));
        while (e.find()) {
            List<String> types = new ArrayList<>();
            Matcher pm = PARAM.matcher(e.group(2));
            while (pm.find()) {
                types.add((pm.group(1) != null ? "align" + pm.group(1) + " " : "") + pm.group(2) + (pm.group(3) != null ? pm.group(3) : ""));
            }
            m.put(e.group(1), types);
        }
        return m;
    }

    /** Entry point name to its body (the PTX from its parameter list to the next entry), for kernels/FAMILY.cu. */
    static Map<String, String> bodies(String family) {
        String ptx = source(family);
        Map<String, String> m = new HashMap<>();
        Matcher e = ENTRY.matcher(ptx);
        List<int[]> spans = new ArrayList<>();
        List<String> names = new ArrayList<>();
        while (e.find()) {
            names.add(e.group(1));
            spans.add(new int[]{e.end(), 0});
        }
        for (int i = 0; i < spans.size(); i++) {
            int end = i + 1 < spans.size() ? ptx.lastIndexOf(".entry", spans.get(i + 1)[0]) : ptx.length();
            m.put(names.get(i), ptx.substring(spans.get(i)[0], end));
        }
        return m;
    }

    /** The PTX of kernels/FAMILY.cu: compute_90, or compute_90a for the *_sm90 families. */
    static String source(String family) {
        try {
            Path dir = Files.createTempDirectory("ptx");
            Path out = dir.resolve(family + ".ptx");
            // the Hopper families as sm_90a (wgmma, setmaxnreg): their compute_90 copy is only a trap
            String arch = family.endsWith("_sm90") ? "-arch=compute_90a" : "-arch=compute_90";
            Process p = new ProcessBuilder("nvcc", "-ptx", arch, "-std=c++17", "-I", "kernels", "-o", out.toString(),
                    "kernels/" + family + ".cu").redirectErrorStream(true).start();
            String log = new String(p.getInputStream().readAllBytes());
            assertTrue(p.waitFor(300, TimeUnit.SECONDS) && p.exitValue() == 0, "nvcc -ptx kernels/" + family + ".cu failed:\n" + log);
            String ptx = Files.readString(out);
            Files.deleteIfExists(out);
            Files.deleteIfExists(dir);
            return ptx;
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException("generating PTX for " + family + ": " + e, e);
        }
    }

    /** Asserts that sig matches the entry point it names among the family's PTX entries. */
    static void assertMatches(KernelSignature sig, String family, Map<String, List<String>> ptx) {
        List<String> params = ptx.get(sig.name());
        assertNotNull(params, sig.name() + " is not an entry point of kernels/" + family + ".cu (entries: " + ptx.keySet() + ")");
        assertEquals(params.size(), sig.params().size(), sig.name() + ": the PTX has " + params + ", Java declares " + sig);
        for (int i = 0; i < params.size(); i++) {
            assertEquals(width(sig.params().get(i).type()), params.get(i), sig.name() + " parameter " + i + " (" + sig.params().get(i).name() + ")");
        }
    }

    private static String width(ArgType t) {
        return switch (t) {
            case PTR, PTR_OR_NULL, I64, U64 -> "u64";
            case I32, U32 -> "u32";
            case F32 -> "f32";
            case TMAP -> "align64 b8[128]";
        };
    }
}
