/// The presets as data: each environment family's defaults, and the MLP hidden sizes a run records.
module Prunerl.Tests.PresetsTests

open Expecto
open Prunerl.Experiments

[<Tests>]
let tests =
    testList "presets" [
        test "each run lands in its environment family" {
            Expect.equal (Presets.family "cartpole" AgentKind.Dqn) EnvironmentFamily.ClassicControl "classic control"
            Expect.equal (Presets.family "cartpole" AgentKind.Der) EnvironmentFamily.ClassicControl "DER keeps classic control's lengths"
            Expect.equal (Presets.family "minatar/breakout" AgentKind.Cql) EnvironmentFamily.MinAtar "offline on MinAtar"
            Expect.equal (Presets.family "minatar/breakout" AgentKind.Drq) EnvironmentFamily.MinAtar100k "the 100k budget"
            Expect.equal (Presets.family "pendulum" AgentKind.Sac) EnvironmentFamily.Pendulum "Pendulum"
            Expect.equal (Presets.family "mujoco/hopper" AgentKind.Sac) EnvironmentFamily.MuJoCo "MuJoCo"
        }

        test "the MLP hidden sizes: 128-128 for the DQN family (the Zoo's 256-256 at width 2), 256-256 for SAC (Haarnoja et al.)" {
            Expect.equal Presets.dqnMlpHidden [ 128; 128 ] "the DQN family"
            Expect.equal Presets.sacMlpHidden [ 256; 256 ] "SAC"
            Expect.equal ((Presets.defaults "cartpole" AgentKind.Dqn).MlpHidden |> List.map (fun u -> float u * (Presets.defaults "cartpole" AgentKind.Dqn).Width)) [ 256.0; 256.0 ] "the Zoo's CartPole net_arch"
            Expect.equal (Presets.defaults "pendulum" AgentKind.Sac).MlpHidden [ 256; 256 ] "Pendulum's SAC"
            Expect.equal (Presets.defaults "minatar/breakout" AgentKind.Dqn).MlpHidden [ 128; 128 ] "MinAtar's DQN with --network mlp"
        }

        test "a config.json without mlp_hidden (written before the field) loads with the sizes it trained with" {
            let environments: EnvironmentInfo list =
                [ { Id = "cartpole"; ObservationShape = [ 4 ]; DiscreteActions = true; Unavailable = None }
                  { Id = "pendulum"; ObservationShape = [ 3 ]; DiscreteActions = false; Unavailable = None } ]
            let resolved agent env = Resolution.resolve environments [ "agent", Text agent; "env", Text env ] |> Result.map _.MlpHidden
            Expect.equal (resolved "dqn" "cartpole") (Ok [ 128; 128 ]) "DQN"
            Expect.equal (resolved "sac" "pendulum") (Ok [ 256; 256 ]) "SAC"
        }

        test "mlp_hidden is read from text or a number and written as text" {
            Expect.equal (RunFields.mlpHidden (Text "64, 32")) (Ok [ 64; 32 ]) "two layers"
            Expect.equal (RunFields.mlpHidden (Number 100.0)) (Ok [ 100 ]) "one layer"
            let refused = "mlp_hidden must be one to eight whole numbers of units in [1, 65536], comma-separated (256,256), got "
            Expect.equal (RunFields.mlpHidden (Text "64,0")) (Error(refused + "'64,0'")) "a layer of no units"
            Expect.equal (RunFields.mlpHidden (Text "")) (Error(refused + "''")) "no layers"
            Expect.equal (RunFields.mlpHidden (Switch true)) (Error(refused + "true")) "a switch"
            let config = { Presets.defaults "cartpole" AgentKind.Dqn with MlpHidden = [ 64; 32 ] }
            Expect.contains (RunFields.toFields config) ("mlp_hidden", Text "64,32") "written as text"
        }
    ]
