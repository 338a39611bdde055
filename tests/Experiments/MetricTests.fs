/// The analysis metrics on small cases worked out by hand.
module Prunerl.Tests.MetricTests

open Expecto
open Prunerl.Experiments.Metrics

let private ok r =
    match r with
    | Ok x -> x
    | Error e -> failtestf "expected Ok, got Error %s" e

[<Tests>]
let tests =
    testList "metrics" [
        test "dormant scores: E|h_i| over the layer's mean E|h|" {
            // Mean |h| per neuron: 1, 0, 2; the layer mean is 1, so the scores are 1, 0, 2.
            let activations = [| [| 1.0f; 0.0f; -3.0f |]; [| -1.0f; 0.0f; 1.0f |] |]
            let s = Dormant.scores activations |> ok
            Expect.sequenceEqual (s |> Array.map (fun x -> System.Math.Round(x, 6))) [| 1.0; 0.0; 2.0 |] "scores"
            Expect.equal (Dormant.dormant 0.1 activations |> ok) [| false; true; false |] "tau = 0.1"
            Expect.floatClose Accuracy.veryHigh (Dormant.fraction 1.0 activations |> ok) (2.0 / 3.0) "tau = 1: neurons 0 and 1"
            // A convolution channel averages |h| over its positions first.
            Expect.equal (Dormant.ofConvolution [| [| [| 1.0f; -3.0f |]; [| 0.0f; 0.0f |] |] |]) [| [| 2.0f; 0.0f |] |] "conv"
            Expect.equal (Dormant.scores [||]) (Error "activations: the batch is empty") "empty batch"
        }

        test "effective rank of diag(3, 1): 1 at delta 0.3, 2 at delta 0.01" {
            let phi = [| [| 3.0f; 0.0f |]; [| 0.0f; 1.0f |]; [| 0.0f; 0.0f |] |]
            Expect.sequenceEqual (EffectiveRank.singularValues phi |> ok |> Array.map (fun x -> System.Math.Round(x, 9))) [| 3.0; 1.0 |] "singular values"
            // 3 / 4 = 0.75 >= 1 - 0.3, so one direction suffices; at delta 0.01 both are needed.
            Expect.equal (EffectiveRank.srank 0.3 phi |> ok) 1 "delta 0.3"
            Expect.equal (EffectiveRank.srank 0.01 phi |> ok) 2 "delta 0.01"
            Expect.equal (EffectiveRank.srank 1.0 phi) (Error "delta must be in [0, 1), got 1") "delta out of range"
        }

        test "gradient cosines of (1, 0), (1, 1), (0, 0)" {
            let c = GradientInterference.cosines [| [| 1.0f; 0.0f |]; [| 1.0f; 1.0f |]; [| 0.0f; 0.0f |] |] |> ok
            Expect.floatClose Accuracy.veryHigh (c[0][1]) (1.0 / sqrt 2.0) "45 degrees"
            Expect.equal (c[0][2]) 0.0 "a zero gradient interferes with nothing"
            Expect.floatClose Accuracy.veryHigh (GradientInterference.meanPairwise c) ((1.0 / sqrt 2.0) / 3.0) "mean over the three pairs"
            Expect.floatClose Accuracy.veryHigh (ParameterNorm.l2 [ [| 3.0f |]; [| 4.0f |] ]) 5.0 "3-4-5"
        }
    
        test "rliable's aggregates on samples worked out by hand" {
            let one (xs: float list) : float[][] = [| Array.ofList xs |]
            // n = 8: drop 2 from each end, mean of 3, 4, 5, 6.
            Expect.equal (Aggregate.iqm (one [ 8.0; 1.0; 7.0; 2.0; 6.0; 3.0; 5.0; 4.0 ])) 4.5 "IQM of 1..8"
            // n = 10: drop 2 from each end, mean of 3..8.
            Expect.equal (Aggregate.iqm (one [ 1.0 .. 10.0 ])) 5.5 "IQM of 1..10"
            // Two tasks pooled: 1, 2, 3, 10, 20; drop 1 from each end: mean of 2, 3, 10.
            Expect.equal (Aggregate.iqm [| [| 1.0; 2.0; 3.0 |]; [| 10.0; 20.0 |] |]) 5.0 "IQM across tasks"
            // Task means 2, 15, 4: median 4, mean 7.
            let tasks = [| [| 1.0; 2.0; 3.0 |]; [| 10.0; 20.0 |]; [| 4.0 |] |]
            Expect.equal (Aggregate.median tasks) 4.0 "median of task means"
            Expect.equal (Aggregate.mean tasks) 7.0 "mean of task means"
            // min(x, 1): 0.5, 1, 0; mean 0.5; gap 0.5.
            Expect.equal (Aggregate.optimalityGap 1.0 [| [| 0.5; 1.5 |]; [| 0.0 |] |]) 0.5 "optimality gap"
            // Pairs (1, 2) (1, 2) (3, 2) (3, 2): 2 wins of 4.
            Expect.equal (Profile.probabilityOfImprovement (one [ 1.0; 3.0 ]) (one [ 2.0; 2.0 ])) (Ok 0.5) "P(X > Y)"
            Expect.equal (Profile.probabilityOfImprovement (one [ 3.0 ]) (one [ 2.0; 3.0 ])) (Ok 0.75) "a tie counts 1/2"
            Expect.equal (Bootstrap.quantile 0.25 [| 4.0; 1.0; 3.0; 2.0 |]) 1.75 "numpy's linear percentile"
            Expect.equal (Aggregate.normalise 0.52 10.0 5.26) 0.5 "normalised score"
        }
    ]
