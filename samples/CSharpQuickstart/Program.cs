// Prunerl.Pruning from C#: the F# modules themselves, as the project's own C# (Prunerl.Agents) calls them. From C#,
// a module that shares its name with a type carries the suffix Module (ScheduleModule), a curried function takes its
// arguments together, and a Result is an FSharpResult (IsOk, ResultValue, ErrorValue). Prints the same lines as
// ../quickstart.fsx.
using Microsoft.FSharp.Core;
using Prunerl.Core;

// The paper's schedule: 0 -> 90% sparsity, cubic, between 20% and 80% of 2.5M gradient updates,
// masks recomputed every 1000 updates.
var schedule = OrFail(ScheduleModule.gradual(2_500_000, ScheduleModule.paperSpec(0.9)));
Console.WriteLine("paper schedule, 90% over 2500000 updates:");
foreach (var step in new long[] { 0, 500_000, 1_000_000, 1_250_000, 1_250_999, 2_000_000, 2_500_000 })
    Console.WriteLine($"  step {step}: sparsity {ScheduleModule.sparsityAt(schedule, step):F6}, update {(ScheduleModule.isUpdateStep(schedule, step) ? "yes" : "no")}");
Console.WriteLine($"  {ScheduleModule.updateSteps(schedule).Count()} mask updates, final sparsity {ScheduleModule.finalSparsity(schedule):F6}");

// ERK per-layer targets at 90% for the Nature DQN's weights (torch layout: out, in, kh, kw).
var layers = new (string Name, int[] Shape)[]
{
    ("conv1", [32, 4, 8, 8]),
    ("conv2", [64, 32, 4, 4]),
    ("conv3", [64, 64, 3, 3]),
    ("fc", [512, 3136]),
    ("out", [18, 512]),
}.Select(layer => new Parameter(layer.Name, layer.Shape, ParameterRole.Weight));
var prunable = OrFail(Sparsity.select(Sparsity.paperScope, layers));
Console.WriteLine("ERK at 90%:");
foreach (var budget in OrFail(Sparsity.allocate(Allocation.NewLayerWise(Distribution.NewErk(1.0)), prunable, 0.9)))
    Console.WriteLine(budget.Target is LayerTarget.Keep keep
        ? $"  {budget.Parameter.Name}: keep {keep.count} of {budget.Parameter.Size} (sparsity {budget.Sparsity.Value:F6})"
        : $"  {budget.Parameter.Name}: {budget.Target}");

// A magnitude mask at 50%: the four weights of largest |w| stay.
float[] weights = { 0.3f, -1.2f, 0.05f, 0.9f, -0.4f, 2.0f, -0.01f, 0.6f };
var mask = OrFail(Mask.layerwise(0.5, weights));
Console.WriteLine($"mask at 50%: {string.Join(" ", mask.Select(keep => keep ? 1 : 0))}");
Console.WriteLine($"masked weights: {string.Join(" ", OrFail(Mask.apply(mask, weights)))}");

// The value of a validated result, or its one-line error as an exception.
static T OrFail<T>(FSharpResult<T, string> result) => result.IsOk ? result.ResultValue : throw new ArgumentException(result.ErrorValue);
