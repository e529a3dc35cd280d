package ecar.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code compare} on a machine without fonts, like the lent GPU hosts (no font files, no fontconfig configuration),
 * imitated by hiding this machine's font folders in a private mount namespace ({@code unshare --mount}, which needs
 * root, as in CI): a probe first shows that Java cannot draw text there, then {@code compare} must finish and draw its
 * chart's text. Skipped, with the reason, where unshare is not permitted or the hidden folders were not all the fonts.
 */
class CompareWithoutFontsTest {
    @TempDir
    Path dir;

    /**
     * Every place fontconfig's default configuration or the JDK looks for fonts, each bound over by an empty folder; and
     * the JDK's cache of what fontconfig found (~/.java/fonts), which a fresh host does not have either.
     */
    private static final String HIDE_FONTS = """
            for d in /usr/share/fonts /usr/local/share/fonts /etc/fonts "$HOME/.fonts" "$HOME/.local/share/fonts" "$JDK/lib/fonts" \\
                     "$HOME/.java/fonts"; do
              if [ -d "$d" ]; then mount --bind "$EMPTY" "$d" || exit 97; fi
            done
            """;

    private record Result(int code, String output) {}

    @Test
    void compareDrawsItsChartWhereJavaFindsNoFonts() throws Exception {
        Result unshare = sandbox("true");
        assumeTrue(unshare.code() == 0, "unshare --mount is not permitted here (it needs root): " + unshare.output().strip());
        Result probe = sandbox(HIDE_FONTS + "exec \"$JDK/bin/java\" $FLAGS -cp \"$CP\" ecar.cli.LogicalFontProbe");
        // "Fontconfig head is null" on a fresh host; "No physical fonts found" with a stale ~/.java/fonts cache
        assumeTrue(probe.code() != 0 && probe.output().toLowerCase(java.util.Locale.ROOT).contains("font"),
                "Java draws text here even with the font folders hidden, so a font-less host is not imitated: " + probe.output().strip());

        Path png = dir.resolve("c.png");
        Result r = sandbox(HIDE_FONTS + "exec \"$JDK/bin/java\" $FLAGS -cp \"$CP\" ecar.cli.Main compare --models dit-tiny --image-size 64"
                + " --backend cpu --out \"$PNG\"", Map.of("PNG", png.toString()));
        assertEquals(0, r.code(), r.output());
        assertTrue(r.output().contains("chart: " + png), r.output());
        assertFalse(r.output().contains("Fontconfig head is null"), r.output());
        BufferedImage img = ImageIO.read(png.toFile());
        assertTrue(darkPixels(img, 20, 10, 600, 34) > 300, "the title's text is drawn");
    }

    private Result sandbox(String script) throws IOException, InterruptedException {
        return sandbox(script, Map.of());
    }

    private Result sandbox(String script, Map<String, String> env) throws IOException, InterruptedException {
        Path empty = Files.createDirectories(dir.resolve("empty")), log = dir.resolve("sandbox.log");
        ProcessBuilder pb = new ProcessBuilder("unshare", "--mount", "bash", "-c", script).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().putAll(env);
        pb.environment().put("EMPTY", empty.toString());
        pb.environment().put("JDK", System.getProperty("java.home"));
        pb.environment().put("CP", System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")));
        pb.environment().put("FLAGS", "--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Djava.awt.headless=true -Xmx1g");
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            return new Result(-1, "cannot start unshare: " + e.getMessage());
        }
        if (!p.waitFor(180, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("the sandboxed command did not finish in 180 s: " + Files.readString(log, StandardCharsets.UTF_8));
        }
        return new Result(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
    }

    private static int darkPixels(BufferedImage img, int x0, int y0, int x1, int y1) {
        int n = 0;
        for (int y = y0; y < y1; y++) {
            for (int x = x0; x < x1; x++) {
                int rgb = img.getRGB(x, y);
                if (((rgb >> 16 & 0xff) + (rgb >> 8 & 0xff) + (rgb & 0xff)) / 3 < 128) n++;
            }
        }
        return n;
    }
}
