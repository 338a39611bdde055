/// ERK budgets, rounding and masks pinned on small cases worked out by hand.
module Prunerl.Tests.SparsityTests

open Expecto
open Prunerl.Core
open Prunerl.Experiments

let private ok r =
    match r with
    | Ok x -> x
    | Error e -> failtestf "expected Ok, got Error %s" e

let private weight name shape = { Name = name; Shape = shape; Role = Weight }

let private kept (budgets: LayerBudget[]) =
    budgets |> Array.map (fun b -> b.Parameter.Name, b.Target) |> List.ofArray

[<Tests>]
let tests =
    testList "Sparsity and masks" [
        test "round((1 - s) n) ties to even, as numpy and JaxPruner" {
            Expect.equal (Sparsity.keptCount 0.5 5L) 2L "2.5 -> 2"
            Expect.equal (Sparsity.keptCount 0.5 7L) 4L "3.5 -> 4"
            Expect.equal (Sparsity.keptCount 0.9 1024L) 102L "102.4 -> 102"
            Expect.equal (Sparsity.keptCount 0.0 10L) 10L "dense keeps all"
        }

        test "ERK at 90%: eps = 1040 / (0.26 * 400 + 0.02 * 10000), integer shares sum to 1040" {
            // A = 4x100: raw (4 + 100) / 400 = 0.26; B = 100x100: raw 200 / 10000 = 0.02.
            // Budget round(0.1 * 10400) = 1040, eps = 1040 / 304: A 355.79 -> 356, B 684.21 -> 684.
            let set = Sparsity.select Sparsity.paperScope [ weight "a" [| 4; 100 |]; weight "b" [| 100; 100 |] ] |> ok
            let budgets = Sparsity.allocate (LayerWise(Erk 1.0)) set 0.9 |> ok
            Expect.equal (kept budgets) [ "a", Keep 356L; "b", Keep 684L ] "kept counts"
        }

        test "ERK at 50%: A would exceed density 1, so it stays dense and B takes the rest" {
            // eps = 5200 / 304 = 17.1: A's density 0.26 * 17.1 = 4.4 > 1, so A keeps all 400 and
            // B keeps 5200 - 400 = 4800 (density 0.48).
            let set = Sparsity.select Sparsity.paperScope [ weight "a" [| 4; 100 |]; weight "b" [| 100; 100 |] ] |> ok
            let budgets = Sparsity.allocate (LayerWise(Erk 1.0)) set 0.5 |> ok
            Expect.equal (kept budgets) [ "a", Keep 400L; "b", Keep 4800L ] "kept counts"
        }

        test "biases stay dense; first and last layers can be kept dense by rule; names are checked" {
            let ps =
                [ weight "in" [| 8; 4 |]
                  { Name = "in.bias"; Shape = [| 8 |]; Role = Bias }
                  weight "hidden" [| 8; 8 |]
                  { Name = "norm"; Shape = [| 8 |]; Role = Normalization }
                  weight "out" [| 2; 8 |] ]
            let scope = { Sparsity.paperScope with KeepDense = [ FirstWeight; LastWeight ] }
            let budgets = Sparsity.allocate (LayerWise Uniform) (Sparsity.select scope ps |> ok) 0.5 |> ok
            Expect.equal
                (kept budgets)
                [ "in", Dense; "in.bias", Dense; "hidden", Keep 32L; "norm", Dense; "out", Dense ]
                "only the hidden layer is pruned"
            Expect.equal
                (Sparsity.select { scope with KeepDense = [ Named "hiden" ] } ps)
                (Error "keep_dense names no parameter: 'hiden'")
                "a misspelt name is an error"
        }

        test "a layer-wise mask keeps the largest |w|, ties to the lower index" {
            let w = [| 0.5f; -2.0f; 0.5f; 1.0f; -0.5f; 0.0f |]
            // Keep 3: -2 (index 1), 1 (index 3), then the first of the three 0.5s (index 0).
            Expect.equal (Mask.layerwise 0.5 w |> ok) [| true; true; false; true; false; false |] "mask"
        }

        test "an update never revives a pruned weight, even a large one" {
            let previous = [| true; false; true; true |]
            let w = [| 0.1f; 9.0f; 0.3f; 0.2f |]
            Expect.equal (Mask.updateLayerwise previous 0.5 w |> ok) [| false; false; true; true |] "keeps 2 of the 3 alive"
        }

        test "a plan counts non-zeros: pruned kept + all dense parameters" {
            let ps = [ weight "w" [| 10; 10 |]; { Name = "b"; Shape = [| 10 |]; Role = Bias } ]
            let plan = Plan.create (Schedule.constant 0.9 |> ok) (LayerWise Uniform) Sparsity.paperScope ps |> ok
            let step = Plan.at plan 0L
            Expect.equal (step.PrunableKept, step.NonZero, step.TotalSize) (10L, 20L, 110L) "counts"
        }
    ]
