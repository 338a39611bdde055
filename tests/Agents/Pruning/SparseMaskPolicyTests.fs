/// The sparse-training methods on a live network's flat buffer: static masks on target and never changing, SET and
/// RigL rewiring as the pure core does with regrown weights and Adam moments at zero, a lottery ticket starting from
/// exactly its recorded weights under its final masks, and the masks through a checkpoint.
module Prunerl.Tests.SparseMaskPolicyTests

open System.IO
open Expecto
open TorchSharp
open Prunerl.Core
open Prunerl.Experiments
open Prunerl.Agents.Checkpoints
open Prunerl.Agents.Networks
open Prunerl.Agents.Pruning
open Prunerl.Agents.Training
open Prunerl.Tests.TorchTests
open Prunerl.Agents.Optimisers

let private ok r =
    match r with
    | Ok x -> x
    | Error e -> failtestf "expected Ok, got Error %s" e

/// A rewiring every 10 updates from step 10 to 100, dropping 30% at first.
let private drop = { Initial = 0.3; Anneal = CosineDrop; Start = 1L; End = 100L; Period = 10L }

let private setup sparsity allocation =
    PruningSetup(Schedule.constant sparsity |> ok, allocation, Sparsity.paperScope)

let private network () = new QNetwork(NetworkSpec(NetworkKind.Mlp, MlpHidden = [| 32; 32 |]), [| 4 |], 2, 7L)

let private create (net: QNetwork) (optimizer: IFlatOptimizer) (training: SparseTraining) allocation =
    match SparseMaskPolicy.TryCreate(net, optimizer, setup 0.9 allocation, training) with
    | null, error -> failtestf "no policy: %s" error
    | policy, _ -> policy

let private values (t: torch.Tensor) = t.detach().flatten().cpu().data<float32>().ToArray()

/// One update's gradients: a squared-output loss on a fixed batch, dense at the pruned weights too.
let private backward (net: QNetwork) (flat: FlatParameters) =
    flat.ZeroGrad()
    use x = torch.linspace(-1.0, 1.0, 32L).view(8L, 4L)
    use y = net.forward x
    use loss = y.pow(torch.tensor 2.0f).mean()
    loss.backward()

