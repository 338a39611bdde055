/// `prunerl schedule` end to end: its CSV and JSON hold exactly what the core computes at every
/// update step, its PNG is a real image, and bad parameters are one-line errors.
module Prunerl.Tests.ScheduleCommandTests

open System
open System.Globalization
open System.IO
open System.Text.Json
open Expecto
open Prunerl.Core
open Prunerl.Experiments
open Prunerl.Tests.Processes
open Prunerl.Tests.CliTests

let private ok r =
    match r with
    | Ok x -> x
    | Error e -> failtestf "expected Ok, got Error %s" e

/// A fresh folder for one test's output files, deleted afterwards.
let private inScratch (f: string -> unit) =
    let folder = Path.Combine(Path.GetTempPath(), "prunerl-schedule-" + Guid.NewGuid().ToString("N"))
    Directory.CreateDirectory folder |> ignore
    try f folder finally Directory.Delete(folder, true)

let private weights (spec: (string * int[]) list) =
    spec |> List.map (fun (name, shape) -> { Name = name; Shape = shape; Role = Weight })

let private layerSpec (spec: (string * int[]) list) =
    spec |> List.map (fun (name, shape) -> name + ":" + String.Join(",", shape)) |> String.concat ";"

/// A layer's kept count in the core's plan, None for a pooled one.
let private kept (budget: LayerBudget) =
    match budget.Target with
    | Keep k -> Some k
    | Dense -> Some budget.Parameter.Size
    | Pooled -> None

/// Runs prunerl schedule with the arguments and checks both files against the core's plan, update step
/// by update step.
let private agreesWithCore (args: string list) (plan: Plan) =
    inScratch (fun folder ->
        let csvPath = Path.Combine(folder, "s.csv")
        let jsonPath = Path.Combine(folder, "s.json")
        let r = prunerl ([ "schedule" ] @ args @ [ "--csv"; csvPath; "--json"; jsonPath ])
        Expect.equal r.ExitCode 0 (describe r)
        let expected = Plan.updates plan |> Array.ofSeq
        Expect.isNonEmpty expected "the schedule has update steps"
        let names = plan.Prunable.Parameters |> Array.map (fun p -> p.Name)

        let rows = File.ReadAllLines csvPath
        let header = rows[0].Split(',')
        Expect.sequenceEqual header[.. 5] [| "step"; "sparsity"; "non_zero"; "total_size"; "prunable_kept"; "prunable_size" |] "CSV columns"
        Expect.sequenceEqual header[6..] (names |> Array.collect (fun n -> [| n + "_sparsity"; n + "_kept" |])) "a sparsity and a kept column per layer"
        Expect.equal (rows.Length - 1) expected.Length "a CSV row per update step"
        for row, e in Array.zip rows[1..] expected do
            let cells = row.Split(',')
            let number (i: int) = Double.Parse(cells[i], CultureInfo.InvariantCulture)
            Expect.equal (int64 cells[0]) e.Step "step"
            Expect.equal (number 1) (Schedule.sparsityAt plan.Schedule e.Step) (sprintf "sparsity at %d" e.Step)
            Expect.equal (int64 cells[2]) e.NonZero (sprintf "non-zero at %d" e.Step)
            Expect.equal (int64 cells[4]) e.PrunableKept (sprintf "prunable kept at %d" e.Step)
            for i, layer in Array.indexed e.Layers do
                match kept layer, layer.Sparsity with
                | Some k, Some s ->
                    Expect.equal (int64 cells[7 + 2 * i]) k (sprintf "%s kept at %d" names[i] e.Step)
                    Expect.equal (number (6 + 2 * i)) s (sprintf "%s sparsity at %d" names[i] e.Step)
                | _ -> Expect.equal (cells[6 + 2 * i], cells[7 + 2 * i]) ("", "") "a pooled layer has no target of its own"

        use json = JsonDocument.Parse(File.ReadAllText jsonPath)
        let updates = json.RootElement.GetProperty("updates").EnumerateArray() |> Array.ofSeq
        Expect.equal updates.Length expected.Length "a JSON entry per update step"
        for u, e in Array.zip updates expected do
            Expect.equal (u.GetProperty("step").GetInt64()) e.Step "step"
            Expect.equal (u.GetProperty("sparsity").GetDouble()) e.Sparsity (sprintf "sparsity at %d" e.Step)
            Expect.equal (u.GetProperty("nonZero").GetInt64()) e.NonZero (sprintf "non-zero at %d" e.Step)
            let layers = u.GetProperty("layers").EnumerateArray() |> Array.ofSeq
            for l, budget in Array.zip layers e.Layers do
                Expect.equal (l.GetProperty("name").GetString()) budget.Parameter.Name "layer order"
                let keptJson = l.GetProperty "kept"
                match kept budget with
                | Some k -> Expect.equal (keptJson.GetInt64()) k (sprintf "%s kept at %d" budget.Parameter.Name e.Step)
                | None -> Expect.equal keptJson.ValueKind JsonValueKind.Null "a pooled layer has no count of its own"
        Expect.isEmpty (Directory.GetFiles(folder, "*.tmp")) "no temporary file left behind")

