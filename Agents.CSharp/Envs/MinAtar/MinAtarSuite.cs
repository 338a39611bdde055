namespace Prunerl.Agents.Envs.MinAtar;

/// <summary>The MinAtar games in the registry.</summary>
public static class MinAtarSuite
{
    public static readonly IReadOnlyList<EnvironmentEntry> Entries =
    [
        new("minatar/breakout", "MinAtar Breakout: bounce the ball into the bricks (4 channels; minimal actions n, l, r)", options => new Breakout(options)),
        new("minatar/freeway", "MinAtar Freeway: cross the traffic, 2500 steps (7 channels; minimal actions n, u, d)", options => new Freeway(options)),
        new("minatar/asterix", "MinAtar Asterix: pick up gold, avoid enemies, ramping (4 channels; minimal actions n, l, u, r, d)", options => new Asterix(options)),
        new("minatar/seaquest", "MinAtar Seaquest: rescue divers, shoot fish and subs, mind the oxygen (10 channels, 6 actions)", options => new Seaquest(options)),
        new("minatar/space_invaders", "MinAtar Space Invaders: shoot the marching aliens from the bottom row (6 channels, minimal actions n, l, r, f)", options => new SpaceInvaders(options)),
    ];
}
