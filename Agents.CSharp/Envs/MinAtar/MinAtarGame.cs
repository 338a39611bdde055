using Prunerl.Agents.Checkpoints;

namespace Prunerl.Agents.Envs.MinAtar;

/// <summary>MinAtar's six actions, in the reference's order ('n', 'l', 'u', 'r', 'd', 'f').</summary>
public enum MinAtarAction { NoOp = 0, Left = 1, Up = 2, Right = 3, Down = 4, Fire = 5 }

/// <summary>
/// What every MinAtar game shares (Young and Tian 2019, the reference environment.py): a 10x10 grid of
/// boolean channels handed to agents channels-first as [C, 10, 10] floats; sticky actions (with the
/// given probability the previous action repeats; the previous action starts as no-op when the
/// environment is made and is not cleared between episodes); the full six actions or the game's
/// minimal set; difficulty ramping where the game has it. Subclasses hold one game's rules.
/// </summary>
public abstract class MinAtarGame : Environment
{
    /// <summary>Side of the square grid.</summary>
    public const int Size = 10;

    private readonly MinAtarAction[] actions;
    private readonly double stickyActionProbability;
    private MinAtarAction lastAction = MinAtarAction.NoOp;

    protected MinAtarGame(string id, int channels, MinAtarAction[] minimalActions, EnvironmentOptions options)
        : base(id, BoxSpace.Uniform(0, 1, channels, Size, Size),
               new DiscreteSpace(options.MinimalActionSet ? minimalActions.Length : 6), maxEpisodeSteps: null)
    {
        Channels = channels;
        actions = options.MinimalActionSet ? minimalActions : Enum.GetValues<MinAtarAction>();
        stickyActionProbability = options.StickyActionProbability;
        Ramping = options.DifficultyRamping;
    }

    /// <summary>Number of boolean channels.</summary>
    public int Channels { get; }

    /// <summary>Whether the game gets harder as it goes.</summary>
    public bool Ramping { get; }

    /// <summary>The game's action for an agent's action index.</summary>
    public MinAtarAction ActionAt(int index) => actions[index];

    protected sealed override void ResetCore(Span<float> observation)
    {
        ResetGame();
        observation.Clear();
        Draw(observation);
    }

    protected sealed override StepResult StepCore(int action, Span<float> observation)
    {
        var chosen = actions[action];
        if (Random.NextDouble() < stickyActionProbability) chosen = lastAction;
        lastAction = chosen;
        var (reward, terminal) = Act(chosen);
        observation.Clear();
        Draw(observation);
        return new StepResult(reward, terminal, false);
    }

    protected sealed override void SaveDynamics(StateWriter writer)
    {
        writer.Write((int)lastAction);
        SaveGame(writer);
    }

    protected sealed override void LoadDynamics(StateReader reader)
    {
        var action = (MinAtarAction)reader.ReadInt32();
        lastAction = Enum.IsDefined(action) ? action : throw reader.Problem($"{(int)action} is not a MinAtar action");
        LoadGame(reader);
    }

    /// <summary>Writes every field of the game that changes as it is played.</summary>
    protected abstract void SaveGame(StateWriter writer);

    /// <summary>Reads back what <see cref="SaveGame"/> wrote.</summary>
    protected abstract void LoadGame(StateReader reader);

    /// <summary>Starts a new game (the reference's reset()).</summary>
    protected abstract void ResetGame();

    /// <summary>Plays one action (after stickiness): the reward and whether the game is over (the reference's act()).</summary>
    protected abstract (float Reward, bool Terminal) Act(MinAtarAction action);

    /// <summary>Sets the cells of the current state in a cleared [C, 10, 10] observation (the reference's state()).</summary>
    protected abstract void Draw(Span<float> observation);

    /// <summary>Sets cell (y, x) of a channel.</summary>
    protected static void Set(Span<float> observation, int channel, int y, int x) =>
        observation[(channel * Size + y) * Size + x] = 1f;

    /// <summary>
    /// The grid as the reference displays it: each cell takes the colour of the highest channel set in
    /// it, from a cubehelix palette of one colour per channel (black where none is set).
    /// </summary>
    public override Frame Render() => Render(16);

    /// <summary>As Render(), with cells of <paramref name="cellPixels"/> pixels.</summary>
    public Frame Render(int cellPixels)
    {
        var palette = Palette(Channels);
        var frame = new Frame(Size * cellPixels, Size * cellPixels, Rgb.Black);
        var observation = Observation;
        for (var y = 0; y < Size; y++)
            for (var x = 0; x < Size; x++)
                for (var channel = Channels - 1; channel >= 0; channel--)
                    if (observation[(channel * Size + y) * Size + x] != 0)
                    {
                        frame.FillRectangle(x * cellPixels, y * cellPixels, cellPixels, cellPixels, palette[channel]);
                        break;
                    }
        return frame;
    }

    /// <summary>
    /// n colours of matplotlib's cubehelix map (Green 2011: start 0.5, rotations -1.5, hue 1, gamma 1)
    /// sampled as seaborn's color_palette("cubehelix", n) does, at the n inner points of n + 2.
    /// </summary>
    public static Rgb[] Palette(int n) =>
        Enumerable.Range(1, n).Select(k =>
        {
            var x = (double)k / (n + 1);
            var phi = 2 * Math.PI * (0.5 / 3 + -1.5 * x);
            var amplitude = x * (1 - x) / 2;
            byte Channel(double c) => (byte)Math.Round(255 * Math.Clamp(x + amplitude * c, 0, 1));
            return new Rgb(
                Channel(-0.14861 * Math.Cos(phi) + 1.78277 * Math.Sin(phi)),
                Channel(-0.29227 * Math.Cos(phi) - 0.90649 * Math.Sin(phi)),
                Channel(1.97294 * Math.Cos(phi)));
        }).ToArray();
}
