/// `prunerl sweep`: a grid of runs (environments x widths x sparsities x baselines x seeds, or any run
/// field; or the union of several such grids, a sweep file's "grids") trained by N local workers, or
/// submitted as one Slurm job array (SlurmLauncher). Each run is a `prunerl train` in its own folder, so
/// a crash stays with its run; a finished run is skipped, an unfinished one resumed, a failing one
/// reported. `--status` and `--resubmit-failed` read a results folder.
module Prunerl.Cli.SweepCommand

open System
open System.Diagnostics
open System.IO
open System.Runtime.InteropServices
open System.Threading
open Argu
open Spectre.Console
open Prunerl.Core
open Prunerl.Experiments
open Prunerl.Cli.UserError

[<RequireQualifiedAccess>]
type SweepArgs =
    | Config of file: string
    | [<AltCommandLine("-o")>] Out of directory: string
    | Agent of names: string
    | Env of ids: string
    | Width of multipliers: string
    | Sparsity of fractions: string
    | Baseline of names: string
    | Method of names: string
    | Seed of seeds: string
    | Steps of count: string
    | Set of assignment: string
    | Workers of count: int
    | Launcher of name: string
    | Cpus of count: string
    | Mem of size: string
    | Time of limit: string
    | Partition of name: string
    | Account of name: string
    | Gres of resources: string
    | Throttle of count: string
    | Status of directory: string
    | Resubmit_Failed of directory: string
    | Keep_Checkpoint
    | Dry_Run

    interface IArgParserTemplate with
        member this.Usage =
            match this with
            | Config _ -> "a JSON file of run fields, each a value or a list of values to sweep over, and optionally \"grids\": a list of such objects, each crossed with the other fields (the union is swept); flags replace their field everywhere."
            | Out _ -> "the results folder: one folder per run, named after its grid point (required)."
            | Agent _ -> sprintf "agents, comma-separated: %s (run names then carry the agent)." (Choices.agents |> List.map fst |> String.concat ", ")
            | Env _ -> "environment ids, comma-separated (repeatable)."
            | Width _ -> "width multipliers, comma-separated."
            | Sparsity _ -> "final sparsities, comma-separated; 0 is dense."
            | Baseline _ -> sprintf "baselines, comma-separated: %s." (Choices.baselines |> List.map fst |> String.concat ", ")
            | Method _ -> sprintf "sparse-training methods, comma-separated: %s (run names then carry the method; lottery needs a ticket: --set ticket=RUN, or a grid per ticket in a sweep file)." (Choices.methods |> List.map fst |> String.concat ", ")
            | Seed _ -> "seeds, comma-separated."
            | Steps _ -> "agent steps of every run (or several, comma-separated)."
            | Set _ -> "any other run field: --set field=value[,value...] (repeatable), e.g. --set replay_ratio=1,2."
            | Workers _ -> "local: runs trained at once, each a process on one torch thread (default: the number of cores)."
            | Launcher _ -> "local (default: worker processes here) or slurm (one Slurm job array, a task per run)."
            | Cpus _ -> "slurm: CPUs per task (default 1)."
            | Mem _ -> "slurm: memory per task, 4096M, 4G (a bare number is MiB; default: the cluster's)."
            | Time _ -> "slurm: time limit per task: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS."
            | Partition _ -> "slurm: partition (or a comma-separated list)."
            | Account _ -> "slurm: account charged."
            | Gres _ -> "slurm: generic resources per task, e.g. gpu:1."
            | Throttle _ -> "slurm: at most this many tasks at once (the array's %N)."
            | Status _ -> "summarise the runs of a results folder: pending, running, finished, failed, interrupted, lost."
            | Resubmit_Failed _ -> "slurm: submit a results folder's failed, interrupted and lost runs again, each resuming from its checkpoint."
            | Keep_Checkpoint -> "local: each finished run keeps its last checkpoint (replay and all); without it only its final network is kept."
            | Dry_Run -> "list the grid's runs and what would happen to each (slurm: print the batch script and the task -> run mapping), and write nothing."

