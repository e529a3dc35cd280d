package ecar.backend.cpu;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The CPU backend's tensor memory on one thread. Arrays for tensors made inside a scope come from free lists by length
 * and go back when the scope closes, so a sampling loop stops allocating after its first step: the GC (G1 included,
 * which otherwise chases every multi-megabyte activation as a humongous object) sees almost nothing. Outside any scope,
 * plain arrays left to the GC. Ops write every element of their outputs, so a reused array needs no clearing; with
 * {@code -Decar.cpu.poison=true} (the tests) every array handed out is filled with NaN first, so an op that reads an
 * element before writing it, or a tensor used after its scope closed, shows up as NaN.
 */
final class CpuScratch {
    /** Free arrays kept at most, in bytes; beyond this a released array is dropped to the GC. */
    static final long KEEP_BYTES = 2L << 30;
    private static final boolean POISON = Boolean.getBoolean("ecar.cpu.poison");

    private final Map<Integer, ArrayDeque<float[]>> free = new HashMap<>();
    private final ArrayDeque<List<float[]>> scopes = new ArrayDeque<>();
    private long freeBytes;

    /** An array of n floats whose contents are undefined: from the free lists inside a scope, else new. */
    float[] take(int n) {
        float[] a = null;
        if (!scopes.isEmpty()) {
            ArrayDeque<float[]> q = free.get(n);
            a = q == null ? null : q.poll();
            if (a != null) freeBytes -= 4L * n;
            else a = new float[n];
            scopes.peek().add(a);
        } else {
            a = new float[n];
        }
        if (POISON) Arrays.fill(a, Float.NaN);
        return a;
    }

    void enter() {
        scopes.push(new ArrayList<>());
    }

    /** Closes the innermost scope: its arrays go back to the free lists (up to {@link #KEEP_BYTES}). */
    void leave() {
        for (float[] a : scopes.pop()) {
            if (freeBytes + 4L * a.length > KEEP_BYTES) continue;
            free.computeIfAbsent(a.length, k -> new ArrayDeque<>()).push(a);
            freeBytes += 4L * a.length;
        }
    }

    int depth() {
        return scopes.size();
    }

    long freeBytes() {
        return freeBytes;
    }
}
