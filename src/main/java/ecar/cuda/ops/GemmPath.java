package ecar.cuda.ops;

/**
 * Which kernels run the GEMMs: {@link #WGMMA} (kernels/gemm_sm90.cu, TMA and wgmma, compiled as SASS for sm_90a only,
 * so for devices of compute capability exactly 9.0) or {@link #MMA_SYNC} (kernels/gemm.cu, every GPU we build for).
 * The default takes the fastest the device has; {@code -Decar.gemm=mma.sync} or {@code ECAR_GEMM=mma.sync} forces the
 * old kernels for comparisons, {@code wgmma} insists on the new ones (and fails on another device). Pure logic.
 */
public enum GemmPath {
    WGMMA("wgmma"),
    MMA_SYNC("mma.sync");

    /** The system property and the environment variable that choose the path (the property wins). */
    public static final String PROPERTY = "ecar.gemm", ENV = "ECAR_GEMM";

    public final String label;

    GemmPath(String label) {
        this.label = label;
    }

    /** Whether a device of compute capability major.minor runs gemm_sm90.cu (its SASS is sm_90a: 9.0 and nothing else). */
    public static boolean wgmmaRunsOn(int major, int minor) {
        return major == 9 && minor == 0;
    }

    /**
     * The path for a device of compute capability major.minor under {@code setting} (null, blank or "auto": WGMMA where it
     * runs, else MMA_SYNC; "mma.sync"; "wgmma").
     */
    public static GemmPath choose(int major, int minor, String setting) {
        String s = setting == null ? "auto" : setting.strip().toLowerCase(java.util.Locale.ROOT);
        return switch (s) {
            case "", "auto" -> wgmmaRunsOn(major, minor) ? WGMMA : MMA_SYNC;
            case "mma.sync" -> MMA_SYNC;
            case "wgmma" -> {
                if (!wgmmaRunsOn(major, minor)) {
                    throw new IllegalArgumentException(PROPERTY + "/" + ENV + " = wgmma needs a device of compute capability 9.0 (its kernels are "
                            + "sm_90a code); this one is " + major + "." + minor + ": use auto or mma.sync");
                }
                yield WGMMA;
            }
            default -> throw new IllegalArgumentException(PROPERTY + "/" + ENV + " = '" + setting + "': expected auto, wgmma or mma.sync");
        };
    }

    /** The setting in force: -Decar.gemm, else $ECAR_GEMM, else null (auto). */
    public static String setting() {
        String p = System.getProperty(PROPERTY);
        return p != null ? p : System.getenv(ENV);
    }

    /** The path named by a label ("wgmma" or "mma.sync"). */
    public static GemmPath of(String label) {
        for (GemmPath p : values()) if (p.label.equals(label)) return p;
        throw new IllegalArgumentException("GEMM path '" + label + "': expected wgmma or mma.sync");
    }
}