/// A flag's comma-separated values; an empty item (`cartpole,`, `1,,2`) is refused naming the field, as
/// a typo that would otherwise vanish.
let splitValues (field: string) (text: string) : string list =
    let items = text.Split(',', StringSplitOptions.TrimEntries) |> List.ofArray
    if items |> List.exists ((=) "") then
        raise (UserError(sprintf "%s: an empty item in '%s' (a comma too many); list values as a,b,c" field text))
    items

/// The axes the flags give, in the order given; a field given twice takes the values of both.
let private flagAxes (args: ParseResults<SweepArgs>) : (string * FieldValue list) list =
    let axis (arg: SweepArgs) =
        let split name (v: string) = Some(name, splitValues name v)
        match arg with
        | SweepArgs.Agent v -> split "agent" v
        | SweepArgs.Env v -> split "env" v
        | SweepArgs.Width v -> split "width" v
        | SweepArgs.Sparsity v -> split "sparsity" v
        | SweepArgs.Baseline v -> split "baseline" v
        | SweepArgs.Method v -> split "method" v
        | SweepArgs.Seed v -> split "seed" v
        | SweepArgs.Steps v -> split "steps" v
        | SweepArgs.Set assignment ->
            match assignment.Split('=', 2) with
            | [| name; values |] when name.Trim() <> "" ->
                RunFields.field (name.Trim()) |> Result.mapError (sprintf "set: %s") |> orFail |> ignore
                split (name.Trim()) values
            | _ -> raise (UserError(sprintf "set must be field=value[,value...], got '%s'" assignment))
        | _ -> None
    args.GetAllResults()
    |> List.choose axis
    |> List.groupBy fst
    |> List.map (fun (name, parts) -> name, parts |> List.collect snd |> List.map Text)

/// The sweep file's members that say how to launch the grid rather than what a run is.
let private launcherKeys = [ "launcher"; "slurm" ]

/// The sweep file's run fields as axes, its grids and its launcher members; nothing without a file.
let private sweepFile (args: ParseResults<SweepArgs>) =
    match args.TryGetResult SweepArgs.Config with
    | Some path -> RunFolder.readSweepFile launcherKeys "config" path
    | None -> [], None, []

/// The resource fields the flags give, named as the sweep file's "slurm" object names them.
let private resourceFlags (args: ParseResults<SweepArgs>) : (string * string) list =
    args.GetAllResults()
    |> List.choose (fun arg ->
        match arg with
        | SweepArgs.Cpus v -> Some("cpus", v)
        | SweepArgs.Mem v -> Some("memory", v)
        | SweepArgs.Time v -> Some("time_limit", v)
        | SweepArgs.Partition v -> Some("partition", v)
        | SweepArgs.Account v -> Some("account", v)
        | SweepArgs.Gres v -> Some("gres", v)
        | SweepArgs.Throttle v -> Some("throttle", v)
        | _ -> None)

/// The launcher (the flag, else the file's "launcher", else local) and the resource fields (the
/// file's "slurm" object, then the flags).
let private launcher (args: ParseResults<SweepArgs>) (fileMembers: (string * Text.Json.JsonElement) list) =
    let fromFile = fileMembers |> List.tryFind (fst >> (=) "launcher") |> Option.map snd
    let name =
        match args.TryGetResult SweepArgs.Launcher, fromFile with
        | Some name, _ -> name
        | None, Some e when e.ValueKind = Text.Json.JsonValueKind.String -> e.GetString() |> nonNull
        | None, Some e -> raise (UserError(sprintf "config: launcher must be \"local\" or \"slurm\", got a JSON %O" e.ValueKind))
        | None, None -> "local"
    let fileResources =
        fileMembers |> List.tryFind (fst >> (=) "slurm") |> Option.map (snd >> SlurmLauncher.readResourceFields "config: slurm") |> Option.defaultValue []
    match name with
    | "local" | "slurm" -> name, fileResources @ resourceFlags args
    | other -> raise (UserError(sprintf "launcher must be local or slurm, got '%s'" other))

