package ecar.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

/**
 * Driver functions that JCuda 12.6 does not bind, looked up in libcuda.so.1 (the library JCuda's natives load, so the
 * same driver, context and streams) through Java's FFM API. Each caller binds in a holder class of its own, on first use,
 * so that a machine without the NVIDIA driver fails only that call, with the reason.
 */
final class LibCuda {
    static final String LIBRARY = "libcuda.so.1";

    private LibCuda() {}

    /** A bound function, or why it could not be bound (exactly one of the two is non-null). */
    record Binding(MethodHandle handle, String failure) {}

    /** Binds {@code symbol}; {@code missing} says why a driver may lack it (e.g. "a driver older than CUDA 12.0"). */
    static Binding bind(String symbol, FunctionDescriptor signature, String missing) {
        try {
            SymbolLookup lib = SymbolLookup.libraryLookup(LIBRARY, Arena.global());
            MemorySegment fn = lib.find(symbol).orElse(null);
            if (fn == null) return new Binding(null, LIBRARY + " has no " + symbol + " (" + missing + ")");
            return new Binding(Linker.nativeLinker().downcallHandle(fn, signature), null);
        } catch (IllegalArgumentException | UnsupportedOperationException | IllegalCallerException e) {
            return new Binding(null, LIBRARY + " could not be loaded (is the NVIDIA driver installed?): " + e.getMessage());
        }
    }

    /** A downcall through a bound handle, returning the CUresult. */
    @FunctionalInterface
    interface Call {
        int run() throws Throwable;
    }

    /**
     * Runs {@code call} and returns its CUresult; a RuntimeException or Error passes as it is, any other Throwable (which
     * MethodHandle.invokeExact declares) is wrapped naming {@code symbol}. The caller checks the CUresult.
     */
    static int call(String symbol, Call call) {
        try {
            return call.run();
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(symbol + " threw " + t, t);
        }
    }

    /** The native handle JCuda keeps in a CUfunction, CUstream or other driver object (JCuda keeps it protected). */
    static long handle(jcuda.NativePointerObject o) {
        try {
            return (long) NativeHandle.GETTER.invokeExact(o);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("reading the native handle of " + o + ": " + t, t);
        }
    }

    /** Its own holder: a JCuda without the method fails the launches that need it, not the tensor maps. */
    private static final class NativeHandle {
        static final MethodHandle GETTER;

        static {
            try {
                java.lang.reflect.Method m = jcuda.NativePointerObject.class.getDeclaredMethod("getNativePointer");
                m.setAccessible(true);
                GETTER = java.lang.invoke.MethodHandles.lookup().unreflect(m)
                        .asType(java.lang.invoke.MethodType.methodType(long.class, jcuda.NativePointerObject.class));
            } catch (ReflectiveOperationException | RuntimeException e) {
                throw new IllegalStateException("JCuda's NativePointerObject.getNativePointer cannot be read (another JCuda version?): " + e, e);
            }
        }
    }
}
