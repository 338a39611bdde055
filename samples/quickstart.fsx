// Prunerl.Pruning from an F# script. Prints the same lines as CSharpQuickstart through the F# modules.
// It restores from the sources in nuget.config next to it: the repository's nupkg folder, which
//   dotnet pack Core.FSharp -c Release -o ./nupkg
// fills (run at the repository root), and your usual sources. Elsewhere, name the folder with an
// absolute path (dotnet fsi takes no relative one): #i "nuget: /path/to/nupkg"
#r "nuget: Prunerl.Pruning, 0.1.0"

open Prunerl.Core

let orFail result =
    match result with
    | Ok x -> x
    | Error message -> failwith message

// The paper's schedule: 0 -> 90% sparsity, cubic, between 20% and 80% of 2.5M gradient updates,
// masks recomputed every 1000 updates.
let schedule = Schedule.gradual 2_500_000L (Schedule.paperSpec 0.9) |> orFail
printfn "paper schedule, 90%% over 2500000 updates:"
for step in [ 0L; 500_000L; 1_000_000L; 1_250_000L; 1_250_999L; 2_000_000L; 2_500_000L ] do
    printfn "  step %d: sparsity %.6f, update %s" step (Schedule.sparsityAt schedule step) (if Schedule.isUpdateStep schedule step then "yes" else "no")
printfn "  %d mask updates, final sparsity %.6f" (Seq.length (Schedule.updateSteps schedule)) (Schedule.finalSparsity schedule)

// ERK per-layer targets at 90% for the Nature DQN's weights (torch layout: out, in, kh, kw).
let layers =
    [ "conv1", [| 32; 4; 8; 8 |]
      "conv2", [| 64; 32; 4; 4 |]
      "conv3", [| 64; 64; 3; 3 |]
      "fc", [| 512; 3136 |]
      "out", [| 18; 512 |] ]
    |> List.map (fun (name, shape) -> { Name = name; Shape = shape; Role = Weight })
let prunable = Sparsity.select Sparsity.paperScope layers |> orFail
printfn "ERK at 90%%:"
for budget in Sparsity.allocate (LayerWise(Erk 1.0)) prunable 0.9 |> orFail do
    match budget.Target, budget.Sparsity with
    | Keep kept, Some sparsity ->
        printfn "  %s: keep %d of %d (sparsity %.6f)" budget.Parameter.Name kept budget.Parameter.Size sparsity
    | target, _ -> printfn "  %s: %A" budget.Parameter.Name target

// A magnitude mask at 50%: the four weights of largest |w| stay.
let weights = [| 0.3f; -1.2f; 0.05f; 0.9f; -0.4f; 2.0f; -0.01f; 0.6f |]
let mask = Mask.layerwise 0.5 weights |> orFail
printfn "mask at 50%%: %s" (mask |> Array.map (fun keep -> if keep then "1" else "0") |> String.concat " ")
printfn "masked weights: %s" (Mask.apply mask weights |> orFail |> Array.map string |> String.concat " ")
