package ecar.sample;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/**
 * Where a model directory's config.json may send the loader for its weight files ("weights", "vae_weights"). A model
 * directory is often downloaded or shared, so by default its config cannot make the loader open files elsewhere
 * ({@code "weights": "/etc/passwd"}, {@code "../../other-user/x"}, a symbolic link out of the directory).
 */
public enum WeightPaths {
    /** Inside the model directory once symbolic links and ".." are resolved (the default). */
    INSIDE_DIRECTORY,
    /** Anywhere: the user vouches for the config ({@code ecar generate --allow-weights-outside}). */
    ANYWHERE;

    /**
     * The file the config's {@code key} names (relative to {@code dir}); a file that does not exist is returned as named,
     * for the caller to report. Throws IllegalArgumentException when the name is not a path or, unless ANYWHERE, when the
     * file lies outside the directory.
     */
    Path resolve(Path dir, Path configFile, String key, String name) {
        Path file;
        try {
            file = dir.resolve(name);
        } catch (InvalidPathException e) {
            throw new IllegalArgumentException(configFile + ": \"" + key + "\" is not a file name (" + e.getMessage() + ")");
        }
        if (this == ANYWHERE || !Files.exists(file)) return file;
        try {
            Path real = file.toRealPath(), home = dir.toRealPath();
            if (!real.startsWith(home)) {
                throw new IllegalArgumentException(configFile + ": \"" + key + "\" names " + name + ", which is " + real + ", outside the model directory "
                        + home + "; weight files must lie inside it unless allowed (ecar generate --allow-weights-outside)");
            }
        } catch (IOException e) {
            throw new IllegalArgumentException(configFile + ": \"" + key + "\" names " + name + ", which cannot be resolved (" + e.getMessage() + ")");
        }
        return file;
    }
}
