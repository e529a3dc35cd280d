package ecar.cli;

import ecar.cuda.KernelModule;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

/** Which kernel fatbins the build packaged (kernels/NAME.fatbin on the class path). */
final class KernelsInfo {
    private KernelsInfo() {}

    static final List<String> FAMILIES = ecar.cuda.KernelModule.FAMILIES;

    static List<String> packaged() {
        List<String> found = new ArrayList<>();
        for (String f : FAMILIES) {
            try (InputStream in = KernelsInfo.class.getResourceAsStream("/kernels/" + f + ".fatbin")) {
                if (in != null) found.add(f);
            } catch (IOException ignored) {
                // unreadable resource: reported as absent
            }
        }
        return found;
    }

    static boolean present() {
        return !packaged().isEmpty();
    }

    /** Every family the CUDA backend launches is packaged (a partial build cannot run it). */
    static boolean complete() {
        return packaged().containsAll(FAMILIES);
    }

    /** The families the CUDA backend needs that the build did not package. */
    static List<String> missing() {
        List<String> m = new ArrayList<>(FAMILIES);
        m.removeAll(packaged());
        return m;
    }

    /** On a GPU: loads every packaged family (cuModuleLoadData) and says which load, and why the others do not. */
    static String loadReport() {
        List<String> parts = new ArrayList<>();
        for (String f : packaged()) {
            try {
                ecar.cuda.KernelModule.get(f);
                parts.add(f + " loaded");
            } catch (RuntimeException | LinkageError e) {
                parts.add(f + " FAILED: " + e.getMessage());
            }
        }
        return parts.isEmpty() ? "nothing to load" : String.join("; ", parts);
    }

    static String describe() {
        List<String> p = packaged();
        if (p.isEmpty()) return "none packaged (the build found no nvcc): the GPU backend is unavailable";
        return String.join(", ", p) + " (fatbins for sm_80 (also run by sm_86 and sm_89) and sm_90 + compute_90 PTX; sm_90a for the *_sm90 families)";
    }
}
