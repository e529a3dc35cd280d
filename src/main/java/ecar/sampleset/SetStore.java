package ecar.sampleset;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;

/**
 * Where a sample set's files go: a local folder ({@link LocalStore}) or, for a cluster, any file system every worker
 * sees (the Spark module's Hadoop store). Paths are relative to the set's root, '/'-separated. A shard becomes visible
 * only by {@link #renameDirectory}, which the sets rely on being atomic (it is on local disks and HDFS), so an
 * interrupted writer never leaves half a shard under its final name.
 */
public interface SetStore {

    /** A new file (parent folders made; an existing file is replaced). */
    OutputStream create(String path) throws IOException;

    InputStream open(String path) throws IOException;

    boolean exists(String path) throws IOException;

    /** The names in a folder, sorted; empty when the folder does not exist. */
    List<String> list(String dir) throws IOException;

    /** Deletes a file or a folder with everything in it; nothing when it does not exist. */
    void delete(String path) throws IOException;

    /**
     * Renames a folder in one atomic step; false, changing nothing, when {@code to} exists already (another attempt
     * finished that shard first).
     */
    boolean renameDirectory(String from, String to) throws IOException;

    /** Moves a finished file over {@code to} (the merged .npz and manifest), replacing what was there. */
    void replaceFile(String from, String to) throws IOException;

    /** The full location of a path, for messages. */
    String describe(String path);
}
