/// `prunerl sweep --launcher slurm`: a sweep's runs as one Slurm job array, each task a
/// `prunerl train --resume-if-exists` of its run, and what the results folder says about them afterwards.
/// Each submission lives in <results>/.slurm/<time>/: the batch script (job.sh), the manifest (task i ->
/// line i + 1), the resources (resources.json, what a resubmission starts from) and the tasks' logs;
/// each submitted run gets a slurm.json naming its job, task and log.
module Prunerl.Cli.SlurmLauncher

open System
open System.ComponentModel
open System.Diagnostics
open System.Globalization
open System.IO
open System.Text.Json
open Spectre.Console
open Prunerl.Core
open Prunerl.Experiments
open Prunerl.Cli.UserError

/// The resource fields, as the sweep file's "slurm" object and resources.json name them.
let resourceFields = [ "cpus"; "memory"; "time_limit"; "partition"; "account"; "gres"; "throttle" ]

/// Resource fields from a JSON object (the sweep file's "slurm" member, or resources.json): numbers
/// and strings as their text, null as unset; another key or kind of value is a one-line error.
let readResourceFields (what: string) (element: JsonElement) : (string * string) list =
    if element.ValueKind <> JsonValueKind.Object then
        raise (UserError(sprintf "%s must be a JSON object of %s, got a JSON %O" what (String.concat ", " resourceFields) element.ValueKind))
    [ for p in element.EnumerateObject() do
          if not (List.contains p.Name resourceFields) then
              raise (UserError(sprintf "%s: unknown field '%s'; the fields are %s" what p.Name (String.concat ", " resourceFields)))
          match p.Value.ValueKind with
          | JsonValueKind.Null -> ()
          | JsonValueKind.String -> yield p.Name, p.Value.GetString() |> nonNull
          | JsonValueKind.Number -> yield p.Name, p.Value.GetRawText()
          | kind -> raise (UserError(sprintf "%s: %s must be a string or a number, got a JSON %O" what p.Name kind)) ]

/// The resources the fields ask for (later fields replace earlier ones), checked by the core.
let resources (fields: (string * string) list) : SlurmResources =
    let get name = fields |> List.filter (fst >> (=) name) |> List.tryLast |> Option.map snd
    let whole name (text: string) =
        match Int32.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture) with
        | true, n -> n
        | _ -> raise (UserError(sprintf "%s must be a whole number, got '%s'" name text))
    { Slurm.defaults with
        Cpus = get "cpus" |> Option.map (whole "cpus") |> Option.defaultValue Slurm.defaults.Cpus
        MemoryMegabytes = get "memory" |> Option.map (Slurm.parseMemory >> orFail)
        TimeLimitSeconds = get "time_limit" |> Option.map (Slurm.parseTimeLimit >> orFail)
        Partition = get "partition"
        Account = get "account"
        Gres = get "gres"
        Throttle = get "throttle" |> Option.map (whole "throttle") }
    |> Slurm.validate
    |> orFail

/// The resources as resources.json holds them (readResourceFields reads them back).
let private resourcesJson (r: SlurmResources) : byte[] =
    use buffer = new MemoryStream()
    do
        use writer = new Utf8JsonWriter(buffer, JsonWriterOptions(Indented = true))
        writer.WriteStartObject()
        writer.WriteNumber("cpus", r.Cpus)
        let text (name: string) (value: string option) = match value with Some v -> writer.WriteString(name, v) | None -> writer.WriteNull name
        text "memory" (r.MemoryMegabytes |> Option.map Slurm.formatMemory)
        text "time_limit" (r.TimeLimitSeconds |> Option.map Slurm.formatTimeLimit)
        text "partition" r.Partition
        text "account" r.Account
        text "gres" r.Gres
        match r.Throttle with Some n -> writer.WriteNumber("throttle", n) | None -> writer.WriteNull "throttle"
        writer.WriteEndObject()
    Array.append (buffer.ToArray()) "\n"B

/// The command that runs this very program again, by absolute paths, so that another process (a
/// worker, a compute node sharing the file system) runs the same build: the apphost, or `dotnet prunerl.dll`.
let thisProgram () : string list =
    let host = Environment.ProcessPath |> nonNull |> Path.GetFullPath
    if Path.GetFileNameWithoutExtension host = "dotnet" then
        [ host; Reflection.Assembly.GetEntryAssembly() |> nonNull |> _.Location |> Path.GetFullPath ]
    else [ host ]

