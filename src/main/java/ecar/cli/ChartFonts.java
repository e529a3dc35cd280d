package ecar.cli;

import java.awt.Font;
import java.awt.FontFormatException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

/**
 * The typeface of the {@code compare} chart, shipped in the jar: DejaVu Sans ({@code fonts/DejaVuSans.ttf}, licence in
 * {@code fonts/LICENSE-DejaVu.txt}), so the chart looks the same everywhere and draws on a machine without any font.
 *
 * <p>Why more than {@link Font#createFont}: every {@link Font}, a created one included, needs the JDK's font manager,
 * and on Linux the manager starts by building its table of logical fonts (Dialog, SansSerif, ...) from fontconfig.
 * On a host with no fonts and no fontconfig configuration (the lent GPU machines) that fails, the JDK falls back to a
 * {@code fontconfig.properties} inside the JDK, Temurin ships none, and it throws "Fontconfig head is null" before any
 * text is drawn. The JDK takes that table from the file named by the system property {@code sun.awt.fontconfig}
 * instead, when it is set, and then does not ask fontconfig for it. So the bundled TTF is copied to a temporary
 * folder, a table beside it maps every logical font to it, and the property points there before the first font is
 * made. (The JDK still asks fontconfig for a default font; without a configuration libfontconfig prints one
 * "Fontconfig error" line on stderr and the JDK goes on.)
 *
 * <p>The property is read once, when the font manager starts: if something in this JVM drew text before, the table
 * changes nothing and the created font alone keeps the chart's look; a user's own {@code sun.awt.fontconfig} is kept.
 */
final class ChartFonts {
    private ChartFonts() {}

    static final String TABLE_PROPERTY = "sun.awt.fontconfig";
    private static final String RESOURCE = "fonts/DejaVuSans.ttf";
    private static final String[] LOGICAL = {"serif", "sansserif", "monospaced", "dialog", "dialoginput"};
    private static final String[] STYLES = {"plain", "bold", "italic", "bolditalic"};

    private static Font base;

    /** Regular weight only: the JDK's emboldening of it is faint, and a second face would add 700 KB to the jar. */
    static Font plain(float size) {
        return base().deriveFont(Font.PLAIN, size);
    }

    private static synchronized Font base() {
        if (base == null) base = load();
        return base;
    }

    private static Font load() {
        try {
            Path dir = Files.createTempDirectory("ecar-fonts");
            dir.toFile().deleteOnExit();   // files registered later are deleted first
            Path ttf = dir.resolve("DejaVuSans.ttf");
            try (InputStream in = ChartFonts.class.getResourceAsStream(RESOURCE)) {
                if (in == null) throw new IllegalStateException("the build did not package " + RESOURCE + " beside " + ChartFonts.class.getName());
                Files.copy(in, ttf);
            }
            ttf.toFile().deleteOnExit();
            Path table = dir.resolve("fontconfig.properties");
            writeTable(table, ttf);
            table.toFile().deleteOnExit();
            if (System.getProperty(TABLE_PROPERTY) == null) System.setProperty(TABLE_PROPERTY, table.toString());
            return Font.createFont(Font.TRUETYPE_FONT, ttf.toFile());
        } catch (IOException | FontFormatException e) {
            throw new IllegalStateException("cannot load the chart's font " + RESOURCE + ": " + e.getMessage(), e);
        }
    }

    /** The JDK's own fontconfig.properties format: every logical font and style is the one file, for Latin-1 text. */
    static void writeTable(Path table, Path ttf) throws IOException {
        Properties p = new Properties();
        p.setProperty("version", "1");
        for (String logical : LOGICAL) {
            for (String style : STYLES) p.setProperty(logical + "." + style + ".latin-1", "DejaVu Sans");
        }
        p.setProperty("sequence.allfonts", "latin-1");
        p.setProperty("filename.DejaVu_Sans", ttf.toAbsolutePath().toString());   // the name's spaces become '_' here
        try (OutputStream out = Files.newOutputStream(table)) {
            p.store(out, "logical fonts for the ecar compare chart (see ecar.cli.ChartFonts)");
        }
    }
}
