package ecar.cuda;

import java.util.ArrayList;
import java.util.List;

/**
 * The bookkeeping of a bump allocator, without the device memory: offsets rounded up to an alignment, the live
 * allocations with their labels (for out-of-memory messages and the leak check), marks to roll back to, and a
 * lock that makes any allocation fail (held while a sampling loop runs). Pure logic, tested without a GPU.
 */
public final class ArenaLedger {

    /** One live allocation; {@code serial} numbers every allocation the ledger ever made, so no two are equal. */
    public record Entry(long offset, long bytes, String label, long serial) {}

    /**
     * A point to roll back to: the top of the arena, the number of live entries and the serial of the last of them (-1
     * when none was live). A mark stays valid while that entry is live: a reset below it, and any allocation after that
     * reset, cannot be mistaken for what it marked. A mark of the empty arena is always valid, so scopes opened on an
     * empty arena nest.
     */
    public record Mark(long top, int entries, long lastSerial) {}

    private final String name;
    private final long capacity;
    private final int alignment;
    private final List<Entry> live = new ArrayList<>();
    private long top;
    private long highWater;
    private long windowPeak;
    private boolean locked;
    private String lockReason = "";
    private long serials;

    public ArenaLedger(String name, long capacity, int alignment) {
        if (capacity <= 0) throw new IllegalArgumentException("arena '" + name + "': capacity " + capacity + " bytes; expected > 0");
        if (alignment <= 0 || Integer.bitCount(alignment) != 1) {
            throw new IllegalArgumentException("arena '" + name + "': alignment " + alignment + " is not a power of two");
        }
        this.name = name;
        this.capacity = capacity;
        this.alignment = alignment;
    }

    public static long alignUp(long value, long alignment) {
        return (value + alignment - 1) & -alignment;
    }

    /** Reserves {@code bytes} (rounded up to the alignment) and returns the offset of the first byte. */
    public long allocate(long bytes, String label) {
        if (bytes <= 0) throw new IllegalArgumentException("arena '" + name + "': '" + label + "' asks for " + bytes + " bytes; expected > 0");
        if (locked) {
            throw new IllegalStateException("arena '" + name + "': '" + label + "' (" + bytes + " bytes) allocated while the arena is locked ("
                    + lockReason + "); allocate it before the loop");
        }
        long offset = alignUp(top, alignment);
        long end = offset + alignUp(bytes, alignment);
        if (end > capacity || end < 0) {
            throw new ArenaFullException("arena '" + name + "' is out of memory: '" + label + "' needs " + bytes + " bytes at offset "
                    + offset + " but the capacity is " + capacity + " bytes (" + top + " in use by " + live.size()
                    + " allocations); make the arena at least " + end + " bytes", bytes, top, capacity);
        }
        live.add(new Entry(offset, bytes, label, serials++));
        top = end;
        highWater = Math.max(highWater, top);
        windowPeak = Math.max(windowPeak, top);
        return offset;
    }

    public Mark mark() {
        return new Mark(top, live.size(), live.isEmpty() ? -1 : live.get(live.size() - 1).serial());
    }

    /** Frees everything allocated after the mark. */
    public void reset(Mark m) {
        boolean valid = m.entries() <= live.size() && m.top() <= top
                && (m.entries() == 0 ? m.lastSerial() == -1 && m.top() == 0 : live.get(m.entries() - 1).serial() == m.lastSerial());
        if (!valid) {
            throw new IllegalStateException("arena '" + name + "': reset to a mark that is no longer valid (an earlier reset went below it: "
                    + "the mark was taken at " + m.entries() + " live allocations, " + m.top() + " bytes; " + live.size() + " are live now, "
                    + top + " bytes)");
        }
        live.subList(m.entries(), live.size()).clear();
        top = m.top();
    }

    public void resetAll() {
        reset(new Mark(0, 0, -1));
    }

    public void lock(String reason) {
        locked = true;
        lockReason = reason;
    }

    public void unlock() {
        locked = false;
        lockReason = "";
    }

    public boolean locked() {
        return locked;
    }

    public long used() {
        return top;
    }

    /**
     * Starts watching the top: {@link #windowPeak()} is then the highest top since, through any resets. A captured step
     * keeps [mark, peak) reserved: its scratch addresses, reused by its inner scopes, are baked into the graph.
     */
    public void startWindow() {
        windowPeak = top;
    }

    public long windowPeak() {
        return windowPeak;
    }

    public long highWater() {
        return highWater;
    }

    public long capacity() {
        return capacity;
    }

    public int alignment() {
        return alignment;
    }

    public String name() {
        return name;
    }

    /**
     * A hash of the live allocations' offsets and sizes, in order: equal fingerprints mean (but for a 64-bit collision)
     * every live tensor is where it was, so a graph captured with them may run again (LoopGraphs).
     */
    public long layoutFingerprint() {
        long h = mix(capacity);
        for (Entry e : live) h = mix(mix(h ^ e.offset()) ^ e.bytes());
        return h;
    }

    /** SplitMix64's finaliser: every input bit moves about half the output bits. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    public List<Entry> live() {
        return List.copyOf(live);
    }

    /** Null when nothing is live; else a message naming (up to ten of) the allocations still held. */
    public String leakReport() {
        if (live.isEmpty()) return null;
        StringBuilder b = new StringBuilder("arena '" + name + "' closed with " + live.size() + " allocations not freed (" + top + " bytes):");
        for (int i = 0; i < Math.min(10, live.size()); i++) {
            Entry e = live.get(i);
            b.append("\n  ").append(e.label()).append(": ").append(e.bytes()).append(" bytes at offset ").append(e.offset());
        }
        if (live.size() > 10) b.append("\n  … and ").append(live.size() - 10).append(" more");
        return b.toString();
    }
}
