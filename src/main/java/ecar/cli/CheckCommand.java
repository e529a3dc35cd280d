package ecar.cli;

import ecar.backend.Backend;
import ecar.backend.cpu.CpuBackend;
import ecar.fixture.Comparison;
import ecar.sample.FixtureRunner;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code ecar check FIXTURE...}: parity against the reference implementations' outputs. */
@Command(name = "check", mixinStandardHelpOptions = true, versionProvider = Main.Version.class, description = {
        "Run parity fixtures (fixtures/README.md) through the normal loading path and print, per expected tensor,",
        "the relative L2 error and its tolerance. Exits 1 on any mismatch, unknown kind or unreadable file."})
final class CheckCommand implements Callable<Integer> {

    @Parameters(arity = "1..*", paramLabel = "FIXTURE", description = {"fixture .safetensors files, or folders: every .safetensors file",
            "under a folder, in name order (e.g. ../shared/fixtures)"})
    List<Path> fixtures;

    @Override
    public Integer call() {
        Backend backend = new CpuBackend();
        List<Path> files = expand(fixtures);
        int failed = 0;
        for (Path p : files) {
            if (java.nio.file.Files.isDirectory(p)) {   // expand() keeps a folder only when it holds no fixture
                failed++;
                System.out.println("FAIL " + p);
                System.out.println("  " + p + ": a folder without .safetensors fixtures");
                continue;
            }
            try {
                long t0 = System.nanoTime();
                List<Comparison> results = FixtureRunner.run(p, backend);
                double ms = (System.nanoTime() - t0) / 1e6;
                boolean ok = results.stream().allMatch(Comparison::passed);
                System.out.printf("%s %s (%.0f ms)%n", ok ? "PASS" : "FAIL", p, ms);
                for (Comparison c : results) {
                    System.out.printf("  %-4s %-24s rel L2 %.3e  tolerance %.0e%s%n", c.passed() ? "ok" : "BAD", c.name(),
                            c.relError(), c.tolerance(), c.note().isEmpty() ? "" : "  (" + c.note() + ")");
                }
                if (!ok) failed++;
            } catch (RuntimeException | Error e) {   // out of memory or a stack overflow in one fixture: that one fails, the rest run
                failed++;
                System.out.println("FAIL " + p);
                System.out.println("  " + Main.describe(e));
            }
        }
        if (files.size() > 1) System.out.printf("%d of %d fixtures passed%n", files.size() - failed, files.size());
        return failed == 0 ? 0 : 1;
    }

    /**
     * Each folder as the .safetensors files under it (sorted by path); files as they are. A folder without any stays as
     * it is, so that it fails alone, as a bad file does.
     */
    static List<Path> expand(List<Path> given) {
        List<Path> out = new java.util.ArrayList<>();
        for (Path p : given) {
            if (!java.nio.file.Files.isDirectory(p)) {
                out.add(p);
                continue;
            }
            try (var walk = java.nio.file.Files.walk(p)) {
                List<Path> found = walk.filter(f -> f.getFileName().toString().endsWith(".safetensors") && java.nio.file.Files.isRegularFile(f))
                        .sorted().toList();
                out.addAll(found.isEmpty() ? List.of(p) : found);
            } catch (java.io.IOException e) {
                throw new UserError("cannot list " + p + ": " + e.getMessage());
            }
        }
        return out;
    }
}
