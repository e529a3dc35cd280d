package ecar.cli;

import ecar.io.AtomicFile;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * PNG files written by the CLI: the path is checked before any work starts, the file appears only when complete and no
 * temporary file outlives the run, interrupted or not ({@link AtomicFile}).
 */
final class ImageOutput {
    private ImageOutput() {}

    static void checkWritable(Path out) {
        String name = out.getFileName() == null ? "" : out.getFileName().toString();
        if (!name.toLowerCase(java.util.Locale.ROOT).endsWith(".png")) throw new UserError("output " + out + ": expected a .png file name");
        Path dir = out.toAbsolutePath().getParent();
        if (dir == null || !Files.isDirectory(dir)) throw new UserError("output " + out + ": folder " + dir + " does not exist");
        if (!Files.isWritable(dir)) throw new UserError("output " + out + ": folder " + dir + " is not writable");
        if (Files.isDirectory(out)) throw new UserError("output " + out + " is a folder, expected a file name");
        if (Files.exists(out) && !Files.isWritable(out)) throw new UserError("output " + out + " exists and is not writable");
        try {
            AtomicFile.probe(out);
        } catch (IOException | RuntimeException e) {
            throw new UserError("output " + out + ": cannot create files in " + dir + " (" + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : ": " + e.getMessage()) + ")");
        }
    }

    static void writePng(BufferedImage img, Path out) throws IOException {
        try (AtomicFile f = AtomicFile.beside(out)) {
            if (!ImageIO.write(img, "png", f.temp().toFile())) throw new IOException("no PNG writer available");
            f.commit();
        } catch (IOException e) {
            throw new IOException("could not write " + out + " (" + e.getClass().getSimpleName() + ": " + e.getMessage() + ")", e);
        }
    }
}