/// The file's shared axes with the flags' fields replacing theirs in place, then the flags' other
/// fields; and its grids (one grid of no fields without "grids") less the fields the flags give: a flag
/// sets its field in every run.
let private axes (args: ParseResults<SweepArgs>) (fromFile: (string * FieldValue list) list) (grids: (string * FieldValue list) list list option) =
    let fromFlags = flagAxes args
    let flagged name = List.exists (fst >> (=) name) fromFlags
    let replaced = fromFile |> List.map (fun (name, values) -> name, (fromFlags |> List.tryFind (fst >> (=) name) |> Option.map snd |> Option.defaultValue values))
    replaced @ (fromFlags |> List.filter (fun (name, _) -> not (List.exists (fst >> (=) name) fromFile))),
    grids |> Option.defaultValue [ [] ] |> List.map (List.filter (fst >> flagged >> not))

/// What the sweep does with one run of the grid.
type Action =
    /// It finished before: nothing to do.
    | Skip
    /// Train it from the start.
    | Start
    /// Continue it from its checkpoint (or start it over when it has none).
    | Continue
    /// Its folder holds another run: leave it alone and report it.
    | Refuse of reason: string
    /// Another process is writing it (an earlier sweep's worker still running): leave it to that one.
    | Busy of holder: string

/// How a run ended in this sweep.
type Outcome =
    { Name: string
      Result: string
      Failed: bool
      Seconds: float }

/// The action a run's folder calls for, given the grid's config for it.
let private actionFor (folder: string) (config: RunConfig) =
    match RunFolder.tryReadStatus folder, RunLock.holder folder with
    | _, Some holder -> Busy holder
    | Some status, None when status.State = RunState.Finished -> Skip
    | status, None ->
        let stored =
            try RunFolder.tryReadConfig folder |> Option.map Ok
            with UserError e -> Some(Error e)
        match stored with
        | Some(Error e) -> Refuse e
        | Some(Ok stored) ->
            match Resolution.agrees stored (RunFields.toFields config) with
            | Error e -> Refuse(sprintf "its config.json is another run's (%s)" e)
            | Ok() -> if status.IsSome then Continue else Start
        | None when Directory.Exists folder && not (RunFolder.isFreshFor config folder) ->
            Refuse "the folder holds files but no config.json"
        | None -> Start

[<DllImport("libc", SetLastError = true)>]
extern int private kill(int pid, int signal)

