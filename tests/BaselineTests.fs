/// The baselines: ReDo recycles exactly the dormant neurons it finds; Reset renews the last layers only.
module Prunerl.Tests.BaselineTests

open Expecto
open TorchSharp
open Prunerl.Agents.Analysis
open Prunerl.Agents.Baselines
open Prunerl.Agents.Networks
open Prunerl.Agents.Agents
open Prunerl.Agents.Envs
open Prunerl.Agents.Replay
open Prunerl.Agents.Training
open Prunerl.Core

let private minatar seed = new QNetwork(NetworkSpec(TorsoKind.MinAtar), [| 4; 10; 10 |], 6, seed)

let private batch () =
    torch.random.manual_seed 11L |> ignore
    (torch.rand (32L, 4L, 10L, 10L)).gt(torch.tensor 0.7f).to_type(torch.ScalarType.Float32)

let private parameter (n: QNetwork) name =
    n.named_parameters () |> Seq.pick (fun struct (k, p) -> if k = name then Some p else None)

let private snapshot (n: QNetwork) =
    n.named_parameters () |> Seq.map (fun struct (k, p) -> k, p.detach().clone()) |> Map.ofSeq

/// Whether two tensors hold exactly the same values.
let private same (a: torch.Tensor) (b: torch.Tensor) = a.shape = b.shape && a.eq(b).all().item<bool> ()

let private values (t: torch.Tensor) = t.contiguous().data<float32>().ToArray()

