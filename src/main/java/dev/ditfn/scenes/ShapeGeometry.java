package dev.ditfn.scenes;

import java.awt.Shape;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Path2D;
import java.awt.geom.Rectangle2D;

/** The outline of an object in image pixel coordinates: the one place that decides what each shape looks like. */
final class ShapeGeometry {
    /** Inner over outer radius of the star. */
    static final double STAR_INNER = 0.45;
    /** Arm width of the cross over its extent. */
    static final double CROSS_ARM = 0.36;

    private ShapeGeometry() {
    }

    /** The outline of {@code shape} of {@code size}, centred in {@code cell} of an {@code imageSize}-wide image. */
    static Shape outline(SceneShape shape, SceneSize size, SceneCell cell, int imageSize) {
        double cellSide = imageSize / 3.0;
        double cx = (cell.column() + 0.5) * cellSide;
        double cy = (cell.row() + 0.5) * cellSide;
        double e = size.extent() * imageSize;
        double h = e / 2;
        return switch (shape) {
            case CIRCLE -> new Ellipse2D.Double(cx - h, cy - h, e, e);
            case SQUARE -> new Rectangle2D.Double(cx - h, cy - h, e, e);
            case TRIANGLE -> polygon(new double[] {cx, cx + h, cx - h}, new double[] {cy - h, cy + h, cy + h});
            case STAR -> star(cx, cy, h);
            case CROSS -> cross(cx, cy, h, CROSS_ARM * e / 2);
        };
    }

    private static Shape star(double cx, double cy, double outer) {
        double[] xs = new double[10];
        double[] ys = new double[10];
        for (int i = 0; i < 10; i++) {
            double r = i % 2 == 0 ? outer : outer * STAR_INNER;
            double angle = Math.PI * i / 5; // from straight up, clockwise
            xs[i] = cx + r * Math.sin(angle);
            ys[i] = cy - r * Math.cos(angle);
        }
        return polygon(xs, ys);
    }

    private static Shape cross(double cx, double cy, double h, double arm) {
        Path2D.Double p = new Path2D.Double();
        p.append(new Rectangle2D.Double(cx - arm, cy - h, 2 * arm, 2 * h), false);
        p.append(new Rectangle2D.Double(cx - h, cy - arm, 2 * h, 2 * arm), false);
        p.setWindingRule(Path2D.WIND_NON_ZERO);
        return p;
    }

    private static Shape polygon(double[] xs, double[] ys) {
        Path2D.Double p = new Path2D.Double();
        p.moveTo(xs[0], ys[0]);
        for (int i = 1; i < xs.length; i++) {
            p.lineTo(xs[i], ys[i]);
        }
        p.closePath();
        return p;
    }
}
