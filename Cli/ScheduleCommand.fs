/// `prunerl schedule`: any schedule the core supports, with its per-layer targets at every mask update,
/// as a table and as CSV, JSON and PNG files. Parse, validate (the core), report.
module Prunerl.Cli.ScheduleCommand

open System
open System.Globalization
open System.IO
open System.Text
open System.Text.Json
open Argu
open Prunerl.Core
open Prunerl.Experiments
open Prunerl.Cli.UserError

/// The kinds of schedule (--kind).
type ScheduleKind =
    | Gradual
    | Constant
    | One_Shot

/// Whose step counting to follow (--convention).
type ConventionKind =
    | Zhu_Gupta
    | Jaxpruner

[<RequireQualifiedAccess>]
type ScheduleArgs =
    | Kind of kind: ScheduleKind
    | Sparsity of fraction: float
    | Initial_Sparsity of fraction: float
    | [<AltCommandLine("--schedule")>] Ramp of ramp: RampKind
    | Power of power: float
    | Prune_Start of point: string
    | Prune_End of point: string
    | Prune_Every of updates: int64
    | Convention of convention: ConventionKind
    | Total_Steps of updates: string
    | Distribution of distribution: DistributionKind
    | Erk_Power of power: float
    | Layer_Schedule of LayerTiming
    | Global
    | Layers of spec: string
    | Layers_File of path: string
    | Keep_Dense of name: string
    | Csv of path: string
    | Json of path: string
    | Png of path: string
    | Method of SparseMethod
    | Drop_Fraction of fraction: float
    | Rewire_Every of updates: int64

    interface IArgParserTemplate with
        member this.Usage =
            match this with
            | Kind _ -> "the kind of schedule: gradual (default), constant or one-shot."
            | Sparsity _ -> "final sparsity in [0, 1) (default 0.95, the paper's)."
            | Initial_Sparsity _ -> "gradual: sparsity when pruning starts (default 0)."
            | Ramp _ -> "gradual: polynomial (default), linear or cosine (--schedule, as train and config.json name the ramp)."
            | Power _ -> "gradual, polynomial ramp: its power (default 3, the paper's cubic)."
            | Prune_Start _ -> "gradual: when pruning starts; one-shot: when it prunes. A whole number is a step (500000), a number with a decimal point a fraction of --total-steps (0.2, the default)."
            | Prune_End _ -> "gradual: when pruning ends, as --prune-start (default 0.8)."
            | Prune_Every _ -> "gradual: steps between mask updates (default 1000)."
            | Convention _ -> "gradual: zhu-gupta (default) or jaxpruner step counting."
            | Total_Steps _ -> "training length in gradient updates (default 2500000)."
            | Distribution _ -> "uniform (default) or erk per-layer targets."
            | Erk_Power _ -> "erk: the power of its layer factor, in (0, 2] (default 1)."
            | Layer_Schedule _ -> "erk: scaled (default: every layer's final target times the schedule's fraction, as JaxPruner) or resolved (ERK solved again at each step's overall sparsity)."
            | Global -> "one magnitude ranking across all layers instead of per-layer targets."
            | Layers _ -> "the weight tensors, 'name:out,in[,kh,kw];...' (default: the Nature DQN's five)."
            | Layers_File _ -> "the weight tensors from a file: 'name:out,in[,kh,kw]' per line, # starts a comment."
            | Keep_Dense _ -> "a layer to keep dense, by name (repeatable)."
            | Csv _ -> "write every update step's targets as CSV."
            | Json _ -> "write every update step's targets as JSON."
            | Png _ -> "write a plot of sparsity against step as PNG."
            | Method _ -> "gmp (default: the pruning schedule) or set or rigl: their drop fraction over training instead, at each rewiring step (static and lottery masks never change)."
            | Drop_Fraction _ -> "set, rigl: the drop fraction at step 0, decaying with a cosine to 0 at 80% of --total-steps (default 0.3, JaxPruner's Dopamine DQN config)."
            | Rewire_Every _ -> "set, rigl: gradient updates between rewirings (default 5000, JaxPruner's)."

