/// The analysis metrics on small cases worked out by hand.
module Prunerl.Tests.MetricTests

open Expecto
open Prunerl.Core.Metrics

let private ok r =
    match r with
    | Ok x -> x
    | Error e -> failtestf "expected Ok, got Error %s" e

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
    ]
