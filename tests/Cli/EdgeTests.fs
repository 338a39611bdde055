/// Reliability at the edges (issue 20): every refusal comes before anything is written and changes
/// nothing (bad input in one table, resumes that cannot continue in another, both run in-process through
/// Program.dispatch); a full disk is reported as itself; one writer per run folder (RunLock, in-process and
/// with two processes); status.json tells the step a resume continues from; report reads what the
/// launcher writes and refuses scores it cannot use.
module Prunerl.Tests.EdgeTests

open System
open System.IO
open System.Text.Json
open Expecto
open Prunerl.Experiments
open Prunerl.Cli
open Prunerl.Cli.UserError
open Prunerl.Tests.Processes
open Prunerl.Tests.CliTests

/// Every file under a folder with its bytes, but the run's lock (whose text names the last process that
/// opened the run): what "nothing changed" compares.
let private snapshot (folder: string) =
    if not (Directory.Exists folder) then []
    else
        [ for path in Directory.GetFileSystemEntries(folder, "*", SearchOption.AllDirectories) |> Array.sort do
              if Path.GetFileName path <> RunFormat.LockFile then
                  let contents =
                      match (FileInfo path).LinkTarget with
                      | null -> if File.Exists path then File.ReadAllBytes path else [||]
                      | target -> Text.Encoding.UTF8.GetBytes("-> " + target)
                  Path.GetRelativePath(folder, path), contents ]

/// Runs the body in a fresh folder (created) and removes it after.
let private inFolder (what: string) (body: string -> unit) =
    let folder = Fixtures.scratchPath what
    Directory.CreateDirectory folder |> ignore
    try body folder
    finally Fixtures.cleanUp [ folder ]

/// Bad input, each refused with one line before anything is written: a name, the command line for a
/// scratch folder (which it may prepare: a config file, a file where a folder belongs), the words.
let private badInput: (string * (string -> string list) * string) list =
    let run folder = Path.Combine(folder, "run")
    let file folder (name: string) (text: string) =
        let path = Path.Combine(folder, name)
        File.WriteAllText(path, text)
        path
    [ "a repeated flag", (fun d -> [ "train"; "--seed"; "1"; "--seed"; "2"; "--out"; run d ]), "--seed is given more than once; give it once"
      "a repeated flag of report", (fun d -> [ "report"; d; "--reps"; "10"; "--reps"; "20" ]), "--reps is given more than once"
      "a number as a JSON string", (fun d -> [ "train"; "--config"; file d "run.json" """{ "steps": "3000" }"""; "--out"; run d ]), "config: steps must be a number, got '3000' (a JSON string"
      "a number as a JSON string in a sweep file", (fun d -> [ "sweep"; "--config"; file d "sweep.json" """{ "seed": [1, "2"] }"""; "--out"; run d ]), "config: seed must be a number, got '2'"
      "a degenerate width", (fun d -> [ "train"; "--width"; "1e-300"; "--out"; run d ]), "width must be > 0.00390625 for network mlp"
      "a width whose network cannot be allocated", (fun d -> [ "train"; "--width"; "2000"; "--dry-run" ]), "width 2000 does not fit in memory: the run needs at least 1048.6 GB"
      "a width beyond a layer's units", (fun d -> [ "train"; "--width"; "1e9"; "--dry-run" ]), "makes a layer of 1.28e+11 units"
      "a sweep's run that cannot be allocated", (fun d -> [ "sweep"; "--width"; "1,2000"; "--out"; run d; "--dry-run" ]), "sweep: cartpole_w2000_s0.95_none_seed0: width 2000 does not fit in memory"
      "a replay beyond one array", (fun d -> [ "train"; "--replay-capacity"; "2000000000"; "--out"; run d ]), "do not fit in one array"
      "an n-step the replay cannot hold", (fun d -> [ "train"; "--batch-size"; "32"; "--replay-capacity"; "40"; "--n-step"; "40"; "--out"; run d ]), "n_step must be < replay_capacity (40)"
      "unbounded evaluation episodes", (fun d -> [ "train"; "--eval-episodes"; "2147483647"; "--out"; run d ]), "eval_episodes must be <= 1000"
      "unbounded threads", (fun d -> [ "train"; "--threads"; "10000"; "--out"; run d ]), "threads must be <= 256"
      "unbounded report repetitions", (fun d -> [ "report"; d; "--score"; "evaluation"; "--reps"; "1000000000" ]), "reps must be <= 1000000"
      "unbounded analyze repetitions", (fun d -> [ "analyze"; d; "--reps"; "1000000000" ]), "reps must be <= 1000000"
      "a NaN v_min blames v_min", (fun d -> [ "train"; "--v-min"; "NaN"; "--out"; run d ]), "v_min must be a finite number, got NaN"
      "an empty train --out", (fun _ -> [ "train"; "--out"; "" ]), "out must name a folder, got ''"
      "an empty sweep --out", (fun _ -> [ "sweep"; "--out"; "" ]), "out must name a folder, got ''"
      "a train --out that cannot be created", (fun _ -> [ "train"; "--out"; "/proc/prunerl-none/run"; "--steps"; "1100"; "--checkpoint-every"; "0" ]), "out: cannot create /proc/prunerl-none/run"
      "a sweep --out that cannot be created", (fun _ -> [ "sweep"; "--out"; "/proc/prunerl-none/results"; "--steps"; "1100" ]), "out: cannot create /proc/prunerl-none/results"
      "an empty list item", (fun d -> [ "sweep"; "--env"; "cartpole,"; "--out"; run d ]), "env: an empty item in 'cartpole,'"
      "an empty item inside a list", (fun d -> [ "sweep"; "--seed"; "1,,2"; "--out"; run d ]), "seed: an empty item in '1,,2'"
      "--config naming a folder", (fun d -> [ "train"; "--config"; d ]), sprintf "is a folder, not a file"
      "--out naming a file, with --resume", (fun d -> [ "train"; "--out"; file d "notes.txt" "mine"; "--resume" ]), "is a file, not a run's folder" ]

