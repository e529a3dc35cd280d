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
 * added without it would let a second thread interleave scopes unnoticed. Reads the compiled class; no GPU.
 */
class CudaBackendOwnerCheckTest {
    /** Methods that touch no device state. */
    private static final Set<String> FREE = Set.of("<init>", "name");

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
            boolean calls = m.code().map(code -> code.elementStream().anyMatch(e -> e instanceof InvokeInstruction i
                    && i.owner().asInternalName().equals("ecar/cuda/OwnerThread") && i.name().stringValue().equals("check"))).orElse(false);
            if (!calls) missing.add(m.methodName().stringValue() + m.methodType().stringValue());
        }
        assertTrue(checked > 40, "only " + checked + " public methods read");
        assertTrue(missing.isEmpty(), "public CudaBackend methods that do not call owner.check(): " + missing);
    }
}
