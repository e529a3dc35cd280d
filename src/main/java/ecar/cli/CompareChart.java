package ecar.cli;

import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.StandardChartTheme;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.labels.StandardCategoryItemLabelGenerator;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
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
import java.text.FieldPosition;
import java.text.NumberFormat;
import java.text.ParsePosition;
import java.util.stream.Collectors;

/**
 * The {@code compare} chart (JFreeChart): TFLOP per image (counted) and measured seconds per image at each batch
 * size, side by side, log scales; every text in the bundled font ({@link ChartFonts}).
 */
final class CompareChart {
    private CompareChart() {}

    private static final Color[] COLORS = {new Color(0x4C72B0), new Color(0xDD8452), new Color(0x55A868), new Color(0xC44E52), new Color(0x8172B3)};

    static void write(Path out, CompareRun run) throws IOException {
        Font titleFont = ChartFonts.plain(17);   // first: the font table must be in place before any other font is used
        DefaultCategoryDataset flops = new DefaultCategoryDataset(), latency = new DefaultCategoryDataset();
        for (CompareResult r : run.results()) {
            flops.addValue(r.model().flopsPerImage() / 1e12, r.name(), "TFLOP per image");
            for (BatchMeasurement m : r.batches()) {
                if (m.isMeasured()) latency.addValue(m.latencySeconds() / m.batch(), r.name(), "batch " + m.batch());
            }
        }
        JFreeChart left = bars(flops, "Compute per image (counted)", "TFLOP");
        JFreeChart right = bars(latency, "Latency per image (measured)", "seconds");
        int w = 1200, h = 560;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        g.setColor(Color.DARK_GRAY);
        g.setFont(titleFont);
        g.drawString(run.results().stream().map(CompareResult::name).collect(Collectors.joining(" vs ")) + " on " + run.backend() + ": "
                + run.plan().imageSize() + "² images, batch "
                + run.plan().batches().stream().map(String::valueOf).collect(Collectors.joining(", ")), 20, 28);
        left.draw(g, new Rectangle2D.Double(0, 40, w / 2.0, h - 40));
        right.draw(g, new Rectangle2D.Double(w / 2.0, 40, w / 2.0, h - 40));
        g.dispose();
        ImageOutput.writePng(img, out);
    }

    private static JFreeChart bars(DefaultCategoryDataset data, String title, String unit) {
        JFreeChart chart = ChartFactory.createBarChart(null, null, unit, data, PlotOrientation.VERTICAL, true, false, false);
        chart.addSubtitle(new TextTitle(title));
        theme().apply(chart);
        chart.setBackgroundPaint(Color.WHITE);
        CategoryPlot plot = chart.getCategoryPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        plot.setNoDataMessage("no batch finished (out of memory)");
        plot.setNoDataMessageFont(ChartFonts.plain(14));
        double min = Double.POSITIVE_INFINITY, max = 0;
        for (int i = 0; i < data.getRowCount(); i++) {
            for (int j = 0; j < data.getColumnCount(); j++) {
                Number v = data.getValue(i, j);   // null: that model did not run at that batch size
                if (v == null) continue;
                min = Math.min(min, v.doubleValue());
                max = Math.max(max, v.doubleValue());
            }
        }
        if (max == 0) {   // nothing to show: any decade will do behind the no-data message
            min = 0.1;
            max = 1;
        }
        LogAxis axis = new LogAxis(unit);
        axis.setLabelFont(ChartFonts.plain(13));
        axis.setTickLabelFont(ChartFonts.plain(12));
        axis.setSmallestValue(1e-12);
        // whole decades around the data, a tick per decade (the bottom one just inside: rounding dropped its label)
        axis.setRange(0.999 * Math.pow(10, Math.floor(Math.log10(min)) - (min == max ? 1 : 0)), Math.pow(10, Math.ceil(Math.log10(max * 1.5))));
        axis.setTickUnit(new NumberTickUnit(1));
        axis.setNumberFormatOverride(new Significant(3));
        plot.setRangeAxis(axis);
        BarRenderer r = (BarRenderer) plot.getRenderer();
        r.setShadowVisible(false);
        r.setBarPainter(new StandardBarPainter());
        r.setDefaultItemLabelGenerator(new StandardCategoryItemLabelGenerator("{2}", new Significant(3)));
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

    /** Bar labels and decade ticks with a few significant digits, whatever the magnitude (0.000123 s, 118.6 TFLOP). */
    static final class Significant extends NumberFormat {
        private final int digits;

        Significant(int digits) {
            this.digits = digits;
        }

        @Override
        public StringBuffer format(double v, StringBuffer to, FieldPosition pos) {
            if (v == 0 || !Double.isFinite(v)) return to.append(v == 0 ? "0" : Double.toString(v));
            return to.append(new java.math.BigDecimal(v).round(new java.math.MathContext(digits)).stripTrailingZeros().toPlainString());
        }

        @Override
        public StringBuffer format(long v, StringBuffer to, FieldPosition pos) {
            return format((double) v, to, pos);
        }

        @Override
        public Number parse(String s, ParsePosition pos) {
            pos.setErrorIndex(pos.getIndex());   // chart labels are only formatted: nothing parses them back
            return null;                         // NumberFormat's contract for text it does not read
        }
    }
}
