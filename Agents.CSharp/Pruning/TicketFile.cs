using Prunerl.Agents.Checkpoints;
using Prunerl.Core;

namespace Prunerl.Agents.Pruning;

/// <summary>One network of a lottery ticket as a run recorded it, over its flat buffer: its parameters (name and
/// size, in order), its initial weights, the weights at the rewind step when one was recorded (null, step -1, when
/// not), and its final masks (true kept).</summary>
public sealed record RecordedNetwork(string Name, IReadOnlyList<(string Name, long Length)> Parameters, float[] Initial, long RewoundAt, float[]? Rewound, bool[] Mask);

/// <summary>
/// The lottery ticket file of a gradually pruned run (<c>ticket.bin</c> in its folder, RunFormat.TicketFile), a
/// sectioned file with its own magic and checksums: one section per network the run pruned (the DQN family's online
/// network; SAC's actor and critics), each <see cref="RecordedNetwork"/>. Reading it makes the core's
/// <c>LotteryTicket</c> of each network for a rewind (<c>LotteryTicket.create</c>), per parameter.
/// </summary>
public static class TicketFile
{
    /// <summary>The ticket format's version.</summary>
    public const int FormatVersion = 1;

    /// <summary>The ticket's kind of sectioned file.</summary>
    public static readonly SectionedFileKind Kind = new("lottery ticket", "PRLTICK\n"u8.ToArray(), FormatVersion);

    /// <summary>Writes the networks' tickets to <paramref name="path"/> (atomically, as a checkpoint).</summary>
    public static void Write(string path, IReadOnlyList<RecordedNetwork> networks) =>
        CheckpointFile.Write(path, Kind, networks.Select(n => new CheckpointSection(n.Name, writer =>
        {
            writer.Write(n.Parameters.Count);
            foreach (var (name, length) in n.Parameters)
            {
                writer.Write(name);
                writer.Write(length);
            }
            writer.Write<float>(n.Initial);
            writer.Write(n.RewoundAt);
            writer.Write<float>(n.Rewound ?? []);
            writer.Write<bool>(n.Mask);
        })));

    /// <summary>The networks a ticket file holds, in order; a <see cref="CheckpointException"/> for a file that is not a whole ticket.</summary>
    public static IReadOnlyList<RecordedNetwork> Read(string path)
    {
        using var file = CheckpointFile.Open(path, Kind);
        var networks = new List<RecordedNetwork>();
        foreach (var section in file.Sections.ToList())
            file.Read(section, reader =>
            {
                var count = reader.ReadInt32();
                if (count < 0) throw reader.Problem($"a network of {count} parameters");
                var parameters = Enumerable.Range(0, count).Select(_ => (reader.ReadString(), reader.ReadInt64())).ToList();
                var initial = reader.ReadArray<float>();
                var rewoundAt = reader.ReadInt64();
                var rewound = reader.ReadArray<float>();
                var mask = reader.ReadArray<bool>();
                var size = parameters.Sum(p => p.Item2);
                if (initial.LongLength != size || mask.LongLength != size || (rewoundAt >= 0 ? rewound.LongLength != size : rewound.Length != 0))
                    throw reader.Problem($"network {section}: its weights and masks do not cover its {size} parameters");
                networks.Add(new RecordedNetwork(section, parameters, initial, rewoundAt, rewoundAt >= 0 ? rewound : null, mask));
            });
        return networks;
    }

    /// <summary>
    /// Each network's lottery ticket from a ticket file for a rewind step (0: the initial weights), or null with a
    /// one-line error (a file that cannot be read, a rewind step the run did not record).
    /// </summary>
    public static IReadOnlyList<LotteryTicket>? TryTickets(string path, long rewindStep, out string? error)
    {
        IReadOnlyList<RecordedNetwork> networks;
        try
        {
            networks = Read(path);
        }
        catch (Exception e) when (e is CheckpointException or IOException or UnauthorizedAccessException)
        {
            error = e.Message;
            return null;
        }
        var rewind = rewindStep == 0 ? Rewind.ToInitial : Rewind.NewToStep(rewindStep);
        var tickets = new List<LotteryTicket>();
        foreach (var n in networks)
        {
            var snapshots = new List<WeightSnapshot> { new(0, Split(n, n.Initial)) };
            if (n.Rewound is { } rewound && n.RewoundAt > 0) snapshots.Add(new WeightSnapshot(n.RewoundAt, Split(n, rewound)));
            var ticket = LotteryTicketModule.create(rewind, Split(n, n.Mask), snapshots);
            if (ticket.IsError)
            {
                error = $"{path}: network {n.Name}: {ticket.ErrorValue}";
                return null;
            }
            tickets.Add(ticket.ResultValue);
        }
        error = null;
        return tickets;
    }

    /// <summary>A flat array cut into the network's parameters.</summary>
    private static T[][] Split<T>(RecordedNetwork network, T[] flat)
    {
        var offset = 0L;
        return network.Parameters.Select(p =>
        {
            var part = flat.AsSpan((int)offset, (int)p.Length).ToArray();
            offset += p.Length;
            return part;
        }).ToArray();
    }
}
