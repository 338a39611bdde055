/// Agents learn: DQN dense and DQN pruned to 90% each solve CartPole-v1 within a bounded number of steps,
/// for two seeds each; runs are reproducible from their seed; the agent's update does what it says.
module Prunerl.Tests.LearningTests

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

/// 128-128 units at width 2: the paper's setting is a wider network pruned.
let private network = NetworkSpec(NetworkKind.Mlp, Width = 2.0, MlpHidden = [| 128; 128 |])

/// 90% with ERK, reached by a quarter of the run, so the agent learns at full sparsity.
let private pruning =
    PruningRequest(
        { Schedule.paperSpec 0.9 with PruneStart = StepPoint.Fraction 0.05; PruneEnd = StepPoint.Fraction 0.25; PruneEvery = 250L },
        LayerWise(Erk 1.0),
        Sparsity.paperScope)

let private cartpole seed (pruned: bool) steps =
    RunSpec("cartpole", DqnFamily AgentConfig.cartpoleDqn, network, steps, seed, (if pruned then pruning else null), 1, 2500L, 5, null, Nullable 475.0)

/// The first evaluation at or above 475 (CartPole-v1's "solved"), if any.
let private solved (result: TrainingResult) = result.Evaluations |> Seq.tryFind (fun e -> e.MeanReturn >= 475.0)

