using System.Collections;
using System.Globalization;
using System.Reflection;
using Microsoft.FSharp.Reflection;

namespace Prunerl.Agents.Training;

/// <summary>
/// A run's configuration as a list of (field path, value) pairs, reached by walking the spec: C# records'
/// public properties, F# records' fields and unions' cases with their fields, collections item by item,
/// numbers written culture-independently and round-trippable. A checkpoint stores it, so that resuming
/// under another configuration is refused with the fields that differ.
/// </summary>
internal static class RunFingerprint
{
    private const int MaxDepth = 16;

    /// <summary>Every leaf of the configuration, by its path (e.g. <c>Agent.Optimizer.learningRate</c>).</summary>
    public static IReadOnlyList<(string Field, string Value)> Of(object configuration)
    {
        var fields = new List<(string, string)>();
        Walk("", configuration, fields, 0);
        return fields;
    }

    /// <summary>The fields that differ, as one line (at most three named), or null when none does.</summary>
    public static string? Difference(IReadOnlyList<(string Field, string Value)> stored, IReadOnlyList<(string Field, string Value)> current)
    {
        var storedByField = stored.ToDictionary(f => f.Field, f => f.Value);
        var currentByField = current.ToDictionary(f => f.Field, f => f.Value);
        var differences = stored.Select(f => f.Field).Concat(current.Select(f => f.Field)).Distinct()
            .Where(field => storedByField.GetValueOrDefault(field) != currentByField.GetValueOrDefault(field))
            .Select(field => $"{(field.Length == 0 ? "(the spec)" : field)} {storedByField.GetValueOrDefault(field) ?? "(absent)"} there, {currentByField.GetValueOrDefault(field) ?? "(absent)"} here")
            .ToList();
        if (differences.Count == 0) return null;
        var named = string.Join("; ", differences.Take(3));
        return differences.Count > 3 ? $"{named}; and {differences.Count - 3} more" : named;
    }

    private static void Walk(string path, object? value, List<(string, string)> into, int depth)
    {
        if (depth > MaxDepth) throw new InvalidOperationException($"the configuration is nested deeper than {MaxDepth} levels at {path}");
        switch (value)
        {
            case null:
                into.Add((path, "null"));
                return;
            case string text:
                into.Add((path, text));
                return;
            case bool flag:
                into.Add((path, flag ? "true" : "false"));
                return;
            case Enum or double or float or decimal or sbyte or byte or short or ushort or int or uint or long or ulong:
                into.Add((path, ((IFormattable)value).ToString(value is double or float ? "R" : null, CultureInfo.InvariantCulture)));
                return;
            case IEnumerable items:
                var count = 0;
                foreach (var item in items) Walk($"{path}[{count++}]", item, into, depth + 1);
                into.Add(($"{path}.Count", count.ToString(CultureInfo.InvariantCulture)));
                return;
        }
        var type = value.GetType();
        if (FSharpType.IsUnion(type, null))
        {
            var (union, fields) = FSharpValue.GetUnionFields(value, type, null).ToValueTuple();
            into.Add((path, union.Name));
            var infos = union.GetFields();
            for (var i = 0; i < infos.Length; i++) Walk(Join(path, infos[i].Name), fields[i], into, depth + 1);
            return;
        }
        var properties = FSharpType.IsRecord(type, null)
            ? FSharpType.GetRecordFields(type, null)
            : type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
                .Where(p => p.GetIndexParameters().Length == 0).OrderBy(p => p.MetadataToken).ToArray();
        into.Add((path, type.Name));
        foreach (var property in properties) Walk(Join(path, property.Name), property.GetValue(value), into, depth + 1);
    }

    private static string Join(string path, string name) => path.Length == 0 ? name : $"{path}.{name}";
}
