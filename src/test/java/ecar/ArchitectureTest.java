package ecar;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Packages point one way (DESIGN.md, "Layout"): each runtime package may use only the packages listed for it below,
 * and no set of packages forms a cycle. Reads the compiled classes, so a javadoc mention does not count and an
 * upward import does.
 */
class ArchitectureTest {
    /** Each package and the ecar packages it may use (besides itself); everything not listed is an upward import. */
    private static final Map<String, List<String>> MAY_USE = new LinkedHashMap<>();

    static {
        MAY_USE.put("tensor", List.of());
        MAY_USE.put("io", List.of("tensor"));
        MAY_USE.put("image", List.of("tensor"));
        MAY_USE.put("backend", List.of("tensor"));
        MAY_USE.put("backend.cpu", List.of("tensor", "backend"));
        MAY_USE.put("flops", List.of("tensor", "backend"));
        MAY_USE.put("cuda", List.of("tensor"));
        MAY_USE.put("cuda.ops", List.of("tensor", "backend", "cuda"));
        MAY_USE.put("cuda.backend", List.of("tensor", "io", "backend", "cuda", "cuda.ops"));
        MAY_USE.put("model", List.of("tensor", "io", "backend"));
        MAY_USE.put("fixture", List.of("tensor", "io", "backend", "model"));
        MAY_USE.put("vae", List.of("tensor", "io", "backend", "model", "fixture"));
        MAY_USE.put("family", List.of("tensor", "io", "backend", "flops", "model", "fixture", "vae"));
        for (String f : List.of("dit", "flowar", "arpg")) MAY_USE.put(f, List.of("tensor", "io", "backend", "model", "fixture", "vae", "family"));
        MAY_USE.put("sample", List.of("tensor", "io", "image", "backend", "flops", "model", "fixture", "vae", "family", "dit", "flowar", "arpg"));
        MAY_USE.put("sampleset", List.of("tensor", "io", "image", "backend", "model", "family", "sample"));
        MAY_USE.put("selfcheck", List.of("tensor", "io", "backend", "backend.cpu", "cuda", "cuda.backend", "model", "fixture", "vae", "family", "sample"));
        MAY_USE.put("cli", List.copyOf(MAY_USE.keySet()));
    }

    private static final JavaClasses RUNTIME = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS).importPackages("ecar");

    @Test
    void everyPackageOfTheRuntimeIsPlaced() {
        Set<String> found = new TreeSet<>();
        RUNTIME.forEach(c -> found.add(c.getPackageName().substring("ecar.".length())));
        assertEquals(new TreeSet<>(MAY_USE.keySet()), found, "a package without a place in ArchitectureTest.MAY_USE (or a placed one that is gone)");
    }

    @Test
    void packagesUseOnlyThoseBelowThem() {
        for (var e : MAY_USE.entrySet()) {
            Set<String> forbidden = new TreeSet<>(MAY_USE.keySet());
            forbidden.remove(e.getKey());
            forbidden.removeAll(e.getValue());
            if (forbidden.isEmpty()) continue;
            noClasses().that().resideInAPackage("ecar." + e.getKey())
                    .should().dependOnClassesThat().resideInAnyPackage(forbidden.stream().map(p -> "ecar." + p).toArray(String[]::new))
                    .because("ecar." + e.getKey() + " may use only " + e.getValue())
                    .check(RUNTIME);
        }
    }

    @Test
    void noPackagesFormACycle() {
        slices().matching("ecar.(**)").should().beFreeOfCycles().check(RUNTIME);
    }
}