/// What each task runs: this program's `train` of its run, resuming it when it has started.
let private taskCommand () =
    thisProgram () @ [ "train"; "--config"; Slurm.RunPlaceholder + "/" + RunFormat.ConfigFile; "--out"; Slurm.RunPlaceholder; "--resume-if-exists" ]

/// The folder of a results folder's submissions.
let private submissionsPath (results: string) = Path.Combine(results, ".slurm")

/// The run's record of the task it was last submitted as.
let private recordPath (run: string) = Path.Combine(run, RunFormat.SlurmFile)

/// Where a run was last submitted: its array task ("<job>_<task>", as squeue names it) and its log.
type Record = { Task: string; Log: string }

let private tryReadRecord (run: string) : Record option =
    try
        use document = JsonDocument.Parse(File.ReadAllText(recordPath run))
        let root = document.RootElement
        Some
            { Task = sprintf "%d_%d" (root.GetProperty("job_id").GetInt64()) (root.GetProperty("task").GetInt32())
              Log = root.GetProperty("log").GetString() |> nonNull }
    with :? IOException | :? JsonException | :? InvalidOperationException | :? Collections.Generic.KeyNotFoundException | :? UnauthorizedAccessException -> None

let private writeRecord (run: string) (jobId: int64) (task: int) (submission: string) (log: string) =
    use buffer = new MemoryStream()
    do
        use writer = new Utf8JsonWriter(buffer, JsonWriterOptions(Indented = true))
        writer.WriteStartObject()
        writer.WriteNumber("job_id", jobId)
        writer.WriteNumber("task", task)
        writer.WriteString("submission", submission)
        writer.WriteString("log", log)
        writer.WriteEndObject()
    Files.writeAtomically (recordPath run) (Array.append (buffer.ToArray()) "\n"B)

/// Runs a program to its end: exit code, standard output, standard error; None when it cannot be started.
let private runProgram (program: string) (args: string list) : (int * string * string) option =
    let info = ProcessStartInfo(program, args)
    info.RedirectStandardOutput <- true
    info.RedirectStandardError <- true
    info.UseShellExecute <- false
    try
        use p = Process.Start info |> nonNull
        let errors = p.StandardError.ReadToEndAsync()
        let output = p.StandardOutput.ReadToEnd()
        p.WaitForExit()
        Some(p.ExitCode, output, errors.Result)
    with :? Win32Exception -> None

/// This user's array tasks in Slurm's queue, pending or running, as "<job>_<task>" (squeue -r: one line
/// per task); None when squeue cannot be run or fails (no Slurm here), so nothing can be called lost.
let queuedTasks () : Set<string> option =
    match runProgram "squeue" [ "-h"; "-r"; "-u"; Environment.UserName; "-o"; "%i" ] with
    | Some(0, output, _) -> Some(output.Split('\n', StringSplitOptions.RemoveEmptyEntries ||| StringSplitOptions.TrimEntries) |> Set.ofArray)
    | _ -> None

/// The run's Slurm task when it is in the queue (pending or running).
let queuedTask (queue: Set<string> option) (run: string) : string option =
    match queue, tryReadRecord run with
    | Some q, Some r when q.Contains r.Task -> Some r.Task
    | _ -> None

/// A run as the results folder and Slurm's queue show it.
type RunView =
    { Name: string
      Folder: string
      /// Its status's state (pending without one), or lost: pending or running by its status, but its
      /// task is no longer in Slurm's queue (killed without a chance to say so).
      State: RunState
      Step: int64
      TotalSteps: int64
      Task: string option
      /// Its status's error, or for a lost or failed run where to read why.
      Problem: string option }

