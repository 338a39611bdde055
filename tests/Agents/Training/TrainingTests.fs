/// Flat parameter buffers: the network still trains through them, the flat optimizers match torch.optim,
/// and the pruner on a flat buffer keeps pruned weights at exactly zero through optimizer steps.
module Prunerl.Tests.TrainingTests

open Expecto
open TorchSharp
open Prunerl.Core
open Prunerl.Experiments
open Prunerl.Agents.Networks
open Prunerl.Agents.Pruning
open Prunerl.Agents.Training
open Prunerl.Tests.TorchTests
open Prunerl.Agents.Optimisers

let private mlp seed = new QNetwork(NetworkSpec(NetworkKind.Mlp, MlpHidden = [| 16; 8 |]), [| 4 |], 3, seed)

let private flatten (tensors: seq<#torch.Tensor>) = torch.cat([| for t in tensors -> t.detach().flatten() |], 0L)

let private loss (network: QNetwork) (inputs: torch.Tensor) = network.forward(inputs).square().sum()

/// Whether two tensors have the same shape and entries.
let private same (a: torch.Tensor) (b: torch.Tensor) = a.shape = b.shape && a.eq(b).all().item<bool> ()

/// The largest difference relative to the largest magnitude of the reference.
let private relativeError (actual: torch.Tensor) (expected: torch.Tensor) =
    (actual - expected).abs().max().item<float32>() / expected.abs().max().item<float32>() |> float

/// Runs identical random gradients through a flat optimizer and a torch.optim one on twin networks and
/// returns the relative difference of their weights after each step.
let private compare steps (flatOptimizer: FlatParameters -> IFlatOptimizer) (reference: seq<Modules.Parameter> -> torch.optim.Optimizer) =
    use flatNetwork = mlp 3L
    use referenceNetwork = mlp 3L
    use flat = new FlatParameters(flatNetwork)
    use optimizer = flatOptimizer flat
    use torchOptimizer = reference (referenceNetwork.parameters ())
    use generator = new torch.Generator(11UL)
    [ for _ in 1..steps do
        use scope = torch.NewDisposeScope()
        let gradient = torch.randn([| flat.Count |], generator = generator)
        flat.Gradients.copy_ gradient |> ignore
        for slice, p in Seq.zip flat.Slices (referenceNetwork.parameters ()) do
            p.grad <- gradient.narrow(0L, slice.Offset, slice.Length).view(slice.Shape).clone()
        optimizer.Step()
        torchOptimizer.step () |> ignore
        relativeError flat.Values (flatten (referenceNetwork.parameters ())) ]

/// Per layer, whether the measured non-zero count is the plan's at this step.
let private expectPlanCounts (pruner: MagnitudePruner) step what =
    let plan = Plan.at pruner.Plan step
    let measured = pruner.Measure()
    for layer, target in Seq.zip measured plan.Layers do
        match target.Target with
        | Keep k -> Expect.equal layer.NonZero k (sprintf "%s: %s at %d" what layer.Name step)
        | Dense -> Expect.equal layer.NonZero layer.Size (sprintf "%s: dense %s at %d" what layer.Name step)
        | Pooled -> ()
    let kept = measured |> Seq.filter (fun l -> l.Pruned) |> Seq.sumBy (fun l -> l.NonZero)
    if measured |> Seq.exists (fun l -> l.Pruned) then
        Expect.equal kept plan.PrunableKept (sprintf "%s: total kept at %d" what step)

[<Tests>]
let tests =
    testSequenced <| testList "Training" [
        test "flat parameters hold the network's values in order and backward fills the flat gradient in place" {
            loaded ()
            use network = mlp 5L
            use twin = mlp 5L
            use before = flatten (network.parameters ())
            use flat = new FlatParameters(network)
            Expect.equal flat.Count (before.numel ()) "one entry per weight"
            Expect.isTrue (same flat.Values before) "values copied in, in network order"
            Expect.sequenceEqual [ for s in flat.Slices -> s.Name ] [ for struct (n, _) in network.named_parameters () -> n ] "names"
            Expect.equal [ for s in flat.Slices -> s.Offset ] [ 0L; 64L; 80L; 208L; 216L; 240L ] "offsets"
            // The parameters are views: writing the flat buffer writes the network.
            use input = torch.randn([| 5L; 4L |], generator = new torch.Generator(1UL))
            (loss network input).backward ()
            (loss twin input).backward ()
            use expected = flatten [ for p in twin.parameters () -> p.grad ]
            Expect.isTrue (same flat.Gradients expected) "backward wrote the flat gradient, equal to an unbound twin's"
            (loss network input).backward ()
            Expect.isTrue (same flat.Gradients (expected * 2.0f)) "a second backward accumulates in place"
            flat.ZeroGrad()
            Expect.equal (flat.Gradients.count_nonzero().item<int64> ()) 0L "one zero_ clears every gradient"
            (loss network input).backward ()
            Expect.isTrue (same flat.Gradients expected) "gradients stay bound after zeroing"
            use optimizer = new FlatAdam(flat, learningRate = 1e-3)
            optimizer.Step()
            use after = flatten (network.parameters ())
            Expect.isTrue (same after flat.Values) "the module's weights are the flat values"
            Expect.isFalse (same after before) "a flat step moved the module's weights"
            Expect.isLessThan ((loss network input).item<float32> ()) ((loss twin input).item<float32> ()) "and lowered the loss"
        }

        test "FlatAdam gives torch.optim.Adam's weights" {
            loaded ()
            for lr, eps in [ 1e-2, 1e-8; 6.25e-5, 1.5e-4 ] do
                let errors =
                    compare 40
                        (fun flat -> new FlatAdam(flat, learningRate = lr, epsilon = eps))
                        (fun ps -> torch.optim.Adam(ps, lr, beta1 = 0.9, beta2 = 0.999, eps = eps))
                Expect.all errors (fun e -> e <= 1e-6) (sprintf "lr %g eps %g: %A" lr eps errors)
        }

        test "FlatRmsProp gives torch.optim.RMSProp's weights, centered or not" {
            loaded ()
            for lr, alpha, eps, centered in [ 1e-2, 0.99, 1e-8, false; 2.5e-4, 0.95, 0.01, true; 1e-2, 0.9, 1e-8, true ] do
                let errors =
                    compare 40
                        (fun flat -> new FlatRmsProp(flat, learningRate = lr, alpha = alpha, epsilon = eps, centered = centered))
                        (fun ps -> torch.optim.RMSProp(ps, lr, alpha = alpha, eps = eps, centered = centered))
                Expect.all errors (fun e -> e <= 1e-6) (sprintf "lr %g alpha %g centered %b: %A" lr alpha centered errors)
        }

        test "the fused CPU step gives the torch-op step's weights and state, with and without a keep mask" {
            loaded ()
            let optimizers: (string * (FlatParameters -> bool -> IFlatOptimizer)) list =
                [ "adam", (fun flat ops -> new FlatAdam(flat, learningRate = 1e-2, TorchOpsOnly = ops))
                  "rmsprop", (fun flat ops -> new FlatRmsProp(flat, learningRate = 1e-2, TorchOpsOnly = ops))
                  "centered rmsprop", (fun flat ops -> new FlatRmsProp(flat, 2.5e-4, 0.95, 0.01, true, TorchOpsOnly = ops)) ]
            for name, create in optimizers do
                for masked in [ false; true ] do
                    use fusedNetwork = mlp 4L
                    use opsNetwork = mlp 4L
                    use fusedFlat = new FlatParameters(fusedNetwork)
                    use opsFlat = new FlatParameters(opsNetwork)
                    use fused = create fusedFlat false
                    use ops = create opsFlat true
                    use generator = new torch.Generator(5UL)
                    use keep = torch.rand([| fusedFlat.Count |], generator = generator).gt((0.5).ToScalar()).to_type(torch.ScalarType.Byte)
                    for step in 1..40 do
                        use scope = torch.NewDisposeScope()
                        let gradient = torch.randn([| fusedFlat.Count |], generator = generator)
                        fusedFlat.Gradients.copy_ gradient |> ignore
                        opsFlat.Gradients.copy_ gradient |> ignore
                        fused.Step(if masked then keep else null)
                        ops.Step(if masked then keep else null)
                        let what = sprintf "%s, masked %b, step %d" name masked step
                        Expect.isLessThanOrEqual (relativeError fusedFlat.Values opsFlat.Values) 1e-6 (what + ": weights")
                        for f, o in Seq.zip fused.State ops.State do
                            Expect.isLessThanOrEqual (relativeError f o) 1e-6 (what + ": state")
        }

        test "a step refuses a keep mask of another length (the fused loop reads it unchecked)" {
            loaded ()
            use network = mlp 2L
            use flat = new FlatParameters(network)
            use keep = torch.ones([| flat.Count - 1L |], dtype = torch.ScalarType.Byte)
            let optimizers: IFlatOptimizer list = [ new FlatAdam(flat); new FlatRmsProp(flat, centered = true) ]
            for optimizer in optimizers do
                use _ = optimizer
                Expect.throwsT<System.ArgumentException> (fun () -> optimizer.Step keep) (sprintf "%s refuses" (optimizer.GetType().Name))
                Expect.equal optimizer.Steps 0L "and takes no step"
        }

        test "without clearing its state, Adam's momentum moves weights whose gradient is zero" {
            loaded ()
            use network = mlp 5L
            use flat = new FlatParameters(network)
            use optimizer = new FlatAdam(flat, learningRate = 1e-2)
            use generator = new torch.Generator(2UL)
            for _ in 1..5 do
                flat.Gradients.copy_(torch.randn([| flat.Count |], generator = generator)) |> ignore
                optimizer.Step()
            use _ = torch.no_grad ()
            flat.Values.zero_() |> ignore
            flat.ZeroGrad()
            optimizer.Step()
            Expect.equal (flat.Values.count_nonzero().item<int64> ()) flat.Count "every weight moved off zero"
        }

        test "the pruner on a flat buffer keeps pruned weights and their optimizer state at zero through every step and meets the plan at every update" {
            loaded ()
            let schedule = Schedule.gradual 1_000L { Schedule.paperSpec 0.9 with PruneEvery = 50L } |> Result.defaultWith failwith
            let optimizers: (string * (FlatParameters -> IFlatOptimizer)) list =
                [ for ops in [ false; true ] do
                    let form = if ops then " (torch ops)" else ""
                    "adam" + form, (fun flat -> new FlatAdam(flat, learningRate = 1e-2, TorchOpsOnly = ops))
                    "centered rmsprop" + form, (fun flat -> new FlatRmsProp(flat, learningRate = 1e-2, alpha = 0.95, epsilon = 0.01, centered = true, TorchOpsOnly = ops)) ]
            for allocation in [ LayerWise Uniform; Global ] do
                for name, create in optimizers do
                    let what = sprintf "%s, %A" name allocation
                    use network = mlp 7L
                    use flat = new FlatParameters(network)
                    use optimizer = create flat
                    use pruner =
                        match MagnitudePruner.TryCreate(network, optimizer, schedule, allocation, Sparsity.paperScope) with
                        | null, error -> failtest error
                        | pruner, _ -> pruner
                    use generator = new torch.Generator(3UL)
                    let mutable updates = 0
                    for step in 0L..1_000L do
                        use scope = torch.NewDisposeScope()
                        if pruner.Update step then
                            updates <- updates + 1
                            let alive = flat.Values.ne((0.0f).ToScalar())
                            for state in optimizer.State do
                                Expect.isTrue (state.eq((0.0f).ToScalar()).logical_or(alive).all().item<bool> ()) (sprintf "%s: state of pruned weights cleared at %d" what step)
                        flat.Gradients.copy_(torch.randn([| flat.Count |], generator = generator)) |> ignore
                        optimizer.Step(pruner.StepMask)
                        expectPlanCounts pruner step what
                        // After every step, not only at mask updates: pruned weights and their state exactly zero.
                        if not (isNull pruner.StepMask) then
                            let pruned = pruner.StepMask.eq((0.0f).ToScalar())
                            for tensor in Seq.append [ flat.Values ] optimizer.State do
                                Expect.equal (tensor.masked_select(pruned).count_nonzero().item<int64> ()) 0L (sprintf "%s: pruned weights and state zero after step %d" what step)
                    Expect.equal updates (Schedule.updateSteps schedule |> Seq.length) (sprintf "%s: every mask update" what)
                    // The parameters' masks are views of the flat mask: one multiply zeroes pruned weights of the module.
                    use _ = torch.no_grad ()
                    for p in network.parameters () do
                        p.add_(torch.ones_like p) |> ignore
                    pruner.ApplyMasks()
                    expectPlanCounts pruner 1_000L what
        }

        test "a pruner refuses an optimizer over another network's parameters" {
            loaded ()
            use network = mlp 1L
            use other = new QNetwork(NetworkSpec(NetworkKind.Mlp, MlpHidden = [| 8 |]), [| 4 |], 3, 1L)
            use flat = new FlatParameters(other)
            use optimizer = new FlatAdam(flat)
            let schedule = Schedule.gradual 1_000L (Schedule.paperSpec 0.9) |> Result.defaultWith failwith
            match MagnitudePruner.TryCreate(network, optimizer, schedule, LayerWise Uniform, Sparsity.paperScope) with
            | null, error -> Expect.equal error "the optimizer's flat parameters are not the network's parameters" "message"
            | _ -> failtest "accepted"
        }
    ]