/// Trains one run in a child process, its standard output and error appended to the run's train.log
/// (RunFormat.TrainLog); its outcome from the exit code, status.json and its last error line.
let private train (folder: string) (resume: bool) (keepCheckpoint: bool) (children: Collections.Concurrent.ConcurrentDictionary<int, Process>) (stopping: unit -> bool) =
    let program = SlurmLauncher.thisProgram ()
    let flags = (if resume then [ "--resume" ] else []) @ (if keepCheckpoint then [ "--keep-checkpoint" ] else [])
    let info = ProcessStartInfo(List.head program, List.tail program @ [ "train"; "--config"; RunFolder.configPath folder; "--out"; folder ] @ flags)
    info.RedirectStandardOutput <- true
    info.RedirectStandardError <- true
    info.UseShellExecute <- false
    // One torch thread per worker: the workers share the cores.
    info.Environment["OMP_NUM_THREADS"] <- "1"
    info.Environment["MKL_NUM_THREADS"] <- "1"
    use log = new StreamWriter(new FileStream(Path.Combine(folder, RunFormat.TrainLog), FileMode.Append, FileAccess.Write, FileShare.Read), Text.UTF8Encoding(false))
    log.AutoFlush <- true
    log.WriteLine(sprintf "# %s: %s %s" (DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", Globalization.CultureInfo.InvariantCulture)) info.FileName (String.Join(" ", info.ArgumentList)))
    let lastError = ref None
    let append (isError: bool) (line: string | null) =
        match line with
        | null -> ()
        | line ->
            lock log (fun () ->
                log.WriteLine line
                if isError && line.Trim() <> "" then lastError.Value <- Some(line.Trim()))
    use child = new Process(StartInfo = info)
    child.OutputDataReceived.Add(fun e -> append false e.Data)
    child.ErrorDataReceived.Add(fun e -> append true e.Data)
    child.Start() |> ignore
    children[child.Id] <- child
    // A SIGTERM that came while it started has not reached it.
    if stopping () then kill (child.Id, 15) |> ignore
    child.BeginOutputReadLine()
    child.BeginErrorReadLine()
    // Without a timeout, WaitForExit also waits for the end of both streams.
    child.WaitForExit()
    children.TryRemove child.Id |> ignore
    let lastError = lock log (fun () -> lastError.Value) |> Option.map (fun line -> if line.StartsWith "prunerl: " then line.Substring 9 else line)
    let status = RunFolder.tryReadStatus folder
    match child.ExitCode, status with
    | 0, _ -> "finished", false
    | (130 | 143), _ -> sprintf "interrupted at step %d" (status |> Option.map _.Step |> Option.defaultValue 0L), true
    | _, Some { State = RunState.Failed; Error = Some e } -> "failed: " + e, true
    | code, _ -> sprintf "failed (exit code %d): %s" code (lastError |> Option.defaultValue "no message"), true

/// The last evaluation's mean return in a run's metrics.csv, if any.
let private lastReturn (folder: string) =
    let path = Path.Combine(folder, RunFormat.MetricsCsv)
    if not (File.Exists path) then None
    else
        File.ReadLines path
        |> Seq.filter (fun line -> line.Contains("," + RunFormat.EvalReturn + ","))
        |> Seq.tryLast
        |> Option.map (fun line -> line.Split(',')[2])

let private printTable (outcomes: Outcome list) (results: string) =
    // Redirected, the table is as wide as its cells (no terminal to fit), so each run stays on one line for scripts.
    if Console.IsOutputRedirected then AnsiConsole.Profile.Width <- 4096
    let table = Table()
    table.Title <- TableTitle(sprintf "Sweep in %s" results)
    table.AddColumns("run", "outcome", "last eval return", "seconds") |> ignore
    for o in outcomes do
        let last = lastReturn (Path.Combine(results, o.Name)) |> Option.defaultValue "-"
        table.AddRow(Markup.Escape o.Name, Markup.Escape o.Result, last, (if o.Seconds > 0.0 then sprintf "%.1f" o.Seconds else "-")) |> ignore
    AnsiConsole.Write table

/// The agent steps a run to train has left: its length less the step its status.json says it reached.
let private stepsLeft (results: string) (name: string) (config: RunConfig) =
    config.Steps - (RunFolder.tryReadStatus (Path.Combine(results, name)) |> Option.map _.Step |> Option.defaultValue 0L)

/// The grid on local worker processes, followed live (SweepProgress); each finished run keeps its
/// checkpoint when `keepCheckpoint`.
let private runLocal (dryRun: bool) (keepCheckpoint: bool) (results: string) (workers: int) (planned: (string * RunConfig * Action) list) =
    let describe action =
        match action with
        | Skip -> "skip: finished before"
        | Start -> "start"
        | Continue -> "continue (from its checkpoint, if it has one)"
        | Refuse reason -> "refused: " + reason
        | Busy holder -> "skip: in use by " + holder
    if dryRun then
        printfn "%d runs in %s:" planned.Length results
        for name, _, action in planned do
            printfn "  %-48s  %s" name (describe action)
        0
    else
        let children = Collections.Concurrent.ConcurrentDictionary<int, Process>()
        let mutable signal = 0
        let stopping () = Volatile.Read &signal <> 0
        // Ctrl-C reaches the workers too (one process group); a SIGTERM to the sweep alone is passed on.
        use _sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, fun context -> context.Cancel <- true; Interlocked.CompareExchange(&signal, 130, 0) |> ignore)
        use _sigterm =
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, fun context ->
                context.Cancel <- true
                Interlocked.CompareExchange(&signal, 143, 0) |> ignore
                for pid in children.Keys do kill (pid, 15) |> ignore)
        let toTrain = planned |> List.filter (fun (_, _, a) -> a = Start || a = Continue) |> List.length
        printfn "Sweep of %d runs in %s: %d to train with %d workers" planned.Length results toTrain workers
        try Directory.CreateDirectory results |> ignore
        with :? IOException | :? UnauthorizedAccessException as e -> raise (UserError(sprintf "out: cannot create %s: %s" results (e.Message.Split('\n').[0])))
        let queue = Collections.Concurrent.ConcurrentQueue(planned |> List.indexed)
        let outcomes = Array.zeroCreate<Outcome> planned.Length
        let live = TrainingDisplay.isTerminal ()
        let tracker =
            SweepProgress.Tracker(results, [ for name, config, action in planned do if action = Start || action = Continue then name, stepsLeft results name config ])
        // Plain output prints the workers' lines as they come; the live panel shows the last few.
        let announce (line: string) = if not live then lock outcomes (fun () -> printfn "%s" line)
        let worker () =
            let mutable item = Unchecked.defaultof<_>
            while queue.TryDequeue(&item) do
                let index, (name, config, action) = item
                let folder = Path.Combine(results, name)
                let clock = Stopwatch.StartNew()
                let result, failed =
                    match action with
                    | Skip -> "skipped: finished before", false
                    | Refuse reason -> "refused: " + reason, true
                    | Busy holder -> "skipped: in use by " + holder, false
                    | _ when stopping () -> "not started: the sweep was interrupted", false
                    // An earlier worker of this run may have gone on since the plan: never a second writer.
                    | _ when (RunLock.holder folder).IsSome -> "skipped: in use by " + (RunLock.holder folder |> Option.defaultValue "another process"), false
                    | Start | Continue ->
                        if action = Start then
                            Directory.CreateDirectory folder |> ignore
                            RunFolder.writeConfig folder config
                        tracker.Started name
                        announce (sprintf "  started   %s" name)
                        train folder (action = Continue) keepCheckpoint children stopping
                outcomes[index] <- { Name = name; Result = result; Failed = failed; Seconds = (if action = Start || action = Continue then clock.Elapsed.TotalSeconds else 0.0) }
                if action = Start || action = Continue then
                    let line = sprintf "  %-9s %s: %s (%.1f s)" "ended" name result clock.Elapsed.TotalSeconds
                    tracker.Ended(name, line.Trim())
                    announce line
        let threads = [ for _ in 1 .. min workers (max 1 planned.Length) -> Thread(worker) ]
        for t in threads do t.Start()
        SweepProgress.follow tracker live outcomes (fun () -> threads |> List.exists _.IsAlive)
        for t in threads do t.Join()
        printfn ""
        let outcomes = List.ofArray outcomes
        printTable outcomes results
        let failed = outcomes |> List.filter _.Failed |> List.length
        printfn "%d finished or skipped, %d failed or interrupted" (outcomes.Length - failed) failed
        if stopping () then signal
        elif failed > 0 then 1
        else 0

