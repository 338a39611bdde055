namespace Prunerl.Experiments

open System
open System.Globalization
open System.Text.RegularExpressions
open Prunerl.Core
open Prunerl.Core.Validate

/// What each task of a Slurm job array asks for, and how the array runs. Field names in validation
/// messages: cpus, memory, time_limit, partition, account, gres, throttle, job_name, signal_lead.
type SlurmResources =
    { /// CPUs per task (sbatch --cpus-per-task), >= 1.
      Cpus: int
      /// Memory per task in MiB (sbatch --mem; Slurm's M is 1024^2 bytes); None leaves it to the cluster.
      MemoryMegabytes: int64 option
      /// Wall-clock limit per task in seconds (sbatch --time; Slurm counts whole minutes and rounds a
      /// limit with seconds up); None leaves it to the partition.
      TimeLimitSeconds: int64 option
      /// Partition, or a comma-separated list of partitions (sbatch --partition).
      Partition: string option
      /// Account charged for the tasks (sbatch --account).
      Account: string option
      /// Generic resources per task (sbatch --gres), such as "gpu:1" or "gpu:a100:2".
      Gres: string option
      /// At most this many tasks run at once (the array's "%N"); None for no limit.
      Throttle: int option
      /// Whether Slurm may requeue a task whose node fails or that is preempted (sbatch --requeue,
      /// else --no-requeue). A requeued task starts again from its run's checkpoint.
      Requeue: bool
      /// The job's name (sbatch --job-name).
      JobName: string
      /// Seconds before the time limit at which the task receives SIGTERM (sbatch --signal=B:TERM@N),
      /// so that it can checkpoint before it is killed; 0 sends none.
      SignalLeadSeconds: int }

/// One job array: task i runs the command for run i (line i + 1 of the manifest file).
type SlurmArrayJob =
    { /// Resources of every task and the array's throttle.
      Resources: SlurmResources
      /// The results directory (absolute): the tasks' working directory.
      ResultsDir: string
      /// Where Slurm writes each task's output and error logs (absolute; it must exist before the job
      /// starts, Slurm does not create it): %A_%a.out and %A_%a.err (array job id, task index).
      LogDir: string
      /// The manifest file (absolute) the script reads: the runs, one per line, as `Slurm.manifest` writes them.
      Manifest: string
      /// The run directories, task i -> run i; absolute, or relative to ResultsDir.
      Runs: string list
      /// The command each task runs, word by word, with every "{run}" replaced by the task's run
      /// directory; e.g. ["prunerl"; "train"; "--config"; "{run}/config.json"; "--out"; "{run}"].
      Command: string list }

