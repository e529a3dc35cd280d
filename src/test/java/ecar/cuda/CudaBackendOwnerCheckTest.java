package ecar.cuda;

import ecar.cuda.backend.CudaBackend;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.lang.classfile.ClassFile;
import java.lang.classfile.MethodModel;
import java.lang.classfile.instruction.InvokeInstruction;
import java.lang.reflect.AccessFlag;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every public instance method of CudaBackend checks its thread (OwnerThread.check) before it touches the arena: a method
 * added without it would let a second thread interleave scopes unnoticed. And every one runs a norm held for a GEMM
 * prologue first (enter(): DeferredNorm.flush), but the linears that may take it and a counter: an op added without it
 * would queue its kernels before the norm it follows. Reads the compiled class; no GPU.
 */
class CudaBackendOwnerCheckTest {
    /** Methods that touch no device state. */
    private static final Set<String> FREE = Set.of("<init>", "name");
    /** The linears whose GEMM may take a held norm (they run it themselves when they do not), and a counter. */
    private static final Set<String> KEEP_THE_NORM = Set.of("linear", "linearOperand", "linearRope", "linearRopeQueries", "linearRopeRows",
            "linearIntoResidual", "gatedLinear", "normPrologues");

    @Test
    void everyPublicMethodChecksItsThread() throws IOException {
        byte[] bytes;
        try (InputStream in = CudaBackend.class.getResourceAsStream("CudaBackend.class")) {
            bytes = in.readAllBytes();
        }
        List<String> missing = new ArrayList<>();
        int checked = 0;
        for (MethodModel m : ClassFile.of().parse(bytes).methods()) {
            var flags = m.flags().flags();
            if (!flags.contains(AccessFlag.PUBLIC) || flags.contains(AccessFlag.STATIC) || flags.contains(AccessFlag.SYNTHETIC)
                    || flags.contains(AccessFlag.BRIDGE) || FREE.contains(m.methodName().stringValue())) {
                continue;
            }
            checked++;
            String name = m.methodName().stringValue();
            boolean enters = calls(m, "ecar/cuda/backend/CudaBackend", "enter"), checks = calls(m, "ecar/cuda/OwnerThread", "check");
            if (KEEP_THE_NORM.contains(name) ? !checks : !enters) missing.add(name + m.methodType().stringValue());
        }
        assertTrue(checked > 40, "only " + checked + " public methods read");
        assertTrue(missing.isEmpty(), "public CudaBackend methods that do not call enter() (the linears that take a norm: owner.check()): " + missing);
    }

    private static boolean calls(MethodModel m, String owner, String method) {
        return m.code().map(code -> code.elementStream().anyMatch(e -> e instanceof InvokeInstruction i
                && i.owner().asInternalName().equals(owner) && i.name().stringValue().equals(method))).orElse(false);
    }
}