/// The Nature DQN's weight tensors (torch layout), the default network.
let private natureDqn = "conv1:32,4,8,8;conv2:64,32,4,4;conv3:64,64,3,3;fc:512,3136;out:18,512"

let private invariant = CultureInfo.InvariantCulture

/// A step point: a whole number is an absolute step, a number with a decimal point or an exponent a
/// fraction of the training length ("0.2", "1.0", "2e-1").
let parsePoint (field: string) (text: string) : Result<StepPoint, string> =
    let isFraction = text.IndexOfAny([| '.'; 'e'; 'E' |]) >= 0
    match isFraction, Int64.TryParse(text, NumberStyles.AllowLeadingSign, invariant), Double.TryParse(text, NumberStyles.Float, invariant) with
    | false, (true, step), _ -> Ok(StepPoint.Absolute step)
    | true, _, (true, fraction) -> Ok(StepPoint.Fraction fraction)
    | _ -> Error(sprintf "%s must be a step (500000) or a fraction with a decimal point (0.2), got '%s'" field text)

/// Weight tensors from 'name:d1,d2,...' entries separated by ';' or new lines; '#' starts a comment.
let parseLayers (spec: string) : Result<Parameter list, string> =
    let entry (text: string) =
        match text.Split(':') with
        | [| name; dims |] when name.Trim() <> "" && name.Trim() |> Seq.forall (fun c -> Char.IsLetterOrDigit c || "_.-".Contains c) ->
            let parsed = dims.Split(',') |> Array.map (fun d -> Int32.TryParse(d.Trim(), NumberStyles.None, invariant))
            if parsed.Length > 0 && parsed |> Array.forall fst then
                Ok { Name = name.Trim(); Shape = parsed |> Array.map snd; Role = Weight }
            else Error(sprintf "layers: '%s' must be name:d1,d2,... with whole numbers" text)
        | _ -> Error(sprintf "layers: '%s' must be name:d1,d2,... (a name of letters, digits, '_', '.', '-')" text)
    let entries =
        spec.Split([| ';'; '\n' |])
        |> Array.map (fun e -> (match e.IndexOf '#' with -1 -> e | i -> e[.. i - 1]).Trim())
        |> Array.filter (fun e -> e <> "")
    if entries.Length = 0 then Error "layers: no layer given"
    else Validate.traverse entry entries

/// Options that only some schedules read: naming one elsewhere is a mistake, not something to ignore.
let private checkApplicable (args: ParseResults<ScheduleArgs>) (kind: ScheduleKind) (ramp: RampKind) =
    let refuse (message: string) (isGiven: bool) = if isGiven then Some message else None
    let gradualOnly =
        [ "--initial-sparsity", args.Contains ScheduleArgs.Initial_Sparsity
          "--ramp", args.Contains ScheduleArgs.Ramp
          "--power", args.Contains ScheduleArgs.Power
          "--prune-end", args.Contains ScheduleArgs.Prune_End
          "--prune-every", args.Contains ScheduleArgs.Prune_Every
          "--convention", args.Contains ScheduleArgs.Convention ]
        |> List.map (fun (flag, isGiven) -> refuse (flag + " applies to the gradual schedule only") isGiven)
    let isGlobal = args.Contains ScheduleArgs.Global
    let misplaced =
        match kind with
        | Gradual -> [ refuse "--power applies to the polynomial ramp only" (ramp <> RampKind.Polynomial && args.Contains ScheduleArgs.Power) ]
        | One_Shot -> gradualOnly
        | Constant -> refuse "--prune-start applies to gradual and one-shot schedules only" (args.Contains ScheduleArgs.Prune_Start) :: gradualOnly
        @ [ refuse "--distribution does not apply with --global (one ranking across all layers)" (isGlobal && args.Contains ScheduleArgs.Distribution)
            refuse "--erk-power applies to --distribution erk only"
                (args.Contains ScheduleArgs.Erk_Power && (isGlobal || args.GetResult(ScheduleArgs.Distribution, DistributionKind.Uniform) <> DistributionKind.Erk))
            refuse "--layers and --layers-file exclude each other" (args.Contains ScheduleArgs.Layers && args.Contains ScheduleArgs.Layers_File) ]
    match List.choose id misplaced with
    | [] -> Ok()
    | message :: _ -> Error message

