/// Properties of the analysis metrics: dormant-neuron scores, effective rank, parameter norm and
/// gradient interference, against invariances and cases whose answer is known.
module Prunerl.Properties.MetricProperties

open System
open Expecto
open FsCheck.FSharp
open Prunerl.Experiments.Metrics
open Prunerl.Properties.Generators

let private config = { FsCheckConfig.defaultConfig with maxTest = 200 }

let private value = Gen.frequency [ 3, Gen.choose (-1000, 1000) |> Gen.map (fun k -> float32 k / 100.0f); 1, Gen.constant 0.0f ]

/// A rows x columns matrix of activations or features.
let private matrix maxRows maxColumns =
    gen {
        let! rows = Gen.choose (1, maxRows)
        let! columns = Gen.choose (1, maxColumns)
        return! Gen.arrayOfLength rows (Gen.arrayOfLength columns value)
    }

let private close (tolerance: float) (a: float) (b: float) = abs (a - b) <= tolerance * (1.0 + abs a + abs b)

let private layerMean (a: float32[][]) = a |> Array.averageBy (Array.averageBy (fun x -> float (abs x)))

[<Tests>]
let tests =
    testList "Metric properties" [
        testPropertyWithConfig config "dormant scores are unchanged by scaling the activations" <|
            Prop.forAll (arb (Gen.zip (matrix 20 30) (Gen.choose (1, 100)))) (fun (a, k) ->
                if layerMean a > 1e-3 then
                    let c = float32 k / 10.0f
                    let s = Dormant.scores a |> ok
                    let scaled = Dormant.scores (a |> Array.map (Array.map ((*) c))) |> ok
                    Array.iter2 (fun x y -> Expect.isTrue (close 1e-5 x y) (sprintf "%g vs %g" x y)) s scaled)

        testPropertyWithConfig config "dormant scores average 1 over a layer that is not silent" <|
            Prop.forAll (arb (matrix 20 30)) (fun a ->
                if layerMean a > 1e-3 then
                    Expect.floatClose Accuracy.medium (Dormant.scores a |> ok |> Array.average) 1.0 "mean score")

        testPropertyWithConfig config "a neuron that never fires is dormant at any tau; a silent layer is all dormant" <|
            Prop.forAll (arb (Gen.zip (matrix 20 30) (Gen.choose (0, 29)))) (fun (a, k) ->
                let i = k % a[0].Length
                let silenced = a |> Array.map (fun row -> row |> Array.mapi (fun j x -> if j = i then 0.0f else x))
                let isDormant = Dormant.dormant 0.0 silenced |> ok
                Expect.isTrue isDormant[i] "silent neuron is dormant"
                let silent = a |> Array.map (Array.map (fun _ -> 0.0f))
                Expect.equal (Dormant.fraction 0.0 silent |> ok) 1.0 "silent layer")

        testPropertyWithConfig config "the dormant fraction grows with tau and stays in [0, 1]" <|
            Prop.forAll (arb (Gen.zip (matrix 20 30) (Gen.two (Gen.choose (0, 200))))) (fun (a, (t1, t2)) ->
                let lo, hi = float (min t1 t2) / 100.0, float (max t1 t2) / 100.0
                let f1, f2 = Dormant.fraction lo a |> ok, Dormant.fraction hi a |> ok
                Expect.isTrue (0.0 <= f1 && f1 <= f2 && f2 <= 1.0) (sprintf "f(%g) = %g, f(%g) = %g" lo f1 hi f2))

        testPropertyWithConfig config "the overall fraction weighs layers by their neurons" <|
            Prop.forAll (arb (Gen.two (matrix 10 20))) (fun (a, b) ->
                let dormantIn l = (Dormant.dormant 0.1 l |> ok) |> Array.filter id |> Array.length
                let expected = float (dormantIn a + dormantIn b) / float (a[0].Length + b[0].Length)
                Expect.floatClose Accuracy.veryHigh (Dormant.overall 0.1 [ a; b ] |> ok) expected "overall")

        testPropertyWithConfig config "singular values: their squares sum to the squared Frobenius norm" <|
            Prop.forAll (arb (matrix 12 12)) (fun phi ->
                let frobenius = phi |> Array.sumBy (Array.sumBy (fun x -> float x * float x))
                let s = EffectiveRank.singularValues phi |> ok
                Expect.isTrue (close 1e-8 (Array.sumBy (fun x -> x * x) s) frobenius) "sum of squares"
                Expect.isTrue (Array.pairwise s |> Array.forall (fun (x, y) -> x >= y)) "largest first")

        testPropertyWithConfig config "singular values do not change under transposition, permutation or sign flips" <|
            Prop.forAll (arb (matrix 10 10)) (fun phi ->
                let s = EffectiveRank.singularValues phi |> ok
                let transposed = Array.init phi[0].Length (fun j -> Array.init phi.Length (fun i -> phi[i][j]))
                let permuted = Array.rev phi |> Array.map (Array.rev >> Array.mapi (fun j x -> if j % 2 = 0 then -x else x))
                for other in [ transposed; permuted ] do
                    let t = EffectiveRank.singularValues other |> ok
                    let scale = 1.0 + Array.head s
                    Array.iter2 (fun (x: float) y -> Expect.isTrue (abs (x - y) <= 1e-7 * scale) (sprintf "%A vs %A" s t)) s (Array.truncate s.Length t))

        testPropertyWithConfig config "srank of k equal orthogonal directions is k; of an outer product, 1; of zeros, 0" <|
            Prop.forAll (arb (Gen.zip3 (Gen.choose (1, 10)) (Gen.choose (1, 10)) (Gen.choose (1, 50)))) (fun (n, d, c) ->
                let k = min n d
                let diagonal = Array.init n (fun i -> Array.init d (fun j -> if i = j then float32 c else 0.0f))
                Expect.equal (EffectiveRank.srank EffectiveRank.paperDelta diagonal |> ok) k "k directions"
                let outer = Array.init n (fun i -> Array.init d (fun j -> float32 ((i + 1) * (j % 3 + 1))))
                Expect.equal (EffectiveRank.srank EffectiveRank.paperDelta outer |> ok) 1 "rank one"
                Expect.equal (EffectiveRank.srank 0.01 (Array.init n (fun _ -> Array.zeroCreate d)) |> ok) 0 "zero matrix")

        testPropertyWithConfig config "srank lies in [1, min(n, d)] for a non-zero matrix and falls as delta grows" <|
            Prop.forAll (arb (matrix 12 12)) (fun phi ->
                if phi |> Array.exists (Array.exists (fun x -> x <> 0.0f)) then
                    let r1 = EffectiveRank.srank 0.01 phi |> ok
                    let r2 = EffectiveRank.srank 0.2 phi |> ok
                    Expect.isTrue (1 <= r2 && r2 <= r1 && r1 <= min phi.Length phi[0].Length) (sprintf "%d, %d" r1 r2))

        testPropertyWithConfig config "gradient cosines: symmetric, 1 on the diagonal, in [-1, 1], blind to positive scale" <|
            Prop.forAll (arb (Gen.zip (matrix 8 20) (Gen.choose (1, 100)))) (fun (g, k) ->
                let c = GradientInterference.cosines g |> ok
                for i in 0 .. g.Length - 1 do
                    let nonzero = g[i] |> Array.exists (fun x -> x <> 0.0f)
                    Expect.floatClose Accuracy.high (c[i][i]) (if nonzero then 1.0 else 0.0) "diagonal"
                    for j in 0 .. g.Length - 1 do
                        Expect.equal (c[i][j]) (c[j][i]) "symmetric"
                        Expect.isTrue (-1.0 <= c[i][j] && c[i][j] <= 1.0) "a cosine"
                let scaled = GradientInterference.cosines (g |> Array.mapi (fun i row -> row |> Array.map ((*) (float32 (k + i))))) |> ok
                Array.iter2 (Array.iter2 (fun (x: float) y -> Expect.isTrue (abs (x - y) <= 1e-6) "scale")) c scaled)

        testPropertyWithConfig config "opposite gradients have cosine -1; identical ones a mean pairwise cosine of 1" <|
            Prop.forAll (arb (Gen.arrayOfLength 10 value)) (fun g ->
                if g |> Array.exists (fun x -> x <> 0.0f) then
                    let c = GradientInterference.cosines [| g; Array.map (~-) g |] |> ok
                    Expect.floatClose Accuracy.high (c[0][1]) -1.0 "opposite"
                    Expect.floatClose Accuracy.high (GradientInterference.meanPairwise (GradientInterference.cosines [| g; g; g |] |> ok)) 1.0 "identical")

        testPropertyWithConfig config "the parameter norm scales with the parameters and splits over tensors" <|
            Prop.forAll (arb (Gen.zip (matrix 5 20) (Gen.choose (1, 10)))) (fun (ps, k) ->
                let norm = ParameterNorm.l2 ps
                Expect.floatClose Accuracy.high (ParameterNorm.l2 (ps |> Array.map (Array.map ((*) (float32 k))))) (float k * norm) "scale"
                Expect.floatClose Accuracy.high (ParameterNorm.l2 [ Array.concat ps ]) norm "one tensor or many")
    ]
