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

        test "the sparse-training defaults: gmp (the paper's), rewind to the initial weights, SET and RigL dropping 0.3 every 5000 updates (JaxPruner's Dopamine dqn.gin)" {
            Expect.equal RunConfig.defaultMethod Prunerl.Core.GMP "gradual magnitude pruning"
            Expect.equal RunConfig.defaultRewindStep 0L "Frankle and Carbin's theta_0"
            Expect.equal RunConfig.defaultDropFraction 0.3 "dqn.gin line 49"
            Expect.equal RunConfig.defaultRewireEvery 5000L "dqn.gin line 48"
            let c = Presets.defaults "minatar/breakout" AgentKind.Dqn
            Expect.equal (c.Method, c.Ticket, c.RewindStep, c.DropFraction, c.RewireEvery) (Prunerl.Core.GMP, None, 0L, 0.3, 5000L) "every preset starts from them"
        }

        test "a config.json without the method fields (written before them) reads as gmp, and its fingerprint is what it was" {
            let environments: EnvironmentInfo list = [ { Id = "cartpole"; ObservationShape = [ 4 ]; DiscreteActions = true; Unavailable = None } ]
            let old = Resolution.resolve environments [ "env", Text "cartpole"; "sparsity", Number 0.9 ] |> Result.defaultWith failwith
            Expect.equal old.Method Prunerl.Core.GMP "gmp"
            let names = RunFields.fingerprint old |> List.map fst
            for name in [ "method"; "ticket"; "rewind_step"; "drop_fraction"; "rewire_every" ] do
                Expect.isFalse (List.contains name names) (name + " is left out of the fingerprint at its default")
            let set = Resolution.resolve environments [ "env", Text "cartpole"; "sparsity", Number 0.9; "method", Text "set"; "rewire_every", Number 100.0 ] |> Result.defaultWith failwith
            Expect.equal set.Method Prunerl.Core.SET "set"
            let fingerprint = RunFields.fingerprint set
            Expect.contains fingerprint ("method", "'set'") "another method is in the fingerprint"
            Expect.contains fingerprint ("rewire_every", "100") "and so is another period"
            Expect.contains (RunFields.toFields old) ("method", Text "gmp") "config.json holds the method"
        }

        test "a method other than gmp: a run of sparsity > 0, lottery with a ticket and only it, rewind_step for gmp and lottery" {
            let environments: EnvironmentInfo list = [ { Id = "cartpole"; ObservationShape = [ 4 ]; DiscreteActions = true; Unavailable = None } ]
            let error values = match Resolution.resolve environments (("env", Text "cartpole") :: values) with Error e -> e | Ok _ -> "accepted"
            Expect.stringContains (error [ "sparsity", Number 0.0; "method", Text "static" ]) "method static trains a sparse network: give sparsity > 0" "dense"
            Expect.stringContains (error [ "method", Text "lottery" ]) "method lottery needs ticket" "no ticket"
            Expect.stringContains (error [ "method", Text "rigl"; "ticket", Text "/tmp/run" ]) "ticket applies to method lottery only, got method rigl" "a ticket elsewhere"
            Expect.stringContains (error [ "method", Text "set"; "rewind_step", Number 10.0 ]) "rewind_step applies to methods gmp" "a rewind elsewhere"
            Expect.stringContains (error [ "rewind_step", Number 1e9 ]) "rewind_step must be below the run's" "beyond the run"
            Expect.stringContains (error [ "method", Text "set"; "drop_fraction", Number 1.5 ]) "drop_fraction must be in [0, 1], got 1.5" "a fraction above 1"
            Expect.stringContains (error [ "method", Text "sparse" ]) "method must be one of gmp, static, lottery, set, rigl, got 'sparse'" "an unknown method"
            Expect.equal (error [ "method", Text "lottery"; "ticket", Text "/tmp/run"; "rewind_step", Number 10.0 ]) "accepted" "lottery with a ticket (checked by the command line, which reads it)"
        }

        test "a swept method is in the run's folder name; an unswept one is not, nor a lottery run's ticket" {
            let environments: EnvironmentInfo list = [ { Id = "cartpole"; ObservationShape = [ 4 ]; DiscreteActions = true; Unavailable = None } ]
            let names axes = Sweep.plan environments axes |> Result.defaultWith failwith |> List.map fst
            Expect.equal (names [ "env", [ Text "cartpole" ]; "method", [ Text "gmp"; Text "rigl" ] ])
                [ "cartpole_w2_s0.95_none_seed0_method-gmp"; "cartpole_w2_s0.95_none_seed0_method-rigl" ] "swept"
            Expect.equal (names [ "env", [ Text "cartpole" ]; "method", [ Text "set" ] ]) [ "cartpole_w2_s0.95_none_seed0" ] "one method"
            let lottery =
                Sweep.planGrids environments [ "env", [ Text "cartpole" ]; "method", [ Text "lottery" ] ]
                    [ [ "seed", [ Number 1.0 ]; "ticket", [ Text "/runs/gmp_seed1" ] ]; [ "seed", [ Number 2.0 ]; "ticket", [ Text "/runs/gmp_seed2" ] ] ]
                |> Result.defaultWith failwith
            Expect.equal (List.map fst lottery) [ "cartpole_w2_s0.95_none_seed1"; "cartpole_w2_s0.95_none_seed2" ] "a ticket per seed: not in the names"
            Expect.equal (lottery |> List.map (fun (_, c) -> c.Ticket)) [ Some "/runs/gmp_seed1"; Some "/runs/gmp_seed2" ] "each run its seed's ticket"
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
