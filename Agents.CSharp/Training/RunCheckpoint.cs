using Prunerl.Agents.Analysis;
using Prunerl.Agents.Checkpoints;

namespace Prunerl.Agents.Training;

/// <summary>
/// A training run's checkpoint: the run's configuration (as <see cref="RunFingerprint"/> pairs), where its
/// metrics log stood, then one section per part of the run. Loading checks the file whole, then the
/// configuration, then the sections, before the metrics log is cut back to where it stood.
/// </summary>
internal static class RunCheckpoint
{
    private const string ConfigurationSection = "configuration", MetricsSection = "metrics";

    public static void Save(string directory, IReadOnlyList<(string Name, ICheckpointable State)> parts,
        IReadOnlyList<(string Field, string Value)> configuration, IRewindableMetrics? metrics)
    {
        var mark = metrics?.Mark();
        var sections = new List<CheckpointSection>
        {
            new(ConfigurationSection, writer =>
            {
                writer.Write(configuration.Count);
                foreach (var (field, value) in configuration)
                {
                    writer.Write(field);
                    writer.Write(value);
                }
            }),
            new(MetricsSection, writer =>
            {
                writer.Write(mark is not null);
                if (mark is null) return;
                writer.Write(mark.Count);
                foreach (var file in mark)
                {
                    writer.Write(file.File);
                    writer.Write(file.Length);
                }
            }),
        };
        sections.AddRange(parts.Select(p => new CheckpointSection(p.Name, p.State.Save)));
        CheckpointFile.Save(directory, sections);
    }

    /// <summary>
    /// Loads the checkpoint at <paramref name="path"/> into the parts, refusing (with a <see cref="CheckpointException"/>,
    /// before anything is read into them) a file that is corrupt, of another configuration or of other parts,
    /// and cuts the metrics log back to where it stood then.
    /// </summary>
    public static void Load(string path, IReadOnlyList<(string Name, ICheckpointable State)> parts,
        IReadOnlyList<(string Field, string Value)> configuration, IRewindableMetrics? metrics)
    {
        using var file = CheckpointFile.Open(path);
        if (!file.Has(ConfigurationSection)) throw new CheckpointException($"{path}: no run configuration (not a training run's checkpoint)");
        List<(string, string)> stored = [];
        file.Read(ConfigurationSection, reader =>
        {
            var count = reader.ReadInt32();
            for (var i = 0; i < count; i++) stored.Add((reader.ReadString(), reader.ReadString()));
        });
        if (RunFingerprint.Difference(stored, configuration) is { } difference)
            throw new CheckpointException($"{path} was written by a different run configuration: {difference}");
        var expected = parts.Select(p => p.Name).Prepend(MetricsSection).Prepend(ConfigurationSection).ToList();
        if (!file.Sections.SequenceEqual(expected))
            throw new CheckpointException($"{path}: holds sections [{string.Join(", ", file.Sections)}] where [{string.Join(", ", expected)}] are expected");
        List<MetricsFileMark>? mark = null;
        file.Read(MetricsSection, reader =>
        {
            if (!reader.ReadBoolean()) return;
            var count = reader.ReadInt32();
            mark = [];
            for (var i = 0; i < count; i++) mark.Add(new MetricsFileMark(reader.ReadString(), reader.ReadInt64()));
        });
        if (metrics is not null && mark is null)
            throw new CheckpointException($"{path}: the checkpointed run kept no metrics log, so this run's log cannot continue it");
        foreach (var (name, state) in parts) file.Read(name, state.Load);
        if (metrics is null || mark is null) return;
        try
        {
            metrics.Rewind(mark);
        }
        catch (IOException e)
        {
            throw new CheckpointException($"{path}: the metrics log cannot continue from this checkpoint: {e.Message}");
        }
    }
}

/// <summary>A run's records (episodes, evaluations, analyses, renewals) in a checkpoint.</summary>
internal static class RunRecords
{
    public static void Save(StateWriter writer, List<EpisodeRecord> episodes, List<EvaluationRecord> evaluations,
        List<AnalysisRecord> analyses, List<RenewalRecord> renewals)
    {
        writer.Write(episodes.Count);
        foreach (var e in episodes)
        {
            writer.Write(e.Step);
            writer.Write(e.Return);
            writer.Write(e.Length);
        }
        writer.Write(evaluations.Count);
        foreach (var e in evaluations)
        {
            writer.Write(e.Step);
            writer.Write(e.MeanReturn);
            writer.Write(e.Sparsity);
        }
        writer.Write(analyses.Count);
        foreach (var a in analyses)
        {
            writer.Write(a.Step);
            writer.Write(a.Dormancy.Count);
            foreach (var layer in a.Dormancy)
            {
                writer.Write(layer.Layer);
                writer.Write(layer.Neurons);
                writer.Write(layer.Dormant);
            }
            writer.Write(a.DormantFraction);
            writer.Write(a.EffectiveRank);
            writer.Write(a.ParameterNorm);
            writer.Write(a.QMean);
            writer.Write(a.QVariance);
            writer.Write(a.GradientInterference);
            writer.Write(a.NonZeroParameters);
            writer.Write(a.TargetQVariance);
            writer.Write(a.QNorm);
            writer.Write(a.GradientInterferenceAbs);
            writer.Write(a.TargetVariance);
        }
        writer.Write(renewals.Count);
        foreach (var r in renewals)
        {
            writer.Write(r.Update);
            writer.Write(r.Neurons);
        }
    }

    public static void Load(StateReader reader, List<EpisodeRecord> episodes, List<EvaluationRecord> evaluations,
        List<AnalysisRecord> analyses, List<RenewalRecord> renewals)
    {
        Fill(episodes, reader, () => new EpisodeRecord(reader.ReadInt64(), reader.ReadSingle(), reader.ReadInt32()));
        Fill(evaluations, reader, () => new EvaluationRecord(reader.ReadInt64(), reader.ReadDouble(), reader.ReadDouble()));
        Fill(analyses, reader, () =>
        {
            var step = reader.ReadInt64();
            var dormancy = new List<LayerDormancy>();
            Fill(dormancy, reader, () => new LayerDormancy(reader.ReadString(), reader.ReadInt32(), reader.ReadInt32()));
            return new AnalysisRecord(step, dormancy, reader.ReadDouble(), reader.ReadInt32(), reader.ReadDouble(),
                reader.ReadDouble(), reader.ReadDouble(), reader.ReadDouble(), reader.ReadInt64(), reader.ReadDouble(), reader.ReadDouble(),
                reader.ReadDouble(), reader.ReadDouble());
        });
        Fill(renewals, reader, () => new RenewalRecord(reader.ReadInt64(), reader.ReadInt32()));
    }

    private static void Fill<T>(List<T> records, StateReader reader, Func<T> read)
    {
        var count = reader.ReadInt32();
        if (count < 0) throw reader.Problem($"a list of {count} records");
        records.Clear();
        for (var i = 0; i < count; i++) records.Add(read());
    }
}
