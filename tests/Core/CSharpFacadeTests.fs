/// The C# facade (Prunerl.Core.CSharp): the same answers as the F# modules, and the core's errors as
/// .NET argument exceptions that name the parameter.
module Prunerl.Tests.CSharpFacadeTests

open System
open Expecto
open Prunerl.Core
open Prunerl.Experiments
open Prunerl.Core.CSharp

let private ok r =
    match r with
    | Ok x -> x
    | Error e -> failtestf "expected Ok, got Error %s" e

/// The call throws exactly 'E, whose message starts with the core's message and names the parameter.
let private throws<'E when 'E :> ArgumentException> (parameter: string) (message: string) (call: unit -> obj) =
    try
        call () |> ignore
        failtestf "expected %s for %s" typeof<'E>.Name parameter
    with
    | :? ArgumentException as e ->
        Expect.equal (e.GetType()) typeof<'E> "the exception type"
        Expect.equal e.ParamName parameter "the parameter"
        Expect.stringStarts e.Message message "the core's one-line message"

[<Tests>]
let tests =
    testList "C# facade" [
        test "PruningSchedule agrees with Schedule at every update step and in between" {
            let facade = PruningSchedule.Gradual(0.8, 10_000L, pruneEvery = 500L, ramp = RampShape.Cosine, convention = StepConvention.JaxPruner)
            let core =
                Schedule.gradual 10_000L { Schedule.paperSpec 0.8 with PruneEvery = 500L; Shape = Cosine; Counting = JaxPruner } |> ok
            Expect.equal facade.Schedule core "the same schedule underneath"
            Expect.sequenceEqual facade.UpdateSteps (Schedule.updateSteps core) "update steps"
            for t in 0L .. 250L .. 10_000L do
                Expect.equal (facade.SparsityAt t) (Schedule.sparsityAt core t) (sprintf "sparsity at %d" t)
                Expect.equal (facade.IsUpdateStep t) (Schedule.isUpdateStep core t) (sprintf "update at %d" t)
            Expect.equal facade.FinalSparsity (Schedule.finalSparsity core) "final sparsity"
            let paper = PruningSchedule.Paper(0.9, 2_500_000L)
            Expect.equal paper.Schedule (Schedule.gradual 2_500_000L (Schedule.paperSpec 0.9) |> ok) "the paper's defaults"
            let between = PruningSchedule.GradualBetweenSteps(0.5, 100L, 300L, pruneEvery = 100L)
            Expect.sequenceEqual between.UpdateSteps [ 100L; 200L; 300L ] "absolute steps"
        }

        test "SparsityDistribution and MagnitudeMask agree with the F# modules" {
            let shapes = [| [| 64; 3; 3; 3 |]; [| 128; 64 |]; [| 10; 128 |] |]
            let erk = SparsityDistribution.Erk(0.9, shapes)
            let parameters = shapes |> Array.mapi (fun i s -> { Name = sprintf "layer%d" i; Shape = s; Role = Weight })
            let core = Sparsity.allocate (LayerWise(Erk 1.0)) (Sparsity.select Sparsity.paperScope parameters |> ok) 0.9 |> ok
            Expect.sequenceEqual (erk |> Array.map (fun l -> l.Kept)) (core |> Array.map (fun b -> match b.Target with Keep k -> k | _ -> -1L)) "ERK counts"
            Expect.equal (erk |> Array.sumBy (fun l -> l.Kept)) 1120L "exactly 10% of the 1728 + 8192 + 1280 entries kept"
            let weights = [| 0.5f; -2.0f; 0.1f; 3.0f; -0.2f |]
            Expect.sequenceEqual (MagnitudeMask.Layerwise(weights, 0.6)) (Mask.layerwise 0.6 weights |> ok) "layer-wise mask"
            Expect.sequenceEqual (MagnitudeMask.Layerwise(weights, 0.6)) [| false; true; false; true; false |] "the two largest"
        }

        test "bad arguments are ArgumentOutOfRangeException or ArgumentException naming the parameter" {
            throws<ArgumentOutOfRangeException> "sparsity" "sparsity must be in [0, 1), got 1.5" (fun () -> PruningSchedule.Paper(1.5, 1000L))
            throws<ArgumentOutOfRangeException> "totalSteps" "total_steps must be >= 1, got 0" (fun () -> PruningSchedule.Paper(0.5, 0L))
            throws<ArgumentOutOfRangeException> "pruneEnd" "prune_end must be > prune_start" (fun () -> PruningSchedule.Gradual(0.5, 1000L, pruneStart = 0.6, pruneEnd = 0.4))
            throws<ArgumentOutOfRangeException> "pruneEvery" "prune_every must be >= 1" (fun () -> PruningSchedule.GradualBetweenSteps(0.5, 0L, 10L, pruneEvery = 0L))
            throws<ArgumentOutOfRangeException> "erkPower" "erk_power must be in (0, 2]" (fun () -> SparsityDistribution.Erk(0.5, [| [| 2; 2 |] |], erkPower = 3.0))
            throws<ArgumentException> "layers" "parameters: the name 'a' is used twice" (fun () -> SparsityDistribution.Uniform(0.5, [ LayerShape("a", 2); LayerShape("a", 3) ]))
            throws<ArgumentException> "previous" "mask has 2 entries but the weights have 3" (fun () -> MagnitudeMask.Update([| true; true |], [| 1.0f; 2.0f; 3.0f |], 0.5))
            throws<ArgumentNullException> "weights" "Value cannot be null" (fun () -> MagnitudeMask.Layerwise(null, 0.5))
        }
    ]
