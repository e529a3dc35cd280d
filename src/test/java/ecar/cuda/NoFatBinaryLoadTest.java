package ecar.cuda;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.lang.classfile.ClassFile;
import java.lang.classfile.constantpool.MemberRefEntry;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * No compiled class of the runtime calls JCudaDriver.cuModuleLoadFatBinary: JCuda 12.6's binding of it never stores
 * the module handle (see {@link KernelModule}), and a call would pass every test without a GPU. Reads the constant
 * pools of the compiled classes, so comments and strings that name the call do not count: target/classes under Maven,
 * the bundle's ecar.jar when tools/gpu_kit.sh runs the tests on a GPU machine (read with ZipFile: the bundle's runtime
 * has no jdk.zipfs).
 */
class NoFatBinaryLoadTest {
    private static final List<String> BROKEN = List.of("cuModuleLoadFatBinary");

    @Test
    void noClassCallsTheBrokenModuleLoader() throws IOException, URISyntaxException {
        Path location = Path.of(KernelModule.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Map<String, byte[]> classes = Files.isDirectory(location) ? folder(location) : jar(location);
        List<String> calls = new ArrayList<>();
        classes.forEach((name, bytes) -> {
            for (var entry : ClassFile.of().parse(bytes).constantPool()) {
                if (entry instanceof MemberRefEntry m && m.owner().asInternalName().equals("jcuda/driver/JCudaDriver")
                        && BROKEN.contains(m.name().stringValue())) {
                    calls.add(name + " → " + m.name().stringValue());
                }
            }
        });
        assertTrue(classes.size() > 50, "only " + classes.size() + " classes read from " + location);
        assertTrue(calls.isEmpty(), "calls to JCuda driver entry points that drop their results: " + calls);
    }

    private static Map<String, byte[]> folder(Path root) throws IOException {
        Map<String, byte[]> out = new TreeMap<>();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".class")).toList()) out.put(root.relativize(f).toString(), Files.readAllBytes(f));
        }
        return out;
    }

    private static Map<String, byte[]> jar(Path file) throws IOException {
        Map<String, byte[]> out = new TreeMap<>();
        try (ZipFile zip = new ZipFile(file.toFile())) {
            for (ZipEntry e : Collections.list(zip.entries())) {
                if (!e.getName().endsWith(".class")) continue;
                try (InputStream in = zip.getInputStream(e)) {
                    out.put(e.getName(), in.readAllBytes());
                }
            }
        }
        return out;
    }
}
