package ecar.cuda.ops;

import ecar.cuda.ArgType;
import ecar.cuda.KernelSignature;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

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
 * The Java signatures the wrappers launch with against the kernels' real parameter lists: each family is compiled
 * to PTX (compute_90) and every launched entry point's .param list must match in count and width (a pointer or
 * 64-bit integer is .u64, an int .u32, a float .f32). A mismatch would otherwise only show on a GPU as garbage.
 * Needs nvcc (skipped with the reason without it); no GPU.
 */
class KernelAbiTest {
    private static final Pattern ENTRY = Pattern.compile("\\.entry\\s+(\\w+)\\(([^)]*)\\)");
    private static final Pattern PARAM = Pattern.compile("\\.param\\s+\\.(\\w+)");

    @Test
    void launchedSignaturesMatchThePtxParameters() throws Exception {
        Assumptions.assumeTrue(nvcc(), "nvcc is not on the PATH: the kernels' PTX cannot be generated here");
        OpsValidationTest calls = new OpsValidationTest();
        calls.launchEverything();
        Map<String, Map<String, List<String>>> ptx = new HashMap<>();
        int checked = 0;
        for (RecordingLauncher.Call c : calls.rec.calls) {
            Map<String, List<String>> entries = ptx.computeIfAbsent(c.family(), KernelAbiTest::entries);
            List<String> params = entries.get(c.kernel());
            assertNotNull(params, c.kernel() + " is not an entry point of kernels/" + c.family() + ".cu's PTX");
            KernelSignature sig = c.signature();
            assertEquals(params.size(), sig.params().size(), c.kernel() + ": PTX has " + params + ", Java declares " + sig);
            for (int i = 0; i < params.size(); i++) {
                String want = expected(sig.params().get(i).type());
                assertEquals(want, params.get(i), c.kernel() + " parameter " + i + " (" + sig.params().get(i).name() + ")");
            }
            checked++;
        }
        assertTrue(checked >= 20, "only " + checked + " launches checked");
    }

    private static String expected(ArgType t) {
        return switch (t) {
            case PTR, PTR_OR_NULL, I64, U64 -> "u64";
            case I32, U32 -> "u32";
            case F32 -> "f32";
        };
    }

    private static Map<String, List<String>> entries(String family) {
        try {
            Path dir = Files.createTempDirectory("ptx");
            Path out = dir.resolve(family + ".ptx");
            Process p = new ProcessBuilder("nvcc", "-ptx", "-arch=compute_90", "-std=c++17", "-I", "kernels", "-o", out.toString(),
                    "kernels/" + family + ".cu").redirectErrorStream(true).start();
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
            return m;
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException("generating PTX for " + family + ": " + e, e);
        }
    }

    private static boolean nvcc() {
        try {
            Process p = new ProcessBuilder("nvcc", "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }
}
