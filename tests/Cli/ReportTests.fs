/// `prunerl report` and `prunerl analyze` end to end: results folders written by hand in the results
/// layout, whose tables are checked against numbers computed here; bad input as one-line errors that
/// write nothing; the built-in normalisation's random scores re-measured; and train -> report.
module Prunerl.Tests.ReportTests

open System
open System.Globalization
open System.IO
open System.Text.Json
open Expecto
open Prunerl.Core
open Prunerl.Experiments
open Prunerl.Experiments.Metrics
open Prunerl.Agents.Envs
open Prunerl.Tests.Processes
open Prunerl.Tests.CliTests
open Prunerl.Agents.Runtime

/// A run to write in the results layout.
type private FixtureRun =
    { Path: string
      Agent: string
      Env: string
      Sparsity: float
      Width: float
      Baseline: string
      Seed: int
      State: string
      /// eval/return at steps 500, 950 and 1000 of 1000.
      Evaluations: float list
      /// analysis/<name> at steps 500 and 1000.
      Analysis: (string * float list) list }

let private invariant (x: float) = x.ToString("R", CultureInfo.InvariantCulture)

let private evaluationSteps = [ 500L; 950L; 1000L ]

let private writeRun (root: string) (r: FixtureRun) =
    let folder = Path.Combine(root, r.Path)
    Directory.CreateDirectory folder |> ignore
    let config =
        {| format = "prunerl-run/1"; agent = r.Agent; env = r.Env; network = "mlp"; width = r.Width; sparsity = r.Sparsity
           schedule = "polynomial"; prune_start = 0.2; prune_end = 0.8; prune_every = 1000; distribution = "erk"; baseline = r.Baseline
           steps = 1000; replay_ratio = 0.25; seed = r.Seed; device = "cpu"; eval_every = 500; eval_episodes = 5 |}
    File.WriteAllText(Path.Combine(folder, "config.json"), JsonSerializer.Serialize config)
    File.WriteAllText(Path.Combine(folder, "status.json"), sprintf """{"state":"%s","step":1000,"total_steps":1000,"error":null,"updated":"2025-01-01T00:00:00Z"}""" r.State)
    let lines =
        [ yield "step,metric,value"
          for step, value in List.zip evaluationSteps r.Evaluations do
              yield sprintf "%d,eval/return,%s" step (invariant value)
              yield sprintf "%d,eval/sparsity,%s" step (invariant (if step >= 950L then r.Sparsity else r.Sparsity / 2.0))
              yield sprintf "%d,train/loss,0.5" step
          for name, values in r.Analysis do
              for step, value in List.zip [ 500L; 1000L ] values do
                  yield sprintf "%d,analysis/%s,%s" step name (invariant value) ]
    // A running run may be caught halfway through a line.
    let cut = if r.State = "running" then "1000,eval/ret" else ""
    File.WriteAllText(Path.Combine(folder, "metrics.csv"), String.Join("\n", lines) + "\n" + cut)

/// A run whose score over the last 10% (the evaluations at 950 and 1000) is `score`, with its last
/// evaluation 5 above it and the one at 500 far below.
let private scoring (path: string) env kind width seed (score: float) =
    let sparsity, baseline = match kind with "pruned" -> 0.9, "none" | "redo" -> 0.0, "redo" | _ -> 0.0, "none"
    { Path = path; Agent = "dqn"; Env = env; Sparsity = sparsity; Width = width; Baseline = baseline; Seed = seed; State = "finished"
      Evaluations = [ score - 100.0; score - 5.0; score + 5.0 ]; Analysis = [] }

/// The fixture: cartpole and acrobot, dense and pruned at widths 1 and 2, one ReDo run, at depths 2 to
/// 4, plus a running and a failed run. Normalised (with scores.csv below) = the number after the raw score.
let private fixture =
    [ scoring "cartpole/dense-w1/seed1" "cartpole" "dense" 1.0 1 25.0 // 0.25
      scoring "cartpole/dense-w1/seed2" "cartpole" "dense" 1.0 2 40.0 // 0.40
      scoring "cartpole/dense-w1/seed3" "cartpole" "dense" 1.0 3 10.0 // 0.10
      scoring "cartpole/dense-w1/seed4" "cartpole" "dense" 1.0 4 55.0 // 0.55
      scoring "acrobot/dense-w1/seed1" "acrobot" "dense" 1.0 1 -350.0 // 0.30
      scoring "acrobot/dense-w1/seed2" "acrobot" "dense" 1.0 2 -250.0 // 0.50
      scoring "cartpole/pruned-w1/seed1" "cartpole" "pruned" 1.0 1 60.0 // 0.60
      scoring "cartpole/pruned-w1/seed2" "cartpole" "pruned" 1.0 2 45.0 // 0.45
      scoring "cartpole/pruned-w1/nested/seed3" "cartpole" "pruned" 1.0 3 90.0 // 0.90
      scoring "acrobot/pruned-w1/seed1" "acrobot" "pruned" 1.0 1 -150.0 // 0.70
      scoring "acrobot/pruned-w1/seed2" "acrobot" "pruned" 1.0 2 -400.0 // 0.20
      scoring "cartpole/redo-w1/seed1" "cartpole" "redo" 1.0 1 35.0 // 0.35
      scoring "w2/cartpole-dense-s1" "cartpole" "dense" 2.0 1 20.0 // 0.20
      scoring "w2/cartpole-dense-s2" "cartpole" "dense" 2.0 2 30.0 // 0.30
      scoring "w2/cartpole-pruned-s1" "cartpole" "pruned" 2.0 1 120.0 // 1.20
      scoring "w2/cartpole-pruned-s2" "cartpole" "pruned" 2.0 2 80.0 // 0.80
      { scoring "cartpole/pruned-w1/seed9" "cartpole" "pruned" 1.0 9 500.0 with State = "running" }
      { scoring "cartpole/dense-w1/seed9" "cartpole" "dense" 1.0 9 500.0 with State = "failed" } ]

/// The scales the fixture is reported with: cartpole 0 -> 100, acrobot -500 -> 0.
let private scalesCsv = "env,random,reference\ncartpole,0,100\nacrobot,-500,0\n"