/// A short CartPole run, finished and kept with its checkpoint, then marked interrupted: a run a resume
/// continues (from its last checkpoint, the finished one), made once for the resume tables.
let private resumable: Lazy<string> =
    lazy
        let folder = Fixtures.scratchPath "resumable"
        let code =
            Program.dispatch [| "train"; "--steps"; "1500"; "--eval-every"; "500"; "--eval-episodes"; "1"; "--analyse-every"; "0"
                                "--checkpoint-every"; "500"; "--keep-checkpoint"; "--threads"; "1"; "--out"; folder |]
        Expect.equal code 0 "the run to resume trained"
        let status = Path.Combine(folder, RunFormat.StatusFile)
        File.WriteAllText(status, File.ReadAllText(status).Replace("\"finished\"", "\"interrupted\""))
        folder

/// A copy of the resumable run to change.
let private copyOfResumable (into: string) =
    let source = resumable.Value
    for path in Directory.GetFiles(source, "*", SearchOption.AllDirectories) do
        let target = Path.Combine(into, Path.GetRelativePath(source, path))
        Directory.CreateDirectory(Path.GetDirectoryName target |> nonNull) |> ignore
        File.Copy(path, target)

/// Resumes that cannot continue: how the run folder is changed, and the words of the refusal.
let private unresumable: (string * (string -> unit) * string) list =
    let events (run: string) = Directory.GetFiles(run, RunFormat.EventsPattern)
    [ "a checkpoint of another seed (config.json edited)",
      (fun run -> let path = Path.Combine(run, "config.json") in File.WriteAllText(path, File.ReadAllText(path).Replace("\"seed\": 0", "\"seed\": 5"))),
      "was written by a different run configuration: seed 0 there, 5 here"
      "metrics.csv shorter than the checkpoint's mark",
      (fun run -> use f = File.OpenWrite(Path.Combine(run, "metrics.csv")) in f.SetLength 20L),
      "metrics.csv holds 20 bytes, fewer than the"
      "no metrics.jsonl", (fun run -> File.Delete(Path.Combine(run, "metrics.jsonl"))), "metrics.jsonl"
      "no event file", (fun run -> File.Delete((events run).[0])), "holds 0 TensorBoard event files"
      "two event files", (fun run -> File.Copy((events run)[0], Path.Combine(run, "events.out.tfevents.1.elsewhere"))), "holds 2 TensorBoard event files"
      "a checkpoint that is a plain file",
      (fun run -> Directory.Delete(Path.Combine(run, "checkpoint"), true); File.WriteAllText(Path.Combine(run, "checkpoint"), "x")),
      "is a file, not a checkpoint folder"
      // What a folder that cannot be read comes to (these tests run as root, who reads every folder).
      "a checkpoint folder that cannot be read (a link to nowhere)",
      (fun run -> Directory.Delete(Path.Combine(run, "checkpoint"), true); File.CreateSymbolicLink(Path.Combine(run, "checkpoint"), Path.Combine(run, "gone")) |> ignore),
      "cannot read the checkpoint folder" ]

