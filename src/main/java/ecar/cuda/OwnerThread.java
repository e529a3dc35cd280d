package ecar.cuda;

import java.util.concurrent.atomic.AtomicReference;

/**
 * Confines an object to one thread: the first thread to call {@link #check()} owns it for the object's life, and a call
 * from any other thread fails, naming both. CudaBackend's scopes are one stack (arena marks reset in LIFO order, one
 * depth counter) and its work one stream; two threads would reset each other's allocations and interleave their
 * kernels, silently. Refusing is preferred to a lock: a lock around each call would still interleave two threads' scopes,
 * and one held across a whole generation belongs to the caller (Pipeline's methods are synchronized for that).
 */
public final class OwnerThread {
    private final String what;
    private final AtomicReference<Thread> owner = new AtomicReference<>();

    /** {@code what} names the guarded object in the error ("the CUDA backend"). */
    public OwnerThread(String what) {
        this.what = what;
    }

    /** Returns when the calling thread owns the object (taking it if nobody does yet); throws IllegalStateException otherwise. */
    public void check() {
        Thread me = Thread.currentThread();
        Thread o = owner.get();
        if (o == me) return;
        if (o == null && owner.compareAndSet(null, me)) return;
        o = owner.get();   // another thread took it between the read and the swap
        if (o == me) return;
        throw new IllegalStateException(what + " belongs to thread '" + o.getName() + "', its first user, and was called from thread '" + me.getName()
                + "': its scopes and memory arena are one stack and its work one stream, so it cannot be shared between threads; open one per thread");
    }
}
