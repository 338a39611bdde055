namespace Prunerl.Agents.Envs.ClassicControl;

/// <summary>The classic-control environments in the registry (Gymnasium's definitions).</summary>
public static class ClassicControlSuite
{
    public static readonly IReadOnlyList<EnvironmentEntry> Entries =
    [
    ];
}
