// Prunerl.Pruning from C#. Prints the same lines as ../quickstart.fsx does through the F# modules.
using Prunerl.Core.CSharp;

// The paper's schedule: 0 -> 90% sparsity, cubic, between 20% and 80% of 2.5M gradient updates,
// masks recomputed every 1000 updates.
var schedule = PruningSchedule.Paper(sparsity: 0.9, totalSteps: 2_500_000);
Console.WriteLine("paper schedule, 90% over 2500000 updates:");
foreach (var step in new long[] { 0, 500_000, 1_000_000, 1_250_000, 1_250_999, 2_000_000, 2_500_000 })
    Console.WriteLine($"  step {step}: sparsity {schedule.SparsityAt(step):F6}, update {(schedule.IsUpdateStep(step) ? "yes" : "no")}");
Console.WriteLine($"  {schedule.UpdateSteps.Count()} mask updates, final sparsity {schedule.FinalSparsity:F6}");

// ERK per-layer targets at 90% for the Nature DQN's weights (torch layout: out, in, kh, kw).
var layers = new[]
{
    new LayerShape("conv1", 32, 4, 8, 8),
    new LayerShape("conv2", 64, 32, 4, 4),
    new LayerShape("conv3", 64, 64, 3, 3),
    new LayerShape("fc", 512, 3136),
    new LayerShape("out", 18, 512),
};
Console.WriteLine("ERK at 90%:");
foreach (var layer in SparsityDistribution.Erk(0.9, layers))
    Console.WriteLine($"  {layer.Name}: keep {layer.Kept} of {layer.Size} (sparsity {layer.Sparsity:F6})");

// A magnitude mask at 50%: the four weights of largest |w| stay.
float[] weights = { 0.3f, -1.2f, 0.05f, 0.9f, -0.4f, 2.0f, -0.01f, 0.6f };
bool[] mask = MagnitudeMask.Layerwise(weights, sparsity: 0.5);
Console.WriteLine($"mask at 50%: {string.Join(" ", mask.Select(keep => keep ? 1 : 0))}");
Console.WriteLine($"masked weights: {string.Join(" ", MagnitudeMask.Apply(mask, weights))}");
