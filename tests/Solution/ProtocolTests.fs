/// The paper's protocol as the defaults: every value pinned against its upstream source (file named in each test).
module Prunerl.Tests.ProtocolTests

open System
open Expecto
open TorchSharp
open Prunerl.Core
open Prunerl.Experiments
open Prunerl.Experiments.Metrics
open Prunerl.Agents.Agents
open Prunerl.Agents.Envs
open Prunerl.Agents.Networks
open Prunerl.Agents.Replay
open Prunerl.Agents.Runtime

let private environments =
    [ { Id = "minatar/breakout"; ObservationShape = [ 4; 10; 10 ]; DiscreteActions = true; Unavailable = None }
      { Id = "cartpole"; ObservationShape = [ 4 ]; DiscreteActions = true; Unavailable = None }
      { Id = "mujoco/hopper"; ObservationShape = [ 11 ]; DiscreteActions = false; Unavailable = None } ]

let private resolve (values: (string * FieldValue) list) =
    match Resolution.resolve environments values with
    | Ok c -> c
    | Error e -> failtestf "resolve: %s" e

let private minatar agent = resolve [ "agent", Text agent; "env", Text "minatar/breakout" ]

/// One replay step of a single copy: observation [4], action 0, reward 0, no end.
let private addStep (memory: IReplayMemory) (value: float32) =
    memory.Add(ReadOnlySpan [| value; value; value; value |], ReadOnlySpan [| 0 |], ReadOnlySpan [| 0.0f |], ReadOnlySpan [| false |],
               ReadOnlySpan [| false |], ReadOnlySpan(Array.zeroCreate<float32> 4))