[<Tests>]
let tests =
    testSequenced <| testList "Sparse mask policies" [
        test "a static mask keeps every layer's target from the start and never changes" {
            loaded ()
            for init, allocation in [ RandomInit, LayerWise Uniform; MagnitudeInit, LayerWise(Erk 1.0); MagnitudeInit, Global ] do
                use net = network ()
                use flat = new FlatParameters(net)
                use adam = new FlatAdam(flat)
                use policy = create net adam (SparseTraining(Static, init, drop, 11UL)) allocation
                let targets = Plan.at policy.Plan 0L
                let start = policy.Masks()
                for i, b in Array.indexed targets.Layers do
                    match b.Target with
                    | Keep k -> Expect.equal (start[i] |> Array.filter id |> Array.length |> int64) k "on target"
                    | Dense -> Expect.isTrue (Array.forall id start[i]) "dense"
                    | Pooled -> ()
                for i, p in Seq.indexed (policy.Measure()) do
                    if p.Pruned then Expect.isLessThanOrEqual p.NonZero (start[i] |> Array.filter id |> Array.length |> int64) "no more non-zeros than kept"
                for step in 0L .. 30L do
                    Expect.isFalse (policy.Update step) "no update"
                    backward net flat
                    policy.BeforeStep(step, flat.Gradients)
                    adam.Step(policy.StepMask)
                Expect.equal (policy.Masks()) start "unchanged"
                let w = values flat.Values
                let m = Array.concat start
                Expect.isTrue (Array.forall2 (fun k x -> k || x = 0.0f) m w) "pruned weights stay at zero"
        }

        test "SET and RigL rewire as the core does; regrown weights and Adam moments start at zero" {
            loaded ()
            for method in [ SET; RigL ] do
                use net = network ()
                use flat = new FlatParameters(net)
                use adam = new FlatAdam(flat)
                use policy = create net adam (SparseTraining(method, RandomInit, drop, 5UL)) (LayerWise(Erk 1.0))
                // A few ordinary updates so the moments are non-zero, then the rewiring at step 10.
                for step in 0L .. 9L do
                    backward net flat
                    policy.BeforeStep(step, flat.Gradients)
                    adam.Step(policy.StepMask)
                backward net flat
                let before = policy.Masks()
                let weights = [| for i in 0 .. before.Length - 1 -> values (flat.View(flat.Values, i)) |]
                let gradients = [| for i in 0 .. before.Length - 1 -> values (flat.View(flat.Gradients, i)) |]
                let prunable = [| for i in 0 .. before.Length - 1 -> policy.Plan.Prunable.IsPrunable i |]
                let expected = SparseMethod.rewire method drop 5UL 10L before weights (Some gradients) |> ok
                policy.BeforeStep(10L, flat.Gradients)
                let after = policy.Masks()
                for i in 0 .. before.Length - 1 do
                    if prunable[i] then
                        Expect.equal after[i] expected[i].Mask (sprintf "%A layer %d as the core" method i)
                        Expect.isNonEmpty expected[i].Grown "something regrown"
                        let w = values (flat.View(flat.Values, i))
                        for state in adam.State do
                            let s = values (flat.View(state, i))
                            for g in expected[i].Grown do
                                Expect.equal s[g] 0.0f "regrown state at zero"
                        for g in expected[i].Grown do
                            Expect.equal w[g] 0.0f "regrown weight at zero"
                        for d in expected[i].Dropped do
                            Expect.equal w[d] 0.0f "dropped weight at zero"
                    else Expect.isTrue (Array.forall id after[i]) "dense parameters stay dense"
        }

        test "a lottery ticket starts from exactly the recorded weights under exactly the final masks" {
            loaded ()
            use pruned = network ()
            use prunedFlat = new FlatParameters(pruned)
            let initial = { Step = 0L; Weights = [| for i in 0 .. prunedFlat.Slices.Count - 1 -> values (prunedFlat.View(prunedFlat.Values, i)) |] }
            let final =
                initial.Weights
                |> Array.mapi (fun i w -> if i % 2 = 0 then Mask.layerwise 0.9 (Array.map (fun x -> x * float32 (i + 1)) w) |> ok else Array.create w.Length true)
            let ticket = LotteryTicket.create ToInitial final [ initial ] |> ok
            use net = new QNetwork(NetworkSpec(NetworkKind.Mlp, MlpHidden = [| 32; 32 |]), [| 4 |], 2, 99L)
            use flat = new FlatParameters(net)
            use adam = new FlatAdam(flat)
            use policy = create net adam (SparseTraining(Lottery, RandomInit, drop, 0UL, ticket)) (LayerWise Uniform)
            Expect.equal (policy.Masks()) final "the final masks"
            let start = LotteryTicket.startingWeights ticket
            for i in 0 .. start.Length - 1 do
                Expect.equal (values (flat.View(flat.Values, i))) start[i] "the recorded weights, pruned at zero"
        }

        test "the masks go through a checkpoint" {
            loaded ()
            use net = network ()
            use flat = new FlatParameters(net)
            use adam = new FlatAdam(flat)
            use policy = create net adam (SparseTraining(SET, RandomInit, drop, 3UL)) (LayerWise Uniform)
            backward net flat
            policy.BeforeStep(10L, flat.Gradients)
            let saved = policy.Masks()
            use stream = new MemoryStream()
            policy.Save(StateWriter stream)
            use other = network ()
            use otherFlat = new FlatParameters(other)
            use otherAdam = new FlatAdam(otherFlat)
            use restored = create other otherAdam (SparseTraining(SET, RandomInit, drop, 4UL)) (LayerWise Uniform)
            Expect.notEqual (restored.Masks()) saved "a different draw before loading"
            stream.Position <- 0L
            restored.Load(StateReader(stream, stream.Length, "test"))
            Expect.equal (restored.Masks()) saved "the saved masks"
        }
    ]