/// The grid as one Slurm job array: every run that has not finished and is not queued already gets a
/// folder (config.json, status pending) and a task.
let private launchSlurm (results: string) (resources: SlurmResources) (planned: (string * RunConfig * Action) list) (dryRun: bool) =
    match planned |> List.tryPick (fun (name, _, action) -> match action with Refuse reason -> Some(name, reason) | _ -> None) with
    | Some(name, reason) -> raise (UserError(sprintf "out: the run %s cannot be submitted: %s" name reason))
    | None -> ()
    let folder name = Path.Combine(results, name)
    let queue = SlurmLauncher.queuedTasks ()
    let decided =
        planned
        |> List.map (fun (name, config, action) ->
            match action, SlurmLauncher.queuedTask queue (folder name) with
            | Skip, _ -> name, config, action, "skip: finished before"
            | Busy holder, _ -> name, config, Skip, "skip: in use by " + holder
            | _, Some task -> name, config, Skip, sprintf "skip: queued or running as Slurm task %s" task
            | Continue, None -> name, config, action, "submit (continues from its checkpoint, if it has one)"
            | _ -> name, config, action, "submit")
    let toSubmit = decided |> List.filter (fun (_, _, action, _) -> action <> Skip)
    if not dryRun && not toSubmit.IsEmpty then SlurmLauncher.requireSbatch ()
    printfn "%d runs in %s:" decided.Length results
    for name, _, _, what in decided do
        printfn "  %-48s  %s" name what
    let folders = toSubmit |> List.map (fun (name, _, _, _) -> folder name)
    if toSubmit.IsEmpty then
        printfn "Nothing to submit."
        0
    elif dryRun then
        SlurmLauncher.printDryRun results resources folders
        0
    else
        for name, config, action, _ in toSubmit do
            if action = Start then
                Directory.CreateDirectory(folder name) |> ignore
                RunFolder.writeConfig (folder name) config
            SlurmLauncher.markPending (folder name) config.Steps
        SlurmLauncher.submit results resources folders

