package dev.outbox.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * A PNG of commit-to-consumer latency percentiles (log scale) against the offered event
 * rate, drawn with the JDK's own Java2D so the benchmark needs no plotting library.
 */
final class LatencyPlot {

    /** One offered rate: p50, p95, p99 and max in milliseconds (medians over the repeats). */
    record Point(double rate, double p50, double p95, double p99, double max) {}

    private static final int W = 900;
    private static final int H = 560;
    private static final int LEFT = 80;
    private static final int RIGHT = 170;
    private static final int TOP = 50;
    private static final int BOTTOM = 60;
    private static final Color[] COLORS = {
        new Color(0x1f77b4), new Color(0x2ca02c), new Color(0xff7f0e), new Color(0xd62728)
    };
    private static final String[] NAMES = {"p50", "p95", "p99", "max"};

    private LatencyPlot() {}

    static void write(
            Path file, String title, List<Point> points, double targetRate, double targetP50, double targetP99)
            throws IOException {
        BufferedImage image = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = LatencyPlot.canvas(image);
        double maxRate = points.stream().mapToDouble(Point::rate).max().orElse(1) * 1.1;
        double minMs = 0.5;
        double maxMs =
                Math.max(100, points.stream().mapToDouble(Point::max).max().orElse(100) * 1.5);
        int plotW = W - LEFT - RIGHT;
        int plotH = H - TOP - BOTTOM;
        java.util.function.DoubleUnaryOperator x = r -> LEFT + r / maxRate * plotW;
        java.util.function.DoubleUnaryOperator y = ms -> TOP
                + plotH
                - (Math.log10(Math.max(minMs, ms)) - Math.log10(minMs))
                        / (Math.log10(maxMs) - Math.log10(minMs))
                        * plotH;

        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        // grid and y labels: 1, 2, 5 x 10^k ms
        for (double decade = 1; decade <= maxMs; decade *= 10) {
            for (double m : new double[] {1, 2, 5}) {
                double ms = decade * m;
                if (ms < minMs || ms > maxMs) {
                    continue;
                }
                int yy = (int) y.applyAsDouble(ms);
                g.setColor(m == 1 ? new Color(0xcccccc) : new Color(0xeeeeee));
                g.drawLine(LEFT, yy, LEFT + plotW, yy);
                g.setColor(Color.DARK_GRAY);
                g.drawString(
                        ms >= 1000 ? String.format("%.0f s", ms / 1000) : String.format("%.0f ms", ms), 20, yy + 4);
            }
        }
        // x labels
        int step = niceStep(maxRate);
        for (int r = 0; r <= maxRate; r += step) {
            int xx = (int) x.applyAsDouble(r);
            g.setColor(new Color(0xeeeeee));
            g.drawLine(xx, TOP, xx, TOP + plotH);
            g.setColor(Color.DARK_GRAY);
            g.drawString(String.format("%,d", r), xx - 15, TOP + plotH + 18);
        }
        g.setColor(Color.BLACK);
        g.drawRect(LEFT, TOP, plotW, plotH);
        g.drawString(
                "offered events/s (single-row to few-row transactions, 4 writer threads)",
                LEFT + plotW / 2 - 200,
                H - 15);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        g.drawString(title, LEFT, 30);

        // targets: p50 and p99 at the target rate
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        g.setStroke(new BasicStroke(1f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {4f, 4f}, 0f));
        g.setColor(Color.GRAY);
        int tx = (int) x.applyAsDouble(targetRate);
        g.drawLine(tx, TOP, tx, TOP + plotH);
        for (double t : new double[] {targetP50, targetP99}) {
            int ty = (int) y.applyAsDouble(t);
            g.drawLine(tx - 30, ty, tx + 30, ty);
            g.drawString(String.format("target %.0f ms", t), tx + 34, ty + 4);
        }

        // series
        g.setStroke(new BasicStroke(2f));
        for (int s = 0; s < 4; s++) {
            g.setColor(COLORS[s]);
            int px = -1;
            int py = -1;
            for (Point p : points) {
                double ms = switch (s) {
                    case 0 -> p.p50();
                    case 1 -> p.p95();
                    case 2 -> p.p99();
                    default -> p.max();
                };
                int xx = (int) x.applyAsDouble(p.rate());
                int yy = (int) y.applyAsDouble(ms);
                g.fillOval(xx - 4, yy - 4, 8, 8);
                if (px >= 0) {
                    g.drawLine(px, py, xx, yy);
                }
                px = xx;
                py = yy;
            }
            g.fillRect(W - RIGHT + 20, TOP + 10 + s * 22, 14, 14);
            g.setColor(Color.BLACK);
            g.drawString(NAMES[s], W - RIGHT + 42, TOP + 22 + s * 22);
        }
        g.dispose();
        ImageIO.write(image, "png", file.toFile());
    }

    /** A white, antialiased drawing surface over {@code image} (both plots start from it). */
    static Graphics2D canvas(BufferedImage image) {
        Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, image.getWidth(), image.getHeight());
        return g;
    }

    private static int niceStep(double max) {
        for (int step : new int[] {500, 1000, 2000, 5000, 10000, 20000}) {
            if (max / step <= 10) {
                return step;
            }
        }
        return 50000;
    }
}
