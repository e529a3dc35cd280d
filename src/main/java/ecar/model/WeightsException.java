package ecar.model;

/** Weights that do not fit a model: lists every missing, mis-shaped and unexpected tensor. */
public final class WeightsException extends RuntimeException {
    public WeightsException(String message) {
        super(message);
    }
}
