package ecar.cli;

/** A problem with what the user asked for, reported as one line without a stack trace. */
public final class UserError extends RuntimeException {
    public UserError(String message) {
        super(message);
    }

    /** The cause's stack trace shows with -Decar.trace=true. */
    public UserError(String message, Throwable cause) {
        super(message, cause);
    }
}
