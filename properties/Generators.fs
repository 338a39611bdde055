/// Generators of the core's inputs: schedules, weights (with ties, zeros, NaN), networks' parameters;
/// and their arbitraries (module Arbs), whose shrinkers stay within what the generators produce, so a
/// failing property reports a minimal counterexample as well as the seed that replays the original.
module Prunerl.Properties.Generators

open System
open FsCheck
open FsCheck.FSharp
open Prunerl.Core
open Prunerl.Experiments

/// A sparsity in [0, 1): the paper's round values and arbitrary ones.
let sparsity: Gen<float> =
    Gen.oneof
        [ Gen.elements [ 0.0; 0.5; 0.8; 0.9; 0.95; 0.98; 0.99 ]
          Gen.choose (0, 999_999) |> Gen.map (fun k -> float k / 1e6) ]

/// Two sparsities, the first at most the second.
let orderedSparsities: Gen<float * float> =
    Gen.two sparsity |> Gen.map (fun (a, b) -> min a b, max a b)

let private ramp: Gen<Ramp> =
    Gen.oneof
        [ Gen.constant Cosine
          Gen.elements [ 1.0; 2.0; 3.0; 4.0 ] |> Gen.map Polynomial
          Gen.choose (1, 80) |> Gen.map (fun k -> Polynomial(float k / 10.0)) ]

/// A valid gradual schedule of either convention, with short spans so whole runs can be walked.
let gradual: Gen<GradualPruning> =
    gen {
        let! convention = Gen.elements [ ZhuGupta; JaxPruner ]
        let! final = sparsity
        let! initial =
            match convention with
            | JaxPruner -> Gen.constant 0.0
            | ZhuGupta -> Gen.oneof [ Gen.constant 0.0; Gen.choose (0, 100) |> Gen.map (fun k -> final * (float k / 100.0)) ]
        let! ramp = ramp
        let! start = Gen.choose (0, 3000)
        let! length = Gen.choose (1, 3000)
        let! period = Gen.oneof [ Gen.choose (1, 50); Gen.choose (1, 1200) ]
        return
            { Initial = initial
              Final = final
              Ramp = ramp
              Start = int64 start
              End = int64 (start + length)
              UpdatePeriod = int64 period
              Convention = convention }
    }

/// Any valid schedule.
let schedule: Gen<Schedule> =
    Gen.oneof
        [ sparsity |> Gen.map Constant
          Gen.zip sparsity (Gen.choose (0, 3000)) |> Gen.map (fun (s, t) -> OneShot(s, int64 t))
          gradual |> Gen.map Gradual ]

/// Weights as a network holds them: arbitrary values, many ties (a few distinct values), zeros,
/// and now and then a NaN or an infinity.
let weights: Gen<float32[]> =
    let arbitrary = Gen.choose (-100_000, 100_000) |> Gen.map (fun k -> float32 k / 1000.0f)
    let tied = Gen.elements [ 0.0f; -0.0f; 0.5f; -0.5f; 1.0f; -1.0f; 2.0f ]
    let special = Gen.elements [ nanf; infinityf; -infinityf; 0.0f ]
    let value = Gen.frequency [ 70, arbitrary; 25, tied; 5, special ]
    Gen.oneof [ Gen.choose (0, 8); Gen.choose (0, 400) ] |> Gen.bind (fun n -> Gen.arrayOfLength n value)

/// Weights with a mask of the same length.
let weightsWithMask: Gen<float32[] * bool[]> =
    gen {
        let! w = weights
        let! m = Gen.arrayOfLength w.Length (Gen.elements [ true; true; false ])
        return w, m
    }

/// Several layers of weights.
let layers: Gen<float32[][]> =
    Gen.choose (1, 5) |> Gen.bind (fun k -> Gen.arrayOfLength k weights)

/// A network's parameters: weights of 1 to 4 dimensions, biases and normalisation vectors, unique names.
let parameters: Gen<Parameter list> =
    let dims = Gen.choose (1, 4) |> Gen.bind (fun k -> Gen.arrayOfLength k (Gen.oneof [ Gen.choose (1, 6); Gen.choose (1, 300) ]))
    let weight = dims |> Gen.map (fun shape -> Weight, (if shape.Length = 1 then Array.append shape [| 2 |] else shape))
    let vector role = Gen.choose (1, 300) |> Gen.map (fun n -> role, [| n |])
    let parameter = Gen.frequency [ 6, weight; 2, vector Bias; 1, vector Normalization ]
    gen {
        let! count = Gen.choose (1, 8)
        let! ps = Gen.listOfLength count parameter
        return ps |> List.mapi (fun i (role, shape) -> { Name = sprintf "p%d" i; Shape = shape; Role = role })
    }