let private normalised (r: FixtureRun) (score: float) =
    match r.Env with
    | "cartpole" -> (score - 0.0) / (100.0 - 0.0)
    | _ -> (score - -500.0) / (0.0 - -500.0)

let private kindOf (r: FixtureRun) = if r.Baseline = "redo" then "ReDo" elif r.Sparsity > 0.0 then "pruned" else "dense"

let private label (r: FixtureRun) = sprintf "%s, width=%g" (kindOf r) r.Width

let private finished = fixture |> List.filter (fun r -> r.State = "finished") |> List.sortWith (fun a b -> String.CompareOrdinal(a.Path, b.Path))

/// A run's score over the last 10% of its steps: the mean of its evaluations at 950 and 1000.
let private windowScore (r: FixtureRun) = normalised r ((r.Evaluations[1] + r.Evaluations[2]) / 2.0)

/// Scores [task][run], tasks in name order and runs in path order, as the report takes them.
let private scoresOf (runs: FixtureRun list) (score: FixtureRun -> float) : Scores =
    runs |> List.groupBy (fun r -> r.Env) |> List.sortBy fst |> List.map (fun (_, rs) -> rs |> List.map score |> Array.ofList) |> Array.ofList

/// The IQM by its definition: sort, drop floor(n / 4) from each end, average the rest.
let private iqmByHand (xs: float list) =
    let sorted = List.sort xs
    let cut = xs.Length / 4
    sorted |> List.skip cut |> List.take (xs.Length - 2 * cut) |> List.average

/// P(X > Y) by counting: per task the wins (ties 1/2) over all pairs, averaged over tasks.
let private improvementByHand (x: Scores) (y: Scores) =
    Array.map2 (fun (xs: float[]) (ys: float[]) ->
        let wins = Seq.sum (seq { for a in xs do for b in ys -> if a > b then 1.0 elif a = b then 0.5 else 0.0 })
        wins / float (xs.Length * ys.Length)) x y
    |> Array.average

let private inScratch (f: string -> unit) =
    let folder = Path.Combine(Path.GetTempPath(), "prunerl-report-" + Guid.NewGuid().ToString("N"))
    Directory.CreateDirectory folder |> ignore
    try f folder finally Directory.Delete(folder, true)

/// A results folder holding the runs, and the scores file beside it.
let private withFixture (runs: FixtureRun list) (f: string -> string -> unit) =
    inScratch (fun scratch ->
        let results = Path.Combine(scratch, "results")
        Directory.CreateDirectory results |> ignore
        for r in runs do writeRun results r
        let scales = Path.Combine(scratch, "scales.csv")
        File.WriteAllText(scales, scalesCsv)
        f results scales)

/// A CSV line's cells: commas inside double quotes belong to the cell, "" is a quote (RFC 4180).
let private cells (line: string) =
    let out, current = Collections.Generic.List<string>(), Text.StringBuilder()
    let mutable quoted = false
    let mutable i = 0
    while i < line.Length do
        match line[i] with
        | '"' when quoted && i + 1 < line.Length && line[i + 1] = '"' ->
            current.Append '"' |> ignore
            i <- i + 1
        | '"' -> quoted <- not quoted
        | ',' when not quoted ->
            out.Add(current.ToString())
            current.Clear() |> ignore
        | c -> current.Append c |> ignore
        i <- i + 1
    out.Add(current.ToString())
    out.ToArray()

/// A CSV file as rows of cells, the header first.
let private readCsv (path: string) = File.ReadAllLines path |> Array.map cells

/// The rows of a CSV file as maps from its header's names.
let private records (path: string) =
    let rows = readCsv path
    rows[1..] |> Array.map (fun row -> Array.zip rows[0] row |> Map.ofArray)

let private number (text: string) = Double.Parse(text, CultureInfo.InvariantCulture)

let private expectInterval (row: Map<string, string>) (prefix: string) (expected: Interval) (what: string) =
    let field suffix = number row[prefix + suffix]
    Expect.floatClose Accuracy.veryHigh (field "") expected.Estimate (what + " estimate")
    Expect.floatClose Accuracy.veryHigh (field "_lower") expected.Lower (what + " lower")
    Expect.floatClose Accuracy.veryHigh (field "_upper") expected.Upper (what + " upper")

let private shown (i: Interval) =
    let f (x: float) = x.ToString("F3", CultureInfo.InvariantCulture)
    sprintf "%s [%s, %s]" (f i.Estimate) (f i.Lower) (f i.Upper)

/// A PNG's pixels: width, height, channels and the unfiltered bytes (8-bit RGB or RGBA, not interlaced).
let private decodePng (bytes: byte[]) =
    let bigEndian (i: int) = (int bytes[i] <<< 24) ||| (int bytes[i + 1] <<< 16) ||| (int bytes[i + 2] <<< 8) ||| int bytes[i + 3]
    let width, height = bigEndian 16, bigEndian 20
    let channels = match bytes[25] with 6uy -> 4 | 2uy -> 3 | other -> failtestf "colour type %d" other
    Expect.equal (bytes[24], bytes[28]) (8uy, 0uy) "8 bits per channel, not interlaced"
    use data = new MemoryStream()
    let mutable at = 8
    while at < bytes.Length do
        let length = bigEndian at
        if Text.Encoding.ASCII.GetString(bytes, at + 4, 4) = "IDAT" then data.Write(bytes, at + 8, length)
        at <- at + 12 + length
    use inflated = new MemoryStream()
    using (new Compression.ZLibStream(new MemoryStream(data.ToArray()), Compression.CompressionMode.Decompress)) (fun z -> z.CopyTo inflated)
    let raw = inflated.ToArray()
    let stride = width * channels
    let pixels = Array.zeroCreate<byte> (height * stride)
    for y in 0 .. height - 1 do
        let filter = raw[y * (stride + 1)]
        for x in 0 .. stride - 1 do
            let left = if x >= channels then int pixels[y * stride + x - channels] else 0
            let up = if y > 0 then int pixels[(y - 1) * stride + x] else 0
            let corner = if x >= channels && y > 0 then int pixels[(y - 1) * stride + x - channels] else 0
            // The five PNG filters (ISO 15948, 9.2): the byte is stored minus a prediction from its neighbours.
            let predicted =
                match filter with
                | 0uy -> 0
                | 1uy -> left
                | 2uy -> up
                | 3uy -> (left + up) / 2
                | 4uy ->
                    let p = left + up - corner
                    let pa, pb, pc = abs (p - left), abs (p - up), abs (p - corner)
                    if pa <= pb && pa <= pc then left elif pb <= pc then up else corner
                | other -> failtestf "filter %d" other
            pixels[y * stride + x] <- byte ((int raw[y * (stride + 1) + 1 + x] + predicted) &&& 0xFF)
    width, height, channels, pixels

