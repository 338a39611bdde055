/// SAC: its configuration and the replay ratio (pure), the squashed Gaussian's log-density against a hand
/// computation, target smoothing, the temperature's direction, continuous actions through replay, exact
/// masks on every network when pruning, and learning Pendulum-v1 dense and pruned.
module Prunerl.Tests.SacTests

open System
open Expecto
open TorchSharp
open Prunerl.Core
open Prunerl.Experiments
open Prunerl.Agents.Agents
open Prunerl.Agents.Pruning
open Prunerl.Agents.Envs
open Prunerl.Agents.Networks
open Prunerl.Agents.Replay
open Prunerl.Agents.Training
open Prunerl.Agents.Runtime

let private small = NetworkSpec(NetworkKind.Mlp, MlpHidden = [| 16; 16 |])

let private box = BoxSpace([| -2.0f; -1.0f |], [| 2.0f; 3.0f |], [| 2 |])

/// A batch of random transitions with 3-value observations and 2-value actions in [-1, 1].
let private randomBatch (rows: int) (seed: uint64) =
    let batch = ReplayBatch(rows, 3, 2)
    let mutable random = EnvRandom(seed)
    for i in 0 .. batch.Observations.Length - 1 do
        batch.Observations[i] <- float32 (random.Uniform(-1.0, 1.0))
        batch.NextObservations[i] <- float32 (random.Uniform(-1.0, 1.0))
    for i in 0 .. batch.ActionVectors.Length - 1 do
        batch.ActionVectors[i] <- float32 (random.Uniform(-1.0, 1.0))
    for i in 0 .. rows - 1 do
        batch.Returns[i] <- float32 (random.Uniform(-1.0, 1.0))
        batch.Discounts[i] <- 0.99f
        batch.Weights[i] <- 1.0f
    batch

let private agent (config: SacConfig) pruning = new SacAgent(config, small, 3, box, pruning, 7L)

/// The pruned parameters' sparsity in a result, measured on the tensors.
let private prunedSparsity (parameters: seq<Prunerl.Agents.Pruning.ParameterSparsity>) =
    let pruned = parameters |> Seq.filter (fun p -> p.Pruned) |> List.ofSeq
    1.0 - float (pruned |> List.sumBy (fun p -> p.NonZero)) / float (pruned |> List.sumBy (fun p -> p.Size))

/// Pendulum-v1 with the tuned preset on 64-64 MLPs, evaluated every 500 steps and stopped at -300; pruned:
/// the paper's setting of a wider network (width 2) pruned to 90% (ERK), here between 5% and 40% of the
/// updates, on batches of 128 to keep the test short.
let private pendulum seed pruned steps =
    let pruning =
        PruningRequest(
            { Schedule.paperSpec 0.9 with PruneStart = StepPoint.Fraction 0.05; PruneEnd = StepPoint.Fraction 0.4; PruneEvery = 250L },
            LayerWise(Erk 1.0), Sparsity.paperScope)
    let config = if pruned then { SacConfig.pendulum with BatchSize = 128 } else SacConfig.pendulum
    RunSpec("pendulum", SacFamily config, NetworkSpec(NetworkKind.Mlp, Width = (if pruned then 2.0 else 1.0), MlpHidden = [| 64; 64 |]), steps, seed,
            (if pruned then pruning else null), 1, 500L, 5, null, Nullable -300.0)

