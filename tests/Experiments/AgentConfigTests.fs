/// Agent presets and exploration schedules, pinned by hand.
module Prunerl.Tests.AgentConfigTests

open Expecto
open Prunerl.Core
open Prunerl.Experiments

[<Tests>]
let tests =
    testList "agent configuration" [
        test "Dopamine's epsilon: 1 through the warm-up, linear to 0.01 over 250k steps, then 0.01" {
            let epsilon = Exploration.epsilon 250_000L 20_000L 0.01
            Expect.equal (epsilon 0L) 1.0 "during the warm-up"
            Expect.equal (epsilon 20_000L) 1.0 "at the end of the warm-up"
            // Half way through the decay: 0.01 + 0.99 * 125k / 250k.
            Expect.floatClose Accuracy.veryHigh (epsilon 145_000L) 0.505 "half way"
            Expect.floatClose Accuracy.veryHigh (epsilon 270_000L) 0.01 "at the end of the decay"
            Expect.floatClose Accuracy.veryHigh (epsilon 10_000_000L) 0.01 "afterwards"
        }

        test "prioritized replay's beta rises to 1, or holds when there is no annealing" {
            Expect.equal (Exploration.beta 0.4 1000L 0L) 0.4 "start"
            Expect.floatClose Accuracy.veryHigh (Exploration.beta 0.4 1000L 500L) 0.7 "half way"
            Expect.equal (Exploration.beta 0.4 1000L 5000L) 1.0 "end"
            Expect.equal (Exploration.beta 0.5 0L 5000L) 0.5 "Dopamine's constant 0.5"
        }

        test "the presets are valid and say what Dopamine and MinAtar say" {
            for preset in [ AgentConfig.dopamineDqn; AgentConfig.dopamineRainbow; AgentConfig.minatarDqn; AgentConfig.cartpoleDqn ] do
                Expect.equal (AgentConfig.validate preset) (Ok preset) "valid"
            Expect.equal (AgentConfig.dopamineRainbow.Atoms, AgentConfig.dopamineRainbow.NStep) (51, 3) "Rainbow: C51, 3-step"
            Expect.equal AgentConfig.minatarDqn.Optimizer (RmsProp(2.5e-4, 0.95, 0.01, true)) "MinAtar's RMSProp"
            Expect.equal
                (AgentConfig.validate { AgentConfig.dopamineDqn with ReplayCapacity = 16 })
                (Error "replay_capacity must be >= batch_size (32), got 16")
                "capacity below the batch"
        }

        test "DER is dopamine/labs/atari_100k/configs/DER.gin" {
            let c = AgentConfig.der
            Expect.equal (AgentConfig.validate c) (Ok c) "valid"
            // JaxDQNAgent.*: gamma, update_horizon, min_replay_history, update_period, target_update_period, epsilons.
            Expect.equal (c.Gamma, c.NStep, c.MinReplay, c.UpdatePeriod, c.TargetUpdatePeriod) (0.99, 10, 1600L, 1, 2000L) "JaxDQNAgent"
            Expect.equal (c.EpsilonTrain, c.EpsilonEval, c.EpsilonDecaySteps) (0.01, 0.001, 2000L) "epsilons"
            // JaxFullRainbowAgent.*: noisy, dueling, double_dqn, num_atoms, vmax, replay_scheme, num_updates_per_train_step.
            Expect.equal (c.Noisy, c.Dueling, c.DoubleQ, c.Atoms, c.VMin, c.VMax) (true, true, true, 51, -10.0, 10.0) "JaxFullRainbowAgent"
            // dopamine/jax/networks.py's NoisyNetwork: sigma_init = 0.1 / sqrt(inputs).
            Expect.equal c.NoisySigma0 0.1 "NoisyNetwork's sigma0"
            Expect.equal c.Replay (PrioritizedReplay(0.5, 0.5, 0L)) "Dopamine's prioritized replay"
            Expect.equal c.UpdatesPerStep 1 "one update per train step"
            Expect.equal (ReplayRatio.ofAgent c) 1.0 "replay ratio 1"
            Expect.isFalse c.Augment "Atari100kRainbowAgent.data_augmentation = False"
            Expect.equal c.Optimizer (Adam(1e-4, 1.5e-4)) "create_optimizer: lr 0.0001, eps 0.00015"
            Expect.equal (c.BatchSize, c.ReplayCapacity) (32, 1_000_000) "batch 32, replay 1M"
            Expect.equal (Exploration.trainingEpsilon c 0L, Exploration.trainingEpsilon c 1600L) (0.0, 0.0) "zero_epsilon with noisy nets"
        }

        test "DrQ(eps) is dopamine/labs/atari_100k/configs/DrQ_eps.gin" {
            let c = AgentConfig.drqEpsilon
            Expect.equal (AgentConfig.validate c) (Ok c) "valid"
            Expect.equal (c.Gamma, c.NStep, c.MinReplay, c.UpdatePeriod, c.TargetUpdatePeriod) (0.99, 10, 1600L, 1, 1L) "JaxDQNAgent"
            Expect.equal (c.EpsilonTrain, c.EpsilonEval, c.EpsilonDecaySteps) (0.01, 0.001, 5000L) "DrQ(eps)'s epsilons"
            Expect.equal (c.Noisy, c.Dueling, c.DoubleQ, c.Atoms) (false, true, true, 1) "Efficient DQN: no noise, no C51"
            Expect.equal c.Replay UniformReplay "uniform replay"
            Expect.equal (ReplayRatio.ofAgent c) 1.0 "replay ratio 1"
            Expect.equal (c.Augment, c.ShiftPadding, c.IntensityScale) (true, 4, 0.05) "drq_image_augmentation: pad 4, intensity 0.05"
            Expect.equal c.Optimizer (Adam(1e-4, 1.5e-4)) "create_optimizer"
            Expect.equal (c.BatchSize, c.ReplayCapacity) (32, 1_000_000) "batch 32, replay 1M"
            Expect.equal (Exploration.trainingEpsilon c 1600L) 1.0 "epsilon 1 through the warm-up"
            Expect.floatClose Accuracy.veryHigh (Exploration.trainingEpsilon c 4100L) 0.505 "half way down the 5000 steps"
            Expect.floatClose Accuracy.veryHigh (Exploration.trainingEpsilon c 6600L) 0.01 "then 0.01"
        }

        test "the random shift's padding scales with the frame: 4 on 84x84, 1 on MinAtar's 10x10" {
            Expect.equal (AgentConfig.proportionalShiftPadding 84) 4 "Atari"
            Expect.equal (AgentConfig.proportionalShiftPadding 10) 1 "MinAtar"
            Expect.equal (AgentConfig.proportionalShiftPadding 1) 1 "at least one pixel"
            Expect.equal (AgentConfig.proportionalShiftPadding 168) 8 "in proportion"
        }

        test "der and drq runs on MinAtar default to the 100k budget with the presets" {
            for agent, preset in [ AgentKind.Der, AgentConfig.der; AgentKind.Drq, AgentConfig.drqEpsilon ] do
                let run = Presets.defaults "minatar/breakout" agent
                Expect.equal (run.Steps, run.EvalEvery, run.CheckpointEvery, run.Network) (100_000L, 10_000L, 10_000L, NetworkKind.MinAtar) "the 100k budget"
                Expect.equal run.Hyperparameters { preset with ReplayCapacity = 100_000; ShiftPadding = 1; VMin = -100.0; VMax = 100.0 } "the preset, every step kept, 1-pixel shifts, MinAtar's C51 support"
                Expect.equal (Choices.agents |> List.find (snd >> (=) agent) |> fst) (if agent = AgentKind.Der then "der" else "drq") "its name"
            Expect.equal (Presets.defaults "minatar/breakout" AgentKind.Dqn).Steps 1_000_000L "DQN keeps its 1M steps"
        }

        test "every choice's name is its case's name as Argu spells it, so a typed flag reads config.json's names" {
            let spelled (choices: (string * 'a) list) =
                for name, value in choices do
                    let case = fst (Microsoft.FSharp.Reflection.FSharpValue.GetUnionFields(box value, typeof<'a>))
                    Expect.equal (Choices.spelling case.Name) name (sprintf "%s spells %s" case.Name name)
            spelled Choices.agents
            spelled Choices.networks
            spelled Choices.ramps
            spelled Choices.distributions
            spelled Choices.baselines
            spelled Choices.presets
            spelled Choices.widthScopes
            spelled Choices.initializations
            spelled Choices.devices
            spelled Choices.losses
            spelled Choices.prioritySamplings
            spelled Choices.layerSchedules
            Expect.equal (Choices.spelling "Cql_C51") "cql-c51" "lower case, '_' as '-'"
        }

        test "augmentation and the new fields are validated with one-line errors" {
            let environments: EnvironmentInfo list =
                [ { Id = "cartpole"; ObservationShape = [ 4 ]; DiscreteActions = true; Unavailable = None }
                  { Id = "minatar/breakout"; ObservationShape = [ 4; 10; 10 ]; DiscreteActions = true; Unavailable = None } ]
            let resolve fields = Resolution.resolve environments fields
            Expect.equal
                (resolve [ "agent", Text "drq"; "env", Text "cartpole" ])
                (Error "augmentation shifts image observations ([channels, height, width]); env cartpole gives [4]: set augmentation false")
                "drq on vectors"
            Expect.isOk (resolve [ "agent", Text "drq"; "env", Text "cartpole"; "augmentation", Switch false ]) "drq without augmentation"
            Expect.isOk (resolve [ "agent", Text "der"; "env", Text "cartpole" ]) "der on vectors"
            let minatar fields = resolve ([ "agent", Text "drq"; "env", Text "minatar/breakout" ] @ fields)
            Expect.equal (minatar [ "shift_padding", Number -1.0 ]) (Error "shift_padding must be >= 0, got -1") "negative padding"
            Expect.equal (minatar [ "intensity_scale", Number 0.5 ])
                (Error "intensity_scale must be in [0, 0.5) (so that 1 + scale * clip(z, -2, 2) stays positive), got 0.5") "intensity too large"
            Expect.equal (minatar [ "shift_padding", Number 0.0; "intensity_scale", Number 0.0 ])
                (Error "augmentation needs shift_padding >= 1 or intensity_scale > 0, got 0 and 0") "an augmentation that does nothing"
            Expect.equal (minatar [ "noisy", Text "yes" ]) (Error "noisy must be true or false, got 'yes'") "noisy is a switch"
            for baseline in [ "reset"; "redo" ] do
                match resolve [ "agent", Text "der"; "env", Text "minatar/breakout"; "sparsity", Number 0.0; "baseline", Text baseline ] with
                | Ok run -> Expect.isTrue run.Hyperparameters.Noisy (sprintf "%s of DER's noisy network" baseline)
                | Error e -> failtestf "%s of a noisy network: %s" baseline e
            Expect.isOk (resolve [ "agent", Text "der"; "env", Text "minatar/breakout"; "sparsity", Number 0.0; "baseline", Text "redo"; "noisy", Switch false ]) "ReDo of DER without noise"
            Expect.equal (minatar [ "noisy_sigma0", Number 0.0 ]) (Error "noisy_sigma0 must be a finite number > 0, got 0") "no noise scale"
            Expect.equal (resolve [ "agent", Text "sac"; "env", Text "pendulum"; "noisy_sigma0", Number 0.5 ])
                (Error "noisy_sigma0 does not apply to agent sac (only to dqn, rainbow, der, drq, cql, cql-c51); leave it out") "SAC has no noisy nets"
            match minatar [ "noisy", Switch true; "noisy_sigma0", Number 0.5; "shift_padding", Number 2.0 ] with
            | Ok run ->
                Expect.isTrue run.Hyperparameters.Noisy "noisy set"
                Expect.equal run.Hyperparameters.NoisySigma0 0.5 "Fortunato's sigma0 set"
                Expect.equal run.Hyperparameters.ShiftPadding 2 "padding set"
                Expect.equal (Resolution.resolve environments (RunFields.toFields run)) (Ok run) "round trip through the fields"
            | Error e -> failtest e
        }
    ]
