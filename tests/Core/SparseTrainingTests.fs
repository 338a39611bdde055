/// The sparse-training methods' core on hand-worked cases: JaxPruner's drop schedule pinned at named steps,
/// one SET/RigL update worked out entry by entry, a static mask, a lottery ticket and the method names.
module Prunerl.Tests.SparseTrainingTests

open Expecto
open Prunerl.Core

let private ok r =
    match r with
    | Ok x -> x
    | Error e -> failtestf "expected Ok, got Error %s" e

let private close expected actual message = Expect.floatClose Accuracy.veryHigh actual expected message

/// Dopamine's DQN run: 40 iterations x 250k agent steps, one update per 4 agent steps.
let private totalUpdates = 2_500_000L

//                 0      1      2     3     4     5     6     7
let private weights = [| 0.5f; -0.1f; 0.0f; 2.0f; 0.3f; 0.0f; 0.0f; -0.7f |]
let private mask = [| true; true; false; true; true; false; false; true |]
let private gradient = [| 0.0f; 0.0f; 0.2f; 0.0f; 0.0f; -0.9f; 0.2f; 0.0f |]

[<Tests>]
let tests =
    testList "Sparse training" [
        test "JaxPruner's Dopamine defaults: 0.3, cosine, every 5000 updates from step 1 to 80% of training" {
            let spec = DropFraction.jaxPrunerSpec
            Expect.equal spec.DropFraction 0.3 "drop fraction (dqn.gin line 49)"
            Expect.equal spec.DropAnneal CosineDrop "cosine (api.py lines 168-171)"
            Expect.equal spec.RewireStart (StepPoint.Absolute 1L) "update_start_step (line 47)"
            Expect.equal spec.RewireEvery 5000L "update_freq (line 48)"
            Expect.equal spec.RewireEnd (StepPoint.Fraction 0.8) "update_end_step 2M of 2.5M (line 44)"
            let drop = DropFraction.create totalUpdates spec |> ok
            Expect.equal drop.End 2_000_000L "2M updates, as in dqn.gin"
            Expect.equal (DropFraction.updateSteps drop |> Seq.head) 5000L "the first rewiring: 5000 (0 is before step 1)"
            Expect.equal (DropFraction.updateSteps drop |> Seq.length) 400 "5000, 10000, ..., 2,000,000"
            Expect.isFalse (DropFraction.isUpdateStep drop 0L) "not at 0"
            Expect.isFalse (DropFraction.isUpdateStep drop 2_005_000L) "none after the end"
            Expect.equal (DropFraction.at drop 0L) 0.3 "f_0"
            // t = T/2: 0.3 (1 + cos(pi / 2)) / 2 = 0.15; t = T/4: 0.3 (1 + sqrt 2 / 2) / 2.
            close 0.15 (DropFraction.at drop 1_000_000L) "half way"
            close (0.3 * (1.0 + sqrt 2.0 / 2.0) / 2.0) (DropFraction.at drop 500_000L) "a quarter of the way"
            Expect.equal (DropFraction.at drop 2_000_000L) 0.0 "0 at the end"
            Expect.equal (DropFraction.at drop 2_400_000L) 0.0 "and after it"
        }

        test "a drop schedule out of range is refused, naming the field" {
            let spec = DropFraction.jaxPrunerSpec
            Expect.equal (DropFraction.create totalUpdates { spec with DropFraction = 1.5 }) (Error "drop_fraction must be in [0, 1], got 1.5") "fraction"
            Expect.equal (DropFraction.create totalUpdates { spec with RewireEvery = 0L }) (Error "rewire_every must be >= 1, got 0") "period"
            Expect.equal
                (DropFraction.create totalUpdates { spec with RewireStart = StepPoint.Absolute 10L; RewireEnd = StepPoint.Absolute 5L })
                (Error "rewire_end must be >= 10, got 5")
                "end before start"
        }

        test "the drop count: k - round(k (1 - f)), at most the pruned count" {
            // k = 5, f = 0.4: round(3.0) = 3 survive, 2 dropped.
            Expect.equal (Rewiring.dropCount 0.4 5L 8L) 2L "2 of 5"
            // k = 5, f = 0.5: round(2.5) = 2 (half to even), 3 dropped.
            Expect.equal (Rewiring.dropCount 0.5 5L 10L) 3L "half to even"
            // k = 5, f = 1: all 5 would go, but only n - k = 3 pruned places can take them.
            Expect.equal (Rewiring.dropCount 1.0 5L 8L) 3L "capped at n - k"
            Expect.equal (Rewiring.dropCount 0.3 8L 8L) 0L "a dense layer never rewires"
        }

        test "one RigL update by hand: drop the two smallest kept, grow the two largest gradients among the pruned" {
            // Kept: 0 (0.5), 1 (0.1), 3 (2.0), 4 (0.3), 7 (0.7); k = 5, f = 0.4 -> d = 2: drop 1 and 4.
            // Pruned: 2, 5, 6 with |g| 0.2, 0.9, 0.2 -> grow 5, then 2 (the tie with 6 to the lower index).
            let r = Rewiring.layer 0.4 (GradientGrowth gradient) mask weights |> ok
            Expect.equal r.Dropped [| 1; 4 |] "dropped"
            Expect.equal r.Grown [| 2; 5 |] "grown"
            Expect.equal r.Mask [| true; false; true; true; false; true; false; true |] "mask"
            Expect.equal (Rewiring.restart r [| 1.0f; 1.0f; 1.0f; 1.0f; 1.0f; 1.0f; 1.0f; 1.0f |] |> ok) [| 1.0f; 1.0f; 0.0f; 1.0f; 1.0f; 0.0f; 1.0f; 1.0f |] "restart"
        }

        test "one SET update: the same drop, two of the three pruned places, fixed by the stream" {
            let r = Rewiring.layer 0.4 (RandomGrowth(Rewiring.growthStream 7UL 5000L 0)) mask weights |> ok
            Expect.equal r.Dropped [| 1; 4 |] "dropped"
            Expect.equal r.Grown.Length 2 "two grown"
            Expect.isTrue (r.Grown |> Array.forall (fun i -> List.contains i [ 2; 5; 6 ])) "among the pruned"
            Expect.equal (Rewiring.layer 0.4 (RandomGrowth(Rewiring.growthStream 7UL 5000L 0)) mask weights |> ok) r "replayed"
            Expect.isError (Rewiring.layer 0.4 (GradientGrowth [| 1.0f |]) mask weights) "a gradient of another length"
        }

        test "a static mask by magnitude keeps each layer's k largest; the bias stays dense" {
            let ps =
                [ { Name = "w"; Shape = [| 2; 4 |]; Role = Weight }
                  { Name = "b"; Shape = [| 2 |]; Role = Bias } ]
            let plan = Plan.create (Schedule.constant 0.75 |> ok) (LayerWise Uniform) Sparsity.paperScope ps |> ok
            let masks = StaticMask.create MagnitudeInit 0UL (Plan.at plan 0L) [| weights; [| 0.0f; 0.0f |] |] |> ok
            // 8 entries at 75%: keep round(2.0) = 2, the largest: 3 (2.0) and 7 (0.7).
            Expect.equal masks[0] [| false; false; false; true; false; false; false; true |] "the two largest"
            Expect.equal masks[1] [| true; true |] "dense bias"
            let random = StaticMask.create RandomInit 3UL (Plan.at plan 0L) [| weights; [| 0.0f; 0.0f |] |] |> ok
            Expect.equal (random[0] |> Array.filter id |> Array.length) 2 "two at random"
            Expect.isError (StaticMask.create RandomInit 3UL (Plan.at plan 0L) [| weights |]) "a parameter missing"
        }

        test "a lottery ticket: the final mask on the initial or rewound weights" {
            let initial = { Step = 0L; Weights = [| [| 1.0f; 2.0f; 3.0f |] |] }
            let rewound = { Step = 100L; Weights = [| [| 4.0f; 5.0f; 6.0f |] |] }
            let final = [| [| true; false; true |] |]
            let fromStart = LotteryTicket.create ToInitial final [ initial; rewound ] |> ok
            Expect.equal (LotteryTicket.startingWeights fromStart) [| [| 1.0f; 0.0f; 3.0f |] |] "initial"
            let fromRewind = LotteryTicket.create (ToStep 100L) final [ initial; rewound ] |> ok
            Expect.equal (LotteryTicket.startingWeights fromRewind) [| [| 4.0f; 0.0f; 6.0f |] |] "rewound"
            Expect.equal
                (LotteryTicket.create (ToStep 50L) final [ initial; rewound ])
                (Error "rewind_step: the run recorded no weights at step 50 (it recorded steps: 0, 100)")
                "missing step"
            Expect.isError (LotteryTicket.create ToInitial [| [| true |] |] [ initial ]) "shapes differ"
        }

        test "method names: gmp, static, lottery, set, rigl, parsed back in any case" {
            Expect.equal (SparseMethod.all |> List.map SparseMethod.name) [ "gmp"; "static"; "lottery"; "set"; "rigl" ] "names"
            for m in SparseMethod.all do
                Expect.equal (SparseMethod.parse ((SparseMethod.name m).ToUpperInvariant())) (Ok m) "round trip"
            Expect.equal (SparseMethod.parse "snip") (Error "method must be one of gmp, static, lottery, set, rigl, got 'snip'") "unknown"
            let drop = DropFraction.create totalUpdates DropFraction.jaxPrunerSpec |> ok
            Expect.isTrue (SparseMethod.needsDenseGradient RigL drop 5000L) "RigL at a rewiring"
            Expect.isFalse (SparseMethod.needsDenseGradient RigL drop 5001L) "not between"
            Expect.isFalse (SparseMethod.needsDenseGradient SET drop 5000L) "SET never"
            Expect.isError (SparseMethod.rewire GMP drop 0UL 5000L [| mask |] [| weights |] None) "GMP follows its plan"
            Expect.isError (SparseMethod.rewire RigL drop 0UL 5000L [| mask |] [| weights |] None) "RigL needs its gradient"
        }
    ]
