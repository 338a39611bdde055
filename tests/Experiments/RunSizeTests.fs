/// What a run allocates, checked before it exists (RunSize, RunValidation.fits) and the bounds that keep
/// a run finite: one table of configurations the core refuses, with the sizes derived here by hand.
module Prunerl.Tests.RunSizeTests

open Expecto
open Prunerl.Experiments

let private cartpole = { Id = "cartpole"; ObservationShape = [ 4 ]; DiscreteActions = true; Unavailable = None }
let private breakout = { Id = "minatar/breakout"; ObservationShape = [ 4; 10; 10 ]; DiscreteActions = true; Unavailable = None }
let private environments = [ cartpole; breakout ]

let private resolve (values: (string * FieldValue) list) = Resolution.resolve environments values

/// A run resolved, then checked against `memory` bytes; Ok, or the first error.
let private fitsIn (memory: int64 option) (values: (string * FieldValue) list) =
    resolve values |> Result.bind (RunValidation.fits environments memory)

let private gb (n: float) = Some(int64 (n * 1e9))

/// Configurations refused, the memory they are checked against, and the words of the error.
let private refused: (string * (string * FieldValue) list * int64 option * string) list =
    [ // 0.5 / 128: the CartPole MLP's 128-unit layers round to no unit at or below it (Torsos.cs clamps them to 1).
      "a degenerate width", [ "width", Number 1e-300 ], None, "width must be > 0.00390625 for network mlp (its smallest scaled layer, 128 units"
      "a width that leaves MinAtar's 16 filters no unit", [ "env", Text "minatar/breakout"; "width", Number 0.03 ], None, "width must be > 0.03125 for network minatar"
      // 128 x 1e9 units: beyond an int's 2^31.
      "a width beyond a layer's units", [ "width", Number 1e9 ], None, "width 1000000000 makes a layer of 1.28e+11 units"
      // 4 x 256000 + 256000^2 = 65,537,024,000 weights, x 4 copies x 4 bytes = 1048.6 GB.
      "a width whose network does not fit", [ "width", Number 2000.0 ], gb 16.0, "width 2000 does not fit in memory: the run needs at least 1048.6 GB (network 1048.6 GB, replay 0.0 GB), 16.0 GB is available"
      // 500M slots x 4 float32 values = 8 GB.
      "a replay that does not fit", [ "replay_capacity", Number 5e8 ], gb 4.0, "replay_capacity 500000000 does not fit in memory: the run needs at least 8.0 GB"
      // 2e9 x 4 values > Array.MaxLength, 2147483591.
      "a replay beyond one array", [ "replay_capacity", Number 2e9 ], None, "replay_capacity 2000000000 x 4 observation values do not fit in one array"
      "an n-step the replay cannot hold", [ "batch_size", Number 32.0; "replay_capacity", Number 40.0; "n_step", Number 40.0 ], None, "n_step must be < replay_capacity (40)"
      "unbounded evaluation episodes", [ "eval_episodes", Number 2147483647.0 ], None, "eval_episodes must be <= 1000"
      "a NaN v_min", [ "v_min", Number nan ], None, "v_min must be a finite number, got NaN"
      "an infinite v_max", [ "v_max", Number infinity ], None, "v_max must be a finite number, got Infinity" ]

[<Tests>]
let tests =
    testList "run sizes and bounds" [
        testList "refused at validation, dry runs included" [
            for name, values, memory, words in refused ->
                test name {
                    match fitsIn memory values with
                    | Ok _ -> failtestf "%s was accepted" name
                    | Error e -> Expect.stringContains e words "the error names the field and the sizes"
                }
        ]

        test "the bounds' edges are accepted: 1000 evaluation episodes, a width just above the smallest, n-step one below the replay" {
            for values in
                [ [ "eval_episodes", Number 1000.0 ]
                  [ "width", Number 0.004 ]
                  [ "batch_size", Number 32.0; "replay_capacity", Number 41.0; "n_step", Number 40.0 ]
                  [ "width", Number 4.0 ] ] do
                Expect.isOk (fitsIn (gb 16.0) values) (sprintf "%A" values)
            Expect.equal RunValidation.MaxEvalEpisodes 1000 "100 times the protocol's 10"
        }

        test "parameters and replay bytes, derived by hand" {
            let config values = resolve values |> Result.defaultWith failwith
            // MinAtar at width 1: 4 channels x 9 x 16 filters + 16 x 8 x 8 x 128 = 576 + 131072.
            Expect.equal (RunSize.parameters (config [ "env", Text "minatar/breakout"; "width", Number 1.0 ]) [ 4; 10; 10 ]) 131648.0 "the MinAtar network"
            // CartPole's 128-128 MLP at width 2: 4 x 256 + 256 x 256.
            Expect.equal (RunSize.parameters (config []) [ 4 ]) 66560.0 "the CartPole MLP"
            // MinAtar stores 0/1 frames as bytes: 100,000 x 400; CartPole float32: 50,000 x 4 x 4.
            Expect.equal (RunSize.replayBytes (config [ "env", Text "minatar/breakout" ]) [ 4; 10; 10 ]) 4e7 "MinAtar's replay"
            Expect.equal (RunSize.replayBytes (config []) [ 4 ]) 8e5 "CartPole's replay"
            Expect.equal (RunSize.scaled 16 0.03) 1.0 "0.48 rounds to 0, clamped to 1 as Torsos.cs does"
        }

        test "a number field given as a JSON string is refused by a config reader (Numeric); text fields and replay_ratio's 1/k are not" {
            let numeric name = (RunFields.field name |> Result.defaultWith failwith).Numeric
            for name in [ "steps"; "width"; "seed"; "eval_episodes"; "stop_at"; "baseline_period"; "v_min" ] do
                Expect.isTrue (numeric name) (name + " is a number")
            for name in [ "env"; "agent"; "replay_ratio"; "mlp_hidden"; "dataset"; "double_q" ] do
                Expect.isFalse (numeric name) (name + " takes text")
        }
    ]