/// A scope over the given parameters: some rules, sometimes biases or norms pruned too.
let scopeFor (ps: Parameter list) : Gen<Scope> =
    gen {
        let! named = Gen.subListOf (ps |> List.map (fun p -> p.Name))
        let! rules = Gen.subListOf [ FirstWeight; LastWeight ]
        let! biases = Gen.elements [ false; false; true ]
        let! norms = Gen.elements [ false; false; true ]
        return
            { KeepDense = (named |> List.truncate 2 |> List.map Named) @ rules
              PruneBiases = biases
              PruneNormalization = norms }
    }

let distribution: Gen<Distribution> =
    Gen.oneof [ Gen.constant Uniform; Gen.elements [ 1.0; 0.5; 2.0 ] |> Gen.map Erk; Gen.choose (1, 200) |> Gen.map (fun k -> Erk(float k / 100.0)) ]

/// FsCheck arbitrary from a generator, without shrinking: for inputs that are already minimal (a small
/// integer, a choice among a few cases) or whose generator has no shrinker in Arbs below.
let arb (g: Gen<'a>) = Arb.fromGen g

/// Shrinkers that stay within what the generators above produce: each candidate is simpler (shorter,
/// nearer zero, fewer decimals) and is a value its generator could have drawn, so the counterexample a
/// failing property reports is one of its real inputs, reduced as far as it still fails.
module Shrink =
    /// FsCheck's own shrinker of a type (arrays drop and shrink elements; numbers move towards 0).
    let structural<'a> : 'a -> seq<'a> = ArbMap.defaults |> ArbMap.arbitrary<'a> |> Arb.toShrink

    /// Integers from lo towards x: lo first, then halfway, ..., x - 1 (all in [lo, x)).
    let towards (lo: int64) (x: int64) : seq<int64> =
        seq {
            if x > lo then yield lo
            let mutable d = (x - lo) / 2L
            while d > 0L do
                yield x - d
                d <- d / 2L
        }

    /// A sparsity: the round values 0, 0.5 and 0.9 below it, then itself with fewer decimals (in [0, 1)).
    let sparsity (s: float) : seq<float> =
        seq {
            for round in [ 0.0; 0.5; 0.9 ] do
                if round < s then yield round
            for digits in 1..5 do
                let r = Math.Round(s, digits)
                if r <> s && r < 1.0 && r > 0.0 && r <> 0.5 && r <> 0.9 then yield r
        }
        |> Seq.distinct

    /// Two ordered sparsities: each shrunk as a sparsity, kept only if still ordered.
    let orderedSparsities (lo: float, hi: float) : seq<float * float> =
        seq {
            for lo' in sparsity lo -> lo', hi
            for hi' in sparsity hi do
                if hi' >= lo then yield lo, hi'
        }

    /// A list of fixed length: one element at a time shrunk by the element's shrinker.
    let elementwise (shrink: 'a -> seq<'a>) (xs: 'a list) : seq<'a list> =
        seq {
            for i, x in List.indexed xs do
                for x' in shrink x -> List.updateAt i x' xs
        }

    /// Weights: fewer of them, each nearer 0 (NaN and infinities towards 0).
    let weights: float32[] -> seq<float32[]> = structural<float32[]>

    /// Weights and a mask of the same length: shrunk together, pair by pair, so the lengths stay equal.
    let weightsWithMask (w: float32[], m: bool[]) : seq<float32[] * bool[]> =
        Array.zip w m |> structural<(float32 * bool)[]> |> Seq.map Array.unzip

    /// Layers: fewer of them (at least one), each shrunk as weights.
    let layers (ls: float32[][]) : seq<float32[][]> =
        structural<float32[][]> ls |> Seq.filter (fun candidate -> candidate.Length >= 1)

    /// A gradual schedule: a linear ramp, a lower final (and initial) sparsity, an earlier start, a
    /// shorter span and a shorter period, each kept only if the schedule stays valid.
    let gradual (g: GradualPruning) : seq<GradualPruning> =
        seq {
            if g.Ramp <> Polynomial 1.0 then yield { g with Ramp = Polynomial 1.0 }
            if g.Initial <> 0.0 then yield { g with Initial = 0.0 }
            for f in sparsity g.Final do
                yield { g with Final = f; Initial = min g.Initial f }
            for start in towards 0L g.Start do
                yield { g with Start = start; End = g.End - g.Start + start }
            for finish in towards (g.Start + 1L) g.End do
                yield { g with End = finish }
            for period in towards 1L g.UpdatePeriod do
                yield { g with UpdatePeriod = period }
        }
        |> Seq.filter (fun candidate -> Schedule.validate (Gradual candidate) |> Result.isOk)

    /// A schedule: a gradual one becomes its final sparsity at once (one-shot at its start, constant),
    /// then shrinks as gradual; one-shot and constant shrink their sparsity and step.
    let schedule (s: Schedule) : seq<Schedule> =
        match s with
        | Constant v -> sparsity v |> Seq.map Constant
        | OneShot(v, at) ->
            seq {
                yield Constant v
                for v' in sparsity v -> OneShot(v', at)
                for at' in towards 0L at -> OneShot(v, at')
            }
        | Gradual g ->
            seq {
                yield Constant g.Final
                yield OneShot(g.Final, g.Start)
                for g' in gradual g -> Gradual g'
            }

    /// A network's parameters: fewer of them (at least one, renamed p0, p1, ... as generated), a weight
    /// with one dimension fewer (at least two), and dimensions nearer 1.
    let parameters (ps: Parameter list) : seq<Parameter list> =
        let renamed (candidate: Parameter list) = candidate |> List.mapi (fun i p -> { p with Name = sprintf "p%d" i })
        let withShape i shape = ps |> List.mapi (fun j p -> if j = i then { p with Shape = shape } else p)
        seq {
            if ps.Length > 1 then
                for i in 0 .. ps.Length - 1 -> renamed (List.removeAt i ps)
            for i, p in List.indexed ps do
                let least = if p.Role = Weight then 2 else 1
                if p.Shape.Length > least then yield withShape i p.Shape[.. p.Shape.Length - 2]
                for d in 0 .. p.Shape.Length - 1 do
                    for dim in towards 1L (int64 p.Shape[d]) -> withShape i (Array.updateAt d (int dim) p.Shape)
        }

    /// A distribution: uniform, then ERK's power towards 1.
    let distribution (d: Distribution) : seq<Distribution> =
        match d with
        | Uniform -> Seq.empty
        | Erk power -> seq { yield Uniform; if power <> 1.0 then yield Erk 1.0 }