/// Batch scripts for Slurm job arrays: one task per run, resumable under requeue and resubmission.
/// Pure text; the caller writes the files and runs sbatch.
[<RequireQualifiedAccess>]
module Slurm =

    /// The placeholder in SlurmArrayJob.Command that stands for the task's run directory.
    let RunPlaceholder = "{run}"

    /// One CPU, memory and time left to the cluster, requeue on, SIGTERM 60 s before the time limit,
    /// job name "prunerl", no throttle.
    let defaults =
        { Cpus = 1
          MemoryMegabytes = None
          TimeLimitSeconds = None
          Partition = None
          Account = None
          Gres = None
          Throttle = None
          Requeue = true
          JobName = "prunerl"
          SignalLeadSeconds = 60 }

    let private invariant = CultureInfo.InvariantCulture

    /// Whole numbers of up to 9 digits (no sign, no spaces), so that sums cannot overflow.
    let private digits (s: string) =
        if s.Length >= 1 && s.Length <= 9 && s |> Seq.forall Char.IsAsciiDigit then Some(Int64.Parse(s, invariant)) else None

    let private timeFormats =
        "minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS"

    /// A Slurm time limit in seconds, from any form sbatch --time takes: "minutes", "minutes:seconds",
    /// "hours:minutes:seconds", "days-hours", "days-hours:minutes", "days-hours:minutes:seconds".
    /// Minutes and seconds after a larger unit are < 60, hours after days < 24; the limit is > 0.
    let parseTimeLimit (text: string) : Result<int64, string> =
        let bad () = Error(sprintf "time_limit must be %s (a positive duration), got '%s'" timeFormats text)
        let days, clock =
            match text.Split('-') with
            | [| d; rest |] -> digits d, Some rest
            | [| rest |] -> Some 0L, Some rest
            | _ -> None, None
        let hasDays = text.Contains '-'
        match days, clock with
        | Some days, Some clock ->
            let parts = clock.Split(':') |> Array.map digits
            if parts |> Array.exists Option.isNone then bad ()
            else
                let p = parts |> Array.map Option.get
                // (hours, minutes, seconds)
                let fields =
                    match hasDays, p with
                    | false, [| m |] -> Some(0L, m, 0L)
                    | false, [| m; s |] -> Some(0L, m, s)
                    | false, [| h; m; s |] -> Some(h, m, s)
                    | true, [| h |] -> Some(h, 0L, 0L)
                    | true, [| h; m |] -> Some(h, m, 0L)
                    | true, [| h; m; s |] -> Some(h, m, s)
                    | _ -> None
                match fields with
                | None -> bad ()
                | Some(h, m, s) ->
                    // Only a leading unit is unbounded: minutes in "minutes[:seconds]", hours in
                    // "hours:minutes:seconds", days otherwise.
                    let leadsWithMinutes = not hasDays && p.Length <= 2
                    let inRange = s < 60L && (leadsWithMinutes || m < 60L) && (not hasDays || h < 24L)
                    let total = ((days * 24L + h) * 60L + m) * 60L + s
                    if inRange && total > 0L then Ok total else bad ()
        | _ -> bad ()

    /// A time limit as D-HH:MM:SS (days unbounded), the form parseTimeLimit reads back exactly.
    let formatTimeLimit (seconds: int64) : string =
        let s, m, h, d = seconds % 60L, seconds / 60L % 60L, seconds / 3600L % 24L, seconds / 86400L
        sprintf "%d-%02d:%02d:%02d" d h m s

    /// Memory in MiB from sbatch --mem's form: a whole number with an optional unit K, M, G or T
    /// (powers of 1024, case-insensitive; no unit is M), at least 1 MiB and whole MiB (so K only in
    /// multiples of 1024).
    let parseMemory (text: string) : Result<int64, string> =
        let bad () =
            Error(sprintf "memory must be a whole number of MiB or more with an optional unit K, M, G or T (4096M, 4G), got '%s'" text)
        if String.IsNullOrEmpty text then bad ()
        else
            let last = Char.ToUpperInvariant text[text.Length - 1]
            let number, kib =
                match last with
                | 'K' -> text[.. text.Length - 2], 1L
                | 'M' -> text[.. text.Length - 2], 1024L
                | 'G' -> text[.. text.Length - 2], 1024L * 1024L
                | 'T' -> text[.. text.Length - 2], 1024L * 1024L * 1024L
                | _ -> text, 1024L
            match digits number with
            | Some n when n * kib % 1024L = 0L && n * kib >= 1024L -> Ok(n * kib / 1024L)
            | _ -> bad ()

    /// Memory as sbatch --mem writes it: in the largest of T, G, M that divides it exactly.
    let formatMemory (megabytes: int64) : string =
        if megabytes % (1024L * 1024L) = 0L then sprintf "%dT" (megabytes / (1024L * 1024L))
        elif megabytes % 1024L = 0L then sprintf "%dG" (megabytes / 1024L)
        else sprintf "%dM" megabytes

    // \A and \z: .NET's $ also matches before a final newline, which would let "name\n" through.
    let private name = Regex(@"\A[A-Za-z0-9_.-]+\z")
    let private partitions = Regex(@"\A[A-Za-z0-9_.-]+(,[A-Za-z0-9_.-]+)*\z")
    let private gresItem = Regex(@"\A[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)?(:[1-9][0-9]{0,8})?\z")

    let private matching (field: string) (pattern: Regex) (allowed: string) (value: string option) =
        match value with
        | Some v when not (pattern.IsMatch v) -> Error(sprintf "%s must be %s, got '%s'" field allowed v)
        | _ -> Ok()

    /// Checks every field: cpus >= 1; memory >= 1 MiB; time_limit > 0 s; partition, account and
    /// job_name made of letters, digits, '_', '.', '-' (partition: a comma-separated list of such
    /// names); gres a comma-separated list of name[:type][:count]; throttle >= 1; signal_lead in
    /// [0, 65535] (sbatch's bound) and below the time limit. The first failure names its field.
    let validate (r: SlurmResources) : Result<SlurmResources, string> =
        result {
            do! atLeast "cpus" 1L (int64 r.Cpus) |> Result.map ignore
            do! match r.MemoryMegabytes with Some m -> atLeast "memory (MiB)" 1L m |> Result.map ignore | None -> Ok()
            do! match r.TimeLimitSeconds with Some t -> atLeast "time_limit (seconds)" 1L t |> Result.map ignore | None -> Ok()
            do! matching "partition" partitions "a partition name or a comma-separated list (letters, digits, _ . -)" r.Partition
            do! matching "account" name "an account name (letters, digits, _ . -)" r.Account
            do!
                match r.Gres with
                | Some g when g = "" || not (g.Split(',') |> Array.forall gresItem.IsMatch) ->
                    Error(sprintf "gres must be a comma-separated list of name[:type][:count] (gpu:1, gpu:a100:2), got '%s'" g)
                | _ -> Ok()
            do! match r.Throttle with Some n -> atLeast "throttle" 1L (int64 n) |> Result.map ignore | None -> Ok()
            do! matching "job_name" name "a name of letters, digits, _ . -" (Some r.JobName)
            do!
                if r.SignalLeadSeconds < 0 || r.SignalLeadSeconds > 65535 then
                    Error(sprintf "signal_lead must be in [0, 65535] seconds, got %d" r.SignalLeadSeconds)
                else Ok()
            do!
                match r.TimeLimitSeconds with
                | Some t when r.SignalLeadSeconds > 0 && int64 r.SignalLeadSeconds >= t ->
                    Error(sprintf "signal_lead must be below time_limit (%d s), got %d s" t r.SignalLeadSeconds)
                | _ -> Ok()
            return r
        }

    /// The array's index range for `count` tasks: "0-(count-1)", with "%N" for a throttle.
    let arraySpec (count: int) (throttle: int option) : string =
        let range = if count = 1 then "0" else sprintf "0-%d" (count - 1)
        match throttle with
        | Some n -> sprintf "%s%%%d" range n
        | None -> range

    /// The manifest: one run per line, task i's run on line i + 1, each line ended by '\n'.
    let manifest (runs: string list) : string =
        runs |> List.map (fun r -> r + "\n") |> String.concat ""

    /// The runs a manifest lists, in task order (the inverse of `manifest`).
    let parseManifest (text: string) : string list =
        let lines = text.Split('\n') |> List.ofArray
        // The '\n' that ends the last line leaves one empty piece.
        if List.isEmpty lines || List.last lines <> "" then lines else List.take (lines.Length - 1) lines

    /// A word as a single-quoted bash word: taken literally, whatever it holds.
    let private quote (word: string) = "'" + word.Replace("'", "'\\''") + "'"

    /// A command word with each RunPlaceholder as the shell's "$run" (the task's run directory).
    let private commandWord (word: string) =
        if word = "" then "''"
        else
            word.Split(RunPlaceholder)
            |> Array.map (fun piece -> if piece = "" then "" else quote piece)
            |> String.concat "\"$run\""

    let private hasControl (s: string) = s |> Seq.exists Char.IsControl

    let private noControl (field: string) (value: string) =
        if hasControl value then Error(sprintf "%s must not contain control characters (newlines, tabs), got %A" field value) else Ok()

    /// A path that goes into a "#SBATCH --option=\"...\"" line: absolute, and without the characters
    /// sbatch would read as the end of the value or as a file-name pattern.
    let private sbatchPath (field: string) (path: string) =
        result {
            do! noControl field path
            do!
                if path.StartsWith "/" && not (path.IndexOfAny([| '"'; '%'; '\\' |]) >= 0) then Ok()
                else Error(sprintf "%s must be an absolute path without '\"', '%%' or '\\', got '%s'" field path)
        }

    /// Checks the job: valid resources; at least one run, each non-empty and on one line; absolute
    /// results_dir, log_dir and manifest paths that a batch script can carry; a command whose first word
    /// is not empty, without control characters.
    let validateJob (job: SlurmArrayJob) : Result<SlurmArrayJob, string> =
        result {
            let! _ = validate job.Resources
            do! if List.isEmpty job.Runs then Error "runs must list at least one run directory" else Ok()
            do! traverse (fun run -> if run = "" then Error "runs must not contain an empty run directory" else noControl "runs" run) job.Runs |> Result.map ignore
            do! sbatchPath "results_dir" job.ResultsDir
            do! sbatchPath "log_dir" job.LogDir
            do! noControl "manifest" job.Manifest
            do! if job.Manifest.StartsWith "/" then Ok() else Error(sprintf "manifest must be an absolute path, got '%s'" job.Manifest)
            do!
                match job.Command with
                | [] | "" :: _ -> Error "command must have a program as its first word"
                | words -> traverse (noControl "command") words |> Result.map ignore
            return job
        }

    /// The batch script for the job array, after validateJob. Its #SBATCH lines: job name, the array
    /// ("0-(n-1)", "%N" for a throttle), each resource given, --requeue or --no-requeue,
    /// --signal=B:TERM@lead, append-mode logs (a requeued task adds to its log rather than erasing it),
    /// the working directory and the log paths. The body (bash, set -euo pipefail) reads its run from the
    /// manifest line of SLURM_ARRAY_TASK_ID, checks that the run directory exists, and execs the command
    /// so that it is the process Slurm signals (B: signals the batch shell, which the command replaces).
    /// When the command cannot be started, the script records that in the run's status.json
    /// ({"state": "failed", "error": ...}), since the command never ran to record anything itself.
    let batchScript (job: SlurmArrayJob) : Result<string, string> =
        validateJob job
        |> Result.map (fun job ->
            let r = job.Resources
            let directive (option: string) = "#SBATCH " + option
            let optional (option: string) (value: 'a option) (show: 'a -> string) =
                value |> Option.map (fun v -> directive (sprintf "%s=%s" option (show v))) |> Option.toList
            let log (extension: string) = sprintf "\"%s/%%A_%%a.%s\"" (job.LogDir.TrimEnd('/')) extension
            let program = quote (List.head job.Command)
            let command = job.Command |> List.map commandWord |> String.concat " "
            [ yield "#!/bin/bash"
              yield directive ("--job-name=" + r.JobName)
              yield directive ("--array=" + arraySpec job.Runs.Length r.Throttle)
              yield directive (sprintf "--cpus-per-task=%d" r.Cpus)
              yield! optional "--mem" r.MemoryMegabytes formatMemory
              yield! optional "--time" r.TimeLimitSeconds formatTimeLimit
              yield! optional "--partition" r.Partition id
              yield! optional "--account" r.Account id
              yield! optional "--gres" r.Gres id
              yield directive (if r.Requeue then "--requeue" else "--no-requeue")
              if r.SignalLeadSeconds > 0 then yield directive (sprintf "--signal=B:TERM@%d" r.SignalLeadSeconds)
              yield directive "--open-mode=append"
              yield directive (sprintf "--chdir=\"%s\"" job.ResultsDir)
              yield directive ("--output=" + log "out")
              yield directive ("--error=" + log "err")
              yield "# Written by prunerl: array task i runs the run on line i + 1 of the manifest; a task that"
              yield "# is requeued or resubmitted resumes from its run's checkpoint."
              yield "set -euo pipefail"
              yield "manifest=" + quote job.Manifest
              yield "task=${SLURM_ARRAY_TASK_ID:?this script runs as a task of a Slurm job array}"
              yield "mapfile -t runs <\"$manifest\""
              yield "if ((task >= ${#runs[@]})); then"
              yield "    echo \"prunerl: array task $task has no run: $manifest lists ${#runs[@]}\" >&2"
              yield "    exit 1"
              yield "fi"
              yield "run=${runs[task]}"
              yield "echo \"prunerl: array task $task (job ${SLURM_JOB_ID:-?}, restart ${SLURM_RESTART_COUNT:-0}, node ${SLURMD_NODENAME:-?}): $run\""
              yield "if [[ ! -d $run ]]; then"
              yield "    echo \"prunerl: the run directory $run does not exist\" >&2"
              yield "    exit 1"
              yield "fi"
              yield "# A command that cannot be started records nothing itself: say so in the run's status."
              yield "failed_to_start() {"
              yield "    local message=\"could not start $2 (exit $1)\""
              yield "    local json=${message//\\\\/\\\\\\\\}"
              yield "    json=${json//\\\"/\\\\\\\"}"
              yield sprintf "    echo \"{\\\"state\\\": \\\"%s\\\", \\\"error\\\": \\\"$json\\\"}\" >\"$run/%s.tmp\"" (RunFormat.stateName RunState.Failed) RunFormat.StatusFile
              yield sprintf "    mv -f \"$run/%s.tmp\" \"$run/%s\"" RunFormat.StatusFile RunFormat.StatusFile
              yield "    echo \"prunerl: $message\" >&2"
              yield "    exit 1"
              yield "}"
              yield "# execfail: a failed exec returns here; bash would still exit under set -e."
              yield "shopt -s execfail"
              yield "set +e"
              yield "exec " + command
              yield "failed_to_start $? " + program ]
            |> List.map (fun line -> line + "\n")
            |> String.concat "")

    /// The job id from `sbatch --parsable`'s output ("<id>" or "<id>;<cluster>" on its last non-empty
    /// line).
    let parseJobId (output: string) : Result<int64, string> =
        let lines = output.Split('\n') |> Array.map (fun l -> l.Trim()) |> Array.filter (fun l -> l <> "")
        let bad () = Error(sprintf "sbatch --parsable printed no job id (expected '<id>' or '<id>;<cluster>'), got '%s'" (output.Trim()))
        if lines.Length = 0 then bad ()
        else
            let id = (Array.last lines).Split(';')[0]
            match Int64.TryParse(id, NumberStyles.None, invariant) with
            | true, n when n > 0L -> Ok n
            | _ -> bad ()
