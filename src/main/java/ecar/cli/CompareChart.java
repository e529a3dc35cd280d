package ecar.cli;

import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.StandardChartTheme;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.labels.StandardCategoryItemLabelGenerator;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.title.TextTitle;
import org.jfree.data.category.DefaultCategoryDataset;

import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.text.DecimalFormat;
import java.util.List;

/**
 * The {@code compare} chart: TFLOP per image and seconds per image, side by side, log scales (JFreeChart); every text
 * in the bundled font ({@link ChartFonts}).
 */
final class CompareChart {
    private CompareChart() {}

    private static final Color[] COLORS = {new Color(0x4C72B0), new Color(0xDD8452), new Color(0x55A868), new Color(0xC44E52), new Color(0x8172B3)};

    static void write(Path out, List<CompareResult> rows, String backend, int size, int batch) throws IOException {
        Font titleFont = ChartFonts.plain(17);   // first: the font table must be in place before any other font is used
        DefaultCategoryDataset flops = new DefaultCategoryDataset(), latency = new DefaultCategoryDataset();
        for (CompareResult r : rows) {
            flops.addValue(r.flopsPerImage() / 1e12, r.name(), "TFLOP per image");
            latency.addValue(r.latencySeconds() / batch, r.name(), "seconds per image");
        }
        JFreeChart left = bars(flops, "Compute per image (analytic)", "TFLOP", "0.000");
        JFreeChart right = bars(latency, "Latency per image (measured)", "seconds", "0.00");
        int w = 1200, h = 560;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        g.setColor(Color.DARK_GRAY);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setFont(titleFont);
        g.drawString("ECAR vs DiT on " + backend + ": " + size + "² images, batch " + batch, 20, 28);
        left.draw(g, new Rectangle2D.Double(0, 40, w / 2.0, h - 40));
        right.draw(g, new Rectangle2D.Double(w / 2.0, 40, w / 2.0, h - 40));
        g.dispose();
        ImageOutput.writePng(img, out);
    }

    private static JFreeChart bars(DefaultCategoryDataset data, String title, String unit, String format) {
        JFreeChart chart = ChartFactory.createBarChart(null, null, unit, data, PlotOrientation.VERTICAL, true, false, false);
        chart.addSubtitle(new TextTitle(title));
        theme().apply(chart);
        chart.setBackgroundPaint(Color.WHITE);
        CategoryPlot plot = chart.getCategoryPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        double min = Double.MAX_VALUE, max = 0;
        for (int i = 0; i < data.getRowCount(); i++) {
            double v = data.getValue(i, 0).doubleValue();
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        LogAxis axis = new LogAxis(unit);
        axis.setLabelFont(ChartFonts.plain(13));
        axis.setTickLabelFont(ChartFonts.plain(12));
        axis.setSmallestValue(1e-9);
        // whole decades around the data, a tick per decade
        axis.setRange(Math.pow(10, Math.floor(Math.log10(min)) - (min == max ? 1 : 0)), Math.pow(10, Math.ceil(Math.log10(max * 1.5))));
        axis.setTickUnit(new org.jfree.chart.axis.NumberTickUnit(1));
        axis.setNumberFormatOverride(new DecimalFormat("0.####"));
        plot.setRangeAxis(axis);
        BarRenderer r = (BarRenderer) plot.getRenderer();
        r.setShadowVisible(false);
        r.setBarPainter(new org.jfree.chart.renderer.category.StandardBarPainter());
        r.setDefaultItemLabelGenerator(new StandardCategoryItemLabelGenerator("{2}", new DecimalFormat(format)));
        r.setDefaultItemLabelsVisible(true);
        r.setItemMargin(0.08);
        for (int i = 0; i < data.getRowCount(); i++) r.setSeriesPaint(i, COLORS[i % COLORS.length]);
        return chart;
    }

    /** JFreeChart's text sizes, all in the bundled font (its default theme names Tahoma, which few servers have). */
    private static StandardChartTheme theme() {
        StandardChartTheme t = new StandardChartTheme("ecar");
        t.setExtraLargeFont(ChartFonts.plain(18));
        t.setLargeFont(ChartFonts.plain(14));
        t.setRegularFont(ChartFonts.plain(12));
        t.setSmallFont(ChartFonts.plain(10));
        return t;
    }
}
