/// The factory: a run's config made a training run (TrainingRun.For), every field read once, by hand.
module Prunerl.Tests.TrainingRunTests

open System
open Expecto
open Prunerl.Core
open Prunerl.Experiments
open Prunerl.Agents.Networks
open Prunerl.Agents.Training

/// The config `prunerl train` resolves from these fields, and the run the factory makes of it.
let private made (values: (string * FieldValue) list) : RunConfig * RunSpec =
    match Resolution.resolve TrainingRun.Environments values with
    | Ok c -> c, TrainingRun.For c
    | Error e -> failtestf "resolve: %s" e

[<Tests>]
let tests =
    testList "training run factory" [
        test "a DQN config: its environment, length, evaluations, network, pruning and family as its fields say" {
            let c, spec =
                made [ "env", Text "minatar/breakout"; "width", Number 3.0; "sparsity", Number 0.9; "distribution", Text "erk"; "steps", Number 20_000.0
                       "seed", Number 7.0; "eval_every", Number 5000.0; "eval_episodes", Number 3.0; "stop_at", Number 10.0; "analyse_every", Number 4000.0 ]
            Expect.equal (spec.Environment, spec.TotalSteps, spec.Seed, spec.Copies) ("minatar/breakout", 20_000L, 7L, 1) "where, how long, one copy"
            Expect.equal (spec.EvaluateEvery, spec.EvaluationEpisodes, spec.StopAtReturn) (5000L, 3, Nullable 10.0) "evaluations and the early stop"
            Expect.equal (spec.Network.Torso, spec.Network.Width, spec.Network.MlpHidden) (NetworkKind.MinAtar, 3.0, null) "MinAtar's network at width 3"
            Expect.equal (spec.Network.WidthScope, spec.Network.Initialization) (c.WidthScope, c.Init) "the config's scope and initialisation"
            Expect.equal spec.Pruning.Schedule (RunConfig.pruning c).Value "the config's schedule"
            Expect.equal spec.Pruning.Allocation (LayerWise(Erk 1.0)) "ERK over the layers"
            Expect.equal spec.Pruning.Timing c.LayerSchedule "the config's per-layer timing"
            match spec.Family with
            | :? DqnFamily as dqn ->
                Expect.equal dqn.Agent c.Hyperparameters "the config's hyperparameters"
                Expect.equal (dqn.AnalyseEvery, dqn.SrankStates, dqn.DormantStates) (4000L, c.SrankStates, c.DormantStates) "analyses"
                Expect.isNull dqn.Baseline "no baseline"
            | other -> failtestf "a DQN family, not %O" other
            Expect.equal spec.TotalUpdates (RunConfig.gradientUpdates c) "the core's count of gradient updates"
            Expect.isNull (snd (made [ "sparsity", Number 0.0 ])).Pruning "a dense run has no pruning"
        }

        test "a baseline: the config's kind, its period in updates, its settings" {
            let c, spec = made [ "sparsity", Number 0.0; "baseline", Text "reset"; "baseline_period", Number 0.25; "reset_layers", Number 2.0; "steps", Number 5000.0 ]
            let baseline = (spec.Family :?> DqnFamily).Baseline
            Expect.equal (baseline.Kind, baseline.ResetLayers, baseline.Renews) (BaselineKind.Reset, 2, true) "Reset of two layers"
            Expect.equal baseline.Period (RunConfig.baselinePeriodUpdates c) "a quarter of the run's updates"
            let _, wd = made [ "baseline", Text "wd"; "weight_decay", Number 1e-4 ]
            let decay = (wd.Family :?> DqnFamily).Baseline
            Expect.equal (decay.Kind, decay.Coefficient, decay.Renews) (BaselineKind.Wd, 1e-4, false) "weight decay regularises every update"
        }

        test "an offline config: its dataset and CQL's weight, its steps counted in updates" {
            let c, spec = made [ "agent", Text "cql"; "dataset", Text "/data/cartpole.prlds"; "conservative_weight", Number 0.5; "steps", Number 3000.0 ]
            match spec.Family with
            | :? OfflineFamily as offline ->
                Expect.equal (offline.Dataset, offline.ConservativeWeight) ("/data/cartpole.prlds", 0.5) "the dataset and alpha"
                Expect.equal offline.Learner.Agent c.Hyperparameters "the DQN part on the online clock; the loop takes it on the offline one"
            | other -> failtestf "an offline family, not %O" other
            Expect.equal spec.TotalUpdates 3000L "one update per step"
        }

        test "a SAC config: SAC's hyperparameters, an MLP of its hidden sizes, initialised as its preset's code base" {
            let c, spec = made [ "agent", Text "sac"; "env", Text "pendulum"; "mlp_hidden", Text "64,32" ]
            Expect.equal (spec.Family :?> SacFamily).Agent c.Sac "SAC's hyperparameters"
            Expect.equal (spec.Network.Torso, spec.Network.MlpHidden) (NetworkKind.Mlp, [| 64; 32 |]) "the config's hidden sizes"
            Expect.equal spec.Network.Initialization Initialization.Torch_Default "PyTorch's default off the rigl preset"
            let _, rigl = made [ "agent", Text "sac"; "env", Text "pendulum"; "preset", Text "rigl" ]
            Expect.equal rigl.Network.Initialization Initialization.Xavier_Uniform "Keras's glorot_uniform on rigl's"
        }
    ]
