/// Generators of the core's inputs: schedules, weights (with ties, zeros, NaN), networks' parameters.
module Prunerl.Properties.Generators

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

/// FsCheck arbitrary from a generator (no shrinking: a failure prints the seed to replay).
let arb (g: Gen<'a>) = Arb.fromGen g

/// Unwraps a result the property expects to be Ok, failing with its message otherwise.
let ok (r: Result<'a, string>) =
    match r with
    | Ok x -> x
    | Error e -> failwithf "expected Ok, got Error %s" e
