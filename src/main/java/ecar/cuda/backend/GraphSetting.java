package ecar.cuda.backend;

/**
 * Whether the CUDA backend captures sampling steps and loops as graphs: on unless {@code -Decar.graphs=off} or
 * {@code ECAR_GRAPHS=off} (the property wins), so that one build can time both paths on one card.
 */
public final class GraphSetting {
    public static final String PROPERTY = "ecar.graphs", ENV = "ECAR_GRAPHS";

    private GraphSetting() {}

    /** The setting in force. */
    public static boolean on() {
        String p = System.getProperty(PROPERTY);
        return parse(p != null ? p : System.getenv(ENV));
    }

    /** null, "" and "on" are on; "off" is off; anything else is an error naming the setting. */
    static boolean parse(String value) {
        if (value == null || value.isBlank() || value.trim().equals("on")) return true;
        if (value.trim().equals("off")) return false;
        throw new IllegalArgumentException(PROPERTY + "/" + ENV + " = '" + value + "': expected on or off");
    }
}