/// The first colours of ScottPlot's Category10 palette, in which the charts draw their series.
let private palette = [ 0x1f, 0x77, 0xb4; 0xff, 0x7f, 0x0e; 0x2c, 0xa0, 0x2c; 0xd6, 0x27, 0x28; 0x94, 0x67, 0xbd; 0x8c, 0x56, 0x4b ]

/// A figure: a PNG of panels of 1800 x 1080 pixels in which each of the first `series` palette colours is drawn
/// across at least a third of a panel's width (a line over the data, not only its legend swatch), and its SVG
/// beside it.
let expectChart (path: string) (series: int) =
    Expect.isTrue (File.Exists path) (sprintf "%s exists" path)
    let bytes = File.ReadAllBytes path
    Expect.sequenceEqual bytes[.. 7] [| 0x89uy; 0x50uy; 0x4Euy; 0x47uy; 0x0Duy; 0x0Auy; 0x1Auy; 0x0Auy |] (path + ": the PNG signature")
    Expect.equal (Text.Encoding.ASCII.GetString(bytes, 12, 4)) "IHDR" (path + ": the header chunk first")
    let width, height, channels, pixels = decodePng bytes
    // Print resolution: a panel is 900 x 540 layout units at 2 pixels each; a grid or heading adds to it.
    Expect.isTrue (width % 1800 = 0 && height >= 1080) (sprintf "%s: %d x %d pixels, panels of 1800 x 1080" path width height)
    for r, g, b in List.take series palette do
        let columns =
            [ for i in 0 .. width * height - 1 do
                if int pixels[i * channels] = r && int pixels[i * channels + 1] = g && int pixels[i * channels + 2] = b then i % width ]
        let extent = if columns.IsEmpty then 0 else List.max columns - List.min columns
        Expect.isGreaterThan extent (1800 / 3) (sprintf "%s: colour #%02x%02x%02x drawn across the plot" path r g b)
    let svg = Path.ChangeExtension(path, ".svg")
    Expect.isTrue (File.Exists svg) (sprintf "%s beside it" svg)
    let document = Xml.Linq.XDocument.Load svg
    Expect.equal document.Root.Name.LocalName "svg" (svg + ": an SVG document")

/// Every file under a folder with its contents, for comparing folders before and after.
let private snapshot (folder: string) =
    if not (Directory.Exists folder) then []
    else Directory.GetFiles(folder, "*", SearchOption.AllDirectories) |> Array.sort |> Array.map (fun f -> f, File.ReadAllBytes f) |> List.ofArray

let private reps = "300"

