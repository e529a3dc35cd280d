package ecar.sampleset;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/** A sample set in a local folder (or any mounted file system the JVM can rename folders on atomically). */
public final class LocalStore implements SetStore {
    private final Path root;

    public LocalStore(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    private Path at(String path) {
        Path p = root.resolve(path).normalize();
        if (!p.startsWith(root)) throw new IllegalArgumentException("path " + path + " leaves the set's folder " + root);
        return p;
    }

    @Override
    public OutputStream create(String path) throws IOException {
        Path p = at(path);
        Files.createDirectories(p.getParent());
        return Files.newOutputStream(p);
    }

    @Override
    public InputStream open(String path) throws IOException {
        return Files.newInputStream(at(path));
    }

    @Override
    public boolean exists(String path) {
        return Files.exists(at(path));
    }

    @Override
    public List<String> list(String dir) throws IOException {
        Path d = at(dir);
        if (!Files.isDirectory(d)) return List.of();
        try (Stream<Path> s = Files.list(d)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Override
    public void delete(String path) throws IOException {
        Path p = at(path);
        if (!Files.exists(p)) return;
        List<Path> all = new ArrayList<>();
        try (Stream<Path> s = Files.walk(p)) {
            s.forEach(all::add);
        }
        all.sort(Comparator.reverseOrder());   // children before their folders
        for (Path q : all) Files.deleteIfExists(q);
    }

    @Override
    public boolean renameDirectory(String from, String to) throws IOException {
        Path target = at(to);
        Files.createDirectories(target.getParent());
        if (Files.exists(target)) return false;
        try {
            Files.move(at(from), target, StandardCopyOption.ATOMIC_MOVE);
            return true;
        } catch (FileAlreadyExistsException | DirectoryNotEmptyException e) {
            return false;   // another writer renamed its copy there between our check and our move
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("cannot rename " + at(from) + " to " + target + " in one step on this file system; a sample set needs "
                    + "atomic folder renames so that no half shard is ever seen", e);
        } catch (NoSuchFileException e) {
            throw new IOException("cannot rename " + at(from) + ": it does not exist", e);
        }
    }

    @Override
    public void replaceFile(String from, String to) throws IOException {
        Files.move(at(from), at(to), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    @Override
    public String describe(String path) {
        return at(path).toString();
    }
}
