namespace Prunerl.Agents.Envs;

/// <summary>A colour, 8 bits per channel.</summary>
public readonly record struct Rgb(byte R, byte G, byte B)
{
    public static readonly Rgb Black = new(0, 0, 0);
    public static readonly Rgb White = new(255, 255, 255);
}

/// <summary>An RGB picture, row by row from the top-left, with the few drawing operations renderers need.</summary>
public sealed class Frame
{
    private readonly byte[] pixels;

    public Frame(int width, int height, Rgb background)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"a frame must be at least 1x1, got {width}x{height}");
        Width = width;
        Height = height;
        pixels = new byte[width * height * 3];
        FillRectangle(0, 0, width, height, background);
    }

    public int Width { get; }
    public int Height { get; }

    /// <summary>The pixels, 3 bytes (R, G, B) each, row by row.</summary>
    public ReadOnlySpan<byte> Pixels => pixels;

    public Rgb this[int x, int y]
    {
        get
        {
            var i = (y * Width + x) * 3;
            return new Rgb(pixels[i], pixels[i + 1], pixels[i + 2]);
        }
    }

    /// <summary>Colours the pixel, if it lies inside the frame.</summary>
    public void Plot(int x, int y, Rgb colour)
    {
        if ((uint)x >= (uint)Width || (uint)y >= (uint)Height) return;
        var i = (y * Width + x) * 3;
        pixels[i] = colour.R;
        pixels[i + 1] = colour.G;
        pixels[i + 2] = colour.B;
    }

    /// <summary>Fills the rectangle with top-left corner (x, y), clipped to the frame.</summary>
    public void FillRectangle(int x, int y, int width, int height, Rgb colour)
    {
        for (var row = Math.Max(0, y); row < Math.Min(Height, y + height); row++)
            for (var column = Math.Max(0, x); column < Math.Min(Width, x + width); column++)
                Plot(column, row, colour);
    }

    /// <summary>Fills the disc of the given centre and radius.</summary>
    public void FillCircle(double centreX, double centreY, double radius, Rgb colour)
    {
        for (var y = (int)Math.Floor(centreY - radius); y <= (int)Math.Ceiling(centreY + radius); y++)
            for (var x = (int)Math.Floor(centreX - radius); x <= (int)Math.Ceiling(centreX + radius); x++)
                if ((x + 0.5 - centreX) * (x + 0.5 - centreX) + (y + 0.5 - centreY) * (y + 0.5 - centreY) <= radius * radius)
                    Plot(x, y, colour);
    }

    /// <summary>Draws a line of the given thickness with round ends.</summary>
    public void DrawLine(double x0, double y0, double x1, double y1, double thickness, Rgb colour)
    {
        var steps = Math.Max(1, (int)Math.Ceiling(Math.Max(Math.Abs(x1 - x0), Math.Abs(y1 - y0))));
        for (var k = 0; k <= steps; k++)
        {
            var t = (double)k / steps;
            FillCircle(x0 + t * (x1 - x0), y0 + t * (y1 - y0), thickness / 2, colour);
        }
    }

    /// <summary>Frames side by side, left to right, separated by <paramref name="gap"/> pixels: an episode at a glance.</summary>
    public static Frame Strip(IReadOnlyList<Frame> frames, int gap, Rgb background)
    {
        if (frames.Count == 0) throw new ArgumentException("a strip needs at least one frame", nameof(frames));
        var strip = new Frame(frames.Sum(f => f.Width) + gap * (frames.Count - 1), frames.Max(f => f.Height), background);
        var left = 0;
        foreach (var frame in frames)
        {
            for (var y = 0; y < frame.Height; y++)
                frame.pixels.AsSpan(y * frame.Width * 3, frame.Width * 3).CopyTo(strip.pixels.AsSpan((y * strip.Width + left) * 3));
            left += frame.Width + gap;
        }
        return strip;
    }
}
