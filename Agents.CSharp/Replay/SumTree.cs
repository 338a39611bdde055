using System.Numerics;
using Prunerl.Agents.Checkpoints;

namespace Prunerl.Agents.Replay;

/// <summary>
/// Non-negative values with O(log n) updates and O(log n) prefix-sum search: a complete binary tree in
/// one array whose inner nodes hold the sums of their children (the structure of Schaul et al. 2016's
/// proportional prioritized replay, as Dopamine's <c>sum_tree.py</c>). Parents are recomputed from
/// their children on every update, so sums never drift.
/// </summary>
public sealed class SumTree : ICheckpointable
{
    private readonly double[] nodes;
    private readonly int firstLeaf;

    /// <param name="capacity">The number of values (leaves), all 0 at the start.</param>
    public SumTree(int capacity)
    {
        if (capacity < 1) throw new ArgumentOutOfRangeException(nameof(capacity), $"a sum tree needs at least one leaf, got {capacity}");
        Capacity = capacity;
        firstLeaf = (int)BitOperations.RoundUpToPowerOf2((uint)capacity);
        nodes = new double[2 * firstLeaf];
    }

    public int Capacity { get; }

    /// <summary>Writes every node (leaves and sums), so sampling goes on bit for bit.</summary>
    public void Save(StateWriter writer) => writer.Write<double>(nodes);

    public void Load(StateReader reader) => reader.ReadInto<double>(nodes);

    /// <summary>The sum of all values.</summary>
    public double Total => nodes[1];

    /// <summary>The value at <paramref name="index"/>.</summary>
    public double this[int index] => nodes[firstLeaf + CheckIndex(index)];

    /// <summary>Sets the value at <paramref name="index"/> (finite, at least 0) and the sums above it.</summary>
    public void Set(int index, double value)
    {
        CheckIndex(index);
        if (!(value >= 0) || double.IsInfinity(value))
            throw new ArgumentOutOfRangeException(nameof(value), $"sum-tree values must be finite and >= 0, got {value}");
        var node = firstLeaf + index;
        nodes[node] = value;
        for (node >>= 1; node >= 1; node >>= 1) nodes[node] = nodes[2 * node] + nodes[2 * node + 1];
    }

    /// <summary>
    /// The index i with value(0) + ... + value(i-1) &lt;= prefix &lt; value(0) + ... + value(i): the
    /// leaf a uniform draw of prefix in [0, Total) lands on, with probability value(i) / Total. Never a
    /// zero leaf; a prefix at or past Total (rounding) gives the last non-zero leaf.
    /// </summary>
    public int Find(double prefix)
    {
        if (!(Total > 0)) throw new InvalidOperationException("the sum tree is empty (every value is 0)");
        if (!(prefix >= 0) || double.IsInfinity(prefix))
            throw new ArgumentOutOfRangeException(nameof(prefix), $"the prefix sum must be finite and >= 0, got {prefix}");
        var node = 1;
        while (node < firstLeaf)
        {
            var left = nodes[2 * node];
            // Descend only into non-zero subtrees: the node's own sum is > 0, so one child is.
            if (prefix < left || nodes[2 * node + 1] == 0) node = 2 * node;
            else
            {
                prefix -= left;
                node = 2 * node + 1;
            }
        }
        return node - firstLeaf;
    }

    private int CheckIndex(int index) =>
        (uint)index < (uint)Capacity ? index : throw new ArgumentOutOfRangeException(nameof(index), $"index {index} is outside [0, {Capacity})");
}