let private json (path: string) = JsonDocument.Parse(File.ReadAllText path).RootElement

/// A run of the report fixtures: config.json, status.json of a state, metrics.csv of lines after the header.
let private writeRun (root: string) (name: string) (width: string) (state: string) (metrics: string list) =
    let folder = Path.Combine(root, name)
    Directory.CreateDirectory folder |> ignore
    File.WriteAllText(
        Path.Combine(folder, "config.json"),
        sprintf """{"format":"prunerl-run/1","agent":"dqn","env":"cartpole","network":"mlp","width":%s,"sparsity":0.9,"baseline":"none","steps":1000,"seed":1,"eval_every":500}""" width)
    File.WriteAllText(Path.Combine(folder, "status.json"), sprintf """{"state":"%s","step":0,"total_steps":1000,"error":null,"updated":"2026-01-01T00:00:00Z"}""" state)
    if not metrics.IsEmpty then File.WriteAllText(Path.Combine(folder, "metrics.csv"), String.concat "\n" ("step,metric,value" :: metrics) + "\n")

let private finishedMetrics = [ "500,eval/return,10"; "1000,eval/return,20"; "1000,analysis/dormant_fraction,0.1" ]

[<Tests>]
let tests =
    testList "reliability at the edges" [
        testList "bad input: one line, exit code 2, nothing written" [
            for name, argv, words in badInput ->
                test name {
                    inFolder "bad" (fun folder ->
                        let args = argv folder
                        let before = snapshot folder
                        Expect.stringContains (refusal args) words "the one line says what is wrong"
                        Expect.equal (snapshot folder) before "nothing written")
                }
        ]

        testList "a resume that cannot continue is refused before anything changes" [
            for name, change, words in unresumable do
                test name {
                    inFolder "unresumable" (fun run ->
                        copyOfResumable run
                        change run
                        let before = snapshot run
                        Expect.stringContains (refusal [ "train"; "--out"; run; "--resume" ]) words "names what cannot continue"
                        Expect.equal (snapshot run) before "status.json, metrics and checkpoint unchanged")
                }
            test "and the same run, unchanged, resumes (the refusals above are of their changes)" {
                inFolder "resumes" (fun run ->
                    copyOfResumable run
                    Expect.equal (Program.dispatch [| "train"; "--out"; run; "--resume"; "--threads"; "1" |]) 0 "resumed to its end"
                    Expect.equal (json(Path.Combine(run, "status.json")).GetProperty("state").GetString()) "finished" "finished")
            }
        ]

        test "a full disk: the checkpoint's own error, no partial file left, status.json failed saying why" {
            inFolder "full" (fun run ->
                // checkpoint.bin.tmp is /dev/full, where every write fails with ENOSPC, as on a full disk.
                File.Copy(Path.Combine(resumable.Value, "config.json"), Path.Combine(run, "config.json"))
                File.WriteAllText(Path.Combine(run, "status.json"), """{"state":"interrupted","step":0,"total_steps":1500,"error":null,"updated":"2026-01-01T00:00:00Z"}""")
                Directory.CreateDirectory(Path.Combine(run, "checkpoint")) |> ignore
                File.CreateSymbolicLink(Path.Combine(run, "checkpoint", "checkpoint.bin.tmp"), "/dev/full") |> ignore
                Expect.equal (Program.dispatch [| "train"; "--out"; run; "--resume"; "--threads"; "1" |]) 1 "the run failed"
                let status = json (Path.Combine(run, "status.json"))
                Expect.equal (status.GetProperty("state").GetString()) "failed" "status.json says failed, not running"
                let error = status.GetProperty("error").GetString() |> nonNull
                Expect.stringContains error "cannot write the checkpoint at step 500" "the real cause"
                Expect.stringContains error "No space left on device" "as the system said it"
                Expect.isEmpty (Directory.GetFileSystemEntries(Path.Combine(run, "checkpoint"))) "the partial file is gone")
        }

        test "a checkpoint that cannot be written leaves the previous one in place and no temporary file" {
            inFolder "full-checkpoint" (fun folder ->
                let section (value: int) = Prunerl.Agents.Checkpoints.CheckpointSection("value", Action<Prunerl.Agents.Checkpoints.StateWriter>(fun writer -> writer.Write(value)))
                Prunerl.Agents.Checkpoints.CheckpointFile.Save(folder, [ section 1 ])
                let latest = Path.Combine(folder, Prunerl.Agents.Checkpoints.CheckpointFile.LatestName)
                let before = File.ReadAllBytes latest
                File.CreateSymbolicLink(latest + ".tmp", "/dev/full") |> ignore
                Expect.throwsT<IOException> (fun () -> Prunerl.Agents.Checkpoints.CheckpointFile.Save(folder, [ section 2 ])) "the save fails"
                Expect.equal (File.ReadAllBytes latest) before "the latest checkpoint is the one before"
                Expect.isFalse (File.Exists(latest + ".tmp") || (FileInfo(latest + ".tmp")).LinkTarget <> null) "no temporary file")
        }

        test "status.json of an interrupted run holds the step a resume continues from, a failed one its last progress" {
            inFolder "status" (fun folder ->
                let interrupted, failed = Path.Combine(folder, "i"), Path.Combine(folder, "f")
                for run in [ interrupted; failed ] do Directory.CreateDirectory run |> ignore
                // Progress at 5000, the checkpoint in place at 4000: a second signal stopped the run between them.
                let stopped = TrainCommand.StatusFile(Some interrupted, 10_000L, "cpu")
                stopped.Resumable 4000L
                stopped.Progress 5000L
                stopped.Settle(RunState.Interrupted, None)
                Expect.equal (json(Path.Combine(interrupted, "status.json")).GetProperty("step").GetInt64()) 4000L "where a resume continues"
                let broken = TrainCommand.StatusFile(Some failed, 10_000L, "cpu")
                broken.Resumable 4000L
                broken.Progress 5000L
                broken.Settle(RunState.Failed, Some "boom")
                Expect.equal (json(Path.Combine(failed, "status.json")).GetProperty("step").GetInt64()) 5000L "how far it got")
        }

        testList "one writer per run folder" [
            test "a second lock of a held folder is refused naming the holder; released, it is taken again" {
                inFolder "lock" (fun run ->
                    let held = RunLock.take run
                    let holder = RunLock.holder run |> Option.defaultWith (fun () -> failtest "the lock is held")
                    Expect.stringContains holder (sprintf "process %d on host " Environment.ProcessId) "the holder's pid and host"
                    let refused = try (RunLock.take run :> IDisposable).Dispose(); "taken twice" with UserError m -> m
                    Expect.stringContains refused (sprintf "out: %s is in use by process %d" run Environment.ProcessId) "one line naming the holder"
                    (held :> IDisposable).Dispose()
                    Expect.isNone (RunLock.holder run) "released"
                    (RunLock.take run :> IDisposable).Dispose())
            }
            test "a stale lock (its process gone) is taken over" {
                inFolder "stale" (fun run ->
                    File.WriteAllText(RunLock.path run, "process 999999 on host elsewhere since 2026-01-01T00:00:00Z\n")
                    Expect.isNone (RunLock.holder run) "a lock file no process holds is no lock"
                    use _ = RunLock.take run
                    Expect.stringContains (RunLock.holder run |> Option.defaultValue "") (sprintf "process %d on host " Environment.ProcessId) "now ours")
            }
            test "a run still training refuses a second train and a resume; a rerun sweep skips it, then continues it once its process is gone" {
                inFolder "two-writers" (fun results ->
                    let sweepArgs = [ "sweep"; "--out"; results; "--steps"; "1000000"; "--set"; "eval_every=0"; "--set"; "checkpoint_every=1000"; "--workers"; "1" ]
                    let run = Path.Combine(results, "cartpole_w2_s0.95_none_seed0")
                    let dll = Path.Combine(repoRoot.Value, "Cli", "bin", configuration.Value, "net10.0", "prunerl.dll")
                    // The sweep's worker trains the run; the sweep itself is killed, as a scheduler might, its worker going on.
                    let sweep = startWith [] (dotnet ()) (dll :: sweepArgs) repoRoot.Value
                    let clock = Diagnostics.Stopwatch.StartNew()
                    // The worker holds the lock a moment before it has written itself into the file: wait for its pid.
                    let named () = RunLock.holder run |> Option.filter (fun h -> h.StartsWith "process ")
                    while named () |> Option.isNone && clock.Elapsed < TimeSpan.FromMinutes 2.0 do
                        Threading.Thread.Sleep 100
                    sweep.Process.Kill false
                    sweep.Process.WaitForExit()
                    let holder = named () |> Option.defaultWith (fun () -> failtest "the worker holds its run")
                    let pid = int (holder.Split(' ').[1])
                    try
                        prunerl [ "train"; "--out"; run; "--resume" ] |> expectOneLineError (sprintf "is in use by process %d on host " pid)
                        prunerl [ "train"; "--config"; Path.Combine(run, "config.json"); "--out"; run ] |> expectOneLineError (sprintf "is in use by process %d" pid)
                        let rerun = prunerl (sweepArgs @ [ "--dry-run" ])
                        Expect.stringContains rerun.Output (sprintf "skip: in use by process %d" pid) (describe rerun)
                    finally
                        Processes.run "kill" [ "-KILL"; string pid ] results |> ignore
                    let gone = Diagnostics.Stopwatch.StartNew()
                    while RunLock.holder run |> Option.isSome && gone.Elapsed < TimeSpan.FromSeconds 30.0 do
                        Threading.Thread.Sleep 100
                    let after = prunerl (sweepArgs @ [ "--dry-run" ])
                    Expect.stringContains after.Output "cartpole_w2_s0.95_none_seed0" (describe after)
                    Expect.stringContains after.Output "continue" "its process gone (kill -9), its lock is no lock: the sweep continues it")
            }
        ]

        testList "report and analyze" [
            test "a pending run (as the Slurm launcher writes it) is listed with the unfinished runs" {
                inFolder "pending" (fun root ->
                    writeRun root "done" "1" "finished" finishedMetrics
                    writeRun root "queued" "1" "pending" []
                    let out = Path.Combine(root, "report")
                    Expect.equal (Program.dispatch [| "report"; root; "--score"; "evaluation"; "--reps"; "10"; "--out"; out |]) 0 "report"
                    Expect.stringContains (File.ReadAllText(Path.Combine(out, "report.md"))) "pending" "the pending run is listed as skipped"
                    Expect.equal (Program.dispatch [| "analyze"; root; "--reps"; "10"; "--out"; Path.Combine(root, "analysis") |]) 0 "analyze")
            }
            for name, width, metrics, words in
                [ "an infinite score", "1", [ "500,eval/return,10"; "1000,eval/return,Infinity" ], "metrics.csv: line 3: eval/return is Infinity at step 1000; a return must be a finite number"
                  "a NaN score", "1", [ "500,eval/return,NaN"; "1000,eval/return,1" ], "metrics.csv: line 2: eval/return is NaN at step 500"
                  "an evaluation step twice", "1", [ "500,eval/return,1"; "1000,eval/return,2"; "1000,eval/return,3" ], "metrics.csv: line 4: eval/return at step 1000 appears twice (first on line 3)"
                  "a NaN width", "\"NaN\"", finishedMetrics, "config.json: width must be a number, got \"NaN\"" ] do
                test ("report refuses " + name + ", naming the file and line") {
                    inFolder "scores" (fun root ->
                        writeRun root "run" width "finished" metrics
                        let before = snapshot root
                        Expect.stringContains (refusal [ "report"; root; "--score"; "evaluation"; "--reps"; "10" ]) words "one line"
                        Expect.equal (snapshot root) before "nothing written")
                }
        ]
    ]
