package dev.ditfn.bench;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The bench's pictures, drawn with Graphics2D (headless) and the default font. */
final class Charts {
    private static final int LABEL_W = 230;
    private static final int HEADER_H = 20;
    private static final Color[] PALETTE = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c),
            new Color(0x9467bd), new Color(0xff7f0e), new Color(0x8c564b), new Color(0xe377c2), new Color(0x17becf)};

    private Charts() {
    }

    static void writePng(BufferedImage image, Path file) throws IOException {
        ImageIO.write(image, "png", file.toFile());
    }

    /**
     * Rows = settings (per step count), columns = prompt/seed images (first round), each row labelled with the
     * setting, step count, speedup and mean/worst PSNR; each column with prompt index and seed.
     */
    static BufferedImage contactSheet(List<BenchCommand.Row> rows, Map<Integer, List<BenchCommand.Sample>> samples,
            List<String> prompts) {
        List<String> columns = new ArrayList<>();
        Map<String, BufferedImage> images = new LinkedHashMap<>();
        int cell = 128;
        for (List<BenchCommand.Sample> list : samples.values()) {
            for (BenchCommand.Sample s : list) {
                String col = s.prompt() + "/" + s.seed();
                if (!columns.contains(col)) {
                    columns.add(col);
                }
                images.putIfAbsent(s.steps() + "|" + s.setting() + "|" + col, s.image());
            }
        }
        int w = LABEL_W + columns.size() * (cell + 4);
        int h = HEADER_H + rows.size() * (cell + 4);
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = start(out);
        g.setColor(Color.BLACK);
        for (int c = 0; c < columns.size(); c++) {
            String[] ps = columns.get(c).split("/");
            g.drawString("prompt " + (Integer.parseInt(ps[0]) + 1) + ", seed " + ps[1], LABEL_W + c * (cell + 4) + 2,
                    14);
        }
        for (int r = 0; r < rows.size(); r++) {
            BenchCommand.Row row = rows.get(r);
            int y = HEADER_H + r * (cell + 4);
            g.setColor(Color.BLACK);
            g.drawString(row.setting(), 6, y + 18);
            g.drawString(row.steps() + " steps", 6, y + 36);
            g.drawString(String.format(Locale.ROOT, "speedup %.2fx", row.speedup()), 6, y + 54);
            g.drawString("PSNR " + BenchReport.db(row.meanPsnr()) + " dB mean", 6, y + 72);
            g.drawString("PSNR " + BenchReport.db(row.worstPsnr()) + " dB worst", 6, y + 90);
            for (int c = 0; c < columns.size(); c++) {
                BufferedImage img = images.get(row.steps() + "|" + row.setting() + "|" + columns.get(c));
                if (img != null) {
                    g.drawImage(img, LABEL_W + c * (cell + 4), y, cell, cell, null);
                }
            }
        }
        g.dispose();
        return out;
    }

    /** Scatter of worst PSNR (y) over speedup (x), one labelled point per setting and step count. */
    static BufferedImage speedQuality(List<BenchCommand.Row> rows) {
        int w = 900;
        int h = 600;
        int left = 70;
        int right = 30;
        int top = 40;
        int bottom = 60;
        List<BenchCommand.Row> cached = rows.stream().filter(r -> Double.isFinite(r.worstPsnr())).toList();
        double xMin = 0.5;
        double xMax = Math.max(2.0, rows.stream().mapToDouble(BenchCommand.Row::speedup).max().orElse(2) * 1.1);
        double yMin = Math.max(0, Math.floor(cached.stream().mapToDouble(BenchCommand.Row::worstPsnr).min()
                .orElse(20) / 5) * 5 - 5);
        double yMax = Math.ceil(cached.stream().mapToDouble(BenchCommand.Row::worstPsnr).max().orElse(50) / 5) * 5
                + 5;
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = start(out);
        int pw = w - left - right;
        int ph = h - top - bottom;
        g.setColor(Color.BLACK);
        String title = "worst PSNR vs uncached over speedup; triangles on the top edge: identical to uncached";
        g.drawString(title, w - right - g.getFontMetrics().stringWidth(title), 20);
        g.drawRect(left, top, pw, ph);
        FontMetrics fm = g.getFontMetrics();
        double xStep = niceStep(xMax - xMin);
        for (double x = Math.ceil(xMin / xStep) * xStep; x <= xMax + 1e-9; x += xStep) {
            int px = left + (int) Math.round((x - xMin) / (xMax - xMin) * pw);
            g.setColor(new Color(0xdddddd));
            g.drawLine(px, top, px, top + ph);
            g.setColor(Color.BLACK);
            g.drawLine(px, top + ph, px, top + ph + 5);
            String label = String.format(Locale.ROOT, "%.2f", x);
            g.drawString(label, px - fm.stringWidth(label) / 2, top + ph + 20);
        }
        double yStep = niceStep(yMax - yMin);
        for (double y = Math.ceil(yMin / yStep) * yStep; y <= yMax + 1e-9; y += yStep) {
            int py = top + ph - (int) Math.round((y - yMin) / (yMax - yMin) * ph);
            g.setColor(new Color(0xdddddd));
            g.drawLine(left, py, left + pw, py);
            g.setColor(Color.BLACK);
            g.drawLine(left - 5, py, left, py);
            String label = String.format(Locale.ROOT, "%.0f", y);
            g.drawString(label, left - 8 - fm.stringWidth(label), py + 4);
        }
        g.drawString("speedup vs none (x)", left + pw / 2 - 50, h - 15);
        g.drawString("worst PSNR (dB)", 5, top - 8);
        List<String> names = rows.stream().map(BenchCommand.Row::setting).distinct().toList();
        int stacked = 0; // labels of points on the top edge are stacked so they do not overlap
        for (BenchCommand.Row r : rows) { // identical images (infinite PSNR) sit on the top edge, as triangles
            boolean identical = !Double.isFinite(r.worstPsnr());
            int px = left + (int) Math.round((Math.max(xMin, Math.min(xMax, r.speedup())) - xMin) / (xMax - xMin)
                    * pw);
            int py = identical ? top : top + ph - (int) Math.round((r.worstPsnr() - yMin) / (yMax - yMin) * ph);
            g.setColor(PALETTE[names.indexOf(r.setting()) % PALETTE.length]);
            if (identical) {
                g.fillPolygon(new int[] {px - 6, px + 6, px}, new int[] {py, py, py + 10}, 3);
            } else {
                g.fillOval(px - 5, py - 5, 10, 10);
            }
            String label = r.setting() + " @" + r.steps() + (identical ? " (identical)" : "");
            int lx = px + 8 + fm.stringWidth(label) > w - 4 ? px - 8 - fm.stringWidth(label) : px + 8;
            g.drawString(label, lx, identical ? py + 22 + 14 * stacked++ : py - 4);
        }
        g.dispose();
        return out;
    }

    private static double niceStep(double range) {
        double raw = range / 8;
        double mag = Math.pow(10, Math.floor(Math.log10(raw)));
        for (double m : new double[] {1, 2, 2.5, 5, 10}) {
            if (m * mag >= raw) {
                return m * mag;
            }
        }
        return 10 * mag;
    }

    private static Graphics2D start(BufferedImage img) {
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, img.getWidth(), img.getHeight());
        g.setStroke(new BasicStroke(1f));
        return g;
    }
}
