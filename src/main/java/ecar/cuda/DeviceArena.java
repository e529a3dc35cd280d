package ecar.cuda;

import jcuda.driver.JCudaDriver;

/**
 * One cuMemAlloc carved by a bump allocator ({@link ArenaLedger}): allocation is an add, freeing is a reset to a
 * mark, and nothing is allocated while the arena is locked (a sampling loop). close() frees the memory and fails,
 * naming them, when allocations are still live.
 */
public final class DeviceArena implements AutoCloseable {
    /** 256 bytes: what cuMemAlloc guarantees, enough for any vector load and for cp.async. */
    public static final int ALIGNMENT = 256;

    private final ArenaLedger ledger;
    private final RawPointer base;
    private final long baseAddress;
    private boolean closed;

    public DeviceArena(String name, long capacity) {
        this.ledger = new ArenaLedger(name, capacity, ALIGNMENT);
        CudaContext ctx = CudaContext.get();
        long[] mem = ctx.memoryInfo();
        if (capacity > mem[0]) {
            throw new IllegalStateException("arena '" + name + "' needs " + mib(capacity) + " MiB of device memory but " + ctx.device().name()
                    + " has " + mib(mem[0]) + " MiB free (" + mib(mem[1]) + " MiB in all); use a smaller batch");
        }
        this.base = new RawPointer();
        CudaErrors.call("cuMemAlloc of " + capacity + " bytes for arena '" + name + "'", () -> JCudaDriver.cuMemAlloc(base, capacity));
        this.baseAddress = base.address();
    }

    private static long mib(long b) {
        return b >> 20;
    }

    public DeviceBuffer allocate(long bytes, String label) {
        if (closed) throw new IllegalStateException("arena '" + ledger.name() + "' is closed; cannot allocate '" + label + "'");
        long off = ledger.allocate(bytes, label);
        return new DeviceBuffer(base, baseAddress, off, bytes, label, false);
    }

    public ArenaLedger.Mark mark() {
        return ledger.mark();
    }

    public void reset(ArenaLedger.Mark m) {
        ledger.reset(m);
    }

    public void lock(String reason) {
        ledger.lock(reason);
    }

    public void unlock() {
        ledger.unlock();
    }

    public ArenaLedger ledger() {
        return ledger;
    }

    /** Frees the device memory; throws IllegalStateException naming what was still allocated. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        String leaks = ledger.leakReport();
        CudaContext.get();
        CudaErrors.call("cuMemFree of arena '" + ledger.name() + "'", () -> JCudaDriver.cuMemFree(base));
        if (leaks != null) throw new IllegalStateException(leaks);
    }
}
