namespace Prunerl.Agents.Envs.MinAtar;

/// <summary>The MinAtar games in the registry.</summary>
public static class MinAtarSuite
{
    public static readonly IReadOnlyList<EnvironmentEntry> Entries =
    [
        new("minatar/seaquest", "MinAtar Seaquest: rescue divers, shoot fish and subs, mind the oxygen (10 channels, 6 actions)", options => new Seaquest(options)),
        new("minatar/space_invaders", "MinAtar Space Invaders: shoot the marching aliens from the bottom row (6 channels, minimal actions n, l, r, f)", options => new SpaceInvaders(options)),
    ];
}