let tests =
    testSequenced <| testList "baselines" [
        test "ReDo renews exactly the dormant neurons: fresh incoming weights, zero outgoing, the rest untouched" {
            use n = minatar 1L
            use x = batch ()
            let denseW, denseB = parameter n "torso.dense.weight", parameter n "torso.dense.bias"
            let convW, convB = parameter n "torso.conv.weight", parameter n "torso.conv.bias"
            // Silence dense neurons 3 and 7 and conv channel 2: no input, a negative bias, so ReLU gives 0.
            using (torch.no_grad ()) (fun _ ->
                for i in [ 3L; 7L ] do
                    denseW[i].zero_() |> ignore
                    denseB[i].fill_(-1.0) |> ignore
                convW[2L].zero_() |> ignore
                convB[2L].fill_(-1.0) |> ignore)
            let before = snapshot n
            use qBefore = n.forward x
            let activations = System.Collections.Generic.List<System.ValueTuple<string, torch.Tensor>>()
            using (torch.no_grad ()) (fun _ -> n.Logits(x, activations) |> ignore)
            let denseDormant = activations |> Seq.pick (fun struct (name, a) -> if name = "dense" then Some(NetworkAnalysis.Dormant(a, 0.0).data<bool>().ToArray()) else None)
            use recycler = new DormantNeuronRecycler(0.0, 5UL)
            use renewal = recycler.Recycle(n, x)
            let recycled = renewal.Layers |> Seq.map (fun struct (name, count) -> name, count) |> Map.ofSeq
            Expect.isGreaterThanOrEqual recycled["dense"] 2 "dense neurons 3 and 7 at least"
            Expect.isGreaterThanOrEqual recycled["conv"] 1 "conv channel 2 at least"
            let bound = 1.0f / sqrt 1024.0f
            for i in [ 3L; 7L ] do
                let row = values denseW[i]
                Expect.isTrue (row |> Array.exists (fun w -> w <> 0.0f)) "fresh incoming weights"
                Expect.isTrue (row |> Array.forall (fun w -> abs w <= bound)) "drawn from the initial distribution"
                Expect.isTrue (values ((parameter n "head.weight").select(1L, i)) |> Array.forall ((=) 0.0f)) "outgoing weights zero"
            // Channel 2 owns dense columns 128..191 (8 x 8 positions each): zero in every row not renewed itself.
            for row in 0 .. denseDormant.Length - 1 do
                if not denseDormant[row] then
                    Expect.isTrue (values (denseW[int64 row].narrow(0L, 128L, 64L)) |> Array.forall ((=) 0.0f)) (sprintf "row %d reads channel 2" row)
            // Everything not in the renewal is bit for bit what it was.
            // A parameter can be touched twice (dense.weight: read by the conv layer, incoming to dense): join its masks.
            let touched =
                renewal.Touched
                |> Seq.groupBy (fun struct (p, _) -> p.Handle)
                |> Seq.map (fun (handle, masks) -> handle, masks |> Seq.map (fun struct (_, m) -> m) |> Seq.reduce (fun a b -> a.logical_or b))
                |> Map.ofSeq
            for struct (name, p) in n.named_parameters () do
                let old = before[name]
                match touched |> Map.tryFind p.Handle with
                | Some mask -> Expect.isTrue (same (p.masked_select(mask.logical_not())) (old.masked_select(mask.logical_not()))) (name + " outside the renewal")
                | None -> Expect.isTrue (same p old) (name + " untouched")
            // With tau = 0 the recycled neurons were silent on this batch, and their outgoing weights are now 0:
            // the network computes exactly the same Q-values on it.
            use qAfter = n.forward x
            Expect.isTrue (same qAfter qBefore) "same function on the batch"
        }

        test "ReDo is reproducible with its seed and finds every Impala layer it should" {
            let recycleWith seed =
                use n = minatar 2L
                use x = batch ()
                use recycler = new DormantNeuronRecycler(0.5, seed)
                use _ = recycler.Recycle(n, x)
                values (parameter n "torso.dense.weight")
            Expect.equal (recycleWith 3UL) (recycleWith 3UL) "same seed"
            use impala = new QNetwork(NetworkSpec(TorsoKind.Impala), [| 4; 10; 10 |], 6, 1L)
            use x = batch ()
            use recycler = new DormantNeuronRecycler(0.1, 1UL)
            use renewal = recycler.Recycle(impala, x)
            Expect.equal
                [ for struct (name, _) in renewal.Layers -> name ]
                [ "stacks.0.block0"; "stacks.0.block1"; "stacks.1.block0"; "stacks.1.block1"; "stacks.2.block0"; "stacks.2.block1"; "dense" ]
                "the first convolution of each block, and the dense layer"
        }

        test "Reset renews the head (and with two layers the torso's last), nothing else" {
            for layers in [ 1; 2 ] do
                use n = minatar 3L
                let before = snapshot n
                use reset = new LastLayerReset(layers, 9UL)
                use renewal = reset.Reset n
                let renewed = set [ "head.weight"; "head.bias" ] + (if layers = 2 then set [ "torso.dense.weight"; "torso.dense.bias" ] else Set.empty)
                for struct (name, p) in n.named_parameters () do
                    if renewed.Contains name then Expect.isFalse (same p before[name]) (name + " renewed")
                    else Expect.isTrue (same p before[name]) (name + " kept")
                Expect.equal renewal.Touched.Count renewed.Count "the renewal lists what changed"
        }
    
        test "during training, ReDo and Reset apply every period of gradient updates; with pruning they are refused" {
            let mlp = NetworkSpec(TorsoKind.Mlp, MlpHidden = [| 64; 64 |])
            let run baseline = DqnTraining.Run(TrainingSpec("cartpole", AgentConfig.cartpoleDqn, mlp, 4000L, 1L, Baseline = baseline))
            // Learning from step 1000, an update every 2 steps: 1500 updates.
            let redo = run (RedoRequest(500L, 0.1))
            Expect.equal [ for r in redo.Renewals -> r.Update ] [ 500L; 1000L; 1500L ] "ReDo every 500 updates"
            let reset = run (ResetRequest(1000L, 2))
            Expect.equal [ for r in reset.Renewals -> r.Update, r.Neurons ] [ 1000L, 64 + 2 ] "the head and the last hidden layer, once"
            let pruning = PruningRequest(Schedule.paperSpec 0.9, LayerWise Uniform, Sparsity.paperScope)
            Expect.throwsT<System.ArgumentException>
                (fun () -> DqnTraining.Run(TrainingSpec("cartpole", AgentConfig.cartpoleDqn, mlp, 2000L, 1L, pruning, Baseline = RedoRequest(500L, 0.1))) |> ignore)
                "a baseline needs a dense network"
        }

        test "after a renewal the optimizer forgets exactly the renewed entries" {
            use agent = new DqnAgent({ AgentConfig.cartpoleDqn with BatchSize = 8 }, NetworkSpec(TorsoKind.Mlp, MlpHidden = [| 16 |]), [| 4 |], 2, null, 2L)
            let batch = Prunerl.Tests.Fixtures.terminalBatch 3UL
            for _ in 1..20 do agent.Update batch |> ignore
            let before = [ for s in agent.Optimizer.State -> s.clone () ]
            use reset = new LastLayerReset(1, 4UL)
            use renewal = reset.Reset agent.Online
            agent.ForgetOptimizerState renewal
            let flat = agent.Optimizer.Parameters
            let headIndex = flat.Slices |> Seq.findIndex (fun s -> s.Name = "head.weight")
            for state, old in Seq.zip agent.Optimizer.State before do
                Expect.isTrue ((flat.View(state, headIndex)).eq(torch.tensor 0.0f).all().item<bool> ()) "the head's moments are cleared"
                let torsoIndex = flat.Slices |> Seq.findIndex (fun s -> s.Name = "torso.layers.0.weight")
                Expect.isTrue (same (flat.View(state, torsoIndex)) (flat.View(old, torsoIndex))) "the torso's moments are kept"
        }
    ]
