/// Properties of rliable's aggregates: order invariance, bounds, the bootstrap interval's behaviour,
/// performance profiles and the probability of improvement.
module Prunerl.Properties.AggregateProperties

open Expecto
open FsCheck
open FsCheck.FSharp
open Prunerl.Core
open Prunerl.Experiments
open Prunerl.Experiments.Metrics
open Prunerl.Properties.Generators

let private config = { FsCheckConfig.defaultConfig with maxTest = 150 }

/// Normalised scores of 1-6 tasks with 1-8 runs each, with ties.
let private scores: Gen<Scores> =
    let score = Gen.oneof [ Gen.choose (-500, 2500) |> Gen.map (fun k -> float k / 1000.0); Gen.elements [ 0.0; 1.0 ] ]
    Gen.choose (1, 6) |> Gen.bind (fun tasks -> Gen.arrayOfLength tasks (Gen.choose (1, 8) |> Gen.bind (fun runs -> Gen.arrayOfLength runs score)))

/// The same scores with runs and tasks in another order.
let private shuffled (s: Scores) = s |> Array.rev |> Array.map (fun runs -> Array.append runs[1..] runs[..0])

let private aggregates = [ "IQM", Aggregate.iqm; "mean", Aggregate.mean; "median", Aggregate.median; "optimality gap", Aggregate.optimalityGap 1.0 ]

