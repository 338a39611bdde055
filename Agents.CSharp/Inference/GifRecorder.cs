using Prunerl.Agents.Envs;
using Prunerl.Agents.Runtime;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing.Processors.Quantization;

namespace Prunerl.Agents.Inference;

/// <summary>
/// Collects rendered frames of evaluation episodes and writes them as an animated GIF that loops (the counterpart
/// of CleanRL's <c>--capture-video</c>), encoded by SixLabors.ImageSharp without dithering: with one exact colour
/// table for the whole animation when the frames have at most 256 colours (renders' flat colours; ImageSharp 2's own
/// global quantizers were seen to lose the background), else a quantized table per frame. Frames are scaled by nearest neighbour, so cells
/// and lines stay sharp; a GIF's delays are whole hundredths of a second, so the frame rate is approximate.
/// </summary>
public sealed class GifRecorder : IFrameSink
{
    /// <summary>Frames per second unless told: 30, Gymnasium's <c>render_fps</c> of MountainCar and Pendulum
    /// (gymnasium/envs/classic_control; CartPole's is 50, Acrobot's 15).</summary>
    public const int DefaultFramesPerSecond = 30;

    /// <summary>Frames kept unless told: 1000, 33 seconds at 30 per second; the rest of a longer episode is left out.</summary>
    public const int DefaultMaxFrames = 1000;

    private readonly List<(int Width, int Height, byte[] Pixels)> frames = [];

    /// <param name="episodes">Episodes recorded, from the first (at least 1).</param>
    /// <param name="scale">Each frame's size relative to the environment's render (> 0).</param>
    /// <param name="framesPerSecond">The animation's frame rate, 1 to 100.</param>
    /// <param name="maxFrames">Frames kept at most (at least 1).</param>
    public GifRecorder(int episodes = 1, double scale = 1, int framesPerSecond = DefaultFramesPerSecond, int maxFrames = DefaultMaxFrames)
    {
        if (episodes < 1) throw new ArgumentOutOfRangeException(nameof(episodes), $"episodes to record must be >= 1, got {episodes}");
        if (!(scale > 0 && scale <= 16)) throw new ArgumentOutOfRangeException(nameof(scale), $"scale must be in (0, 16], got {scale}");
        if (framesPerSecond is < 1 or > 100) throw new ArgumentOutOfRangeException(nameof(framesPerSecond), $"frames per second must be in [1, 100], got {framesPerSecond}");
        if (maxFrames < 1) throw new ArgumentOutOfRangeException(nameof(maxFrames), $"max frames must be >= 1, got {maxFrames}");
        Episodes = episodes;
        Scale = scale;
        FramesPerSecond = framesPerSecond;
        MaxFrames = maxFrames;
    }

    /// <summary>Episodes recorded, from the first.</summary>
    public int Episodes { get; }

    /// <summary>Each frame's size relative to the environment's render.</summary>
    public double Scale { get; }

    /// <summary>The animation's frame rate.</summary>
    public int FramesPerSecond { get; }

    /// <summary>Frames kept at most.</summary>
    public int MaxFrames { get; }

    /// <summary>Frames collected so far.</summary>
    public int Count => frames.Count;

    /// <summary>The delay between frames in hundredths of a second: 100 / fps rounded, at least 2 (browsers
    /// show a delay of 0 or 1 as 10).</summary>
    public int DelayCentiseconds => Math.Max(2, (int)Math.Round(100.0 / FramesPerSecond));

    /// <summary>Whether the episode is among the recorded ones and there is room for another frame.</summary>
    public bool Wants(int episode) => episode < Episodes && frames.Count < MaxFrames;

    /// <summary>Keeps the frame, scaled; frames beyond <see cref="MaxFrames"/> are dropped.</summary>
    public void Add(Frame frame)
    {
        if (frames.Count >= MaxFrames) return;
        var width = Math.Max(1, (int)Math.Round(frame.Width * Scale));
        var height = Math.Max(1, (int)Math.Round(frame.Height * Scale));
        if (frames.Count > 0 && (frames[0].Width, frames[0].Height) != (width, height))
            throw new ArgumentException($"every frame of an animation has one size: {frames[0].Width}x{frames[0].Height}, got {width}x{height}", nameof(frame));
        var pixels = new byte[width * height * 3];
        var source = frame.Pixels;
        for (var y = 0; y < height; y++)
        {
            var sy = Math.Min(frame.Height - 1, (int)(y * frame.Height / (double)height));
            for (var x = 0; x < width; x++)
            {
                var sx = Math.Min(frame.Width - 1, (int)(x * frame.Width / (double)width));
                source.Slice((sy * frame.Width + sx) * 3, 3).CopyTo(pixels.AsSpan((y * width + x) * 3));
            }
        }
        frames.Add((width, height, pixels));
    }

    /// <summary>Writes the animation to <paramref name="path"/>, whole or not at all.</summary>
    public void Save(string path) => AtomicFile.Write(path, Write);

    /// <summary>Colours a GIF's colour table holds at most.</summary>
    private const int MaxPaletteColours = 256;

    /// <summary>Every colour of the frames when they have at most 256 (renders' flat colours): one exact colour table
    /// for the whole animation; null for more (MuJoCo's shading), which each frame's own quantized table serves.</summary>
    private Color[]? Palette()
    {
        var colours = new HashSet<int>();
        foreach (var (_, _, pixels) in frames)
            for (var i = 0; i < pixels.Length; i += 3)
                if (colours.Add(pixels[i] << 16 | pixels[i + 1] << 8 | pixels[i + 2]) && colours.Count > MaxPaletteColours) return null;
        return colours.Order().Select(c => Color.FromRgb((byte)(c >> 16), (byte)(c >> 8), (byte)c)).ToArray();
    }

    /// <summary>Writes the animation to a stream.</summary>
    public void Write(Stream output)
    {
        if (frames.Count == 0) throw new InvalidOperationException("no frames to write: an animation needs at least one");
        using var image = Image.LoadPixelData<Rgb24>(frames[0].Pixels, frames[0].Width, frames[0].Height);
        var metadata = image.Metadata.GetGifMetadata();
        metadata.RepeatCount = 0;
        image.Frames.RootFrame.Metadata.GetGifMetadata().FrameDelay = DelayCentiseconds;
        foreach (var (width, height, pixels) in frames.Skip(1))
        {
            using var next = Image.LoadPixelData<Rgb24>(pixels, width, height);
            var added = image.Frames.AddFrame(next.Frames.RootFrame);
            added.Metadata.GetGifMetadata().FrameDelay = DelayCentiseconds;
        }
        var palette = Palette();
        var options = new QuantizerOptions { Dither = null, MaxColors = MaxPaletteColours };
        var encoder = palette is null
            ? new GifEncoder { ColorTableMode = GifColorTableMode.Local, Quantizer = new OctreeQuantizer(options) }
            : new GifEncoder { ColorTableMode = GifColorTableMode.Global, Quantizer = new PaletteQuantizer(palette, options) };
        image.SaveAsGif(output, encoder);
    }
}
