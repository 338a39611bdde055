/// Microseconds per call of a MinAtar DQN update's parts on CPU (QNetwork with the MinAtar torso, 4x10x10
/// input, 6 actions, width 1, batch 32): torch.optim against the flat-buffer optimizers and pruner.
/// Run by hand: dotnet run -c Release --project benchmarks/FlatTraining -- [threads] [calls]
module Prunerl.Benchmarks.FlatTraining

open System.Diagnostics
open TorchSharp
open Prunerl.Core
open Prunerl.Agents.Networks
open Prunerl.Agents.Pruning
open Prunerl.Agents.Training

let args = System.Environment.GetCommandLineArgs() |> Array.skip 1
let threads = if args.Length > 0 then int args[0] else 1
let calls = if args.Length > 1 then int args[1] else 1000
torch.set_num_threads threads

/// Mean microseconds per call over `calls` calls after `calls / 5` warm-up calls, each in a dispose scope.
let time (name: string) (call: unit -> unit) =
    let run n =
        for _ in 1..n do
            use _ = torch.NewDisposeScope()
            call ()
    run (calls / 5)
    let watch = Stopwatch.StartNew()
    run calls
    let us = watch.Elapsed.TotalMicroseconds / float calls
    printfn "%-44s %9.1f us" name us
    us

let network () = new QNetwork(NetworkSpec(TorsoKind.MinAtar), [| 4; 10; 10 |], 6, 1L)
let flatNetwork = network ()
let twin = network ()
let flat = new FlatParameters(flatNetwork)
let input = torch.rand([| 32L; 4L; 10L; 10L |], generator = new torch.Generator(1UL))
let backward (n: QNetwork) () = n.forward(input).square().mean().backward()
printfn "MinAtar QNetwork, %d parameters, batch 32, %d torch thread(s), %d calls" flat.Count threads calls

let fwdBwd = time "forward + backward (flat-bound network)" (fun () -> flat.ZeroGrad(); backward flatNetwork ())
time "forward + backward (plain network)" (fun () -> twin.zero_grad(); backward twin ()) |> ignore
backward twin ()

// A constant gradient drives centered RMSProp's variance s - a^2 to rounding noise (denormals, NaN),
// which is slow and unlike training: each step gets the next of 8 random gradients, copied into both
// networks' gradients; that copy is timed alone and subtracted.
let gradients = [| for i in 1..8 -> torch.randn([| flat.Count |], generator = new torch.Generator(uint64 i)) |]
let twinGradients = [| for p in twin.parameters () -> p.grad |]
let mutable next = 0
let nextGradient () =
    next <- (next + 1) % gradients.Length
    flat.Gradients.copy_ gradients[next] |> ignore
    for slice, g in Seq.zip flat.Slices twinGradients do
        g.copy_(gradients[next].narrow(0L, slice.Offset, slice.Length).view(slice.Shape)) |> ignore
let copying = time "(copying the next gradient in, subtracted)" nextGradient

let private pair name (builtIn: torch.optim.Optimizer) (flatOptimizer: IFlatOptimizer) =
    let a = time (sprintf "torch.optim.%s.step()" name) (fun () -> nextGradient (); builtIn.step () |> ignore) - copying
    let b = time (sprintf "Flat%s.Step()" name) (fun () -> nextGradient (); flatOptimizer.Step()) - copying
    printfn "  net of the copy: built-in %.1f us, flat %.1f us, ratio %.1fx" a b (a / b)

pair "Adam" (torch.optim.Adam(twin.parameters (), 6.25e-5, 0.9, 0.999, 1.5e-4)) (new FlatAdam(flat, 6.25e-5, epsilon = 1.5e-4))
pair "RmsProp" (torch.optim.RMSProp(twin.parameters (), 2.5e-4, alpha = 0.95, eps = 0.01, centered = true)) (new FlatRmsProp(flat, 2.5e-4, 0.95, 0.01, true))

let schedule = Schedule.gradual 1000L { Schedule.paperSpec 0.9 with PruneEvery = 100L } |> Result.defaultWith failwith
let pruner (optimizer: IFlatOptimizer option) (n: QNetwork) =
    let p, error = MagnitudePruner.TryCreate(n, Option.toObj optimizer, schedule, LayerWise Uniform, Sparsity.paperScope)
    if isNull p then failwith error
    for step in Schedule.updateSteps schedule do p.Update step |> ignore
    p
let perParameter = time "ApplyMasks(), per-parameter masks" (pruner None twin).ApplyMasks
let flatPruner = pruner (Some(new FlatAdam(flat) :> IFlatOptimizer)) flatNetwork
let flatMasks = time "ApplyMasks(), one flat mask" flatPruner.ApplyMasks
printfn "  ratio per-parameter / flat: %.1fx" (perParameter / flatMasks)
time "MaskGradients(), one flat mask" flatPruner.MaskGradients |> ignore