/// --total-steps (default 2,500,000, the paper's gradient updates).
let private totalStepsOf (args: ParseResults<ScheduleArgs>) =
    args.TryGetResult ScheduleArgs.Total_Steps |> Option.map (count "total_steps") |> Option.defaultValue 2_500_000L

let private buildSchedule (args: ParseResults<ScheduleArgs>) : Result<Schedule * int64, string> =
    let kind = args.GetResult(ScheduleArgs.Kind, Gradual)
    let ramp = args.GetResult(ScheduleArgs.Ramp, RampKind.Polynomial)
    let sparsity = args.GetResult(ScheduleArgs.Sparsity, 0.95)
    let totalSteps = totalStepsOf args
    Validate.result {
        do! checkApplicable args kind ramp
        let! total = Validate.atLeast "total_steps" 1L totalSteps
        let! start = parsePoint "prune_start" (args.GetResult(ScheduleArgs.Prune_Start, "0.2"))
        let! finish = parsePoint "prune_end" (args.GetResult(ScheduleArgs.Prune_End, "0.8"))
        let! schedule =
            match kind with
            | Constant -> Schedule.constant sparsity
            | One_Shot -> Schedule.resolvePoint "prune_start" total start |> Result.bind (Schedule.oneShot sparsity)
            | Gradual ->
                Schedule.gradual
                    total
                    { InitialSparsity = args.GetResult(ScheduleArgs.Initial_Sparsity, 0.0)
                      FinalSparsity = sparsity
                      Shape = RunConfig.ramp ramp (args.GetResult(ScheduleArgs.Power, 3.0))
                      PruneStart = start
                      PruneEnd = finish
                      PruneEvery = args.GetResult(ScheduleArgs.Prune_Every, 1000L)
                      Counting =
                        match args.GetResult(ScheduleArgs.Convention, Zhu_Gupta) with
                        | Zhu_Gupta -> ZhuGupta
                        | Jaxpruner -> JaxPruner }
        return schedule, total
    }

let private readLayers (args: ParseResults<ScheduleArgs>) =
    match args.TryGetResult ScheduleArgs.Layers_File with
    | Some path ->
        try
            File.ReadAllText path
        with :? IOException | :? UnauthorizedAccessException as e ->
            raise (UserError(sprintf "layers_file: cannot read %s: %s" path e.Message))
    | None -> args.GetResult(ScheduleArgs.Layers, natureDqn)

let private buildPlan (args: ParseResults<ScheduleArgs>) : Result<Plan * int64, string> =
    Validate.result {
        let! schedule, total = buildSchedule args
        let! layers = parseLayers (readLayers args)
        let allocation =
            if args.Contains ScheduleArgs.Global then Global
            else
                match args.GetResult(ScheduleArgs.Distribution, DistributionKind.Uniform) with
                | DistributionKind.Uniform -> LayerWise Distribution.Uniform
                | DistributionKind.Erk -> LayerWise(Distribution.Erk(args.GetResult(ScheduleArgs.Erk_Power, 1.0)))
        let scope = { Sparsity.paperScope with KeepDense = args.GetResults ScheduleArgs.Keep_Dense |> List.map Named }
        let timing = args.GetResult(ScheduleArgs.Layer_Schedule, Scaled)
        let! plan = Plan.createTimed timing schedule allocation scope layers
        return plan, total
    }

/// A layer's target at a step: its sparsity and kept count, None for a layer in the global pool.
let private target (budget: LayerBudget) =
    match budget.Target with
    | Keep kept -> Some kept
    | Dense -> Some budget.Parameter.Size
    | Pooled -> None
    |> Option.map (fun kept -> 1.0 - float kept / float budget.Parameter.Size, kept)

let private round (x: float) = x.ToString("R", invariant)

