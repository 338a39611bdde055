namespace Prunerl.Agents.Envs.ClassicControl;

/// <summary>
/// Drawing in the coordinates Gymnasium's classic-control renderers use: y grows upwards from the
/// bottom of the picture (they draw on a surface and flip it vertically at the end), shapes are
/// rectangles given by their left, right, bottom and top edges, rotated about the origin
/// (anticlockwise, as pygame's <c>rotate_rad</c>) and then moved into place.
/// </summary>
internal readonly struct ClassicCanvas(Frame frame)
{
    public Frame Frame => frame;

    /// <summary>The rectangle [left, right] x [bottom, top], rotated by <paramref name="angle"/> and moved by (dx, dy).</summary>
    public void FillRotatedRectangle(double left, double right, double bottom, double top, double angle, double dx, double dy, Rgb colour)
    {
        var (sin, cos) = Math.SinCos(angle);
        ReadOnlySpan<double> cornerXs = [left, left, right, right];
        ReadOnlySpan<double> cornerYs = [bottom, top, top, bottom];
        Span<double> xs = stackalloc double[4];
        Span<double> ys = stackalloc double[4];
        for (var i = 0; i < 4; i++)
        {
            xs[i] = cornerXs[i] * cos - cornerYs[i] * sin + dx;
            ys[i] = cornerXs[i] * sin + cornerYs[i] * cos + dy;
        }
        FillConvexPolygon(xs, ys, colour);
    }

    /// <summary>Fills the convex polygon with these vertices (in order): every pixel whose centre lies inside.</summary>
    public void FillConvexPolygon(ReadOnlySpan<double> xs, ReadOnlySpan<double> ys, Rgb colour)
    {
        var bottom = double.MaxValue;
        var top = double.MinValue;
        foreach (var y in ys)
        {
            bottom = Math.Min(bottom, y);
            top = Math.Max(top, y);
        }
        // Rows of the flipped picture: row r of the frame covers heights [H - 1 - r, H - r].
        for (var row = (int)Math.Floor(bottom); row <= (int)Math.Ceiling(top); row++)
        {
            var centre = row + 0.5;
            var from = double.MaxValue;
            var to = double.MinValue;
            for (var i = 0; i < xs.Length; i++)
            {
                var j = (i + 1) % xs.Length;
                var (y0, y1) = (ys[i], ys[j]);
                if ((centre < y0) == (centre < y1)) continue;
                var x = xs[i] + (centre - y0) * (xs[j] - xs[i]) / (y1 - y0);
                from = Math.Min(from, x);
                to = Math.Max(to, x);
            }
            if (from > to) continue;
            var frameRow = frame.Height - 1 - row;
            for (var column = (int)Math.Ceiling(from - 0.5); column + 0.5 <= to; column++)
                frame.Plot(column, frameRow, colour);
        }
    }

    /// <summary>A filled circle about the pixel (x, y), as pygame's <c>filled_circle</c> with integer arguments.</summary>
    public void FillCircle(int x, int y, int radius, Rgb colour) =>
        frame.FillCircle(x + 0.5, frame.Height - y - 0.5, radius, colour);

    /// <summary>A line between two points, <paramref name="thickness"/> pixels wide; at most 1 wide, the
    /// pixels it passes through (as pygame's one-pixel lines).</summary>
    public void DrawLine(double x0, double y0, double x1, double y1, double thickness, Rgb colour)
    {
        if (thickness > 1)
        {
            frame.DrawLine(x0, frame.Height - y0, x1, frame.Height - y1, thickness, colour);
            return;
        }
        var steps = Math.Max(1, (int)Math.Ceiling(Math.Max(Math.Abs(x1 - x0), Math.Abs(y1 - y0))));
        for (var k = 0; k <= steps; k++)
        {
            var t = (double)k / steps;
            frame.Plot((int)Math.Floor(x0 + t * (x1 - x0)), frame.Height - 1 - (int)Math.Floor(y0 + t * (y1 - y0)), colour);
        }
    }
}
