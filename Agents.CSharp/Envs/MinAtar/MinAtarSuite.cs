namespace Prunerl.Agents.Envs.MinAtar;

/// <summary>The MinAtar games in the registry.</summary>
public static class MinAtarSuite
{
    public static readonly IReadOnlyList<EnvironmentEntry> Entries =
    [
        new("minatar/breakout", "MinAtar Breakout: bounce the ball into the bricks (4 channels; minimal actions n, l, r)", o => new Breakout(o)),
        new("minatar/freeway", "MinAtar Freeway: cross the traffic, 2500 steps (7 channels; minimal actions n, u, d)", o => new Freeway(o)),
        new("minatar/asterix", "MinAtar Asterix: pick up gold, avoid enemies, ramping (4 channels; minimal actions n, l, u, r, d)", o => new Asterix(o)),
    ];
}
