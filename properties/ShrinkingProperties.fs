/// The generators' shrinkers at work: a property that fails on purpose, checked through FsCheck's own
/// runner, reports the smallest input that still fails, not the random one it first found.
module Prunerl.Properties.ShrinkingProperties

open Expecto
open FsCheck
open FsCheck.FSharp
open Prunerl.Core
open Prunerl.Properties.Generators

/// Checks the property with FsCheck's defaults and returns the arguments it reports: the shrunk
/// counterexample of a failure (None if the property held).
let private counterexample (property: Property) : obj list option =
    let finished = ref None
    let runner =
        { new IRunner with
            member _.OnStartFixture _ = ()
            member _.OnArguments(_, _, _) = ()
            member _.OnShrink(_, _) = ()
            member _.OnFinished(_, result) = finished.Value <- Some result }
    Check.One(Config.Quick.WithRunner runner, property)
    match finished.Value with
    | Some(TestResult.Failed(_, _, shrunk, _, _, _, _)) -> Some shrunk
    | _ -> None

[<Tests>]
let tests =
    testList "Shrinking properties" [
        test "a failing property reports the minimal counterexample: weights, sparsities, schedules and networks shrink" {
            // Fails for 3 or more weights at a sparsity of 0.5 or more: the least such input is three
            // zeros at 0.5, whatever weights and sparsity the failure was first found with.
            let atLeastThree = Prop.forAll (Arbs.zip (Arbs.sparsity, Arbs.weights)) (fun (s, w) -> s < 0.5 || w.Length < 3)
            Expect.equal (counterexample atLeastThree) (Some [ box (0.5, [| 0.0f; 0.0f; 0.0f |]) ]) "three zeros at 0.5"
            // Fails for a span of 100 steps or more: the least such schedule is linear, from 0 to 0, over
            // steps 0 to 100, with masks updated every step (the convention is not shrunk).
            let shortSpan = Prop.forAll Arbs.gradual (fun g -> g.End - g.Start < 100L)
            match counterexample shortSpan with
            | Some [ :? GradualPruning as g ] ->
                Expect.equal
                    g
                    { Initial = 0.0; Final = 0.0; Ramp = Polynomial 1.0; Start = 0L; End = 100L; UpdatePeriod = 1L; Convention = g.Convention }
                    "the least schedule spanning 100 steps"
            | other -> failtestf "expected one shrunk schedule, got %A" other
            // Fails for a constant sparsity of 0.5 or more: a gradual or one-shot schedule that fails
            // becomes the constant it ends at, and that constant shrinks to 0.5.
            let lowConstant = Prop.forAll Arbs.schedule (fun s -> match s with Constant v -> v < 0.5 | _ -> Schedule.finalSparsity s < 0.5)
            Expect.equal (counterexample lowConstant) (Some [ box (Constant 0.5) ]) "a constant 0.5"
            // Fails for two parameters or more: the least such network is two parameters, each with its
            // fewest dimensions (two for a weight, one for a vector), each dimension 1, named as generated.
            let oneParameter = Prop.forAll Arbs.parameters (fun ps -> ps.Length < 2)
            match counterexample oneParameter with
            | Some [ :? (Parameter list) as ps ] ->
                Expect.equal (ps |> List.map (fun p -> p.Name)) [ "p0"; "p1" ] "two parameters, p0 and p1"
                for p in ps do
                    Expect.equal p.Shape (if p.Role = Weight then [| 1; 1 |] else [| 1 |]) "the fewest dimensions, each 1"
            | other -> failtestf "expected one shrunk network, got %A" other
        }
    ]