[<Tests>]
let tests =
    testList "prunerl report and analyze" [
        test "the aggregates table holds the IQM, median, mean and optimality gap of the normalised scores, with their bootstrap intervals" {
            withFixture fixture (fun results scales ->
                let r = prunerl [ "report"; results; "--scores"; scales; "--reps"; reps; "--seed"; "11" ]
                Expect.equal r.ExitCode 0 (describe r)
                let out = Path.Combine(results, "report")
                let aggregates = records (Path.Combine(out, "aggregates.csv"))
                let groups = finished |> List.groupBy label
                Expect.equal (aggregates |> Array.map (fun row -> row["group"]) |> List.ofArray)
                    [ "dense, width=1"; "dense, width=2"; "pruned, width=1"; "pruned, width=2"; "ReDo, width=1" ] "groups: dense, pruned, baselines; widths by number"
                for name, runs in groups do
                    let row = aggregates |> Array.find (fun row -> row["group"] = name)
                    let scores = scoresOf runs windowScore
                    let all = runs |> List.map windowScore
                    let taskMeans = scores |> Array.map Array.average |> Array.sort
                    let median = if taskMeans.Length % 2 = 1 then taskMeans[taskMeans.Length / 2] else (taskMeans[taskMeans.Length / 2 - 1] + taskMeans[taskMeans.Length / 2]) / 2.0
                    let gap = 1.0 - (all |> List.averageBy (fun x -> min x 1.0))
                    let intervalOf aggregate = Bootstrap.interval aggregate 0.95 300 11UL scores |> Result.defaultWith failwith
                    Expect.equal (int row["runs"], int row["tasks"]) (runs.Length, scores.Length) (name + ": runs and tasks")
                    Expect.floatClose Accuracy.veryHigh (intervalOf Aggregate.iqm).Estimate (iqmByHand all) (name + ": the core's IQM is the hand IQM")
                    expectInterval row "iqm" { intervalOf Aggregate.iqm with Estimate = iqmByHand all } (name + " IQM")
                    expectInterval row "median" { intervalOf Aggregate.median with Estimate = median } (name + " median")
                    expectInterval row "mean" { intervalOf Aggregate.mean with Estimate = Array.average (Array.map Array.average scores) } (name + " mean")
                    expectInterval row "optimality_gap" { intervalOf (Aggregate.optimalityGap 1.0) with Estimate = gap } (name + " optimality gap")
                    Expect.stringContains (File.ReadAllText(Path.Combine(out, "report.md")))
                        (sprintf "| %s | %d | %d | %s | %s |" name runs.Length scores.Length (shown (intervalOf Aggregate.iqm)) (shown (intervalOf Aggregate.median)))
                        (name + ": the markdown row")
                // The dense width-1 group by hand: 0.10 0.25 0.30 0.40 0.50 0.55 trimmed by one at each end.
                Expect.floatClose Accuracy.veryHigh (number (aggregates[0]["iqm"])) ((0.25 + 0.30 + 0.40 + 0.50) / 4.0) "IQM of the dense width-1 runs"
                Expect.stringContains r.Output "| dense, width=1 | 6 | 2 | 0.363 [" "the table on the terminal")
        }

        test "probability of improvement: pruned and ReDo against dense with the same width, over the tasks both ran" {
            withFixture fixture (fun results scales ->
                let r = prunerl [ "report"; results; "--scores"; scales; "--reps"; reps; "--seed"; "11" ]
                Expect.equal r.ExitCode 0 (describe r)
                let rows = records (Path.Combine(results, "report", "improvement.csv"))
                Expect.equal (rows |> Array.map (fun row -> row["x"], row["y"], row["tasks"]) |> List.ofArray)
                    [ "pruned, width=1", "dense, width=1", "2"; "pruned, width=2", "dense, width=2", "1"; "ReDo, width=1", "dense, width=1", "1" ] "comparisons"
                for row in rows do
                    let members (name: string) = finished |> List.filter (fun f -> label f = name)
                    let x, y = members row["x"], members row["y"]
                    let common = Set.intersect (x |> List.map (fun f -> f.Env) |> Set.ofList) (y |> List.map (fun f -> f.Env) |> Set.ofList)
                    let onCommon runs = scoresOf (runs |> List.filter (fun f -> common.Contains f.Env)) windowScore
                    let expected = Profile.probabilityOfImprovementInterval 0.95 300 11UL (onCommon x) (onCommon y) |> Result.defaultWith failwith
                    Expect.floatClose Accuracy.veryHigh (number row["probability"]) (improvementByHand (onCommon x) (onCommon y)) (row["x"] + ": counted by hand")
                    expectInterval (row |> Map.add "p" row["probability"] |> Map.add "p_lower" row["lower"] |> Map.add "p_upper" row["upper"]) "p" expected row["x"]
                // Pruned width 1 by hand: cartpole 11 of 12 pairs, acrobot 2 of 4.
                Expect.floatClose Accuracy.veryHigh (number rows[0].["probability"]) ((11.0 / 12.0 + 0.5) / 2.0) "P(pruned > dense) at width 1"
                Expect.stringContains (File.ReadAllText(Path.Combine(results, "report", "report.md"))) "| pruned, width=2 | dense, width=2 | 1 | 1.000 [1.000, 1.000] |" "a certain win")
        }

        test "scores.csv holds each finished run's raw and normalised score; skipped runs are listed with their state" {
            withFixture fixture (fun results scales ->
                let r = prunerl [ "report"; results; "--scores"; scales; "--reps"; reps ]
                Expect.equal r.ExitCode 0 (describe r)
                let rows = records (Path.Combine(results, "report", "scores.csv"))
                Expect.equal (rows |> Array.map (fun row -> row["run"]) |> List.ofArray) (finished |> List.map (fun f -> f.Path)) "finished runs in path order"
                for row, f in Array.zip rows (Array.ofList finished) do
                    Expect.floatClose Accuracy.veryHigh (number row["raw_score"]) ((f.Evaluations[1] + f.Evaluations[2]) / 2.0) (f.Path + ": mean of the last 10%")
                    Expect.floatClose Accuracy.veryHigh (number row["normalised_score"]) (windowScore f) (f.Path + ": normalised")
                    Expect.equal (row["env"], row["seed"], row["group"]) (f.Env, string f.Seed, label f) (f.Path + ": columns")
                let markdown = File.ReadAllText(Path.Combine(results, "report", "report.md"))
                Expect.stringContains markdown "| cartpole/dense-w1/seed9 | failed |" "a failed run is listed"
                Expect.stringContains markdown "| cartpole/pruned-w1/seed9 | running |" "a running run is listed"
                Expect.stringContains markdown "(score - -500) / (0 - -500)" "the normalisation used"
                // The final evaluation alone: 5 above the window's mean.
                let final = prunerl [ "report"; results; "--scores"; scales; "--reps"; reps; "--score-window"; "0"; "--out"; Path.Combine(results, "final") ]
                Expect.equal final.ExitCode 0 (describe final)
                for row, f in Array.zip (records (Path.Combine(results, "final", "scores.csv"))) (Array.ofList finished) do
                    Expect.floatClose Accuracy.veryHigh (number row["raw_score"]) f.Evaluations[2] (f.Path + ": the final evaluation")
                // Unfinished runs on request: the running one joins, its line cut short ignored (the failed one never does).
                let all = prunerl [ "report"; results; "--scores"; scales; "--reps"; reps; "--include-unfinished"; "--out"; Path.Combine(results, "all") ]
                Expect.equal all.ExitCode 0 (describe all)
                Expect.equal (records (Path.Combine(results, "all", "scores.csv"))).Length (finished.Length + 1) "the running run counted")
        }

        test "profiles, learning curves and width scaling agree with the scores; every plot is a PNG" {
            withFixture fixture (fun results scales ->
                let r = prunerl [ "report"; results; "--scores"; scales; "--reps"; reps ]
                Expect.equal r.ExitCode 0 (describe r)
                let out = Path.Combine(results, "report")
                for row in records (Path.Combine(out, "profiles.csv")) do
                    let tau = number row["threshold"]
                    let scores = scoresOf (finished |> List.filter (fun f -> label f = row["group"])) windowScore
                    let expected = scores |> Array.averageBy (fun runs -> runs |> Array.averageBy (fun x -> if x > tau then 1.0 else 0.0))
                    Expect.floatClose Accuracy.veryHigh (number row["fraction"]) expected (sprintf "%s at %g" row["group"] tau)
                let curve = records (Path.Combine(out, "learning_curves.csv"))
                let last = curve |> Array.find (fun row -> row["group"] = "pruned, width=1" && row["step"] = "1000")
                let finals = finished |> List.filter (fun f -> label f = "pruned, width=1") |> List.map (fun f -> normalised f f.Evaluations[2])
                Expect.floatClose Accuracy.veryHigh (number last["iqm"]) (iqmByHand finals) "IQM of the final evaluations"
                Expect.equal last["runs"] "5" "every pruned width-1 run"
                let widths = records (Path.Combine(out, "width_scaling.csv"))
                Expect.equal (widths |> Array.map (fun row -> row["kind"], row["width"]) |> List.ofArray)
                    [ "dense", "1"; "dense", "2"; "pruned", "1"; "pruned", "2"; "ReDo", "1" ] "a point per kind and width"
                let pruned2 = widths |> Array.find (fun row -> row["kind"] = "pruned" && row["width"] = "2")
                Expect.floatClose Accuracy.veryHigh (number pruned2["iqm"]) 1.0 "IQM of 1.2 and 0.8"
                for png, series in [ "learning_curves.png", 5; "profiles.png", 5; "width_scaling.png", 3; "sparsity.png", 2; "interval_estimates.png", 5; "probability_of_improvement.png", 0 ] do
                    expectChart (Path.Combine(out, png)) series)
        }

        test "the same seed gives the same report; another seed other intervals" {
            withFixture fixture (fun results scales ->
                let run (seed: string) (folder: string) =
                    let r = prunerl [ "report"; results; "--scores"; scales; "--reps"; reps; "--seed"; seed; "--out"; Path.Combine(results, folder) ]
                    Expect.equal r.ExitCode 0 (describe r)
                    [ "report.md"; "aggregates.csv"; "improvement.csv"; "profiles.csv"; "learning_curves.csv"; "scores.csv" ]
                    |> List.map (fun f -> f, File.ReadAllText(Path.Combine(results, folder, f)))
                let first, again, other = run "5" "a", run "5" "b", run "6" "c"
                Expect.equal again first "identical files"
                Expect.notEqual (other |> List.find (fun (f, _) -> f = "aggregates.csv")) (first |> List.find (fun (f, _) -> f = "aggregates.csv")) "intervals move with the seed"
                Expect.equal (other |> List.find (fun (f, _) -> f = "scores.csv")) (first |> List.find (fun (f, _) -> f = "scores.csv")) "scores do not")
        }

        test "--group-by any config keys: per environment and kind" {
            withFixture fixture (fun results scales ->
                let r = prunerl [ "report"; results; "--scores"; scales; "--reps"; reps; "--group-by"; "env,kind"; "--allow-mixed" ]
                Expect.equal r.ExitCode 0 (describe r)
                let rows = records (Path.Combine(results, "report", "aggregates.csv"))
                Expect.equal (rows |> Array.map (fun row -> row["group"], row["runs"]) |> List.ofArray)
                    [ "env=acrobot, dense", "2"; "env=acrobot, pruned", "2"; "env=cartpole, dense", "6"; "env=cartpole, pruned", "5"; "env=cartpole, ReDo", "1" ] "groups"
                let acrobotPruned = rows |> Array.find (fun row -> row["group"] = "env=acrobot, pruned")
                Expect.floatClose Accuracy.veryHigh (number acrobotPruned["mean"]) 0.45 "mean of 0.7 and 0.2"
                let improvement = records (Path.Combine(results, "report", "improvement.csv"))
                Expect.equal improvement.Length 3 "pruned on each env, ReDo on cartpole")
        }

        test "built-in normalisation: classic control against Gymnasium's thresholds, MinAtar against its DQN; a random-only task is never pooled" {
            let runs =
                [ scoring "a" "cartpole" "dense" 1.0 1 200.0
                  scoring "b" "minatar/breakout" "dense" 1.0 1 12.0 ]
            withFixture runs (fun results _ ->
                let r = prunerl [ "report"; results; "--reps"; reps ]
                Expect.equal r.ExitCode 0 (describe r)
                let rows = records (Path.Combine(results, "report", "scores.csv"))
                Expect.floatClose Accuracy.veryHigh (number rows[0].["normalised_score"]) ((200.0 - 22.19) / (475.0 - 22.19)) "cartpole"
                Expect.floatClose Accuracy.veryHigh (number rows[1].["normalised_score"]) ((12.0 - 0.52) / (10.0 - 0.52)) "breakout on the MinAtar DQN's 10"
                Expect.stringContains r.Output "(score - 0.52) / (10 - 0.52)" "the scale is shown"
                let pooled = records (Path.Combine(results, "report", "aggregates.csv"))
                Expect.equal pooled[0].["tasks"] "2" "both tasks pooled"
                // Breakout made random-only: reported on its own, never in the aggregates.
                let scores = Path.Combine(results, "scores.csv")
                File.WriteAllText(scores, "env,random,reference\nminatar/breakout,0.52,\n")
                let alone = prunerl [ "report"; results; "--reps"; reps; "--scores"; scores; "--out"; Path.Combine(results, "alone") ]
                Expect.equal alone.ExitCode 0 (describe alone)
                let aloneRows = records (Path.Combine(results, "alone", "aggregates.csv"))
                Expect.equal aloneRows[0].["tasks"] "1" "cartpole alone in the aggregates"
                Expect.stringContains alone.Output "Not pooled: minatar/breakout has no reference score" "one line says so"
                Expect.stringContains alone.Output "### minatar/breakout" "its own per-task table"
                Expect.isTrue (File.Exists(Path.Combine(results, "alone", "learning_curves_per_game.png"))) "and its curves")
        }

        test "--score training scores a run on its training episodes in the last 10%; auto keeps evaluations for runs not on Dopamine's preset" {
            let runs = [ scoring "a" "cartpole" "dense" 1.0 1 200.0; scoring "b" "cartpole" "pruned" 1.0 1 100.0 ]
            withFixture runs (fun results _ ->
                // Episodes ending at 100, 960 and 990 of 1000 steps: the last 10% holds the last two.
                for run, late in [ "a", [ 30.0; 50.0 ]; "b", [ 10.0; 20.0 ] ] do
                    let lines = [ "100,train/episode_return,0" ] @ (List.zip [ 960; 990 ] late |> List.map (fun (step, r) -> sprintf "%d,train/episode_return,%g" step r))
                    File.AppendAllText(Path.Combine(results, run, "metrics.csv"), String.Join("\n", lines) + "\n")
                let auto = prunerl [ "report"; results; "--reps"; reps ]
                Expect.equal auto.ExitCode 0 (describe auto)
                Expect.stringContains auto.Output "Scores are **evaluation returns**" "auto: evaluations without the dopamine preset"
                let training = prunerl [ "report"; results; "--reps"; reps; "--score"; "training"; "--out"; Path.Combine(results, "training") ]
                Expect.equal training.ExitCode 0 (describe training)
                Expect.stringContains training.Output "Scores are **training returns**" "report.md says which"
                let rows = records (Path.Combine(results, "training", "scores.csv"))
                Expect.equal (rows |> Array.map (fun row -> number row["raw_score"])) [| 40.0; 15.0 |] "(30 + 50) / 2 and (10 + 20) / 2"
                let bad = prunerl [ "report"; results; "--score"; "greedy" ]
                Expect.equal bad.ExitCode 2 "a one-line refusal"
                Expect.stringContains bad.All "score must be training, evaluation or auto, got 'greedy'" "naming what is allowed")
        }

        test "the built-in random scores of classic control and MuJoCo are what a uniformly random policy scores here" {
            // Re-measured with other seeds than the table's: within 4 standard errors (MountainCar and HalfCheetah never end early).
            for id, episodes in [ "cartpole", 20_000; "acrobot", 2_000; "mountaincar", 500; "pendulum", 2_000
                                  "mujoco/halfcheetah", 100; "mujoco/hopper", 1_000; "mujoco/walker2d", 1_000 ] do
                let environment = EnvironmentRegistry.Create id
                let mutable policy = EnvRandom 99UL
                let returns = Array.zeroCreate episodes
                for e in 0 .. episodes - 1 do
                    environment.Reset(uint64 (500_000 + e)).Length |> ignore
                    let mutable finishedEpisode = false
                    while not finishedEpisode do
                        let step =
                            match environment.ActionSpace with
                            | :? DiscreteSpace as d -> environment.Step(policy.NextInt d.Count)
                            | :? BoxSpace as b ->
                                let action = Array.zeroCreate<float32> b.Size
                                for i in 0 .. b.Size - 1 do
                                    action[i] <- float32 (policy.Uniform(float b.Low[i], float b.High[i]))
                                environment.Step(ReadOnlySpan action)
                            | other -> failtestf "%s: %O" id other
                        returns[e] <- returns[e] + float step.Reward
                        finishedEpisode <- step.Done
                let m = Array.average returns
                let se = sqrt (returns |> Array.averageBy (fun x -> (x - m) ** 2.0)) / sqrt (float episodes)
                let table = (Normalization.find Normalization.builtIn id |> Result.defaultWith failwith).RandomScore
                Expect.isLessThanOrEqual (abs (m - table)) (max (4.0 * se) 0.01) (sprintf "%s: measured %.3f +- %.3f, table %g" id m se table)
        }

        test "analyze: the analysis metrics' means over runs per group and step, and a figure per metric and environment" {
            let withAnalysis (r: FixtureRun) values = { r with Analysis = [ for name in [ "dormant_fraction"; "srank"; "parameter_norm"; "q_variance"; "gradient_interference"; "nonzero_parameters"; "q_mean" ] -> name, values ] }
            let runs =
                [ withAnalysis (scoring "d1" "cartpole" "dense" 1.0 1 10.0) [ 0.5; 0.25 ]
                  withAnalysis (scoring "d2" "cartpole" "dense" 1.0 2 10.0) [ 0.5; 0.75 ]
                  withAnalysis (scoring "p1" "cartpole" "pruned" 1.0 1 10.0) [ 0.125; 0.0 ]
                  scoring "p2" "cartpole" "pruned" 1.0 2 10.0 ]
            withFixture runs (fun results _ ->
                let r = prunerl [ "analyze"; results; "--reps"; reps ]
                Expect.equal r.ExitCode 0 (describe r)
                let out = Path.Combine(results, "analysis")
                let rows = records (Path.Combine(out, "analysis.csv"))
                let at metric group step = rows |> Array.find (fun row -> row["metric"] = metric && row["group"] = group && row["step"] = step)
                Expect.floatClose Accuracy.veryHigh (number (at "analysis/srank" "dense, width=1" "1000").["mean"]) 0.5 "mean of 0.25 and 0.75"
                Expect.equal (at "analysis/srank" "dense, width=1" "1000").["runs"] "2" "two dense runs"
                Expect.floatClose Accuracy.veryHigh (number (at "analysis/dormant_fraction" "dense, width=1" "500").["mean"]) 0.5 "0.5 both"
                Expect.equal (at "analysis/q_mean" "pruned, width=1" "500").["runs"] "1" "the run without analysis is skipped"
                Expect.stringContains r.Output "| p2 | finished: no analysis/dormant_fraction in metrics.csv |" "and listed"
                for figure in [ "dormant_fraction"; "srank"; "parameter_norm"; "q_variance"; "gradient_interference"; "nonzero_parameters" ] do
                    expectChart (Path.Combine(out, sprintf "analysis_%s.png" figure)) 2
                let report = prunerl [ "report"; results; "--reps"; reps ]
                Expect.equal report.ExitCode 0 (describe report)
                expectChart (Path.Combine(results, "report", "analysis_srank.png")) 2)
            withFixture [ scoring "d1" "cartpole" "dense" 1.0 1 10.0 ] (fun results _ ->
                prunerl [ "analyze"; results ] |> expectOneLineError "has analysis/dormant_fraction in its metrics.csv (train with --analyse-every N)")
            let sac path kind = { scoring path "pendulum" kind 1.0 1 -200.0 with Agent = "sac" }
            withFixture [ sac "s1" "dense"; sac "s2" "pruned" ] (fun results _ ->
                prunerl [ "analyze"; results ] |> expectOneLineError "(SAC runs record no analyses: they measure the DQN family's value networks")
            withFixture [ sac "s1" "dense"; scoring "d1" "cartpole" "dense" 1.0 1 10.0 ] (fun results _ ->
                prunerl [ "analyze"; results ] |> expectOneLineError "(1 of the 2 runs are SAC runs, which record no analyses; train the others with --analyse-every N)")
        }

        test "report A B compares folders: runs keyed by folder, --out required, findings and warnings in words" {
            inScratch (fun scratch ->
                let a, b = Path.Combine(scratch, "a"), Path.Combine(scratch, "b")
                writeRun a (scoring "dense-s1" "cartpole" "dense" 1.0 1 20.0)
                writeRun b (scoring "pruned-s1" "cartpole" "pruned" 1.0 1 60.0)
                let scales = Path.Combine(scratch, "scales.csv")
                File.WriteAllText(scales, scalesCsv)
                prunerl [ "report"; a; b; "--scores"; scales ] |> expectOneLineError "out: several folders are compared"
                let out = Path.Combine(scratch, "both")
                let r = prunerl [ "report"; a; b; "--scores"; scales; "--reps"; reps; "--out"; out; "--group-by"; "kind,width" ]
                Expect.equal r.ExitCode 0 (describe r)
                let rows = records (Path.Combine(out, "scores.csv"))
                Expect.equal (rows |> Array.map (fun row -> row["run"])) [| a + "/dense-s1"; b + "/pruned-s1" |] "each run under the folder it came from"
                let markdown = File.ReadAllText(Path.Combine(out, "report.md"))
                Expect.stringContains markdown "**pruned, width=1** is ahead of **dense, width=1** by 0.4 in IQM (0.6 against 0.2)" "the finding in words"
                Expect.stringContains markdown "dense, width=1 has 1 run on cartpole: fewer than 3 runs per task" "the warning"
                let byFolder = prunerl [ "report"; a; b; "--scores"; scales; "--reps"; reps; "--out"; Path.Combine(scratch, "by-folder") ]
                Expect.equal byFolder.ExitCode 0 (describe byFolder)
                Expect.stringContains byFolder.Output (sprintf "| folder=%s, dense, width=1 |" a) "grouped by folder first by default")
        }

        test "a group mixing settings is refused in one line unless --allow-mixed" {
            inScratch (fun scratch ->
                let results = Path.Combine(scratch, "results")
                writeRun results (scoring "short" "cartpole" "dense" 1.0 1 20.0)
                writeRun results { scoring "other-agent" "cartpole" "dense" 1.0 2 40.0 with Agent = "rainbow" }
                let scales = Path.Combine(scratch, "scales.csv")
                File.WriteAllText(scales, scalesCsv)
                prunerl [ "report"; results; "--scores"; scales; "--group-by"; "kind,width" ]
                |> expectOneLineError "group 'dense, width=1' on cartpole mixes runs with different agent (rainbow, dqn): group by it (--group-by ...,agent) or pass --allow-mixed"
                Expect.isFalse (Directory.Exists(Path.Combine(results, "report"))) "no report folder"
                let r = prunerl [ "report"; results; "--scores"; scales; "--reps"; reps; "--group-by"; "kind,width"; "--allow-mixed" ]
                Expect.equal r.ExitCode 0 (describe r))
        }

        test "runs behind symbolic links count in report and analyze as in sweep --status; a link back up is not followed" {
            inScratch (fun scratch ->
                let results, elsewhere = Path.Combine(scratch, "results"), Path.Combine(scratch, "elsewhere")
                let analysed (r: FixtureRun) values = { r with Analysis = [ for name in [ "dormant_fraction"; "srank" ] -> name, values ] }
                writeRun results (analysed (scoring "dense-s1" "cartpole" "dense" 1.0 1 20.0) [ 0.5; 0.5 ])
                writeRun results (analysed (scoring "pruned-s1" "cartpole" "pruned" 1.0 1 60.0) [ 0.25; 0.25 ])
                // A run kept elsewhere and linked into the results folder, as one gathers runs from several disks.
                writeRun elsewhere (analysed (scoring "pruned-s2" "cartpole" "pruned" 1.0 2 40.0) [ 0.75; 0.75 ])
                Directory.CreateSymbolicLink(Path.Combine(results, "pruned-s2"), Path.Combine(elsewhere, "pruned-s2")) |> ignore
                // A cycle: a link back to the results folder itself.
                Directory.CreateSymbolicLink(Path.Combine(results, "loop"), results) |> ignore
                let scales = Path.Combine(scratch, "scales.csv")
                File.WriteAllText(scales, scalesCsv)
                let status = prunerl [ "sweep"; "--status"; results ]
                Expect.equal status.ExitCode 0 (describe status)
                Expect.stringContains status.Output "3 runs: 0 pending, 0 running, 3 finished" "sweep counts the linked run"
                let r = prunerl [ "report"; results; "--scores"; scales; "--reps"; reps ]
                Expect.equal r.ExitCode 0 (describe r)
                let rows = records (Path.Combine(results, "report", "scores.csv"))
                Expect.equal (rows |> Array.map (fun row -> row["run"])) [| "dense-s1"; "pruned-s1"; "pruned-s2" |] "report counts the linked run, once; the loop adds none"
                // Its score over the last 10%: the mean of 35 and 45.
                Expect.floatClose Accuracy.veryHigh (number (rows[2].["raw_score"])) 40.0 "the linked run's metrics read"
                let analysis = prunerl [ "analyze"; results; "--reps"; reps ]
                Expect.equal analysis.ExitCode 0 (describe analysis)
                let pruned = records (Path.Combine(results, "analysis", "analysis.csv")) |> Array.find (fun row -> row["metric"] = "analysis/srank" && row["group"] = "pruned, width=1" && row["step"] = "1000")
                Expect.equal pruned["runs"] "2" "analyze counts the linked run"
                Expect.floatClose Accuracy.veryHigh (number pruned["mean"]) 0.5 "the mean of 0.25 and 0.75")
        }

        test "bad input is a one-line error with exit code 2 that writes nothing" {
            let expectNothingWritten (results: string) (r: ProcessResult) (words: string) =
                expectOneLineError words r
                Expect.isFalse (Directory.Exists(Path.Combine(results, "report"))) (words + ": no report folder")
            inScratch (fun scratch ->
                prunerl [ "report"; Path.Combine(scratch, "missing") ] |> expectOneLineError "results: no folder"
                prunerl [ "report"; scratch ] |> expectOneLineError "results: no runs under"
                Expect.isEmpty (Directory.GetFileSystemEntries scratch) "nothing written")
            withFixture [ { scoring "a" "cartpole" "dense" 1.0 1 10.0 with State = "running" } ] (fun results _ ->
                expectNothingWritten results (prunerl [ "report"; results ]) "none of the 1 runs")
            withFixture fixture (fun results scales ->
                let previous = Path.Combine(results, "report")
                Directory.CreateDirectory previous |> ignore
                File.WriteAllText(Path.Combine(previous, "report.md"), "an earlier report")
                let before = snapshot results
                let check (args: string list) (words: string) =
                    prunerl ([ "report"; results; "--scores"; scales ] @ args) |> expectOneLineError words
                    Expect.equal (snapshot results) before (words + ": the results folder unchanged")
                check [ "--group-by"; "kind,colour" ] "group_by: unknown key 'colour'; allowed: kind, agent, baseline,"
                check [ "--reps"; "0" ] "reps must be >= 1, got 0"
                check [ "--score-window"; "1.5" ] "score_window must be in [0, 1], got 1.5"
                let blocker = Path.Combine(results, "cartpole", "dense-w1", "seed1", "config.json")
                check [ "--out"; Path.Combine(blocker, "report") ] "is a file, not a folder"
                let bad = Path.Combine(Path.GetDirectoryName(scales), "bad.csv")
                File.WriteAllText(bad, "env,random,reference\ncartpole,zero,100\n")
                prunerl [ "report"; results; "--scores"; bad ] |> expectOneLineError "bad.csv: line 2 must be env,random,reference"
                Expect.equal (snapshot results) before "bad scores: unchanged")
            let corrupt (file: string) (text: string) (words: string) =
                withFixture fixture (fun results scales ->
                    File.WriteAllText(Path.Combine(results, "cartpole", "pruned-w1", "seed2", file), text)
                    let r = prunerl [ "report"; results; "--scores"; scales ]
                    expectNothingWritten results r words
                    Expect.stringContains r.Error (Path.Combine("pruned-w1", "seed2", file)) "names the file")
            corrupt "config.json" "{ \"env\": " "config.json: not valid JSON"
            corrupt "config.json" """{"format":"prunerl-run/1","sparsity":0.9,"steps":1000}""" "env must be a string"
            corrupt "config.json" """{"format":"prunerl-run/9","env":"cartpole","sparsity":0.9,"steps":1000}""" "format must be prunerl-run/1, got 'prunerl-run/9'"
            corrupt "status.json" """{"state":"done"}""" "state must be one of pending, running, finished, failed, interrupted"
            corrupt "metrics.csv" "step,metric,value\n500,eval/return,1\nlate,eval/return,2\n" "metrics.csv: line 3 must be step,metric,value"
            corrupt "metrics.csv" "when,what\n" "metrics.csv: the first line must be 'step,metric,value'"
            withFixture [ scoring "a" "mujoco/ant" "dense" 1.0 1 10.0 ] (fun results _ ->
                expectNothingWritten results (prunerl [ "report"; results ]) "no random and reference score for env 'mujoco/ant'")
        }

        test "train -> report: a tiny dense and pruned run, scored from their metrics.csv" {
            inScratch (fun scratch ->
                let results = Path.Combine(scratch, "results")
                for name, sparsity, seed in [ "dense", "0", "3"; "pruned", "0.5", "4" ] do
                    let folder = Path.Combine(results, name)
                    // 1500 gradient updates after the 1000-step warm-up: the pruned run reaches its target at the end.
                    let r = prunerl [ "train"; "--steps"; "4000"; "--eval-every"; "1000"; "--width"; "1"; "--sparsity"; sparsity; "--analyse-every"; "2000"; "--seed"; seed; "--out"; folder ]
                    Expect.equal r.ExitCode 0 (describe r)
                let r = prunerl [ "report"; results; "--reps"; reps ]
                Expect.equal r.ExitCode 0 (describe r)
                let out = Path.Combine(results, "report")
                let scoreOf (name: string) =
                    // The last 10% of 4000 steps holds the evaluation at step 4000 only.
                    File.ReadAllLines(Path.Combine(results, name, "metrics.csv")) |> Array.find (fun l -> l.StartsWith "4000,eval/return,") |> fun l -> number (l.Split(',')[2])
                let scores = records (Path.Combine(out, "scores.csv"))
                let aggregates = records (Path.Combine(out, "aggregates.csv"))
                for name in [ "dense"; "pruned" ] do
                    let raw = scoreOf name
                    let row = scores |> Array.find (fun row -> row["run"] = name)
                    Expect.floatClose Accuracy.veryHigh (number row["raw_score"]) raw (name + ": raw score from metrics.csv")
                    let expected = (raw - 22.19) / (475.0 - 22.19)
                    Expect.floatClose Accuracy.veryHigh (number row["normalised_score"]) expected (name + ": normalised on CartPole's scale")
                    let group = aggregates |> Array.find (fun g -> g["group"] = name + ", width=1")
                    // One run: every aggregate is its score and the interval has no width.
                    expectInterval group "iqm" { Estimate = expected; Lower = expected; Upper = expected } (name + " IQM of one run")
                let improvement = (records (Path.Combine(out, "improvement.csv")))[0]
                let dense, pruned = scoreOf "dense", scoreOf "pruned"
                Expect.equal (number improvement["probability"]) (if pruned > dense then 1.0 elif pruned = dense then 0.5 else 0.0) "one pair"
                let sparsity = records (Path.Combine(results, "pruned", "metrics.csv")) |> Array.filter (fun row -> row["metric"] = "eval/sparsity")
                Expect.floatClose Accuracy.medium (number (Array.last sparsity).["value"]) 0.5 "pruned to 50% by the end"
                // One width, two points; sparsity and srank lines that may overlap: those charts are checked for their form only.
                for png, series in [ "learning_curves.png", 2; "profiles.png", 2; "width_scaling.png", 0; "sparsity.png", 0; "analysis_srank.png", 0; "interval_estimates.png", 2; "probability_of_improvement.png", 0; "learning_curves_per_game.png", 2; "final_scores_per_game.png", 0 ] do
                    expectChart (Path.Combine(out, png)) series)
        }
    ]
