namespace Prunerl.Agents.Envs.MinAtar;

/// <summary>The MinAtar games in the registry.</summary>
public static class MinAtarSuite
{
    public static readonly IReadOnlyList<EnvironmentEntry> Entries =
    [
    ];
}