/// The runs of a results folder (its sub-folders that hold a config.json), read after the queue, so
/// that a task that ends in between has written its final status before it is read.
let view (results: string) (queue: Set<string> option) : RunView list =
    if not (Directory.Exists results) then raise (UserError(sprintf "status: %s is not a folder" results))
    [ for folder in Directory.GetDirectories results |> Array.sort do
          let name = Path.GetFileName folder
          if not (name.StartsWith ".") && File.Exists(RunFolder.configPath folder) then
              let status = RunFolder.tryReadStatus folder
              let record = tryReadRecord folder
              let stated = status |> Option.map _.State |> Option.defaultValue RunState.Pending
              let gone = match record, queue with Some r, Some q -> not (q.Contains r.Task) | _ -> false
              let state = if (stated = RunState.Pending || stated = RunState.Running) && gone then RunState.Lost else stated
              let log = record |> Option.map (fun r -> "log " + r.Log)
              yield
                  { Name = name
                    Folder = folder
                    State = state
                    Step = status |> Option.map _.Step |> Option.defaultValue 0L
                    TotalSteps = status |> Option.map _.TotalSteps |> Option.defaultValue 0L
                    Task = record |> Option.map _.Task
                    Problem =
                      match state, status |> Option.bind _.Error with
                      | _, Some e -> Some(e + (log |> Option.map (sprintf " (%s)") |> Option.defaultValue ""))
                      | RunState.Lost, None -> Some(sprintf "task %s is no longer in Slurm's queue; %s" (Option.get record).Task (Option.get log))
                      | RunState.Failed, None -> log
                      | _ -> None } ]

/// The states that a resubmission takes up.
let private resubmittable = [ RunState.Failed; RunState.Interrupted; RunState.Lost ]

/// The runs that `--resubmit-failed` submits again: failed, interrupted and lost ones.
let toResubmit (runs: RunView list) = runs |> List.filter (fun r -> List.contains r.State resubmittable)

/// Prints the runs' table and the count of each state; `prunerl sweep --status`.
let printStatus (results: string) =
    let queue = queuedTasks ()
    let runs = view results queue
    if Console.IsOutputRedirected then AnsiConsole.Profile.Width <- 4096
    let table = Table()
    table.Title <- TableTitle(sprintf "Runs in %s" results)
    table.AddColumns("run", "state", "step", "slurm task", "error") |> ignore
    for r in runs do
        table.AddRow(Markup.Escape r.Name, RunFormat.stateName r.State, sprintf "%d/%d" r.Step r.TotalSteps, defaultArg r.Task "-", Markup.Escape(defaultArg r.Problem "")) |> ignore
    AnsiConsole.Write table
    let counts = [ for s, name in RunFormat.states -> name, runs |> List.filter (fun r -> r.State = s) |> List.length ]
    printfn "%d runs: %s" runs.Length (counts |> List.map (fun (s, n) -> sprintf "%d %s" n s) |> String.concat ", ")
    if queue.IsNone then printfn "(squeue could not be run: states are as the runs' status files say; none can be called lost)"
    if not (List.isEmpty (toResubmit runs)) then printfn "Submit the failed, interrupted and lost runs again with: prunerl sweep --resubmit-failed %s" results
    0

/// A submission's folder and the job it describes, before anything is written.
let private prepare (results: string) (resources: SlurmResources) (runs: string list) =
    let results = Path.GetFullPath results
    let stamp = DateTime.UtcNow.ToString("yyyyMMdd-HHmmss-fff", CultureInfo.InvariantCulture)
    let submission = Path.Combine(submissionsPath results, stamp)
    let job =
        { Resources = resources
          ResultsDir = results
          LogDir = Path.Combine(submission, "logs")
          Manifest = Path.Combine(submission, "manifest.txt")
          Runs = runs |> List.map Path.GetFullPath
          Command = taskCommand () }
    let script = Slurm.batchScript job |> Result.mapError (sprintf "slurm: %s") |> orFail
    submission, job, script

let private printMapping (job: SlurmArrayJob) =
    printfn "Array task -> run:"
    job.Runs |> List.iteri (fun i run -> printfn "  %4d  %s" i run)

/// Prints the batch script and the task -> run mapping a submission would use; writes nothing.
let printDryRun (results: string) (resources: SlurmResources) (runs: string list) =
    let submission, job, script = prepare results resources runs
    printfn "Batch script (%s):" (Path.Combine(submission, "job.sh"))
    printf "%s" script
    printfn ""
    printMapping job

/// Checks that sbatch can be run, before anything is written.
let requireSbatch () =
    match runProgram "sbatch" [ "--version" ] with
    | Some(0, _, _) -> ()
    | _ -> raise (UserError "launcher slurm: sbatch cannot be run here (is Slurm's client on PATH, SLURM_CONF set?)")