/// The generators above with their shrinkers: pair them with Arbs.zip, or use Arb.fromGenShrink for a
/// generator built from them.
module Arbs =
    /// Two arbitraries as a pair, shrunk one side at a time. (FsCheck's Arb.zip shrinks both sides in
    /// step, so it stops as soon as either side is minimal.)
    let zip (a: Arbitrary<'a>, b: Arbitrary<'b>) : Arbitrary<'a * 'b> =
        let shrink (x, y) =
            seq {
                for x' in a.Shrinker x -> x', y
                for y' in b.Shrinker y -> x, y'
            }
        Arb.fromGenShrink (Gen.zip a.Generator b.Generator, shrink)

    let sparsity = Arb.fromGenShrink (sparsity, Shrink.sparsity)
    let orderedSparsities = Arb.fromGenShrink (orderedSparsities, Shrink.orderedSparsities)
    let weights = Arb.fromGenShrink (weights, Shrink.weights)
    let weightsWithMask = Arb.fromGenShrink (weightsWithMask, Shrink.weightsWithMask)
    let layers = Arb.fromGenShrink (layers, Shrink.layers)
    let gradual = Arb.fromGenShrink (gradual, Shrink.gradual)
    let schedule = Arb.fromGenShrink (schedule, Shrink.schedule)
    let parameters = Arb.fromGenShrink (parameters, Shrink.parameters)

/// Unwraps a result the property expects to be Ok, failing with its message otherwise.
let ok (r: Result<'a, string>) =
    match r with
    | Ok x -> x
    | Error e -> failwithf "expected Ok, got Error %s" e