/// Every run of a sweep's grids (the shared axes crossed with each grid) resolved and checked, each with
/// what the sweep does with it in the results folder; nothing is written.
let private plan (results: string) (shared: (string * FieldValue list) list) (grids: (string * FieldValue list) list list) =
    let absolute = List.map (fun (name, values) -> name, values |> List.collect (fun v -> RunInputs.absolutePaths [ name, v ] |> List.map snd))
    let runs = Sweep.planGrids Prunerl.Agents.Training.TrainingRun.Environments (absolute shared) (List.map absolute grids) |> Result.mapError (sprintf "sweep: %s") |> orFail
    // Each dataset is checked against each environment once, before any run starts.
    runs |> List.map snd |> List.distinctBy (fun c -> c.Agent, c.Env, c.Dataset) |> List.iter RunInputs.checkDataset
    // Each lottery run's ticket is checked before any run starts: its gmp run must have finished (a sweep of lottery
    // tickets follows the sweep of the runs that found them).
    runs |> List.map snd |> List.iter RunInputs.checkTicket
    // What a run allocates, against the memory free now (each worker's run on its own).
    let memory = RunFolder.availableMemory ()
    runs |> List.iter (fun (name, c) -> RunValidation.fits Prunerl.Agents.Training.TrainingRun.Environments memory c |> Result.mapError (sprintf "sweep: %s: %s" name) |> orFail |> ignore)
    RunFolder.checkWritable "out" results
    runs |> List.map (fun (name, config) -> name, config, actionFor (Path.Combine(results, name)) config)

/// Trains a grid of runs (fields and their values, as a sweep file gives them) into a results folder with
/// `workers` processes at once, skipping finished runs and continuing interrupted ones; the sweep's exit
/// code. What `prunerl study` calls.
let sweepLocal (results: string) (workers: int) (axes: (string * FieldValue list) list) : int =
    runLocal false false results workers (plan results axes [ [] ])

/// Runs `prunerl sweep`: a grid on the chosen launcher, or `--status` / `--resubmit-failed` of a results folder.
let run (args: ParseResults<SweepArgs>) : int =
    let dryRun = args.Contains SweepArgs.Dry_Run
    match args.TryGetResult SweepArgs.Status, args.TryGetResult SweepArgs.Resubmit_Failed with
    | Some _, Some _ -> raise (UserError "status and resubmit_failed: give one of them")
    | Some results, None -> SlurmLauncher.printStatus results
    | None, Some results ->
        if not (Directory.Exists results) then raise (UserError(sprintf "resubmit_failed: %s is not a folder" results))
        SlurmLauncher.resubmitFailed results (resourceFlags args) dryRun
    | None, None ->
        let fileAxes, fileGrids, fileMembers = sweepFile args
        let launcherName, resourceFields = launcher args fileMembers
        let results =
            match args.TryGetResult SweepArgs.Out with
            | Some out when String.IsNullOrWhiteSpace out -> raise (UserError "out must name a folder, got ''")
            | Some out -> out
            | None -> raise (UserError "out is required: the results folder that gets one folder per run")
        let resources =
            match launcherName with
            | "slurm" ->
                if args.Contains SweepArgs.Workers then raise (UserError "workers applies to --launcher local; Slurm runs one task per run (limit them with --throttle)")
                if args.Contains SweepArgs.Keep_Checkpoint then raise (UserError "keep_checkpoint applies to --launcher local; a Slurm task keeps only its run's final network")
                Some(SlurmLauncher.resources resourceFields)
            | _ ->
                match resourceFlags args with
                | (field, _) :: _ -> raise (UserError(sprintf "%s: resource flags apply to --launcher slurm only" field))
                | [] -> None
        let workers = args.GetResult(SweepArgs.Workers, Environment.ProcessorCount)
        if workers < 1 then raise (UserError(sprintf "workers must be >= 1, got %d" workers))
        let shared, grids = axes args fileAxes fileGrids
        let planned = plan results shared grids
        match resources with
        | Some resources -> launchSlurm results resources planned dryRun
        | None -> runLocal dryRun (args.Contains SweepArgs.Keep_Checkpoint) results workers planned
