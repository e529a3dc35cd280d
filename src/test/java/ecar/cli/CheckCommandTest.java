package ecar.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** {@code ecar check FOLDER}: a folder stands for the .safetensors files under it, in path order; files pass as given. */
class CheckCommandTest {

    @Test
    void aFolderIsItsFixturesInPathOrder(@TempDir Path dir, @TempDir Path elsewhere) throws IOException {
        Files.createDirectories(dir.resolve("arpg"));
        for (String f : new String[]{"b.safetensors", "a.safetensors", "arpg/c.safetensors", "README.md", "schedule.json"}) Files.writeString(dir.resolve(f), "");
        Path single = elsewhere.resolve("z.safetensors");   // a file is taken as given, even one that does not exist (check reports it)
        List<Path> got = CheckCommand.expand(List.of(dir, single));
        assertEquals(List.of(dir.resolve("a.safetensors"), dir.resolve("arpg/c.safetensors"), dir.resolve("b.safetensors"), single), got);
    }

    /** ... and one without any stays itself, to fail alone (HostileInputCliTest runs it: "a folder without .safetensors fixtures"). */
    @Test
    void aFolderWithoutFixturesStaysToFailAlone(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("README.md"), "");
        assertEquals(List.of(dir), CheckCommand.expand(List.of(dir)));
    }
}
