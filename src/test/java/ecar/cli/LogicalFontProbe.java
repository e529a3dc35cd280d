package ecar.cli;

import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;

/**
 * Run in {@link CompareWithoutFontsTest}'s sandbox: draws text in a logical font as any Java program would. It must
 * fail there ("Fontconfig head is null"; "No physical fonts found" where the JDK cached an earlier fontconfig answer),
 * or the sandbox still has fonts and the test would prove nothing.
 */
final class LogicalFontProbe {
    private LogicalFontProbe() {}

    public static void main(String[] args) {
        Graphics2D g = new BufferedImage(200, 40, BufferedImage.TYPE_INT_RGB).createGraphics();
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 14));
        g.drawString("text", 10, 20);
        System.out.println("drew text with " + g.getFont().getFontName());
    }
}