[<Tests>]
let tests =
    testList "Aggregate properties" [
        testPropertyWithConfig config "aggregates do not depend on the order of runs or tasks" <|
            Prop.forAll (arb scores) (fun s ->
                for name, aggregate in aggregates do
                    Expect.floatClose Accuracy.veryHigh (aggregate (shuffled s)) (aggregate s) name)

        testPropertyWithConfig config "IQM, mean and median lie within the scores; a constant is its own aggregate" <|
            Prop.forAll (arb (Gen.zip scores (Gen.choose (-100, 100)))) (fun (s, k) ->
                let all = Array.concat s
                for name, aggregate in aggregates |> List.take 3 do
                    let v = aggregate s
                    Expect.isTrue (Array.min all - 1e-12 <= v && v <= Array.max all + 1e-12) name
                    let c = float k / 10.0
                    Expect.floatClose Accuracy.veryHigh (aggregate (s |> Array.map (Array.map (fun _ -> c)))) c (name + " of a constant"))

        testPropertyWithConfig config "the optimality gap is 0 at or above gamma and 1 - mean below it" <|
            Prop.forAll (arb scores) (fun s ->
                Expect.floatClose Accuracy.veryHigh (Aggregate.optimalityGap 1.0 (s |> Array.map (Array.map (fun x -> 1.0 + abs x)))) 0.0 "above"
                let below = s |> Array.map (Array.map (fun x -> min x 1.0))
                Expect.floatClose Accuracy.veryHigh (Aggregate.optimalityGap 1.0 below) (1.0 - Array.average (Array.concat below)) "below")

        testPropertyWithConfig config "bootstrap intervals are ordered, contain the estimate, and repeat with the seed" <|
            Prop.forAll (arb (Gen.zip scores (Gen.choose (0, 1000)))) (fun (s, seed) ->
                for name, aggregate in aggregates |> List.take 2 do
                    let i = Bootstrap.interval aggregate 0.95 1000 (uint64 seed) s |> ok
                    Expect.isTrue (i.Lower <= i.Estimate + 1e-12 && i.Estimate <= i.Upper + 1e-12) (sprintf "%s: %A" name i)
                    Expect.equal (Bootstrap.interval aggregate 0.95 1000 (uint64 seed) s |> ok) i "same seed, same interval")

        testPropertyWithConfig config "bootstrap intervals shrink with more runs of the same distribution" <|
            Prop.forAll (arb (Gen.zip scores (Gen.choose (0, 1000)))) (fun (s, seed) ->
                let width (x: Scores) = (Bootstrap.interval Aggregate.mean 0.95 2000 (uint64 seed) x |> ok) |> fun i -> i.Upper - i.Lower
                let w = width s
                // Sixteen times the runs: the width should fall about four times; ask for half.
                if w > 1e-9 then Expect.isTrue (width (s |> Array.map (fun runs -> Array.replicate 16 runs |> Array.concat)) < 0.5 * w) "narrower")

        testPropertyWithConfig config "the IQM is the mean of the middle half: k scores below and k above a known middle of 2k to 2k + 3" <|
            Prop.forAll (arb (Gen.zip (Gen.choose (0, 6)) (Gen.choose (0, 3)) |> Gen.bind (fun (k, extra) ->
                Gen.zip3 (Gen.arrayOfLength (2 * k + extra + 1) (Gen.choose (-1000, 1000))) (Gen.arrayOfLength k (Gen.choose (1, 500))) (Gen.arrayOfLength k (Gen.choose (1, 500)))
                |> Gen.map (fun (middle, below, above) -> middle, below, above, k)))) (fun (middle, below, above, k) ->
                // n = 2k + m scores with 2k < m <= 2k + 3 (never empty): scipy's trim cuts floor(n / 4) = k from each end.
                let middle = if middle.Length > 2 * k + 3 then middle[.. 2 * k + 2] else middle
                let middle = middle |> Array.map float
                let lo, hi = Array.min middle, Array.max middle
                let all = Array.concat [ below |> Array.map (fun d -> lo - float d); middle; above |> Array.map (fun d -> hi + float d) ]
                // Spread over tasks in a scrambled order: the IQM pools every run of every task.
                let tasks = all |> Array.rev |> Array.chunkBySize 3
                Expect.floatClose Accuracy.veryHigh (Aggregate.iqm tasks) (Array.average middle) "mean of the known middle")

        testPropertyWithConfig config "vector intervals are the scalar intervals of each component from the same resamples" <|
            Prop.forAll (arb (Gen.zip scores (Gen.choose (0, 1000)))) (fun (s, seed) ->
                let vector = Bootstrap.intervals (fun x -> aggregates |> List.map (fun (_, a) -> a x) |> Array.ofList) 0.95 300 (uint64 seed) s |> ok
                aggregates |> List.iteri (fun j (name, aggregate) ->
                    Expect.equal vector[j] (Bootstrap.interval aggregate 0.95 300 (uint64 seed) s |> ok) name))

        testPropertyWithConfig config "the probability of improvement's interval holds its estimate within [0, 1] and repeats with the seed" <|
            Prop.forAll (arb (Gen.zip (Gen.two scores) (Gen.choose (0, 1000)))) (fun ((x, y), seed) ->
                let y = Array.init x.Length (fun t -> y[t % y.Length])
                let i = Profile.probabilityOfImprovementInterval 0.95 500 (uint64 seed) x y |> ok
                Expect.equal i.Estimate (Profile.probabilityOfImprovement x y |> ok) "the estimate is P(X > Y)"
                Expect.isTrue (0.0 <= i.Lower && i.Lower <= i.Upper && i.Upper <= 1.0) (sprintf "ordered within [0, 1]: %A" i)
                Expect.equal (Profile.probabilityOfImprovementInterval 0.95 500 (uint64 seed) x y |> ok) i "same seed, same interval")

        test "bootstrap intervals narrow as runs drawn from one distribution grow (fixed seeds, averaged over 20 draws)" {
            // Scores of 3 tasks with n runs each, drawn uniform in [task, task + 1) from a seeded stream.
            let draw (n: int) (seed: uint64) : Scores =
                let mutable rng = Rng.create seed
                Array.init 3 (fun task ->
                    Array.init n (fun _ ->
                        let v, next = Rng.next rng
                        rng <- next
                        float task + float (v >>> 11) / float (1UL <<< 53)))
            for name, aggregate in aggregates do
                let meanWidth (n: int) =
                    [ for seed in 1UL .. 20UL ->
                        let i = Bootstrap.interval aggregate 0.95 400 seed (draw n (1000UL * seed)) |> ok
                        i.Upper - i.Lower ]
                    |> List.average
                let widths = [ 5; 20; 80 ] |> List.map meanWidth
                // The width falls as 1 / sqrt(n): each fourfold step should about halve it; ask for 0.7.
                widths |> List.pairwise |> List.iter (fun (a, b) -> Expect.isLessThan b (0.7 * a) (sprintf "%s: widths %A" name widths))
        }

        testPropertyWithConfig config "P(X > Y) + P(Y > X) = 1, P(X > X) = 1/2, and X above Y everywhere gives 1" <|
            Prop.forAll (arb (Gen.two scores)) (fun (x, y) ->
                let y = Array.init x.Length (fun t -> y[t % y.Length])
                let pxy = Profile.probabilityOfImprovement x y |> ok
                let pyx = Profile.probabilityOfImprovement y x |> ok
                Expect.floatClose Accuracy.veryHigh (pxy + pyx) 1.0 "complementary"
                Expect.floatClose Accuracy.veryHigh (Profile.probabilityOfImprovement x x |> ok) 0.5 "against itself"
                let above = x |> Array.map (Array.map (fun v -> v + 10.0))
                Expect.equal (Profile.probabilityOfImprovement above (x |> Array.map (Array.map (fun v -> v - 10.0))) |> ok) 1.0 "dominates")

        testPropertyWithConfig config "the run-score distribution falls from 1 below every score to 0 at the top" <|
            Prop.forAll (arb scores) (fun s ->
                let all = Array.concat s
                let thresholds = Array.append [| Array.min all - 1.0 |] (Array.sort all)
                let profile = Profile.runScoreDistribution thresholds s
                Expect.equal profile[0] 1.0 "below every score"
                Expect.equal (Array.last profile) 0.0 "nothing above the maximum"
                Expect.isTrue (profile |> Array.pairwise |> Array.forall (fun (a, b) -> b <= a)) "non-increasing")

        testPropertyWithConfig config "stratified resamples keep each task's run count and draw only its runs" <|
            Prop.forAll (arb (Gen.zip scores (Gen.choose (0, 1000)))) (fun (s, seed) ->
                let sample, _ = Bootstrap.resample s (Rng.create (uint64 seed))
                Expect.equal (sample |> Array.map Array.length) (s |> Array.map Array.length) "run counts"
                Array.iter2 (fun (drawn: float[]) (runs: float[]) -> Expect.isTrue (drawn |> Array.forall (fun v -> Array.contains v runs)) "from its own task") sample s)
    ]
