/// Torch loads on this machine, trains a tiny model on CPU, and the tensor pruner follows the plan.
module Prunerl.Tests.TorchTests

open Expecto
open TorchSharp
open Prunerl.Core
open Prunerl.Experiments
open Prunerl.Agents.Networks
open Prunerl.Agents.Pruning
open Prunerl.Agents.Runtime

/// Loads torch or fails the test with the runtime's one-line error (shared by the torch test lists).
let loaded () =
    match TorchRuntime.TryLoad() with
    | true, _ -> ()
    | false, error -> failtest error

[<Tests>]
let tests =
    testSequenced <| testList "Torch" [
        test "torch loads and a tiny model learns y = 2x - 1 on CPU" {
            loaded ()
            torch.random.manual_seed 0L |> ignore
            use model = torch.nn.Linear(1L, 1L)
            use optimizer = torch.optim.SGD(model.parameters (), 0.1)
            use x = torch.linspace(-1.0, 1.0, 64L).reshape(64L, 1L)
            use y = x * 2.0 - 1.0
            let mutable loss = infinity
            for _ in 1..300 do
                use scope = torch.NewDisposeScope()
                optimizer.zero_grad ()
                let l = torch.nn.functional.mse_loss(model.forward x, y)
                l.backward ()
                optimizer.step () |> ignore
                loss <- l.item<float32> () |> float
            Expect.isLessThan loss 1e-4 "the loss falls to ~0"
            Expect.floatClose Accuracy.low (model.weight.item<float32> () |> float) 2.0 "slope"
            Expect.floatClose Accuracy.low (model.bias.item<float32> () |> float) -1.0 "intercept"
        }

        test "devices: cpu and auto resolve, cuda is refused without CUDA" {
            loaded ()
            let device, _ = TorchRuntime.Resolve DeviceKind.Cpu
            Expect.equal device.``type`` DeviceType.CPU "cpu"
            let device, _ = TorchRuntime.Resolve DeviceKind.Auto
            Expect.equal device.``type`` (if torch.cuda.is_available () then DeviceType.CUDA else DeviceType.CPU) "auto"
            if not (torch.cuda.is_available ()) then
                let device, error = TorchRuntime.Resolve DeviceKind.Cuda
                Expect.isNull device "no CUDA device"
                Expect.stringContains error "device: cuda is not available here (this build uses the CPU libtorch" "message"
        }

        test "the pruner brings each layer to the plan's count and keeps pruned weights at zero" {
            loaded ()
            let schedule = Schedule.gradual 10_000L { Schedule.paperSpec 0.9 with PruneEvery = 500L } |> Result.defaultWith failwith
            for allocation in [ LayerWise Uniform; LayerWise(Erk 1.0); Global ] do
                use network = new QNetwork(NetworkSpec(NetworkKind.Mlp, MlpHidden = [| 32; 32 |]), [| 4 |], 2, 7L)
                use pruner =
                    match MagnitudePruner.TryCreate(network, schedule, allocation, Sparsity.paperScope) with
                    | null, error -> failtest error
                    | pruner, _ -> pruner
                for step in Schedule.updateSteps schedule do
                    Expect.isTrue (pruner.Update step) "an update step"
                    let plan = Plan.at pruner.Plan step
                    let measured = pruner.Measure()
                    for layer, target in Seq.zip measured plan.Layers do
                        match target.Target with
                        | Keep k -> Expect.equal layer.NonZero k (sprintf "%A %s at %d" allocation layer.Name step)
                        | Dense -> Expect.equal layer.NonZero layer.Size "dense"
                        | Pooled -> ()
                    let prunedNonZero = measured |> Seq.filter (fun l -> l.Pruned) |> Seq.sumBy (fun l -> l.NonZero)
                    Expect.equal prunedNonZero plan.PrunableKept (sprintf "%A: total kept at %d" allocation step)
                Expect.isFalse (pruner.Update 10_001L) "not an update step"
                // Training moves weights; ApplyMasks puts the pruned ones back to zero.
                use _ = torch.no_grad ()
                for p in network.parameters () do
                    p.add_(torch.ones_like p) |> ignore
                pruner.ApplyMasks()
                let final = Plan.at pruner.Plan 10_000L
                let nonZero = pruner.Measure() |> Seq.filter (fun l -> l.Pruned) |> Seq.sumBy (fun l -> l.NonZero)
                Expect.isLessThanOrEqual nonZero final.PrunableKept "pruned weights stay zero"
        }
    ]
