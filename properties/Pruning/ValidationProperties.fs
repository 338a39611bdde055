/// Validation rejects every out-of-range parameter, with a message naming the field and its range.
module Prunerl.Properties.ValidationProperties

open System
open Expecto
open FsCheck.FSharp
open Prunerl.Core
open Prunerl.Experiments
open Prunerl.Properties.Generators

let private config = { FsCheckConfig.defaultConfig with maxTest = 200 }

/// A float outside [lo, hi]: below, above, NaN or infinite.
let private outside lo hi =
    Gen.oneof
        [ Gen.choose (1, 1_000_000) |> Gen.map (fun k -> lo - float k / 1000.0)
          Gen.choose (1, 1_000_000) |> Gen.map (fun k -> hi + float k / 1000.0)
          Gen.elements [ nan; infinity; -infinity ] ]

/// A sparsity that is not in [0, 1).
let private badSparsity = Gen.oneof [ outside 0.0 1.0; Gen.constant 1.0 ]

/// The check fails and its message names the field.
let private rejects (field: string) (r: Result<'a, string>) =
    match r with
    | Ok _ -> failwithf "accepted an out-of-range %s" field
    | Error e -> Expect.stringContains e field "the message names the field"

let private validSpec =
    gen {
        let! g = gradual
        return
            { InitialSparsity = g.Initial
              FinalSparsity = g.Final
              Shape = g.Ramp
              PruneStart = StepPoint.Absolute g.Start
              PruneEnd = StepPoint.Absolute g.End
              PruneEvery = g.UpdatePeriod
              Counting = g.Convention }
    }

[<Tests>]
let tests =
    testList "Validation properties" [
        testPropertyWithConfig config "valid specs are accepted" <|
            Prop.forAll (arb validSpec) (fun spec -> Expect.isOk (Schedule.gradual 1L spec) "accepted")

        testPropertyWithConfig config "sparsity outside [0, 1) is rejected everywhere it is taken" <|
            Prop.forAll (arb (Gen.zip validSpec badSparsity)) (fun (spec, s) ->
                rejects "sparsity" (Schedule.gradual 1L { spec with FinalSparsity = s })
                rejects "sparsity" (Schedule.constant s)
                rejects "sparsity" (Schedule.oneShot s 10L)
                rejects "sparsity" (Mask.layerwise s [| 1.0f |])
                rejects "sparsity" (Mask.globalMagnitude s [| [| 1.0f |] |]))

        testPropertyWithConfig config "initial_sparsity outside [0, final] is rejected" <|
            Prop.forAll (arb (Gen.zip validSpec (Gen.oneof [ outside 0.0 1.0; Gen.choose (1, 100) |> Gen.map (fun k -> float k / 100.0) ]))) (fun (spec, initial) ->
                let spec = { spec with Counting = ZhuGupta; FinalSparsity = min spec.FinalSparsity 0.5 }
                if not (initial >= 0.0 && initial <= spec.FinalSparsity) then
                    rejects "initial_sparsity" (Schedule.gradual 1L { spec with InitialSparsity = initial }))

        testPropertyWithConfig config "JaxPruner's schedule starts from 0: any other initial_sparsity is rejected" <|
            Prop.forAll (arb (Gen.zip validSpec (Gen.choose (1, 99)))) (fun (spec, k) ->
                let spec = { spec with Counting = JaxPruner; FinalSparsity = 0.99; InitialSparsity = float k / 100.0 }
                rejects "initial_sparsity" (Schedule.gradual 1L spec))

        testPropertyWithConfig config "power <= 0 or not finite is rejected" <|
            Prop.forAll (arb (Gen.zip validSpec (Gen.oneof [ outside 0.0 0.0; Gen.constant 0.0 ]))) (fun (spec, p) ->
                if not (p > 0.0 && Double.IsFinite p) then
                    rejects "power" (Schedule.gradual 1L { spec with Shape = Polynomial p }))

        testPropertyWithConfig config "prune_every < 1, prune_start < 0, prune_end <= prune_start are rejected" <|
            Prop.forAll (arb (Gen.zip validSpec (Gen.choose (0, 100_000)))) (fun (spec, k) ->
                let k = int64 k
                rejects "prune_every" (Schedule.gradual 1L { spec with PruneEvery = -k })
                rejects "prune_start" (Schedule.gradual 1L { spec with PruneStart = StepPoint.Absolute(-k - 1L) })
                let start = match spec.PruneStart with StepPoint.Absolute s -> s | StepPoint.Fraction _ -> 0L
                rejects "prune_end" (Schedule.gradual 1L { spec with PruneEnd = StepPoint.Absolute(start - k) })
                rejects "at_step" (Schedule.oneShot 0.5 (-k - 1L)))

        testPropertyWithConfig config "fractions outside [0, 1] and total_steps < 1 are rejected" <|
            Prop.forAll (arb (Gen.zip3 validSpec (outside 0.0 1.0) (Gen.choose (0, 1000)))) (fun (spec, f, k) ->
                rejects "prune_start" (Schedule.gradual 1000L { spec with PruneStart = StepPoint.Fraction f })
                rejects "prune_end" (Schedule.gradual 1000L { spec with PruneEnd = StepPoint.Fraction f })
                rejects "total_steps" (Schedule.gradual (int64 -k) { spec with PruneStart = StepPoint.Fraction 0.2 }))

        testPropertyWithConfig config "erk_power outside (0, 2], unknown dense names and bad shapes are rejected" <|
            Prop.forAll (arb (Gen.zip3 parameters (outside 0.0 2.0) (Gen.choose (-3, 0)))) (fun (ps, power, dim) ->
                let set = Sparsity.select Sparsity.paperScope ps |> ok
                rejects "erk_power" (Sparsity.allocate (LayerWise(Erk power)) set 0.5)
                rejects "keep_dense" (Sparsity.select { Sparsity.paperScope with KeepDense = [ Named "no-such-layer" ] } ps)
                let broken = { ps.Head with Shape = Array.append ps.Head.Shape [| dim |] }
                rejects "parameters" (Sparsity.select Sparsity.paperScope (broken :: ps.Tail))
                rejects "parameters" (Sparsity.select Sparsity.paperScope (ps.Head :: ps)))

        testPropertyWithConfig config "masks and weights of different lengths are rejected" <|
            Prop.forAll (arb (Gen.zip weights (Gen.choose (1, 5)))) (fun (w, extra) ->
                let mask = Array.create (w.Length + extra) true
                rejects "mask" (Mask.updateLayerwise mask 0.5 w)
                rejects "mask" (Mask.apply mask w)
                rejects "layers" (Mask.updateGlobal [| mask; mask |] 0.5 [| w |]))
    ]

/// Agent configurations: each field out of its range is rejected by name; epsilon stays in range.
[<Tests>]
let agentTests =
    let preset = AgentConfig.dopamineDqn
    let cases: (string * (float -> AgentConfig)) list =
        [ "gamma", (fun x -> { preset with Gamma = 1.0 + x })
          "n_step", (fun x -> { preset with NStep = -int x })
          "batch_size", (fun x -> { preset with BatchSize = -int x })
          "update_period", (fun x -> { preset with UpdatePeriod = -int x })
          "updates_per_step", (fun x -> { preset with UpdatesPerStep = -int x })
          "target_update_period", (fun x -> { preset with TargetUpdatePeriod = -int64 x })
          "epsilon_train", (fun x -> { preset with EpsilonTrain = 1.0 + x })
          "epsilon_eval", (fun x -> { preset with EpsilonEval = -x })
          "learning_rate", (fun x -> { preset with Optimizer = Adam(-x, 1e-4) })
          "rmsprop_alpha", (fun x -> { preset with Optimizer = RmsProp(1e-3, 1.0 + x, 0.01, true) })
          "atoms", (fun x -> { preset with Atoms = -int x })
          "v_max", (fun x -> { preset with Atoms = 51; VMax = preset.VMin - x })
          "priority_alpha", (fun x -> { preset with Replay = PrioritizedReplay(1.0 + x, 0.5, 0L) }) ]
    testList "Agent configuration properties" [
        testPropertyWithConfig config "every field out of its range is rejected with its name" <|
            Prop.forAll (arb (Gen.zip (Gen.elements cases) (Gen.choose (1, 1000)))) (fun ((field, make), k) ->
                rejects field (AgentConfig.validate (make (float k))))

        testPropertyWithConfig config "epsilon stays within [final, 1] and never rises" <|
            Prop.forAll (arb (Gen.zip3 (Gen.choose (0, 5000)) (Gen.choose (0, 5000)) (Gen.choose (0, 100)))) (fun (decay, warmup, f) ->
                let final = float f / 100.0
                let e = Exploration.epsilon (int64 decay) (int64 warmup) final
                let values = [ for t in 0L .. 50L .. 12_000L -> e t ]
                Expect.isTrue (values |> List.forall (fun v -> final <= v && v <= 1.0)) "in range"
                Expect.isTrue (values |> List.pairwise |> List.forall (fun (a, b) -> b <= a)) "never rises")
    ]
