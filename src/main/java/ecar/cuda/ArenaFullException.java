package ecar.cuda;

/** An arena allocation that does not fit: the message names the allocation, the capacity and what is in use. */
public final class ArenaFullException extends IllegalStateException {
    private final long needed, inUse, capacity;

    ArenaFullException(String message, long needed, long inUse, long capacity) {
        super(message);
        this.needed = needed;
        this.inUse = inUse;
        this.capacity = capacity;
    }

    public long needed() {
        return needed;
    }

    public long inUse() {
        return inUse;
    }

    public long capacity() {
        return capacity;
    }
}
