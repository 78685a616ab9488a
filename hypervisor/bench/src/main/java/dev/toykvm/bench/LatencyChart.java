package dev.toykvm.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.DecimalFormat;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramIterationValue;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.TextTitle;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * The chart of a benchmark: one panel per placement (rows) and access kind (columns), each with the
 * cumulative distribution of the per-access latency of every route, and the 2-JVM pipe floor as a
 * dashed reference. The latency axis is logarithmic: the routes differ by factors, and the tails
 * matter.
 */
final class LatencyChart {
  private LatencyChart() {}

  private static final int PANEL_WIDTH = 400;
  private static final int PANEL_HEIGHT = 300;

  private static final Map<String, Color> COLORS =
      Map.of(
          "ioregionfd",
          new Color(0x1f77b4),
          "vmm",
          new Color(0xd62728),
          "in-process",
          new Color(0x2ca02c),
          Measurement.FLOOR_JVMS,
          Color.DARK_GRAY);

  /**
   * Writes the chart of {@code ms} to {@code png}.
   *
   * @throws IOException if the file cannot be written
   */
  static void write(List<Measurement> ms, Path png) throws IOException {
    System.setProperty("java.awt.headless", "true");
    List<Placement> placements = ms.stream().map(Measurement::placement).distinct().toList();
    List<String> kinds =
        ms.stream().filter(m -> !m.isFloor()).map(Measurement::kind).distinct().toList();
    if (kinds.isEmpty()) {
      kinds = List.of(Measurement.PING_PONG);
    }
    BufferedImage image =
        new BufferedImage(
            PANEL_WIDTH * kinds.size(),
            PANEL_HEIGHT * placements.size(),
            BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
      g.setColor(Color.WHITE);
      g.fillRect(0, 0, image.getWidth(), image.getHeight());
      for (int row = 0; row < placements.size(); row++) {
        for (int col = 0; col < kinds.size(); col++) {
          JFreeChart chart = panel(ms, placements.get(row), kinds.get(col));
          chart.draw(
              g,
              new Rectangle2D.Double(
                  col * PANEL_WIDTH, row * PANEL_HEIGHT, PANEL_WIDTH, PANEL_HEIGHT));
        }
      }
    } finally {
      g.dispose();
    }
    Path dir = png.toAbsolutePath().getParent();
    if (dir != null) {
      Files.createDirectories(dir);
    }
    try (OutputStream out = Files.newOutputStream(png)) {
      ChartUtils.writeBufferedImageAsPNG(out, image, true, 9);
    }
  }

  private static JFreeChart panel(List<Measurement> ms, Placement placement, String kind) {
    XYSeriesCollection data = new XYSeriesCollection();
    XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, false);
    for (Measurement m : ms) {
      boolean reference = m.path().equals(Measurement.FLOOR_JVMS);
      if (!m.placement().equals(placement) || !(m.kind().equals(kind) || reference)) {
        continue;
      }
      if (m.count() == 0) {
        continue;
      }
      int index = data.getSeriesCount();
      data.addSeries(cdf(m.path(), m.latencies()));
      renderer.setSeriesPaint(index, COLORS.getOrDefault(m.path(), Color.GRAY));
      renderer.setSeriesStroke(
          index,
          reference
              ? new BasicStroke(
                  1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f)
              : new BasicStroke(2f));
    }
    JFreeChart chart =
        ChartFactory.createXYLineChart(
            null,
            null,
            "accesses at or below (%)",
            data,
            PlotOrientation.VERTICAL,
            true,
            false,
            false);
    chart.setTitle(
        new TextTitle(kind + ", " + placement.name(), new Font("SansSerif", Font.BOLD, 13)));
    chart.setBackgroundPaint(Color.WHITE);
    XYPlot plot = chart.getXYPlot();
    plot.setRenderer(renderer);
    plot.setBackgroundPaint(Color.WHITE);
    plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
    plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
    LogAxis latency = new LogAxis("latency per access (us)");
    latency.setBase(10);
    latency.setNumberFormatOverride(new DecimalFormat("0.##"));
    latency.setSmallestValue(0.01);
    plot.setDomainAxis(latency);
    NumberAxis percent = (NumberAxis) plot.getRangeAxis();
    percent.setRange(0, 100);
    return chart;
  }

  /** The cumulative distribution, in us, at log-spaced latencies. */
  private static XYSeries cdf(String name, Histogram h) {
    XYSeries s = new XYSeries(name, true, true);
    for (HistogramIterationValue v : h.logarithmicBucketValues(20, 1.05)) {
      if (v.getTotalCountToThisValue() == 0) {
        continue;
      }
      s.add(v.getValueIteratedTo() / 1000.0, v.getPercentile());
      if (v.getTotalCountToThisValue() >= h.getTotalCount()) {
        break;
      }
    }
    return s;
  }
}
