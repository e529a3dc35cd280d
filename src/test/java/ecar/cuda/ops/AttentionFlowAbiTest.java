package ecar.cuda.ops;

import ecar.cuda.ArgType;
import ecar.cuda.KernelSignature;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

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
 * Every signature Attention and Flow launch with, against the PTX parameter list of the kernel it names (nvcc -ptx
 * for compute_90): same count, and each parameter the width the Java side passes (pointer and 64-bit integer .u64,
 * int .u32, float .f32). A mismatch would otherwise show only on a GPU, as garbage. Needs nvcc, not a GPU.
 */
class AttentionFlowAbiTest {
    private static final Pattern ENTRY = Pattern.compile("\\.entry\\s+(\\w+)\\(([^)]*)\\)");
    private static final Pattern PARAM = Pattern.compile("\\.param\\s+\\.(\\w+)");

    @Test
    void attentionSignaturesMatchThePtx() throws Exception {
        check(Attention.FAMILY, Attention.signatures());
    }

    @Test
    void flowSignaturesMatchThePtx() throws Exception {
        check(Flow.FAMILY, Flow.signatures());
    }

    private static void check(String family, List<String> signatures) throws Exception {
        Assumptions.assumeTrue(onPath("nvcc"), "nvcc is not on the PATH: the kernels' PTX cannot be generated here");
        Map<String, List<String>> ptx = entries(family);
        for (String s : signatures) {
            KernelSignature sig = KernelSignature.parse(s);
            List<String> params = ptx.get(sig.name());
            assertNotNull(params, sig.name() + " is not an entry point of kernels/" + family + ".cu (entries: " + ptx.keySet() + ")");
            assertEquals(params.size(), sig.params().size(), sig.name() + ": the PTX has " + params + ", Java declares " + sig);
            for (int i = 0; i < params.size(); i++) {
                assertEquals(width(sig.params().get(i).type()), params.get(i), sig.name() + " parameter " + i + " (" + sig.params().get(i).name() + ")");
            }
        }
    }

    private static String width(ArgType t) {
        return switch (t) {
            case PTR, PTR_OR_NULL, I64, U64 -> "u64";
            case I32, U32 -> "u32";
            case F32 -> "f32";
        };
    }

    private static Map<String, List<String>> entries(String family) throws Exception {
        Path dir = Files.createTempDirectory("ptx");
        Path out = dir.resolve(family + ".ptx");
        Process p = new ProcessBuilder("nvcc", "-ptx", "-arch=compute_90", "-std=c++17", "-I", "kernels", "-o", out.toString(), "kernels/" + family + ".cu")
                .redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(300, TimeUnit.SECONDS) && p.exitValue() == 0, "nvcc -ptx kernels/" + family + ".cu failed:\n" + log);
        Map<String, List<String>> m = new HashMap<>();
        Matcher e = ENTRY.matcher(Files.readString(out));
        while (e.find()) {
            List<String> types = new ArrayList<>();
            Matcher pm = PARAM.matcher(e.group(2));
            while (pm.find()) types.add(pm.group(1));
            m.put(e.group(1), types);
        }
        Files.deleteIfExists(out);
        Files.deleteIfExists(dir);
        return m;
    }

    private static boolean onPath(String tool) {
        String path = System.getenv("PATH");
        if (path == null) return false;
        for (String d : path.split(java.io.File.pathSeparator)) if (Files.isExecutable(Path.of(d, tool))) return true;
        return false;
    }
}
