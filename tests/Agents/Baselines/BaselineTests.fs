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
open Prunerl.Experiments

let private minatar seed = new QNetwork(NetworkSpec(NetworkKind.MinAtar), [| 4; 10; 10 |], 6, seed)

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

/// Per parameter the renewal touched (by handle), the union of its masks: a parameter can be touched twice
/// (a dense weight read by the convolution below it and incoming to its own neurons).
let private touchedMasks (renewal: Renewal) =
    renewal.Touched
    |> Seq.groupBy (fun struct (p, _) -> p.Handle)
    |> Seq.map (fun (handle, masks) -> handle, masks |> Seq.map (fun struct (_, m) -> m) |> Seq.reduce (fun a b -> a.logical_or b))
    |> Map.ofSeq

/// Expects every entry outside the renewal bit for bit what it was in `before`.
/// A small CartPole agent (noisy or plain) after 20 updates on one batch, with the batch and its optimizer state then.
let private trainedAgent (noisy: bool) =
    let agent = new DqnAgent({ AgentConfig.cartpoleDqn with BatchSize = 8; Noisy = noisy }, NetworkSpec(NetworkKind.Mlp, MlpHidden = [| 16 |]), [| 4 |], 2, null, 2L)
    let batch = Prunerl.Tests.Fixtures.terminalBatch 3UL
    for _ in 1..20 do agent.Update batch |> ignore
    agent, batch, [ for s in agent.Optimizer.State -> s.clone () ]

let private expectOnlyRenewedChanged (n: QNetwork) (before: Map<string, torch.Tensor>) (renewal: Renewal) =
    let touched = touchedMasks renewal
    for struct (name, p) in n.named_parameters () do
        let old = before[name]
        match touched |> Map.tryFind p.Handle with
        | Some mask -> Expect.isTrue (same (p.masked_select(mask.logical_not())) (old.masked_select(mask.logical_not()))) (name + " outside the renewal")
        | None -> Expect.isTrue (same p old) (name + " untouched")


