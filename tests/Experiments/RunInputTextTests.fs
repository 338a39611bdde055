/// How a user may write a run's inputs: Gymnasium's environment ids as aliases of prunerl's, and counts
/// as "1e5", "100k" or "2.5M".
module Prunerl.Tests.RunInputTextTests

open Expecto
open Prunerl.Experiments

/// The environments the resolution checks against: CartPole and MinAtar Breakout, as the registry describes them.
let private environments =
    [ { Id = "cartpole"; ObservationShape = [ 4 ]; DiscreteActions = true; Unavailable = None }
      { Id = "minatar/breakout"; ObservationShape = [ 4; 10; 10 ]; DiscreteActions = true; Unavailable = None } ]

[<Tests>]
let tests =
    testList "run input text" [
        test "Gymnasium's and MinAtar's registered ids name prunerl's environments" {
            for alias, id in
                [ "CartPole-v1", "cartpole"; "Acrobot-v1", "acrobot"; "MountainCar-v0", "mountaincar"; "Pendulum-v1", "pendulum"
                  "MinAtar/Breakout-v0", "minatar/breakout"; "MinAtar/SpaceInvaders-v0", "minatar/space_invaders"
                  "HalfCheetah-v4", "mujoco/halfcheetah"; "Walker2d-v4", "mujoco/walker2d" ] do
                Expect.equal (EnvIds.canonical alias) (Ok id) alias
            Expect.equal (EnvIds.canonical "cartpole-V1") (Ok "cartpole") "case ignored, as the registry ignores it"
            Expect.equal (EnvIds.canonical "minatar/freeway") (Ok "minatar/freeway") "prunerl's own id unchanged"
            Expect.equal (EnvIds.canonical "pong") (Ok "pong") "an unknown id is left to the registry's check"
        }

        test "MinAtar's minimal-action-set ids are refused, naming the id to use" {
            match EnvIds.canonical "MinAtar/Seaquest-v1" with
            | Error e ->
                Expect.stringContains e "minimal action set" "why"
                Expect.stringContains e "minatar/seaquest (or MinAtar/Seaquest-v0)" "what to use"
            | Ok id -> failtestf "accepted as %s" id
        }

        test "an alias resolves to prunerl's id and its presets, and a run on it agrees with one on the alias" {
            match Resolution.resolve environments [ "env", Text "MinAtar/Breakout-v0" ] with
            | Ok c ->
                Expect.equal c.Env "minatar/breakout" "the env field holds prunerl's id"
                Expect.equal c.Preset PresetKind.Dopamine "MinAtar's default preset, chosen by prunerl's id"
                Expect.equal (Resolution.agrees c [ "env", Text "MinAtar/Breakout-v0" ]) (Ok()) "asking again by the alias agrees"
            | Error e -> failtest e
        }

        test "counts: plain, scientific, and k or M suffixes read as decimals" {
            for text, expected in [ "100000", 100_000.0; "1e5", 100_000.0; "100k", 100_000.0; "100K", 100_000.0; "2.5M", 2_500_000.0; "1m", 1_000_000.0; "0.1k", 100.0 ] do
                Expect.equal (RunFields.count "steps" (Text text)) (Ok expected) text
            Expect.equal (RunFields.count "steps" (Number 3.0)) (Ok 3.0) "a JSON number as it is"
            Expect.equal (RunFields.count "steps" (Text "k")) (Error "steps must be a number, got 'k'") "a suffix alone"
            Expect.equal (RunFields.count "steps" (Text "1.2.3k")) (Error "steps must be a number (100000, 1e5, 100k, 1M), got '1.2.3k'") "a bad number before the suffix"
        }

        test "a step field set from a suffixed count holds the whole number; a fraction of a step is refused" {
            let steps = RunFields.field "steps" |> Result.defaultWith failwith
            match Resolution.resolve environments [ "steps", Text "30k" ] with
            | Ok c ->
                Expect.equal c.Steps 30_000L "30k"
                Expect.isError (steps.Write (Text "1.0005k") c) "1000.5 steps"
            | Error e -> failtest e
        }
    ]
