package ecar.cuda;

/**
 * A two-way setting of the CUDA backend, read from a system property or, without one, an environment variable (the
 * property wins): its default word (or nothing) leaves it off, its other word turns it on, anything else is refused
 * with a message naming the setting and both words. Read on every call, so that a test or a benchmark can set it.
 */
public record Switch(String property, String env, String byDefault, String other) {

    /** Whether the other word is in force. */
    public boolean flipped() {
        String p = System.getProperty(property), v = p != null ? p : System.getenv(env);
        if (v == null || v.isBlank() || v.trim().equals(byDefault)) return false;
        if (v.trim().equals(other)) return true;
        throw new IllegalArgumentException(property + "/" + env + " = '" + v + "': expected " + byDefault + " (the default) or " + other);
    }
}