[<Tests>]
let tests =
    testSequenced <| testList "SAC" [
        test "the presets validate, a bad field is named, and the replay ratio splits into a period and updates" {
            Expect.isOk (SacConfig.validate SacConfig.haarnoja) "Haarnoja et al.'s settings"
            Expect.isOk (SacConfig.validate SacConfig.pendulum) "Pendulum's"
            Expect.equal (SacConfig.validate { SacConfig.haarnoja with Tau = 0.0 }) (Error "tau must be in (0, 1], got 0") "tau"
            Expect.equal (SacConfig.validate { SacConfig.haarnoja with ReplayCapacity = 10 }) (Error "replay_capacity must be >= batch_size (256), got 10") "capacity"
            Expect.equal (SacConfig.replayRatio { SacConfig.haarnoja with UpdatesPerStep = 4; UpdatePeriod = 2 }) 2.0 "updates per step / period"
            Expect.equal (ReplayRatio.schedule 0.25) (Ok(4, 1)) "an update every 4 steps"
            Expect.equal (ReplayRatio.schedule 1.0) (Ok(1, 1)) "one per step"
            Expect.equal (ReplayRatio.schedule 8.0) (Ok(1, 8)) "8 per step"
            Expect.isError (ReplayRatio.schedule 0.3) "not 1/n"
            Expect.isError (ReplayRatio.schedule 2.5) "not whole"
            Expect.isError (ReplayRatio.schedule 0.0) "not positive"
        }

        test "the squashed Gaussian's log-density is the Gaussian's minus log(1 - tanh(u)^2), computed by hand" {
            use actor = new SquashedGaussianActor(small, 3, 2, 5L)
            use scope = torch.NewDisposeScope()
            let observations = torch.tensor([| 0.3f; -0.7f; 1.1f; -2.0f; 0.4f; 0.9f |]).view(2L, 3L)
            // The second row's noise drives u far into the squash's tail, where 1 - tanh(u)^2 underflows in float32.
            let noiseValues = [| 0.5f; -1.2f; 14.0f; -12.0f |]
            let noise = torch.tensor(noiseValues).view(2L, 2L)
            let struct (mean, logStd) = actor.Distribution(observations)
            let mean, logStd = mean.detach().data<float32>().ToArray(), logStd.detach().data<float32>().ToArray()
            let struct (actions, logProbabilities) = actor.Sample(observations, noise)
            let actions, logProbabilities = actions.detach().data<float32>().ToArray(), logProbabilities.detach().data<float32>().ToArray()
            for row in 0..1 do
                let mutable expected = 0.0
                for j in 0..1 do
                    let i = row * 2 + j
                    let n, s = float noiseValues[i], exp (float logStd[i])
                    let u = float mean[i] + s * n
                    Expect.floatClose Accuracy.medium (float actions[i]) (tanh u) "the action is tanh(mean + std * noise)"
                    let gaussian = -0.5 * n * n - log s - 0.5 * log (2.0 * Math.PI)
                    // log(1 - tanh(u)^2) = log(sech(u)^2) = -2 log(cosh u), exact in doubles for these u.
                    expected <- expected + gaussian + 2.0 * log (cosh u)
                Expect.floatClose { absolute = 1e-3; relative = 1e-5 } (float logProbabilities[row]) expected (sprintf "row %d's log-density" row)
        }

        test "after an update the target critics are tau * critics + (1 - tau) * their previous values" {
            use sac = agent { SacConfig.haarnoja with Tau = 0.05; BatchSize = 8 } null
            use scope = torch.NewDisposeScope()
            let before = sac.TargetParameters.Values.clone()
            Expect.isTrue (before.eq(sac.CriticParameters.Values).all().item<bool> ()) "the targets start as copies"
            sac.Update(randomBatch 8 1UL) |> ignore
            let expected = sac.CriticParameters.Values * 0.05 + before * 0.95
            Expect.isFalse (sac.CriticParameters.Values.eq(before).all().item<bool> ()) "the critics moved"
            Expect.isTrue (sac.TargetParameters.Values.allclose(expected, rtol = 1e-6, atol = 1e-7)) "Polyak averaging with tau"
        }

        test "the temperature rises when the policy's entropy is below the target and falls when above" {
            for targetPerDimension, rises in [ 10.0, true; -10.0, false ] do
                use sac = agent { SacConfig.haarnoja with TargetEntropyPerDimension = targetPerDimension; BatchSize = 8 } null
                Expect.equal sac.TargetEntropy (2.0 * targetPerDimension) "target entropy is the per-dimension value times |A|"
                let losses = sac.Update(randomBatch 8 2UL)
                Expect.equal (float losses.Alpha) 1.0 "the update used the initial alpha"
                if rises then Expect.isGreaterThan sac.Alpha 1.0 "alpha rises toward more entropy"
                else Expect.isLessThan sac.Alpha 1.0 "alpha falls toward less entropy"
        }

        test "actions map onto the box, and evaluation actions are tanh of the mean" {
            use sac = agent SacConfig.haarnoja null
            let environment = Array.zeroCreate<float32> 4
            sac.ToEnvironment(ReadOnlySpan<float32>([| -1.0f; 1.0f; 0.0f; 0.5f |]), Span<float32>(environment))
            Expect.sequenceEqual environment [| -2.0f; 3.0f; 0.0f; 2.0f |] "[-1, 1] onto [-2, 2] x [-1, 3]"
            let deterministic = Array.zeroCreate<float32> 2
            sac.Act(ReadOnlySpan<float32>([| 0.1f; 0.2f; 0.3f |]), true, Span<float32>(deterministic))
            use scope = torch.NewDisposeScope()
            let expected = sac.Actor.forward(torch.tensor([| 0.1f; 0.2f; 0.3f |]).view(1L, 3L)).data<float32>().ToArray()
            Expect.sequenceEqual deterministic expected "tanh(mean)"
        }

        test "continuous actions go through replay and a checkpoint of it unchanged" {
            let memory = ReplayBuffer(ReplayOptions(16, 2, 3, 1, 0.99, actionWidth = 2))
            let mutable random = EnvRandom(3UL)
            let stored = Collections.Generic.Dictionary<float32, float32[]>()
            for step in 0..9 do
                let observations = [| for c in 0..1 -> [| float32 (step * 10 + c); 0.0f; 0.0f |] |] |> Array.concat
                let actions = [| for _ in 0..3 -> float32 (random.Uniform(-1.0, 1.0)) |]
                for c in 0..1 do stored[observations[c * 3]] <- actions[c * 2 .. c * 2 + 1]
                memory.Add(ReadOnlySpan<float32>(observations), ReadOnlySpan<float32>(actions), ReadOnlySpan<float32>([| 1.0f; 1.0f |]),
                           ReadOnlySpan<bool>([| false; false |]), ReadOnlySpan<bool>([| false; false |]), ReadOnlySpan<float32>(Array.zeroCreate<float32> 6))
            let copy = ReplayBuffer(ReplayOptions(16, 2, 3, 1, 0.99, actionWidth = 2))
            Prunerl.Agents.Checkpoints.Snapshot.Restore(copy, Prunerl.Agents.Checkpoints.Snapshot.Capture memory)
            for replay in [ memory; copy ] do
                let batch = ReplayBatch(32, 3, 2)
                replay.Sample(32, &random, batch)
                for row in 0..31 do
                    Expect.sequenceEqual batch.ActionVectors[row * 2 .. row * 2 + 1] stored[batch.Observations[row * 3]] "the row's action vector"
            Expect.throwsT<ArgumentException> (fun () -> memory.Sample(4, &random, ReplayBatch(4, 3))) "a batch for discrete actions is refused"
            Expect.throwsT<InvalidOperationException>
                (fun () -> memory.Add(ReadOnlySpan<float32>(Array.zeroCreate<float32> 6), ReadOnlySpan<int>([| 0; 0 |]), ReadOnlySpan<float32>([| 0.0f; 0.0f |]),
                                      ReadOnlySpan<bool>([| false; false |]), ReadOnlySpan<bool>([| false; false |]), ReadOnlySpan<float32>(Array.zeroCreate<float32> 6)))
                "integer actions are refused by a memory of vectors"
        }

        test "pruning: actor and critics hold the plan's non-zeros after every mask update, and the target critics the critics' masks" {
            let spec = { Schedule.paperSpec 0.8 with PruneStart = StepPoint.Absolute 2L; PruneEnd = StepPoint.Absolute 30L; PruneEvery = 4L }
            let schedule = match Schedule.gradual 40L spec with Ok s -> s | Error e -> failtest e
            use sac = agent { SacConfig.haarnoja with BatchSize = 8 } (PruningSetup(schedule, LayerWise(Erk 1.0), Sparsity.paperScope))
            for update in 0L .. 39L do
                sac.Update(randomBatch 8 (uint64 update)) |> ignore
                for pruner in [ sac.ActorPruner; sac.CriticPruner ] do
                    let plan = Plan.at pruner.Plan update
                    for layer, target in Seq.zip (pruner.Measure()) plan.Layers do
                        match target.Target with
                        | Keep k -> Expect.equal layer.NonZero k (sprintf "%s at update %d" layer.Name update)
                        | _ -> Expect.equal layer.NonZero layer.Size (sprintf "dense %s at update %d" layer.Name update)
                use scope = torch.NewDisposeScope()
                let prunedInCritic = sac.CriticParameters.Values.eq(torch.tensor 0.0f)
                Expect.isTrue (sac.TargetParameters.Values.masked_select(prunedInCritic).eq(torch.tensor 0.0f).all().item<bool> ()) "the targets are zero where the critics are pruned"
            Expect.isLessThan (abs (prunedSparsity (sac.Measure()) - 0.8)) 0.01 "80% at the end"
        }

        test "a spec with discrete actions or a non-MLP network is refused" {
            Expect.throwsT<ArgumentException> (fun () -> TrainingRun.Run(RunSpec("cartpole", SacFamily SacConfig.pendulum, small, 10L, 0L)) |> ignore) "CartPole's actions are discrete"
            Expect.throwsT<ArgumentException> (fun () -> TrainingRun.Run(RunSpec("pendulum", SacFamily SacConfig.pendulum, NetworkSpec(NetworkKind.MinAtar), 10L, 0L)) |> ignore) "an MLP"
        }

        for pruned in [ false; true ] do
            test (sprintf "SAC %s reaches a mean evaluation return above -300 on Pendulum-v1 within 6000 steps" (if pruned then "at width 2 pruned to 90%" else "dense")) {
                torch.set_num_threads 1
                let result = TrainingRun.Run(pendulum 1L pruned 6000L)
                let best = result.Evaluations |> Seq.maxBy (fun e -> e.MeanReturn)
                Expect.isGreaterThan best.MeanReturn -300.0 (sprintf "the best evaluation (%A)" (List.ofSeq result.Evaluations))
                if pruned then Expect.isGreaterThanOrEqual best.Sparsity 0.899 "reached at 90% sparsity, measured on the tensors"
            }
    ]