/// The schedule and allocation in one line, as people name them.
let private describe (plan: Plan) (total: int64) =
    let schedule =
        match plan.Schedule with
        | Schedule.Constant s -> sprintf "constant sparsity %s" (Validate.show s)
        | Schedule.OneShot(s, at) -> sprintf "one-shot to sparsity %s at step %d" (Validate.show s) at
        | Schedule.Gradual g ->
            let ramp =
                match g.Ramp with
                | Ramp.Polynomial 1.0 -> "linear"
                | Ramp.Polynomial p -> sprintf "polynomial (power %s)" (Validate.show p)
                | Ramp.Cosine -> "cosine"
            let counting = match g.Convention with ZhuGupta -> "zhu-gupta" | JaxPruner -> "jaxpruner"
            sprintf "gradual %s -> %s, %s, steps %d to %d, masks every %d (%s)"
                (Validate.show g.Initial) (Validate.show g.Final) ramp g.Start g.End g.UpdatePeriod counting
    let allocation =
        match plan.Allocation with
        | LayerWise Distribution.Uniform -> "uniform per layer"
        | LayerWise(Distribution.Erk power) ->
            sprintf "ERK per layer (power %s), %s" (Validate.show power)
                (match plan.Timing with
                 | Scaled -> "each layer's final target scaled by the schedule (JaxPruner)"
                 | Resolved -> "solved again at each step")
        | Global -> "global magnitude"
    sprintf "%s; %s; %d training steps" schedule allocation total

let private csv (steps: PlanStep[]) (parameters: Parameter[]) =
    let text = StringBuilder()
    let header =
        [ "step"; "sparsity"; "non_zero"; "total_size"; "prunable_kept"; "prunable_size" ]
        @ [ for p in parameters do p.Name + "_sparsity"; p.Name + "_kept" ]
    text.AppendLine(String.Join(",", header)) |> ignore
    for s in steps do
        let cells =
            [ string s.Step; round s.Sparsity; string s.NonZero; string s.TotalSize; string s.PrunableKept; string s.PrunableSize ]
            @ [ for layer in s.Layers do
                  match target layer with
                  | Some(sparsity, kept) -> yield! [ round sparsity; string kept ]
                  | None -> yield! [ ""; "" ] ]
        text.AppendLine(String.Join(",", cells)) |> ignore
    Encoding.UTF8.GetBytes(text.ToString())

let private json (plan: Plan) (total: int64) (steps: PlanStep[]) =
    let document =
        {| description = describe plan total
           totalSteps = total
           layers =
            plan.Prunable.Parameters
            |> Array.mapi (fun i p -> {| name = p.Name; shape = p.Shape; size = p.Size; pruned = plan.Prunable.IsPrunable i |})
           updates =
            steps
            |> Array.map (fun s ->
                {| step = s.Step
                   sparsity = s.Sparsity
                   nonZero = s.NonZero
                   totalSize = s.TotalSize
                   prunableKept = s.PrunableKept
                   prunableSize = s.PrunableSize
                   layers =
                    s.Layers
                    |> Array.map (fun l ->
                        {| name = l.Parameter.Name
                           sparsity = target l |> Option.map fst
                           kept = target l |> Option.map snd |}) |}) |}
    JsonSerializer.SerializeToUtf8Bytes(document, JsonSerializerOptions(WriteIndented = true))

