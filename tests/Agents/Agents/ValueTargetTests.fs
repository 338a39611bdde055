/// The agents' learning targets on cases worked out by hand.
module Prunerl.Tests.ValueTargetTests

open Expecto
open TorchSharp
open Prunerl.Agents.Agents

let private t (xs: float32 list) = torch.tensor (Array.ofList xs)
let private rows (xs: float32 list list) = torch.tensor (array2D xs)
let private values (x: torch.Tensor) = x.data<float32>().ToArray() |> Array.map (fun v -> System.Math.Round(float v, 5))

[<Tests>]
let tests =
    testSequenced <| testList "value targets" [
        test "DQN and double-DQN targets: R + d Q_target(s', a*)" {
            let nextTarget = rows [ [ 1.0f; 5.0f ]; [ 2.0f; 0.0f ] ]
            let nextOnline = rows [ [ 9.0f; 0.0f ]; [ 0.0f; 9.0f ] ]
            let returns, discounts = t [ 1.0f; 1.0f ], t [ 0.5f; 0.0f ]
            // DQN: max of the target network: 1 + 0.5 * 5 = 3.5; a terminated sample keeps R = 1.
            Expect.equal (values (ValueTargets.QTargets(returns, discounts, nextTarget, null))) [| 3.5; 1.0 |] "DQN"
            // Double: the online network picks action 0 in the first row: 1 + 0.5 * 1 = 1.5.
            Expect.equal (values (ValueTargets.QTargets(returns, discounts, nextTarget, nextOnline))) [| 1.5; 1.0 |] "double"
        }

        test "Huber loss: quadratic within 1, linear beyond, weighted by importance" {
            let struct (loss, perSample) = ValueTargets.HuberLoss(t [ 0.0f; 0.0f ], t [ 0.5f; 3.0f ], null)
            // 0.5 * 0.5^2 = 0.125; 3 - 0.5 = 2.5.
            Expect.equal (values perSample) [| 0.125; 2.5 |] "per sample"
            Expect.floatClose Accuracy.high (loss.item<float32> () |> float) 1.3125 "mean"
            let struct (weighted, _) = ValueTargets.HuberLoss(t [ 0.0f; 0.0f ], t [ 0.5f; 3.0f ], t [ 1.0f; 0.0f ])
            Expect.floatClose Accuracy.high (weighted.item<float32> () |> float) 0.0625 "weights"
        }

        test "C51 projection: mass splits between neighbouring atoms, clips at the ends, stays 1" {
            let support = t [ -1.0f; 0.0f; 1.0f ]
            // All mass on atom 0 (value 0), R = 0.5, d = 1: Tz = 0.5, half to 0 and half to 1.
            Expect.equal (values (ValueTargets.ProjectDistribution(support, rows [ [ 0.0f; 1.0f; 0.0f ] ], t [ 0.5f ], t [ 1.0f ]))) [| 0.0; 0.5; 0.5 |] "split"
            // Terminated (d = 0) with R = 5: everything lands on v_max.
            Expect.equal (values (ValueTargets.ProjectDistribution(support, rows [ [ 0.2f; 0.3f; 0.5f ] ], t [ 5.0f ], t [ 0.0f ]))) [| 0.0; 0.0; 1.0 |] "clipped to v_max"
            // R = 0, d = 0.5: atoms -1, 0, 1 move to -0.5, 0, 0.5; each half of the outer atoms moves to 0.
            let p = ValueTargets.ProjectDistribution(support, rows [ [ 0.2f; 0.3f; 0.5f ] ], t [ 0.0f ], t [ 0.5f ])
            Expect.equal (values p) [| 0.1; 0.65; 0.25 |] "contraction"
            Expect.floatClose Accuracy.high (p.sum().item<float32> () |> float) 1.0 "a distribution"
        }

        test "C51 loss: cross-entropy of the taken action's logits against the projected target" {
            let struct (loss, perSample) = ValueTargets.DistributionLoss(rows [ [ 0.0f; 0.0f ] ], rows [ [ 1.0f; 0.0f ] ], null)
            // softmax(0, 0) = (1/2, 1/2): -log(1/2).
            Expect.floatClose Accuracy.high (perSample[0].item<float32> () |> float) (log 2.0) "ln 2"
            Expect.floatClose Accuracy.high (loss.item<float32> () |> float) (log 2.0) "mean"
        }
    ]
