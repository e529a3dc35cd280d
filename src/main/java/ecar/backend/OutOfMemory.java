package ecar.backend;

/**
 * A backend with a fixed memory budget (the CUDA arena) cannot hold what an op asked for. The message says what was
 * asked, what was free and what to do; callers that know the batch add which batch would fit (ecar.sample.Pipeline).
 */
public final class OutOfMemory extends RuntimeException {
    private final long capacity;

    /** @param capacity the budget in bytes the work ran out of */
    public OutOfMemory(String message, long capacity, Throwable cause) {
        super(message, cause);
        this.capacity = capacity;
    }

    public long capacity() {
        return capacity;
    }
}
