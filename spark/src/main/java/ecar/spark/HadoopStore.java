package ecar.spark;

import ecar.sampleset.SetStore;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;

/**
 * A sample set on any Hadoop file system every executor sees: hdfs://, a cloud store's URI, or file:/ for a shared
 * (or, in local mode, the local) folder. Shards are made visible by renaming their folder, which is atomic on HDFS and
 * local disks; on object stores without atomic renames (S3) use a committer-backed file system or a shared mount.
 * The file system is an instance of its own, without the local file system's .crc side files, closed with the store.
 */
public final class HadoopStore implements SetStore, AutoCloseable {
    private final FileSystem fs;
    private final Path root;

    public HadoopStore(String uri, Configuration conf) throws IOException {
        URI u = URI.create(uri);
        this.fs = FileSystem.newInstance(u.getScheme() == null ? new Path(uri).toUri() : u, conf);
        fs.setWriteChecksum(false);
        this.root = fs.makeQualified(new Path(uri));
    }

    private Path at(String path) {
        if (path.isEmpty()) return root;
        if (path.startsWith("/") || path.contains("..")) throw new IllegalArgumentException("path " + path + " leaves the set's folder " + root);
        return new Path(root, path);
    }

    @Override
    public OutputStream create(String path) throws IOException {
        return fs.create(at(path), true);
    }

    @Override
    public InputStream open(String path) throws IOException {
        return fs.open(at(path));
    }

    @Override
    public boolean exists(String path) throws IOException {
        return fs.exists(at(path));
    }

    @Override
    public List<String> list(String dir) throws IOException {
        Path d = at(dir);
        if (!fs.exists(d)) return List.of();
        List<String> names = new ArrayList<>();
        for (FileStatus s : fs.listStatus(d)) names.add(s.getPath().getName());
        names.sort(null);
        return names;
    }

    @Override
    public void delete(String path) throws IOException {
        fs.delete(at(path), true);
    }

    /** Hadoop's rename moves a folder into an existing one rather than failing, so the target is checked first. */
    @Override
    public boolean renameDirectory(String from, String to) throws IOException {
        Path target = at(to);
        fs.mkdirs(target.getParent());
        if (fs.exists(target)) return false;
        if (fs.rename(at(from), target)) return true;
        if (fs.exists(target)) return false;   // another attempt renamed its copy there first
        throw new IOException("cannot rename " + at(from) + " to " + target + " on " + fs.getUri());
    }

    /** Delete, then rename: not one step on Hadoop's file systems; a crash in between leaves no merged file, and a rerun merges again. */
    @Override
    public void replaceFile(String from, String to) throws IOException {
        fs.delete(at(to), false);
        if (!fs.rename(at(from), at(to))) throw new IOException("cannot rename " + at(from) + " to " + at(to) + " on " + fs.getUri());
    }

    @Override
    public String describe(String path) {
        return at(path).toString();
    }

    @Override
    public void close() throws IOException {
        fs.close();
    }
}