[<Tests>]
let tests =
    testSequenced <| testList "learning" [
        for seed in [ 1L; 2L ] do
            for pruned in [ false; true ] do
                test (sprintf "DQN %s solves CartPole-v1 within 60k steps (seed %d)" (if pruned then "pruned to 90%" else "dense") seed) {
                    torch.set_num_threads 1
                    let result = TrainingRun.Run(cartpole seed pruned 60_000L)
                    match solved result with
                    | Some evaluation ->
                        if pruned then Expect.isGreaterThanOrEqual evaluation.Sparsity 0.899 "solved at 90% sparsity, measured on the tensors"
                    | None ->
                        failtestf "not solved; evaluations: %s" (result.Evaluations |> Seq.map (fun e -> sprintf "%d:%.0f" e.Step e.MeanReturn) |> String.concat " ")
                }

        test "the same seed gives the same run" {
            let run () = TrainingRun.Run(RunSpec("cartpole", DqnFamily AgentConfig.cartpoleDqn, network, 4000L, 7L, pruning, 2, 2000L, 2))
            let a, b = run (), run ()
            Expect.equal (List.ofSeq b.Episodes) (List.ofSeq a.Episodes) "episodes"
            Expect.equal (List.ofSeq b.Evaluations) (List.ofSeq a.Evaluations) "evaluations"
        }

        test "updates on one batch lower its loss; pruned weights stay zero; the target copies the masked weights" {
            let config = { AgentConfig.cartpoleDqn with BatchSize = 8 }
            let schedule = Schedule.constant 0.5 |> Result.defaultWith failwith
            use agent = new DqnAgent(config, NetworkSpec(NetworkKind.Mlp, MlpHidden = [| 32 |]), [| 4 |], 2, PruningSetup(schedule, LayerWise Uniform, Sparsity.paperScope), 3L)
            // Terminal transitions with return 1: the taken actions' Q-values should move to 1.
            let batch = Prunerl.Tests.Fixtures.terminalBatch 5UL
            let first = agent.Update batch
            let mutable last = first
            for _ in 1..300 do last <- agent.Update batch
            Expect.isLessThan last (first / 10.0f) "the loss falls on a fixed batch"
            Expect.equal agent.Updates 301L "updates counted"
            for p in agent.Pruner.Measure() |> Seq.filter (fun p -> p.Pruned) do
                Expect.equal p.NonZero (int64 (Math.Round(float p.Size * 0.5, MidpointRounding.ToEven))) (p.Name + " holds its mask")
            agent.SyncTarget()
            for online, target in Seq.zip (agent.Online.parameters ()) (agent.Target.parameters ()) do
                Expect.isTrue (online.eq(target).all().item<bool> ()) "the target holds the online network's masked weights"
        }
    
        test "Rainbow's path runs: C51 over 51 atoms, 3-step returns, prioritized replay with annealed beta" {
            let rainbow =
                { AgentConfig.cartpoleDqn with
                    NStep = 3
                    Atoms = 51
                    VMin = 0.0
                    VMax = 200.0
                    Replay = PrioritizedReplay(0.5, 0.4, 2000L) }
            let result = TrainingRun.Run(RunSpec("cartpole", DqnFamily rainbow, network, 3000L, 3L, pruning, 1, 1500L, 2))
            Expect.equal result.Updates 1000L "an update every 2 steps after 1000"
            Expect.equal (result.Evaluations |> Seq.map (fun e -> e.Step) |> List.ofSeq) [ 1500L; 3000L ] "evaluated"
            Expect.isTrue (result.Evaluations |> Seq.forall (fun e -> Double.IsFinite e.MeanReturn && e.MeanReturn >= 1.0)) "finite returns"
        }
    
        test "analysis on fresh replay states every K steps: sane values, non-zeros falling with pruning, the run unchanged" {
            let spec analyse = RunSpec("cartpole", DqnFamily(AgentConfig.cartpoleDqn, analyse), network, 6000L, 4L, pruning, 1, 3000L, 2)
            let measured = TrainingRun.Run(spec 1000L)
            let plain = TrainingRun.Run(spec 0L)
            Expect.equal (List.ofSeq measured.Episodes) (List.ofSeq plain.Episodes) "measuring does not change the run"
            Expect.equal (List.ofSeq measured.Evaluations) (List.ofSeq plain.Evaluations) "nor its evaluations"
            Expect.equal (measured.Analyses |> Seq.map (fun a -> a.Step) |> List.ofSeq) [ 1000L .. 1000L .. 6000L ] "every 1000 steps once replay has a batch"
            for a in measured.Analyses do
                Expect.isTrue (0.0 <= a.DormantFraction && a.DormantFraction <= 1.0) "a fraction"
                // srank of 2048 states' features: at most the feature count (the MLP's last hidden layer).
                Expect.isTrue (a.EffectiveRank >= 1 && a.EffectiveRank <= 256) "srank within the features"
                Expect.isTrue (Double.IsFinite a.TargetQVariance && a.TargetQVariance >= 0.0) "the target's variance"
                Expect.isTrue (Double.IsFinite a.TargetVariance && a.TargetVariance > 0.0) "the TD targets' variance"
                Expect.isTrue (Double.IsFinite a.QNorm && a.QNorm > 0.0) "a Q norm"
                Expect.isTrue (abs a.GradientInterference <= a.GradientInterferenceAbs + 1e-12 && a.GradientInterferenceAbs <= 1.0)
                    "the mean |cosine| bounds the signed mean's size"
                Expect.isTrue (Double.IsFinite a.ParameterNorm && a.ParameterNorm > 0.0) "a norm"
                Expect.isTrue (Double.IsFinite a.QVariance && a.QVariance >= 0.0) "a variance"
                Expect.isTrue (-1.0 <= a.GradientInterference && a.GradientInterference <= 1.0) "a mean cosine"
                Expect.equal (a.Dormancy |> Seq.map (fun l -> l.Layer) |> List.ofSeq) [ "layers.0"; "layers.1" ] "hidden layers"
            let first, last = Seq.head measured.Analyses, Seq.last measured.Analyses
            Expect.isLessThan last.NonZeroParameters first.NonZeroParameters "pruning removes parameters"
        }
    
        test "no tensor outlives a run: per step nothing leaks (training, evaluation, analysis, pruning, checkpoints saved and loaded)" {
            let live () = TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount
            // Checkpoints every 500 steps, then the finished run resumed (every part loaded) a number of times.
            let run steps resumes =
                let directory = IO.Path.Combine(IO.Path.GetTempPath(), "prunerl-leak-" + Guid.NewGuid().ToString("N"))
                try
                    let hooks = RunHooks(Checkpoints = CheckpointPolicy(directory, 500L))
                    let spec = RunSpec("cartpole", DqnFamily(AgentConfig.cartpoleDqn, 1000L), network, steps, 8L, pruning, 1, 1000L, 1)
                    for _ in 0..resumes do TrainingRun.Run(spec, hooks) |> ignore
                finally
                    IO.Directory.Delete(directory, true)
            run 1500L 1
            let before = live ()
            run 3000L 3
            let grown = live () - before
            // A tensor left behind per step, per update, per checkpoint or per load would leave some.
            Expect.isLessThanOrEqual grown 0L (sprintf "%d tensors outlived the run" grown)
        }
    ]