/// Sparsity against step as a staircase (targets hold between updates): the overall target and,
/// for per-layer targets, each layer's.
let private png (plan: Plan) (total: int64) (steps: PlanStep[]) =
    use plot = new ScottPlot.Plot()
    let lastStep = max total (steps |> Array.tryLast |> Option.map (fun s -> s.Step) |> Option.defaultValue 0L)
    // From step 0 (dense before the first update) to the end of training, holding the last target.
    let points (value: PlanStep -> float) =
        let atStart = Plan.at plan 0L
        let xs = [| 0.0; yield! steps |> Array.map (fun s -> float s.Step); float lastStep |]
        let ys = [| value atStart; yield! steps |> Array.map value; (steps |> Array.tryLast |> Option.map value |> Option.defaultValue (value atStart)) |]
        xs, ys
    let staircase (label: string) (width: float32) (value: PlanStep -> float) =
        let xs, ys = points value
        let line = plot.Add.Scatter(xs, ys)
        line.ConnectStyle <- ScottPlot.ConnectStyle.StepHorizontal
        line.MarkerSize <- 0.0f
        line.LineWidth <- width
        line.LegendText <- label
    staircase "overall" 3.0f (fun s -> s.Sparsity)
    if plan.Allocation <> Global then
        plan.Prunable.Parameters
        |> Array.iteri (fun i p ->
            if plan.Prunable.IsPrunable i then
                staircase p.Name 1.5f (fun s -> target s.Layers[i] |> Option.map fst |> Option.defaultValue nan))
    // The description whole, one clause per line: on one line it runs past the figure's edges.
    plot.Title((describe plan total).Replace("; ", ";\n"), 12.0f)
    plot.XLabel "training step (gradient updates)"
    plot.YLabel "target sparsity"
    plot.Axes.SetLimitsY(0.0, 1.0)
    plot.ShowLegend(ScottPlot.Edge.Right) |> ignore
    plot.ScaleFactor <- Plots.scale
    let width, height = Plots.size
    plot.GetImageBytes(int (float width * Plots.scale), int (float height * Plots.scale), ScottPlot.ImageFormat.Png)

let private printTable (plan: Plan) (total: int64) (steps: PlanStep[]) =
    let parameters = plan.Prunable.Parameters
    printfn "%s" (describe plan total)
    for i, p in Array.indexed parameters do
        let state = if plan.Prunable.IsPrunable i then "pruned" else "dense"
        printfn "  %-12s %-14s %10d  %s" p.Name (p.Shape |> Array.map string |> String.concat "x") p.Size state
    if steps.Length = 0 then printfn "No mask updates: the network stays dense."
    else
        let shown = if steps.Length <= 50 then steps else Schedule.milestones 21 plan.Schedule |> List.map (Plan.at plan) |> Array.ofList
        let width (p: Parameter) = max 8 p.Name.Length
        printfn ""
        printfn "%10s  %8s  %s  %10s" "step" "sparsity" (parameters |> Array.map (fun p -> p.Name.PadLeft(width p)) |> String.concat "  ") "non-zero"
        for s in shown do
            let layers =
                Array.map2 (fun p l -> (match target l with Some(sparsity, _) -> sparsity.ToString("F4", invariant) | None -> "pooled").PadLeft(width p)) parameters s.Layers
            printfn "%10d  %8.4f  %s  %10d" s.Step s.Sparsity (String.concat "  " layers) s.NonZero
        if shown.Length < steps.Length then
            printfn "(%d of %d update steps; --csv and --json write all of them)" shown.Length steps.Length

/// The flags of the pruning schedule, which a dynamic method's drop schedule does not read.
let private pruningOnly =
    [ ScheduleArgs.Kind Gradual; ScheduleArgs.Initial_Sparsity 0.0; ScheduleArgs.Ramp RampKind.Polynomial; ScheduleArgs.Power 0.0
      ScheduleArgs.Prune_Start ""; ScheduleArgs.Prune_End ""; ScheduleArgs.Prune_Every 0L; ScheduleArgs.Convention Zhu_Gupta; ScheduleArgs.Json ""; ScheduleArgs.Png "" ]

let private caseName (arg: ScheduleArgs) = (Microsoft.FSharp.Reflection.FSharpValue.GetUnionFields(arg, typeof<ScheduleArgs>) |> fst).Name

/// A flag's spelling on the command line (--prune-start).
let private flagName (arg: ScheduleArgs) = "--" + (caseName arg).ToLowerInvariant().Replace('_', '-')

/// Whether the command line gives the flag (of any value).
let private gives (args: ParseResults<ScheduleArgs>) (flag: ScheduleArgs) =
    args.GetAllResults() |> List.exists (fun given -> caseName given = caseName flag)

