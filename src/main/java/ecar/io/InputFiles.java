package ecar.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Optional;

/**
 * Input files are checked before they are opened: opening a FIFO for reading blocks until a writer comes (forever, for
 * {@code ecar check}), and a directory or a device fails later with the operating system's puzzling words ("No such
 * device"). Only regular files (symbolic links followed) are read.
 */
public final class InputFiles {
    private InputFiles() {}

    /** What is wrong with reading {@code file} as {@code expected} ("a safetensors file"), or empty when it is a readable regular file. */
    public static Optional<String> problem(Path file, String expected) {
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(file, BasicFileAttributes.class);
        } catch (NoSuchFileException e) {
            return Optional.of(file + ": no such file");
        } catch (IOException | SecurityException e) {
            return Optional.of(file + ": cannot be read (" + e.getClass().getSimpleName() + ": " + e.getMessage() + ")");
        }
        if (a.isDirectory()) return Optional.of(file + ": is a directory, expected " + expected);
        if (!a.isRegularFile()) return Optional.of(file + ": is not a regular file (a FIFO, socket or device), expected " + expected);
        return Optional.empty();
    }
}
