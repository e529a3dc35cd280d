package ecar.cuda;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.classfile.ClassFile;
import java.lang.classfile.constantpool.MemberRefEntry;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * No compiled class of the runtime calls JCudaDriver.cuModuleLoadFatBinary: JCuda 12.6's binding of it never stores
 * the module handle (see {@link KernelModule}), and a call would pass every test without a GPU. Reads the constant
 * pools of the compiled classes, so comments and strings that name the call do not count.
 */
class NoFatBinaryLoadTest {
    private static final List<String> BROKEN = List.of("cuModuleLoadFatBinary");

    @Test
    void noClassCallsTheBrokenModuleLoader() throws IOException, URISyntaxException {
        Path classes = Path.of(KernelModule.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        assertTrue(Files.isDirectory(classes), "expected the compiled classes in a folder, got " + classes);
        List<String> calls = new ArrayList<>();
        int read = 0;
        try (Stream<Path> files = Files.walk(classes)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".class")).toList()) {
                read++;
                for (var entry : ClassFile.of().parse(Files.readAllBytes(f)).constantPool()) {
                    if (entry instanceof MemberRefEntry m && m.owner().asInternalName().equals("jcuda/driver/JCudaDriver")
                            && BROKEN.contains(m.name().stringValue())) {
                        calls.add(classes.relativize(f) + " → " + m.name().stringValue());
                    }
                }
            }
        }
        assertTrue(read > 50, "only " + read + " classes read from " + classes);
        assertTrue(calls.isEmpty(), "calls to JCuda driver entry points that drop their results: " + calls);
    }
}