/// The drop schedule of SET or RigL over --total-steps, as `train` resolves it (DropFraction.jaxPrunerSpec at the
/// given drop fraction and period): refused with the pruning schedule's flags, which it does not read.
let private buildDrop (args: ParseResults<ScheduleArgs>) (method: SparseMethod) : Result<DropSchedule * int64, string> =
    Validate.result {
        do!
            match pruningOnly |> List.tryFind (gives args) with
            | Some flag -> Error(sprintf "%s applies to the pruning schedule (method gmp), not method %s's drop schedule" (flagName flag) (SparseMethod.name method))
            | None -> Ok()
        let! total = Validate.atLeast "total_steps" 1L (totalStepsOf args)
        let spec =
            { DropFraction.jaxPrunerSpec with
                DropFraction = args.GetResult(ScheduleArgs.Drop_Fraction, DropFraction.jaxPrunerSpec.DropFraction)
                RewireEvery = args.GetResult(ScheduleArgs.Rewire_Every, DropFraction.jaxPrunerSpec.RewireEvery) }
        let! drop = DropFraction.create total spec
        return drop, total
    }

/// Prints a dynamic method's drop fraction at its rewiring steps (all of them up to 50, else 21 spread over them) and
/// writes them as CSV (step,drop_fraction) when asked.
let private runDrop (args: ParseResults<ScheduleArgs>) (method: SparseMethod) : int =
    let drop, total = buildDrop args method |> orFail
    let steps = DropFraction.updateSteps drop |> Array.ofSeq
    let csv =
        args.TryGetResult ScheduleArgs.Csv
        |> Option.map (fun path ->
            let text = StringBuilder().AppendLine("step,drop_fraction")
            for t in steps do text.AppendLine(sprintf "%d,%s" t (round (DropFraction.at drop t))) |> ignore
            path, Encoding.UTF8.GetBytes(text.ToString()))
    let name = match method with SET -> "SET" | RigL -> "RigL" | m -> SparseMethod.name m
    printfn "%s: drop fraction %s at step 0, cosine to 0 at step %d; a rewiring every %d steps from step %d to %d (%d rewirings); %d training steps"
        name (Validate.show drop.Initial) drop.End drop.Period drop.Start drop.End steps.Length total
    if steps.Length = 0 then printfn "No rewirings: the masks stay as drawn at step 0."
    else
        let shown = if steps.Length <= 50 then steps else Array.init 21 (fun i -> steps[int (int64 i * int64 (steps.Length - 1) / 20L)])
        printfn ""
        printfn "%10s  %13s" "step" "drop_fraction"
        for t in shown do printfn "%10d  %13.4f" t (DropFraction.at drop t)
        if shown.Length < steps.Length then printfn "(%d of %d rewiring steps; --csv writes all of them)" shown.Length steps.Length
    csv |> Option.iter (fun (path, bytes) -> Files.writeAtomically path bytes; printfn "wrote %s" path)
    0

/// The pruning schedule: its table, and the files asked for.
let private runPruning (args: ParseResults<ScheduleArgs>) : int =
    for flag in [ ScheduleArgs.Drop_Fraction 0.0; ScheduleArgs.Rewire_Every 0L ] do
        if gives args flag then raise (UserError(sprintf "%s applies to --method set or rigl only" (flagName flag)))
    let plan, total = buildPlan args |> orFail
    let steps = Plan.updates plan |> Array.ofSeq
    // Everything is rendered before anything is written, so a failure leaves no file changed.
    let outputs =
        [ args.TryGetResult ScheduleArgs.Csv |> Option.map (fun path -> path, csv steps plan.Prunable.Parameters)
          args.TryGetResult ScheduleArgs.Json |> Option.map (fun path -> path, json plan total steps)
          args.TryGetResult ScheduleArgs.Png |> Option.map (fun path -> path, png plan total steps) ]
        |> List.choose id
    printTable plan total steps
    for path, bytes in outputs do
        Files.writeAtomically path bytes
        printfn "wrote %s" path
    0

/// Runs `prunerl schedule`: the pruning schedule, or with --method set or rigl their drop schedule.
let run (args: ParseResults<ScheduleArgs>) : int =
    match args.TryGetResult ScheduleArgs.Method with
    | Some method when SparseMethod.isDynamic method -> runDrop args method
    | Some method when method <> GMP ->
        raise (UserError(sprintf "method %s has no schedule: its masks are set at step 0 and never change (--method set or rigl shows a drop schedule; gmp the pruning schedule)" (SparseMethod.name method)))
    | _ -> runPruning args