[<Tests>]
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
            expectOnlyRenewedChanged n before renewal
            // With tau = 0 the recycled neurons were silent on this batch, and their outgoing weights are now 0:
            // the network computes exactly the same Q-values on it.
            use qAfter = n.forward x
            Expect.isTrue (same qAfter qBefore) "same function on the batch"
        }

        test "ReDo of a noisy network: fresh means and initial noise scales in, zero means and noise scales out, the same noisy outputs" {
            use n = new QNetwork(NetworkSpec(NetworkKind.MinAtar, Noisy = true), [| 4; 10; 10 |], 6, 1L)
            use x = batch ()
            use generator = new torch.Generator(7UL)
            n.train ()
            n.ResampleNoise generator
            let weightMu, biasMu = parameter n "torso.dense.weight_mu", parameter n "torso.dense.bias_mu"
            let weightSigma, biasSigma = parameter n "torso.dense.weight_sigma", parameter n "torso.dense.bias_sigma"
            // Silence dense neurons 3 and 7 whatever the noise: no input through means or noise, a negative bias.
            using (torch.no_grad ()) (fun _ ->
                for i in [ 3L; 7L ] do
                    weightMu[i].zero_() |> ignore
                    weightSigma[i].zero_() |> ignore
                    biasMu[i].fill_(-1.0) |> ignore
                    biasSigma[i].zero_() |> ignore)
            let before = snapshot n
            use qBefore = n.forward x
            use recycler = new DormantNeuronRecycler(0.0, 5UL)
            use renewal = recycler.Recycle(n, x)
            let recycled = renewal.Layers |> Seq.map (fun struct (name, count) -> name, count) |> Map.ofSeq
            Expect.isGreaterThanOrEqual recycled["dense"] 2 "dense neurons 3 and 7 at least"
            let bound = 1.0f / sqrt 1024.0f
            let sigma = float32 (0.1 / sqrt 1024.0)
            for i in [ 3L; 7L ] do
                let row = values weightMu[i]
                Expect.isTrue (row |> Array.exists (fun w -> w <> 0.0f)) "fresh incoming means"
                Expect.isTrue (Array.append row (values biasMu[i]) |> Array.forall (fun w -> abs w <= bound)) "drawn from the means' initial distribution"
                Expect.isTrue (Array.append (values weightSigma[i]) (values biasSigma[i]) |> Array.forall ((=) sigma)) "noise scales back to sigma0 / sqrt(inputs)"
                for reader in [ "head.weight_mu"; "head.weight_sigma" ] do
                    Expect.isTrue (values ((parameter n reader).select(1L, i)) |> Array.forall ((=) 0.0f)) (reader + ": outgoing zero")
            let touched = touchedMasks renewal
            for name in [ "torso.dense.weight_sigma"; "torso.dense.bias_sigma"; "head.weight_mu"; "head.weight_sigma" ] do
                Expect.isTrue (touched.ContainsKey (parameter n name).Handle) (name + " in the renewal, for the optimizer to forget")
            expectOnlyRenewedChanged n before renewal
            // The recycled neurons now fire, but nothing reads them, through the means or the noise: with the same
            // noise the network computes exactly the same Q-values on the batch.
            use qAfter = n.forward x
            Expect.isTrue (same qAfter qBefore) "same function on the batch, noise included"
        }

        test "ReDo is reproducible with its seed and finds every Impala layer it should" {
            let recycleWith seed =
                use n = minatar 2L
                use x = batch ()
                use recycler = new DormantNeuronRecycler(0.5, seed)
                use _ = recycler.Recycle(n, x)
                values (parameter n "torso.dense.weight")
            Expect.equal (recycleWith 3UL) (recycleWith 3UL) "same seed"
            use impala = new QNetwork(NetworkSpec(NetworkKind.Impala), [| 4; 10; 10 |], 6, 1L)
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
    
        test "Reset of a noisy dueling C51 network renews the means and sets the noise scales back to sigma0 / sqrt(inputs)" {
            for layers in [ 1; 2 ] do
                use n = new QNetwork(NetworkSpec(NetworkKind.MinAtar, Noisy = true, Dueling = true, Atoms = 51), [| 4; 10; 10 |], 6, 3L)
                // Noise scales moved away from their initial value, as training moves them.
                using (torch.no_grad ()) (fun _ ->
                    for struct (name, p) in n.named_parameters () do
                        if name.EndsWith "_sigma" then p.fill_(0.5) |> ignore)
                let before = snapshot n
                use reset = new LastLayerReset(layers, 9UL)
                use renewal = reset.Reset n
                let renewed = [ "head"; "value" ] @ (if layers = 2 then [ "torso.dense" ] else [])
                for struct (name, p) in n.named_parameters () do
                    let layer = name.Substring(0, name.LastIndexOf '.')
                    if List.contains layer renewed then
                        let inputs = float (parameter n (layer + ".weight_mu")).shape[1]
                        if name.EndsWith "_mu" then
                            Expect.isFalse (same p before[name]) (name + " renewed")
                            Expect.isTrue (values p |> Array.forall (fun w -> abs w <= float32 (1.0 / sqrt inputs))) (name + " from the initial distribution")
                        else Expect.isTrue (values p |> Array.forall ((=) (float32 (0.1 / sqrt inputs)))) (name + " back to its initial scale")
                    else Expect.isTrue (same p before[name]) (name + " kept")
                Expect.equal renewal.Touched.Count (4 * renewed.Length) "means and noise scales of each renewed layer"
                Expect.equal
                    [ for struct (name, neurons) in renewal.Layers -> name, neurons ]
                    ([ "head", 6 * 51; "value", 51 ] @ (if layers = 2 then [ "dense", 128 ] else []))
                    "the renewed layers' units"
        }

        test "after ReDo of a noisy network the optimizer forgets exactly the renewed entries, noise scales included" {
            let agent, batch, before = trainedAgent true
            use _ = agent
            // tau = 1: the neurons at most as active as their layer's average, at least one.
            use recycler = new DormantNeuronRecycler(1.0, 4UL)
            use renewal = recycler.Recycle(agent.Online, agent.Observations batch)
            agent.ForgetOptimizerState renewal
            Expect.isGreaterThan (renewal.Layers |> Seq.sumBy (fun struct (_, k) -> k)) 0 "some neurons recycled"
            let touched = touchedMasks renewal
            let flat = agent.Optimizer.Parameters
            let names = [ for struct (name, p) in agent.Online.named_parameters () -> p.Handle, name ] |> Map.ofList
            let touchedNames = [ for KeyValue(handle, _) in touched -> names[handle] ] |> set
            Expect.containsAll touchedNames [ "torso.layers.0.weight_mu"; "torso.layers.0.weight_sigma"; "torso.layers.0.bias_sigma"; "head.weight_mu"; "head.weight_sigma" ] "means and noise scales, in and out"
            for KeyValue(handle, mask) in touched do
                let index = flat.Slices |> Seq.findIndex (fun s -> s.Name = names[handle])
                for state, old in Seq.zip agent.Optimizer.State before do
                    let moments, oldMoments = flat.View(state, index), flat.View(old, index)
                    Expect.isTrue (oldMoments.masked_select(mask).ne(torch.tensor 0.0f).any().item<bool> ()) (names[handle] + ": moments there before")
                    Expect.isTrue (moments.masked_select(mask).eq(torch.tensor 0.0f).all().item<bool> ()) (names[handle] + ": cleared where renewed")
                    Expect.isTrue (same (moments.masked_select(mask.logical_not())) (oldMoments.masked_select(mask.logical_not()))) (names[handle] + ": kept elsewhere")
        }

        test "during training, ReDo and Reset apply every period of gradient updates; with pruning they are refused" {
            let mlp = NetworkSpec(NetworkKind.Mlp, MlpHidden = [| 64; 64 |])
            let run baseline = TrainingRun.Run(RunSpec("cartpole", DqnFamily(AgentConfig.cartpoleDqn, Baseline = baseline), mlp, 4000L, 1L))
            // Learning from step 1000, an update every 2 steps: 1500 updates.
            let redo = run (BaselineRequest(BaselineKind.Redo, 500L, RedoTau = 0.1))
            Expect.equal [ for r in redo.Renewals -> r.Update ] [ 500L; 1000L; 1500L ] "ReDo every 500 updates"
            let reset = run (BaselineRequest(BaselineKind.Reset, 1000L, ResetLayers = 2))
            Expect.equal [ for r in reset.Renewals -> r.Update, r.Neurons ] [ 1000L, 64 + 2 ] "the head and the last hidden layer, once"
            let pruning = PruningRequest(Schedule.paperSpec 0.9, LayerWise Uniform, Sparsity.paperScope)
            Expect.throwsT<System.ArgumentException>
                (fun () -> TrainingRun.Run(RunSpec("cartpole", DqnFamily(AgentConfig.cartpoleDqn, Baseline = BaselineRequest(BaselineKind.Redo, 500L, RedoTau = 0.1)), mlp, 2000L, 1L, pruning)) |> ignore)
                "a baseline needs a dense network"
        }

        test "after a renewal the optimizer forgets exactly the renewed entries" {
            let agent, batch, before = trainedAgent false
            use _ = agent
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