/// Submits the prepared runs (folders with config.json and a pending status) as one job array and
/// records its task in each run's slurm.json. When sbatch refuses, each run's status says why (failed),
/// so that nothing is left pending silently; the exit code is then 1.
let submit (results: string) (resources: SlurmResources) (runs: string list) : int =
    let submission, job, script = prepare results resources runs
    Directory.CreateDirectory job.LogDir |> ignore
    Files.writeAtomically job.Manifest (Text.Encoding.UTF8.GetBytes(Slurm.manifest job.Runs))
    Files.writeAtomically (Path.Combine(submission, "resources.json")) (resourcesJson resources)
    let scriptPath = Path.Combine(submission, "job.sh")
    Files.writeAtomically scriptPath (Text.Encoding.UTF8.GetBytes script)
    let outcome =
        match runProgram "sbatch" [ "--parsable"; scriptPath ] with
        | None -> Error "sbatch could not be started"
        | Some(0, output, _) -> Slurm.parseJobId output
        | Some(code, _, errors) ->
            let line = errors.Split('\n', StringSplitOptions.RemoveEmptyEntries ||| StringSplitOptions.TrimEntries) |> Array.tryLast
            Error(sprintf "sbatch refused the job (exit code %d): %s" code (defaultArg line "no message"))
    match outcome with
    | Ok jobId ->
        Files.writeAtomically (Path.Combine(submission, "job_id")) (Text.Encoding.UTF8.GetBytes(sprintf "%d\n" jobId))
        job.Runs |> List.iteri (fun task run -> writeRecord run jobId task submission (Path.Combine(job.LogDir, sprintf "%d_%d.out" jobId task)))
        printfn "Submitted job array %d: %d tasks (%s); script, manifest and logs in %s" jobId job.Runs.Length (Slurm.arraySpec job.Runs.Length resources.Throttle) submission
        printMapping job
        printfn "Follow it with: prunerl sweep --status %s" job.ResultsDir
        0
    | Error e ->
        for run in job.Runs do
            let total = RunFolder.tryReadStatus run |> Option.map _.TotalSteps |> Option.defaultValue 0L
            let step = RunFolder.tryReadStatus run |> Option.map _.Step |> Option.defaultValue 0L
            RunFolder.writeStatus run (RunFormat.status RunState.Failed step total (Some("not submitted: " + e)))
        eprintfn "prunerl: %s (the runs are marked failed; script in %s)" e submission
        1

/// The resource fields of the latest submission in a results folder (what a resubmission starts from).
let lastResourceFields (results: string) : (string * string) list =
    let folder = submissionsPath results
    if not (Directory.Exists folder) then []
    else
        Directory.GetDirectories folder
        |> Array.sort
        |> Array.rev
        |> Array.map (fun s -> Path.Combine(s, "resources.json"))
        |> Array.tryFind File.Exists
        |> Option.map (fun path ->
            let text = File.ReadAllText path
            use document = JsonDocument.Parse text
            readResourceFields path document.RootElement)
        |> Option.defaultValue []

/// Marks a run pending for its next submission, keeping how far it got.
let markPending (run: string) (totalSteps: int64) =
    let step = RunFolder.tryReadStatus run |> Option.map _.Step |> Option.defaultValue 0L
    RunFolder.writeStatus run (RunFormat.status RunState.Pending step totalSteps None)

/// `prunerl sweep --resubmit-failed DIR`: the failed, interrupted and lost runs as a new job array,
/// each resuming from its checkpoint; the resources of the last submission unless `fields` replace them.
let resubmitFailed (results: string) (fields: (string * string) list) (dryRun: bool) : int =
    let resources = resources (lastResourceFields results @ fields)
    let runs = view results (queuedTasks ()) |> toResubmit
    if runs.IsEmpty then
        printfn "No failed, interrupted or lost runs in %s: nothing to resubmit." results
        0
    elif dryRun then
        for r in runs do printfn "  %-48s  %s at step %d" r.Name (RunFormat.stateName r.State) r.Step
        printDryRun results resources (runs |> List.map _.Folder)
        0
    else
        requireSbatch ()
        for r in runs do
            printfn "  resubmitting %-48s  %s at step %d" r.Name (RunFormat.stateName r.State) r.Step
            markPending r.Folder r.TotalSteps
        submit results resources (runs |> List.map _.Folder)
