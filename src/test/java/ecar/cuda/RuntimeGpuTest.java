package ecar.cuda;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The runtime on a real GPU: arena, launch, events, graph capture and replay, leak check. */
class RuntimeGpuTest {
    private static final String EULER = "flow_euler(ptr x, ptr v, i64 n, f32 dt)";

    @BeforeEach
    void gpu() {
        Gpu.assume();
    }

    @Test
    void launchEventsAndGraphReplay() {
        int n = 1000;
        float[] x = new float[n], v = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = i;
            v[i] = 1 + i % 7;
        }
        Kernel euler = KernelModule.get("flow").kernel(EULER);
        try (DeviceArena arena = new DeviceArena("test", 1 << 20); Stream s = new Stream(); Event a = new Event(); Event b = new Event()) {
            DeviceBuffer dx = arena.allocate(4L * n, "x"), dv = arena.allocate(4L * n, "v");
            assertEquals(0, dx.address() % DeviceArena.ALIGNMENT);
            dx.upload(x);
            dv.upload(v);
            a.record(s);
            euler.launch(LaunchShape.linear(n, 256), s, dx, dv, (long) n, 0.5f);
            b.record(s);
            assertTrue(b.elapsedSince(a) >= 0);
            try (CudaGraph g = CudaGraph.capture(s, () -> euler.launch(LaunchShape.linear(n, 256), s, dx, dv, (long) n, 0.25f))) {
                g.launch(s);
                g.launch(s);
            }
            s.synchronize();
            float[] out = new float[n];
            dx.download(out);
            for (int i = 0; i < n; i++) assertEquals(x[i] + v[i], out[i], 0f, "element " + i);
            arena.reset(arena.mark());
            arena.ledger().resetAll();
        }
    }

    @Test
    void wrongArgumentsFailBeforeTheLaunch() {
        Kernel euler = KernelModule.get("flow").kernel(EULER);
        try (DeviceArena arena = new DeviceArena("test", 1 << 16); Stream s = new Stream()) {
            DeviceBuffer dx = arena.allocate(64, "x");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> euler.launch(LaunchShape.linear(16, 256), s, dx, dx, 16, 0.5f));
            assertTrue(e.getMessage().contains("argument 2 (n)"), e.getMessage());
            arena.ledger().resetAll();
        }
    }

    @Test
    void arenaCloseNamesLeaks() {
        DeviceArena arena = new DeviceArena("leaky", 1 << 16);
        arena.allocate(100, "forgotten scratch");
        IllegalStateException e = assertThrows(IllegalStateException.class, arena::close);
        assertTrue(e.getMessage().contains("forgotten scratch"), e.getMessage());
    }

    @Test
    void missingKernelIsNamed() {
        RuntimeException e = assertThrows(RuntimeException.class, () -> KernelModule.get("flow").kernel("no_such_kernel(ptr x)"));
        assertTrue(e.getMessage().contains("no_such_kernel"), e.getMessage());
    }
}
