package dev.outbox.bench;

import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.DoubleUnaryOperator;
import javax.imageio.ImageIO;

/**
 * A PNG of part 8: at each steady rate, commit-to-consumer p50 and p99 (log scale) and CPU per
 * 100,000 events of the relay and of Debezium Server, both warmed. Java2D, like {@link LatencyPlot}.
 */
final class SideBySidePlot {

    /** One rate's medians: latencies in ms, CPU in seconds per 100,000 events. */
    record Point(
            int rate,
            double relayP50,
            double relayP99,
            double anchorP50,
            double anchorP99,
            double relayCpu,
            double anchorCpu) {}

    private static final int W = 1000;
    private static final int H = 520;
    private static final int PANEL_TOP = 70;
    private static final int PANEL_BOTTOM = 450;
    private static final Color RELAY = new Color(0x1f77b4);
    private static final Color RELAY_LIGHT = new Color(0x9ecae1);
    private static final Color ANCHOR = new Color(0xd62728);
    private static final Color ANCHOR_LIGHT = new Color(0xf4a6a6);

    private SideBySidePlot() {}

    static void write(Path file, String title, List<Point> points) throws IOException {
        BufferedImage image = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = LatencyPlot.canvas(image);
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        g.drawString(title, 20, 25);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));

        double maxMs = Math.max(
                10,
                points.stream()
                                .mapToDouble(p -> Math.max(p.relayP99(), p.anchorP99()))
                                .max()
                                .orElse(10)
                        * 1.5);
        double minMs = 0.5;
        DoubleUnaryOperator msY = ms -> PANEL_BOTTOM
                - (Math.log10(Math.max(minMs, ms)) - Math.log10(minMs))
                        / (Math.log10(maxMs) - Math.log10(minMs))
                        * (PANEL_BOTTOM - PANEL_TOP);
        panel(g, 70, 440, "commit to consumer, ms (log scale): p50 solid, p99 light", points, msY, true, maxMs, minMs);

        double maxCpu = Math.max(
                1,
                points.stream()
                                .mapToDouble(p -> Math.max(p.relayCpu(), p.anchorCpu()))
                                .max()
                                .orElse(1)
                        * 1.15);
        DoubleUnaryOperator cpuY = s -> PANEL_BOTTOM - s / maxCpu * (PANEL_BOTTOM - PANEL_TOP);
        panel(g, 580, 380, "CPU seconds per 100,000 events", points, cpuY, false, maxCpu, 0);

        legend(g, RELAY, "relay", 20);
        legend(g, ANCHOR, "Debezium Server 3.6.1", 120);
        g.dispose();
        ImageIO.write(image, "png", file.toFile());
    }

    private static void panel(
            Graphics2D g,
            int left,
            int width,
            String caption,
            List<Point> points,
            DoubleUnaryOperator y,
            boolean latency,
            double max,
            double min) {
        g.setColor(Color.DARK_GRAY);
        g.drawString(caption, left, PANEL_TOP - 12);
        // horizontal grid with labels
        if (latency) {
            for (double decade = 1; decade <= max; decade *= 10) {
                for (double m : new double[] {1, 2, 5}) {
                    double v = decade * m;
                    if (v >= min && v <= max) {
                        gridLine(g, left, width, (int) y.applyAsDouble(v), String.format("%.0f", v));
                    }
                }
            }
        } else {
            double step = niceStep(max);
            for (double v = 0; v <= max; v += step) {
                gridLine(g, left, width, (int) y.applyAsDouble(v), String.format("%.0f", v));
            }
        }
        g.setColor(Color.BLACK);
        g.drawRect(left, PANEL_TOP, width, PANEL_BOTTOM - PANEL_TOP);
        int group = width / Math.max(1, points.size());
        for (int i = 0; i < points.size(); i++) {
            Point p = points.get(i);
            int x0 = left + i * group + group / 6;
            int bar = (group * 2 / 3) / (latency ? 4 : 2);
            if (latency) {
                bar(g, y, x0, bar, p.relayP50(), RELAY);
                bar(g, y, x0 + bar, bar, p.relayP99(), RELAY_LIGHT);
                bar(g, y, x0 + 2 * bar, bar, p.anchorP50(), ANCHOR);
                bar(g, y, x0 + 3 * bar, bar, p.anchorP99(), ANCHOR_LIGHT);
            } else {
                bar(g, y, x0, bar, p.relayCpu(), RELAY);
                bar(g, y, x0 + bar, bar, p.anchorCpu(), ANCHOR);
            }
            g.setColor(Color.DARK_GRAY);
            g.drawString(String.format("%,d/s", p.rate()), left + i * group + group / 2 - 20, PANEL_BOTTOM + 18);
        }
    }

    private static void gridLine(Graphics2D g, int left, int width, int yy, String label) {
        g.setColor(new Color(0xe5e5e5));
        g.drawLine(left, yy, left + width, yy);
        g.setColor(Color.DARK_GRAY);
        g.drawString(label, left - 8 - g.getFontMetrics().stringWidth(label), yy + 4);
    }

    private static void bar(Graphics2D g, DoubleUnaryOperator y, int x, int w, double value, Color color) {
        if (Double.isNaN(value)) {
            return;
        }
        int top = (int) y.applyAsDouble(value);
        g.setColor(color);
        g.fillRect(x + 1, top, w - 2, PANEL_BOTTOM - top);
        g.setColor(Color.BLACK);
        String label = value >= 10 ? String.format("%.0f", value) : String.format("%.1f", value);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 10));
        g.drawString(label, x + w / 2 - g.getFontMetrics().stringWidth(label) / 2, top - 3);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    }

    private static void legend(Graphics2D g, Color color, String name, int x) {
        g.setColor(color);
        g.fillRect(x, H - 28, 14, 14);
        g.setColor(Color.BLACK);
        g.drawString(name, x + 20, H - 16);
    }

    private static double niceStep(double max) {
        for (double step : new double[] {1, 2, 5, 10, 20, 25, 50, 100, 200, 500}) {
            if (max / step <= 8) {
                return step;
            }
        }
        return 1000;
    }
}