[<Tests>]
let tests =
    testList "protocol" [
        test "MinAtar DQN is Dopamine's labs/environments/minatar/dqn_*.gin on Dopamine's JAX DQN" {
            let c = (minatar "dqn").Hyperparameters
            // dqn_<game>.gin: create_optimizer.learning_rate = 0.00025, .eps = 3.125e-4; JaxDQNAgent.update_period = 4,
            // target_update_period = 1000, min_replay_history = 1000, update_horizon = 1, gamma = 0.99; replay 100000, batch 32.
            Expect.equal c.Optimizer (Adam(2.5e-4, 3.125e-4)) "Adam 2.5e-4, eps 3.125e-4"
            Expect.equal (c.UpdatePeriod, c.UpdatesPerStep, c.TargetUpdatePeriod, c.MinReplay) (4, 1, 1000L, 1000L) "update every 4, target 1000, warm-up 1000"
            Expect.equal (c.NStep, c.Gamma, c.ReplayCapacity, c.BatchSize) (1, 0.99, 100_000, 32) "1-step, 0.99, 100k, 32"
            // dqn_agent.py: epsilon_train 0.01, epsilon_eval 0.001, epsilon_decay_period 250000, loss_type 'mse'.
            Expect.equal (c.EpsilonTrain, c.EpsilonEval, c.EpsilonDecaySteps) (0.01, 0.001, 250_000L) "Dopamine's epsilons"
            Expect.equal c.Loss TdLoss.Squared "the squared TD error (loss_type='mse')"
            Expect.equal (c.DoubleQ, c.Atoms, c.Replay) (false, 1, UniformReplay) "plain DQN"
            Expect.equal (ReplayRatio.ofAgent c) 0.25 "the paper's replay ratio 0.25"
        }

        test "MinAtar Rainbow is rainbow_*.gin: C51 on [-100, 100], 3-step, prioritized (i.i.d. draws), no double Q" {
            let c = (minatar "rainbow").Hyperparameters
            Expect.equal (c.Atoms, c.VMin, c.VMax, c.NStep) (51, -100.0, 100.0, 3) "num_atoms 51, vmax 100, update_horizon 3"
            Expect.equal c.Replay (PrioritizedReplay(0.5, 0.5, 0L)) "replay_scheme 'prioritized'"
            Expect.equal c.PrioritySampling PrioritySampling.Iid "samplers.py: independent proportional draws"
            Expect.isFalse c.DoubleQ "no double Q"
            Expect.equal (c.Optimizer, c.UpdatePeriod, c.TargetUpdatePeriod) (Adam(2.5e-4, 3.125e-4), 4, 1000L) "the DQN gin's optimizer and periods"
        }

        test "the MinAtar reference DQN (examples/dqn.py) stays a named preset" {
            let c = resolve [ "env", Text "minatar/breakout"; "preset", Text "minatar-reference" ]
            Expect.equal c.Hyperparameters.Optimizer (RmsProp(2.5e-4, 0.95, 0.01, true)) "RMSprop(lr 2.5e-4, alpha 0.95, centered, eps 0.01)"
            Expect.equal (c.Hyperparameters.UpdatePeriod, c.Hyperparameters.MinReplay, c.Hyperparameters.EpsilonTrain) (1, 5000L, 0.1) "every frame, from 5000, to 0.1"
            Expect.equal c.Hyperparameters.Loss TdLoss.Huber "smooth_l1_loss"
            Expect.equal c.Init Initialization.Torch_Default "PyTorch's default initialisation"
            Expect.equal (RunValidation.validate environments { c with Preset = PresetKind.Zoo } |> Result.isError) true "zoo is not a MinAtar preset"
        }

        test "the paper's pruning and network defaults: 95%, ERK timed as JaxPruner, convolutions widened, Xavier-uniform" {
            let c = minatar "dqn"
            Expect.equal c.Preset PresetKind.Dopamine "Dopamine's preset on MinAtar"
            Expect.equal (c.Sparsity, c.Distribution, c.LayerSchedule) (0.95, DistributionKind.Erk, Scaled) "0.95, ERK, scaled final targets"
            Expect.equal (c.PruneStart, c.PruneEnd, c.PruneEvery, c.Power) (0.2, 0.8, 1000L, 3.0) "cubic, 20% to 80%, every 1000 updates"
            Expect.equal (c.WidthScope, c.Init) (WidthScope.Conv, Initialization.Xavier_Uniform) "the paper's width scope; networks.py's initialiser"
            Expect.equal (c.SrankStates, c.DormantStates) (2048, 256) "coherence_compute.py's 2048 states; labs/redo's batch_size_statistics 256"
        }

        test "baselines as Appendix G and labs/redo: Reset every 100k updates, ReDo every 200k with tau 0.1, weight decay 1e-5" {
            let reset = resolve [ "env", Text "minatar/breakout"; "sparsity", Number 0.0; "baseline", Text "reset" ]
            Expect.equal (reset.BaselinePeriod, reset.ResetLayers) (StepPoint.Absolute 100_000L, 1) "the last layer every 100k"
            let redo = resolve [ "env", Text "minatar/breakout"; "sparsity", Number 0.0; "baseline", Text "redo" ]
            Expect.equal (redo.BaselinePeriod, redo.RedoTau) (StepPoint.Absolute 200_000L, 0.1) "weight_recyclers.py's reset_period; the paper's best tau"
            let wd = resolve [ "env", Text "minatar/breakout"; "baseline", Text "wd" ]
            Expect.equal (wd.WeightDecay, wd.Sparsity) (1e-5, 0.95) "weight decay 1e-5, with a pruned network too"
            // A period as a fraction of the run's 249,750 updates: 0.04 keeps the paper's 100k-in-2.5M cadence.
            let scaled = resolve [ "env", Text "minatar/breakout"; "sparsity", Number 0.0; "baseline", Text "reset"; "baseline_period", Number 0.04 ]
            Expect.equal (RunConfig.baselinePeriodUpdates scaled) 9990L "round(0.04 x 249750)"
        }

        test "offline agents as the paper's Table 3; SAC as rigl/rl/tfagents ran it" {
            let c51 = resolve [ "agent", Text "cql-c51"; "env", Text "minatar/breakout"; "dataset", Text "d.prlds" ]
            let h = c51.Hyperparameters
            Expect.equal (h.NStep, h.Dueling, h.DoubleQ, h.Optimizer) (3, true, true, Adam(6.25e-5, 1.5e-4)) "n 3, dueling, double, Adam 6.25e-5 eps 1.5e-4"
            Expect.equal (h.TargetUpdatePeriod, h.Atoms, c51.ConservativeWeight) (100L, 51, 0.1) "jax_rainbow.gin's target period; coefficient 0.1"
            let cql = resolve [ "agent", Text "cql"; "env", Text "minatar/breakout"; "dataset", Text "d.prlds" ]
            Expect.equal (cql.Hyperparameters.Optimizer, cql.ConservativeWeight) (Adam(5e-5, 3.125e-4), 0.1) "Adam 5e-5 eps 3.125e-4; coefficient 0.1"
            let sac = resolve [ "agent", Text "sac"; "env", Text "mujoco/hopper" ]
            Expect.equal sac.Preset PresetKind.RigL "the paper's SAC on MuJoCo"
            Expect.equal (sac.Sac.RewardScale, sac.Sac.KernelL2, sac.Sac.TargetEntropyPerDimension, sac.Sac.MinReplay) (0.1, 1e-4, -0.5, 1000L)
                "reward scale 0.1, L2 1e-4, -|A|/2, 1000 initial collect steps"
            Expect.equal sac.Width 5.0 "width 5 on MuJoCo"
        }

        test "the width scales the MinAtar network's convolution only, unless width_scope is all" {
            let shapes scope =
                use net = new QNetwork(NetworkSpec(NetworkKind.MinAtar, Width = 3.0, Scope = scope), [| 4; 10; 10 |], 3, 1L)
                net.named_parameters() |> Seq.map (fun struct (name, p) -> name, List.ofArray p.shape) |> Map.ofSeq
            let conv = shapes WidthScope.Conv
            Expect.equal conv["torso.conv.weight"] [ 48L; 4L; 3L; 3L ] "16 x 3 filters"
            Expect.equal conv["torso.dense.weight"] [ 128L; 48L * 64L ] "128 units, reading 48 maps of 8x8"
            let all = shapes WidthScope.All
            Expect.equal all["torso.dense.weight"] [ 384L; 48L * 64L ] "all: 128 x 3 units"
        }

        test "Xavier-uniform: weights within sqrt(6 / (fan_in + fan_out)), biases zero; renewals draw the same way" {
            use net = new QNetwork(NetworkSpec(NetworkKind.MinAtar, Init = Initialization.Xavier_Uniform), [| 4; 10; 10 |], 3, 1L)
            let parameters = net.named_parameters() |> Seq.map (fun struct (name, p) -> name, p) |> Map.ofSeq
            // conv [16, 4, 3, 3]: fan_in 36, fan_out 144; dense [128, 1024]; head [3, 128].
            for name, bound in [ "torso.conv", sqrt (6.0 / 180.0); "torso.dense", sqrt (6.0 / 1152.0); "head", sqrt (6.0 / 131.0) ] do
                let w = parameters[name + ".weight"]
                Expect.isTrue (w.abs().max().item<float32>() <= float32 bound) (name + " within the bound")
                Expect.isGreaterThan (w.abs().max().item<float32>()) (float32 (0.9 * bound)) (name + " fills it")
                Expect.equal (parameters[name + ".bias"].abs().sum().item<float32>()) 0.0f (name + " bias zero")
            for layer in Seq.append (net.HeadLayers()) (net.RecyclableLayers() |> Seq.map _.Layer) do
                match layer.Parameters |> List.ofSeq with
                | [ weight; bias ] ->
                    Expect.equal weight.Fresh (FreshValues.Uniform(Initialise.XavierBound weight.Parameter.shape)) (layer.Name + ": Xavier")
                    Expect.equal bias.Fresh (FreshValues.Constant 0.0) (layer.Name + ": labs/redo's zero bias")
                | _ -> failtest "a plain layer has a weight and a bias"
        }

        test "the squared TD loss is (Q - target)^2, averaged with importance weights" {
            let q, target, weights = torch.tensor [| 1.0f; -2.0f |], torch.tensor [| 3.0f; -2.5f |], torch.tensor [| 1.0f; 0.5f |]
            let struct (loss, perSample) = ValueTargets.SquaredLoss(q, target, weights)
            Expect.equal (perSample.data<float32>().ToArray()) [| 4.0f; 0.25f |] "(1 - 3)^2, (-2 + 2.5)^2"
            Expect.floatClose Accuracy.veryHigh (float (loss.item<float32>())) ((4.0 + 0.125) / 2.0) "weighted mean"
        }

        test "prioritized replay draws i.i.d. by default; stratified draws one per segment" {
            // Priorities 1 and 3 (alpha 1): a stratified batch of 2 always draws slot 1 in its second row; i.i.d.
            // draws put slot 0 there a quarter of the time.
            let draws stratified =
                let memory = PrioritizedReplayBuffer(ReplayOptions(16, 1, 4, 1, 0.99, ObservationStorage.Float32), 1.0, 0.5, stratified)
                for v in [ 1.0f; 2.0f; 3.0f ] do addStep memory v
                memory.UpdatePriorities(ReadOnlySpan [| 0; 1 |], ReadOnlySpan [| 1.0f; 3.0f |])
                let batch = ReplayBatch(2, 4)
                let mutable random = EnvRandom(7UL)
                [ for _ in 1..4000 do
                    memory.Sample(2, &random, batch)
                    yield batch.Indices[1] ]
            let zeros indices = indices |> List.filter ((=) 0) |> List.length
            Expect.equal (zeros (draws true)) 0 "stratified: never slot 0 in the second row"
            Expect.isTrue (abs (float (zeros (draws false)) / 4000.0 - 0.25) < 0.03) "i.i.d.: slot 0 a quarter of the time"
        }

        test "decoupled weight decay shrinks every parameter by lr * lambda before the step; L2 adds 2 lambda w to the kernels' gradients" {
            let config = { AgentConfig.cartpoleDqn with BatchSize = 4; ReplayCapacity = 64 }
            let spec = NetworkSpec(NetworkKind.Mlp, MlpHidden = [| 8 |])
            let agent regularization = new DqnAgent(config, spec, [| 4 |], 2, null, 3L, 0.0, null, regularization)
            let batch = ReplayBatch(4, 4)
            for i in 0..15 do batch.Observations[i] <- float32 i / 16.0f
            for i in 0..3 do
                batch.Returns[i] <- 1.0f
                batch.Discounts[i] <- 0.99f
                batch.Weights[i] <- 1.0f
            let values (a: DqnAgent) = a.Optimizer.Parameters.Values.data<float32>().ToArray()
            use plain = agent null
            use decayed = agent (Regularization(DecoupledDecay = 0.1))
            use l2 = agent (Regularization(L2 = 0.5))
            let before = values plain
            for a in [ plain; decayed; l2 ] do a.Update batch |> ignore
            let lr = 2.3e-3 // cartpoleDqn's Adam
            for (p, d), w in Array.zip (Array.zip (values plain) (values decayed)) before do
                // float32: 1 - lr lambda and the product round at about 6e-8 of w.
                Expect.floatClose { absolute = 1e-7; relative = 1e-3 } (float (d - p)) (-lr * 0.1 * float w) "w (1 - lr lambda) + the same Adam step"
            let gradients (a: DqnAgent) = a.Optimizer.Parameters.Gradients.data<float32>().ToArray()
            for slice in plain.Optimizer.Parameters.Slices do
                for i in slice.Offset .. slice.Offset + slice.Length - 1L do
                    let expected = if slice.Shape.Length >= 2 then 2.0 * 0.5 * float before[int i] else 0.0
                    Expect.floatClose Accuracy.medium (float ((gradients l2)[int i] - (gradients plain)[int i])) expected (slice.Name + ": 2 lambda w on kernels only")
        }

        test "MinAtar is normalised on the MinAtar DQN's returns at 5M frames; tasks without a reference are never pooled" {
            for game, reference in [ "asterix", 17.0; "breakout", 10.0; "freeway", 50.0; "seaquest", 20.5; "space_invaders", 43.0 ] do
                let scale = Normalization.find Normalization.builtIn ("minatar/" + game) |> Result.defaultWith failwith
                Expect.equal scale.ReferenceScore (Some reference) (game + ": read off img/learning_curves.gif")
                Expect.stringContains scale.Source "kenjyoung/MinAtar" "the figure is cited"
            Expect.floatClose Accuracy.veryHigh (Normalization.normalise (Normalization.find Normalization.builtIn "minatar/breakout" |> Result.defaultWith failwith) 5.26) 0.5
                "(5.26 - 0.52) / (10 - 0.52)"
            let run env = { Id = env; Config = Map.empty; State = "finished"; Series = Map.empty }
            let scored env = { Run = run env; Env = env; Raw = 1.0; Normalised = 0.1; Curve = [||]; RawCurve = [||] }
            let scales = Normalization.overlay [ { Env = "minatar/breakout"; RandomScore = 0.52; ReferenceScore = None; Source = "test" } ] Normalization.builtIn
            let pooled, alone = Report.poolable scales [ scored "minatar/breakout"; scored "cartpole"; scored "minatar/asterix" ]
            Expect.equal (pooled |> List.map _.Env) [ "cartpole"; "minatar/asterix" ] "referenced tasks pooled"
            Expect.equal alone [ "minatar/breakout" ] "a random-only task alone"
        }

        test "training scores: the mean return of the episodes in the last window; curves are means over equal iterations" {
            let episodes = [| for step in 10L .. 10L .. 100L -> { Step = step; Value = float step } |]
            Expect.equal (Report.runScore 0.1 100L episodes) 100.0 "only the episode ending at 100 is after step 90"
            Expect.equal (Report.runScore 0.25 100L episodes) 90.0 "80, 90 and 100"
            // Five iterations of 20 steps: (10, 20), (30, 40), ... each averaged, at the iteration's end.
            Expect.equal (Report.iterationMeans 100L 5 episodes) [| for k in 1..5 -> { Step = int64 (20 * k); Value = float (20 * k) - 5.0 } |] "iteration means"
            Expect.equal (Report.metricOf ScoreSource.Training, Report.metricOf ScoreSource.Evaluation) ("train/episode_return", "eval/return") "the metrics"
        }

        test "reports name the regularisers' runs: WD and L2, pruned+WD and pruned+L2 beside dense and pruned" {
            let kind baseline sparsity = Report.kind (Map.ofList [ "baseline", baseline; "sparsity", sparsity ])
            Expect.equal [ kind "wd" "0"; kind "l2" "0"; kind "wd" "0.95"; kind "l2" "0.95"; kind "none" "0.95"; kind "redo" "0" ]
                [ "WD"; "L2"; "pruned+WD"; "pruned+L2"; "pruned"; "ReDo" ] "kinds"
        }

        test "reports name the sparse-training methods as kinds: pruned for gmp (and a config.json without a method), static, lottery, SET, RigL" {
            let kind (fields: (string * string) list) = Report.kind (Map.ofList (("baseline", "none") :: fields))
            Expect.equal
                [ kind [ "sparsity", "0.95" ]; kind [ "sparsity", "0.95"; "method", "gmp" ]; kind [ "sparsity", "0.95"; "method", "static" ]
                  kind [ "sparsity", "0.95"; "method", "lottery" ]; kind [ "sparsity", "0.95"; "method", "set" ]; kind [ "sparsity", "0.95"; "method", "rigl" ]
                  kind [ "sparsity", "0"; "method", "gmp" ] ]
                [ "pruned"; "pruned"; "static"; "lottery"; "SET"; "RigL"; "dense" ] "kinds"
            Expect.equal (Report.kind (Map.ofList [ "baseline", "wd"; "sparsity", "0.95"; "method", "rigl" ])) "RigL+WD" "a method with weight decay"
        }

        test "gradient interference's magnitude: the mean |cosine| over pairs, beside the signed mean" {
            let c = [| [| 1.0; 0.5; -0.5 |]; [| 0.5; 1.0; -0.25 |]; [| -0.5; -0.25; 1.0 |] |]
            Expect.floatClose Accuracy.veryHigh (GradientInterference.meanPairwise c) ((0.5 - 0.5 - 0.25) / 3.0) "signed"
            Expect.floatClose Accuracy.veryHigh (GradientInterference.meanAbsolutePairwise c) ((0.5 + 0.5 + 0.25) / 3.0) "magnitude"
        }
    ]
