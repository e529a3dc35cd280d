package ecar.cuda.backend;

import ecar.backend.OutOfMemory;
import ecar.cuda.ArenaFullException;
import ecar.cuda.ArenaLedger;
import ecar.cuda.CudaContext;
import ecar.cuda.CudaGraph;
import ecar.cuda.CudaTensor;
import ecar.cuda.DeviceArena;
import ecar.cuda.DeviceBuffer;
import ecar.cuda.Stream;
import ecar.tensor.DType;
import ecar.tensor.Shape;

import java.lang.ref.Cleaner;
import java.util.ArrayList;
import java.util.List;

/**
 * Where CudaBackend's tensors live: inside a scope (depth above 0) in one arena, reclaimed together when the scope
 * closes; outside, an allocation of their own, freed when unreachable; and the device buffers the backend keeps until
 * it closes. No CPU twin: the CPU backend's tensors are Java arrays.
 */
final class CudaMemory {
    private static final Cleaner CLEANER = Cleaner.create();

    private final Stream stream;
    private final DeviceArena arena;
    private final List<DeviceBuffer> owned = new ArrayList<>();
    private int depth;
    private boolean poison;
    private final java.util.concurrent.atomic.AtomicLong ownedLive = new java.util.concurrent.atomic.AtomicLong();
    private long peak;

    CudaMemory(Stream stream, long arenaBytes) {
        this.stream = stream;
        this.arena = new DeviceArena("cuda backend", arenaBytes);
    }

    DeviceArena arena() {
        return arena;
    }

    /** How many scopes (and captures) are open: above 0, new tensors come from the arena. */
    int depth() {
        return depth;
    }

    /** Opens a level (a scope, or a capture); returns the new depth. */
    int enter() {
        return ++depth;
    }

    void leave() {
        depth--;
    }

    /** When on, every new tensor is filled with NaN before an op writes it: a kernel that skips an element shows. */
    void poison(boolean on) {
        poison = on;
    }

    /** b, closed with the backend. */
    DeviceBuffer keep(DeviceBuffer b) {
        owned.add(b);
        held(b.bytes());
        return b;
    }

    /** A new tensor: in the arena inside a scope, else an allocation of its own. */
    CudaTensor alloc(Shape s, DType t, String label) {
        if (depth == 0) return allocOwned(s, t, label);
        CudaTensor out = new CudaTensor(s, t, scratch(bytes(s, t), label), null);
        held(0);
        return poisoned(out);
    }

    /**
     * Bytes in the arena for the current scope; an arena that cannot hold them is an {@link OutOfMemory} saying how
     * big the arena is and how to give it more.
     */
    DeviceBuffer scratch(long bytes, String label) {
        try {
            return arena.allocate(bytes, label);
        } catch (ArenaFullException e) {
            throw new OutOfMemory(e.getMessage() + " (the arena is " + mib(e.capacity()) + " MiB: ECAR_CUDA_ARENA_MB sets its size; by default "
                    + CudaBackend.ARENA_SHARE_PERCENT + "% of the device memory free when the backend opens)", e.capacity(), e);
        }
    }

    /** As {@link #scratch}, counted in the peak at once: a graph's range, used by a launch that allocates nothing else. */
    DeviceBuffer reserve(long bytes, String label) {
        DeviceBuffer b = scratch(bytes, label);
        held(0);
        return b;
    }

    private static long mib(long b) {
        return b >> 20;
    }

    /** Bytes held now: own allocations (weights, caches, kept buffers) plus the arena's top. */
    long heldBytes() {
        return ownedLive.get() + arena.ledger().used();
    }

    /** The most bytes held at once since {@link #resetPeak()}. */
    long peakBytes() {
        return Math.max(peak, heldBytes());
    }

    void resetPeak() {
        peak = heldBytes();
    }

    private void held(long more) {
        if (more != 0) ownedLive.addAndGet(more);
        peak = Math.max(peak, heldBytes());
    }

    /** A tensor with its own allocation, freed when unreachable, whatever scope is open (cached derived constants). */
    CudaTensor allocOwned(Shape s, DType t, String label) {
        DeviceBuffer b = DeviceBuffer.allocate(bytes(s, t), label);
        held(b.bytes());
        Object owner = new Object();
        java.util.concurrent.atomic.AtomicLong live = ownedLive;
        CLEANER.register(owner, () -> {
            synchronized (CudaGraph.CAPTURE_LOCK) {   // not in the middle of a step's capture on the sampling thread
                CudaContext.get().synchronize();   // no queued kernel may still use it
                b.close();
                live.addAndGet(-b.bytes());
            }
        });
        return poisoned(new CudaTensor(s, t, b, owner));
    }

    /** A tensor of zeros (in the current scope, if one is open). */
    CudaTensor zeroed(Shape s, DType t, String label) {
        CudaTensor z = alloc(s, t, label);
        z.buffer().fill32(0, stream);
        return z;
    }

    private static long bytes(Shape s, DType t) {
        return ArenaLedger.alignUp(Math.max(1, s.numel()) * t.bytes, 4);
    }

    private CudaTensor poisoned(CudaTensor out) {
        if (poison) out.buffer().fill32(out.dtype() == DType.F32 ? 0x7fc00000 : 0x7fc07fc0, stream);   // NaN in f32 / in both bf16 halves
        return out;
    }

    /** Frees the kept buffers. */
    void closeOwned() {
        for (DeviceBuffer b : owned) {
            b.close();
            ownedLive.addAndGet(-b.bytes());
        }
        owned.clear();
    }
}
