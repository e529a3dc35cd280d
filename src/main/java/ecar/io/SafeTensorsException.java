package ecar.io;

/** A safetensors file that cannot be read: the message names the file, the tensor and what is wrong. */
public final class SafeTensorsException extends RuntimeException {
    public SafeTensorsException(String message) {
        super(message);
    }

    public SafeTensorsException(String message, Throwable cause) {
        super(message, cause);
    }
}
