using Prunerl.Experiments;

namespace Prunerl.Agents.Training;

/// <summary>
/// A run's compatibility fingerprint: the fields of its config that decide its tensors and stream, by config.json
/// name (<c>RunFields.fingerprint</c>). A checkpoint stores it, so that resuming under another configuration is
/// refused with the fields that differ.
/// </summary>
internal static class RunFingerprint
{
    /// <summary>The config's fingerprint, field by field in config.json's order.</summary>
    public static IReadOnlyList<(string Field, string Value)> Of(RunConfig config) =>
        RunFields.fingerprint(config).Select(f => (f.Item1, f.Item2)).ToList();

    /// <summary>The fields that differ, as one line (at most three named), or null when none does.</summary>
    public static string? Difference(IReadOnlyList<(string Field, string Value)> stored, IReadOnlyList<(string Field, string Value)> current)
    {
        var storedByField = stored.ToDictionary(f => f.Field, f => f.Value);
        var currentByField = current.ToDictionary(f => f.Field, f => f.Value);
        var differences = stored.Select(f => f.Field).Concat(current.Select(f => f.Field)).Distinct()
            .Where(field => storedByField.GetValueOrDefault(field) != currentByField.GetValueOrDefault(field))
            .Select(field => $"{field} {storedByField.GetValueOrDefault(field) ?? "(absent)"} there, {currentByField.GetValueOrDefault(field) ?? "(absent)"} here")
            .ToList();
        if (differences.Count == 0) return null;
        var named = string.Join("; ", differences.Take(3));
        return differences.Count > 3 ? $"{named}; and {differences.Count - 3} more" : named;
    }
}
