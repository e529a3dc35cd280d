package ecar.cuda;

import ecar.cuda.backend.CudaBackend;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;

/**
 * See {@link GpuTest}: the backend in the class's static field and its closing, and each test's skip with the probe's
 * reason where there is no GPU (per test, so the reports count every skipped test).
 */
public final class GpuBackendExtension implements BeforeAllCallback, BeforeEachCallback, AfterAllCallback {

    @Override
    public void beforeEach(ExtensionContext context) {
        Gpu.assume();
    }

    @Override
    public void beforeAll(ExtensionContext context) throws IllegalAccessException {
        Class<?> test = context.getRequiredTestClass();
        List<Field> fields = backendFields(test);   // a misdeclared class fails on every machine, not only on a GPU
        if (!Gpu.usable()) return;                  // each test then skips in beforeEach, with the reason
        long arena = test.getAnnotation(GpuTest.class).arenaMiB() << 20;
        CudaBackend gpu = new CudaBackend(arena);
        gpu.poisonAllocations(true);
        for (Field f : fields) f.set(null, gpu);
    }

    @Override
    public void afterAll(ExtensionContext context) throws IllegalAccessException {
        for (Field f : backendFields(context.getRequiredTestClass())) {
            CudaBackend gpu = (CudaBackend) f.get(null);
            f.set(null, null);
            if (gpu != null) gpu.close();
        }
    }

    /** The static, non-final CudaBackend fields of the class: exactly one is expected. */
    static List<Field> backendFields(Class<?> test) {
        List<Field> found = new ArrayList<>();
        for (Field f : test.getDeclaredFields()) {
            if (f.getType() == CudaBackend.class && Modifier.isStatic(f.getModifiers()) && !Modifier.isFinal(f.getModifiers())) {
                f.setAccessible(true);
                found.add(f);
            }
        }
        if (found.size() != 1) {
            throw new IllegalStateException(test.getSimpleName() + " is a @GpuTest but has " + found.size()
                    + " static non-final CudaBackend fields; expected exactly one for the backend");
        }
        return found;
    }
}