let private net = [ "conv", [| 16; 4; 3; 3 |]; "hidden", [| 256; 576 |]; "out", [| 6; 256 |] ]

[<Tests>]
let tests =
    testList "prunerl schedule" [
        test "the paper's schedule with ERK targets: CSV and JSON equal the core's plan at every update" {
            let spec = { Schedule.paperSpec 0.95 with PruneEvery = 250L }
            let plan =
                Plan.create (Schedule.gradual 50_000L spec |> ok) (LayerWise(Erk 1.0)) Sparsity.paperScope (weights net) |> ok
            agreesWithCore [ "--sparsity"; "0.95"; "--total-steps"; "50k"; "--prune-every"; "250"; "--distribution"; "erk"; "--layers"; layerSpec net ] plan
        }

        test "a cosine JaxPruner schedule in absolute steps, uniform, one layer kept dense" {
            let spec =
                { InitialSparsity = 0.0; FinalSparsity = 0.8; Shape = Cosine; PruneStart = StepPoint.Absolute 1000L
                  PruneEnd = StepPoint.Absolute 7000L; PruneEvery = 300L; Counting = JaxPruner }
            let scope = { Sparsity.paperScope with KeepDense = [ Named "out" ] }
            let plan = Plan.create (Schedule.gradual 10_000L spec |> ok) (LayerWise Uniform) scope (weights net) |> ok
            agreesWithCore
                [ "--sparsity"; "0.8"; "--ramp"; "cosine"; "--convention"; "jaxpruner"; "--prune-start"; "1000"; "--prune-end"; "7000"
                  "--prune-every"; "300"; "--total-steps"; "10000"; "--keep-dense"; "out"; "--layers"; layerSpec net ]
                plan
        }

        test "a linear ramp from an initial sparsity, layers from a file; a one-shot global schedule; a constant one" {
            let linear =
                { Schedule.paperSpec 0.7 with InitialSparsity = 0.3; Shape = Polynomial 1.0; PruneStart = StepPoint.Fraction 0.1; PruneEnd = StepPoint.Fraction 0.5 }
            inScratch (fun folder ->
                let file = Path.Combine(folder, "layers.txt")
                File.WriteAllText(file, "# a small network\nconv: 16,4,3,3\nhidden: 256,576   # the big one\nout: 6,256\n")
                agreesWithCore
                    [ "--sparsity"; "0.7"; "--initial-sparsity"; "0.3"; "--ramp"; "linear"; "--prune-start"; "0.1"; "--prune-end"; "0.5"
                      "--total-steps"; "20000"; "--layers-file"; file ]
                    (Plan.create (Schedule.gradual 20_000L linear |> ok) (LayerWise Uniform) Sparsity.paperScope (weights net) |> ok))
            agreesWithCore
                [ "--kind"; "one-shot"; "--sparsity"; "0.6"; "--prune-start"; "0.5"; "--total-steps"; "1000"; "--global"; "--layers"; layerSpec net ]
                (Plan.create (Schedule.oneShot 0.6 500L |> ok) Global Sparsity.paperScope (weights net) |> ok)
            agreesWithCore
                [ "--kind"; "constant"; "--sparsity"; "0.5"; "--layers"; layerSpec net ]
                (Plan.create (Schedule.constant 0.5 |> ok) (LayerWise Uniform) Sparsity.paperScope (weights net) |> ok)
        }

        test "--png writes a PNG image of the schedule" {
            inScratch (fun folder ->
                let path = Path.Combine(folder, "schedule.png")
                let r = prunerl [ "schedule"; "--total-steps"; "100000"; "--png"; path ]
                Expect.equal r.ExitCode 0 (describe r)
                let bytes = File.ReadAllBytes path
                Expect.isGreaterThan bytes.Length 1000 "a picture, not an empty file"
                Expect.sequenceEqual bytes[.. 7] [| 0x89uy; 0x50uy; 0x4Euy; 0x47uy; 0x0Duy; 0x0Auy; 0x1Auy; 0x0Auy |] "the PNG signature"
                Expect.equal (Text.Encoding.ASCII.GetString(bytes, 12, 4)) "IHDR" "the PNG header chunk first"
                let bigEndian (offset: int) = (int bytes[offset] <<< 24) ||| (int bytes[offset + 1] <<< 16) ||| (int bytes[offset + 2] <<< 8) ||| int bytes[offset + 3]
                Expect.equal (bigEndian 16, bigEndian 20) (1800, 1080) "900 x 540 layout units at print resolution, 2 pixels each")
        }

        test "--method set and rigl: the drop fraction at every rewiring step as the core computes it; the pruning schedule's flags refused" {
            inScratch (fun folder ->
                let path = Path.Combine(folder, "drop.csv")
                let r = prunerl [ "schedule"; "--method"; "set"; "--total-steps"; "10000"; "--rewire-every"; "1000"; "--drop-fraction"; "0.5"; "--csv"; path ]
                Expect.equal r.ExitCode 0 (describe r)
                Expect.stringContains r.Output "SET: drop fraction 0.5 at step 0, cosine to 0 at step 8000; a rewiring every 1000 steps from step 1 to 8000 (8 rewirings)" "the description"
                let rows = File.ReadAllLines path
                Expect.equal rows[0] "step,drop_fraction" "the header"
                // 0.5 (1 + cos(pi t / 8000)) / 2 at t = 1000, ..., 8000 (JaxPruner's cosine decay to 0 at 80% of training).
                let expected = [ for t in 1000 .. 1000 .. 8000 -> t, 0.5 * (1.0 + cos (Math.PI * float t / 8000.0)) / 2.0 ]
                let actual = [ for row in rows[1..] -> let cells = row.Split(',') in int cells[0], Double.Parse(cells[1], CultureInfo.InvariantCulture) ]
                Expect.equal (List.map fst actual) (List.map fst expected) "every rewiring step"
                for (t, a), (_, e) in List.zip actual expected do Expect.floatClose Accuracy.veryHigh a e (sprintf "the drop fraction at %d" t)
                prunerl [ "schedule"; "--method"; "rigl"; "--prune-start"; "0.3" ] |> expectOneLineError "--prune-start applies to the pruning schedule (method gmp), not method rigl's drop schedule"
                prunerl [ "schedule"; "--rewire-every"; "10" ] |> expectOneLineError "--rewire-every applies to --method set or rigl only"
                prunerl [ "schedule"; "--method"; "lottery" ] |> expectOneLineError "method lottery has no schedule")
        }

        test "bad parameters are one-line errors naming the field, with exit code 2, and leave files alone" {
            inScratch (fun folder ->
                let csv = Path.Combine(folder, "keep.csv")
                File.WriteAllText(csv, "old")
                prunerl [ "schedule"; "--sparsity"; "1.5"; "--csv"; csv ] |> expectOneLineError "sparsity must be in [0, 1), got 1.5"
                Expect.equal (File.ReadAllText csv) "old" "an earlier output stays as it was"
                prunerl [ "schedule"; "--prune-start"; "soon" ] |> expectOneLineError "prune_start must be a step (500000) or a fraction with a decimal point (0.2), got 'soon'"
                prunerl [ "schedule"; "--layers"; "a:3,x" ] |> expectOneLineError "layers: 'a:3,x' must be name:d1,d2,..."
                prunerl [ "schedule"; "--keep-dense"; "nope" ] |> expectOneLineError "keep_dense names no parameter: 'nope'"
                prunerl [ "schedule"; "--kind"; "constant"; "--prune-every"; "10" ] |> expectOneLineError "--prune-every applies to the gradual schedule only"
                prunerl [ "schedule"; "--kind"; "sometimes" ] |> expectOneLineError "--kind"
                prunerl [ "schedule"; "--png"; Path.Combine(folder, "missing", "s.png") ] |> expectOneLineError "the folder"
                Expect.sequenceEqual (Directory.GetFiles folder) [| csv |] "no temporary file left behind")
        }
    ]
