/// `prunerl train` and `prunerl sweep` end to end: the run folder's contents and status, dry runs,
/// interruption, a sweep with a failing run and its re-run, and every kind of bad input refused before
/// anything is written.
module Prunerl.Tests.RunCommandTests

open System
open System.Diagnostics
open System.IO
open System.Text.Json
open Expecto
open Prunerl.Core
open Prunerl.Experiments
open Prunerl.Tests.Processes
open Prunerl.Tests.CliTests

/// A fresh path under the temporary folder (not created).
let private freshPath (what: string) = Path.Combine(Path.GetTempPath(), sprintf "prunerl-%s-%s" what (Guid.NewGuid().ToString("N")))

/// Runs the body with a fresh folder path and removes whatever it left there.
let withFolder (what: string) (body: string -> unit) =
    let path = freshPath what
    try body path
    finally
        if Directory.Exists path then Directory.Delete(path, true)
        if File.Exists path then File.Delete path

/// Every file under a folder with its bytes and write time: what "nothing written" compares.
let private snapshot (folder: string) =
    if not (Directory.Exists folder) then []
    else
        [ for path in Directory.GetFileSystemEntries(folder, "*", SearchOption.AllDirectories) |> Array.sort ->
              Path.GetRelativePath(folder, path),
              (if File.Exists path then File.ReadAllBytes path else [||]),
              File.GetLastWriteTimeUtc path ]

let private json (path: string) = JsonDocument.Parse(File.ReadAllText path).RootElement

/// A tiny CartPole run: 2000 steps, learning from step 1000, an evaluation and an analysis every 1000.
/// Counts as a user may write them: "2k" is 2000, "1e3" is 1000 (RunFields.count).
let private tiny = [ "--steps"; "2k"; "--eval-every"; "1e3"; "--analyse-every"; "1000"; "--eval-episodes"; "2" ]

/// config.json's members after the run fields: the prunerl that wrote it.
let private provenance = [ "prunerl_version"; "prunerl_commit" ]

/// Bad input for `train`: the arguments (an --out folder is added) and the words of the one-line error.
let private badTrainInput: (string * string list * string) list =
    [ "unknown environment", [ "--env"; "pong" ], "env must be one of cartpole, acrobot"
      "unknown agent", [ "--agent"; "ppo" ], "parameter '--agent' must be followed by <dqn|rainbow|der|drq|sac|cql|cql-c51>, but was 'ppo'"
      "continuous actions", [ "--env"; "pendulum" ], "env must have discrete actions for agent dqn"
      "sparsity 1", [ "--sparsity"; "1" ], "sparsity must be in [0, 1), got 1"
      "negative sparsity", [ "--sparsity"; "-0.5" ], "sparsity must be in [0, 1), got -0.5"
      "start after end", [ "--prune-start"; "0.9"; "--prune-end"; "0.5" ], "prune_end must be > prune_start (0.9), got 0.5"
      "prune end beyond training", [ "--prune-end"; "1.5" ], "prune_end must be in [0, 1], got 1.5"
      "width 0", [ "--width"; "0" ], "width must be a finite number > 0, got 0"
      "width not a number", [ "--width"; "wide" ], "--width"
      "steps 0", [ "--steps"; "0" ], "steps must be >= 1, got 0"
      "steps not a count", [ "--steps"; "ten" ], "steps must be a number, got 'ten'"
      "steps with another suffix", [ "--steps"; "2x" ], "steps must be a number, got '2x'"
      "steps a fraction", [ "--steps"; "1.0005k" ], "steps must be a whole number"
      "MinAtar's minimal action set", [ "--env"; "MinAtar/Breakout-v1" ], "env: MinAtar/Breakout-v1 is MinAtar's registration with the minimal action set, which prunerl does not play; minatar/breakout (or MinAtar/Breakout-v0) plays all six actions"
      "steps before learning", [ "--steps"; "500" ], "steps must be > min_replay (1000) so that the agent learns, got 500"
      "replay ratio", [ "--replay-ratio"; "0.3" ], "replay_ratio must be a whole number of updates per step (1, 2, 4, ...) or 1/k"
      "network for frames", [ "--network"; "minatar" ], "network minatar needs [channels, height, width] observations, env cartpole gives [4]"
      "frames too small", [ "--env"; "minatar/breakout"; "--network"; "nature" ], "network nature needs frames of at least 36x36"
      "baseline on a pruned network", [ "--baseline"; "redo" ], "baseline must be none, wd or l2 for a pruned network"
      "unknown device", [ "--device"; "tpu" ], "parameter '--device' must be followed by <auto|cpu|cuda>, but was 'tpu'"
      "unknown distribution", [ "--distribution"; "random" ], "parameter '--distribution' must be followed by <uniform|erk>, but was 'random'"
      "unknown schedule", [ "--schedule"; "step" ], "parameter '--schedule' must be followed by <polynomial|linear|cosine>, but was 'step'"
      "no evaluation episodes", [ "--eval-episodes"; "0" ], "eval_episodes must be >= 1, got 0"
      "gamma", [ "--gamma"; "2" ], "gamma must be in [0, 1], got 2"
      "reset layers", [ "--sparsity"; "0"; "--baseline"; "reset"; "--reset-layers"; "3" ], "reset_layers must be 1 or 2, got 3" ]

/// Bad --config files: their text and the words of the error.
let private badConfigFiles: (string * string * string) list =
    [ "unknown key", """{ "width": 2, "widht": 4 }""", "unknown field 'widht'; the fields are format, agent, env"
      "not JSON", """{ "width": 2, """, "is not valid JSON"
      "not an object", """[ 1, 2 ]""", "must hold a JSON object of run fields"
      "wrong type", """{ "width": "x" }""", "width must be a number, got 'x'"
      "a list", """{ "seed": [1, 2] }""", "seed must be a string, a number, true, false or null"
      "a key twice", """{ "seed": 1, "seed": 2 }""", "gives seed twice"
      "another format", """{ "format": "prunerl-run/9" }""", "format must be 'prunerl-run/1', got 'prunerl-run/9'" ]

/// Sends SIGTERM to a process (Process.Kill sends SIGKILL, which nothing can answer).
let terminate (pid: int) =
    let r = run "kill" [ "-TERM"; string pid ] (Path.GetTempPath())
    Expect.equal r.ExitCode 0 (describe r)

/// The config.json of a CartPole run as the sweep would write it, from the core's fields.
let writeConfig (folder: string) (values: (string * FieldValue) list) =
    let cartpole = { Id = "cartpole"; ObservationShape = [ 4 ]; DiscreteActions = true; Unavailable = None }
    let config = Resolution.resolve [ cartpole ] values |> Result.defaultWith failwith
    Directory.CreateDirectory folder |> ignore
    use stream = File.Create(Path.Combine(folder, "config.json"))
    use writer = new Utf8JsonWriter(stream)
    writer.WriteStartObject()
    for name, value in RunFields.toFields config do
        match value with
        | Text s -> writer.WriteString(name, s)
        | Number x -> writer.WriteNumber(name, x)
        | Switch b -> writer.WriteBoolean(name, b)
        | Empty -> writer.WriteNull name
    writer.WriteEndObject()

[<Tests>]
let tests =
    testList "train and sweep" [
        testList "train refuses bad input with one line and exit code 2, writing nothing" [
            for name, args, words in badTrainInput do
                test name {
                    withFolder "bad" (fun out ->
                        prunerl ([ "train" ] @ args @ [ "--out"; out ]) |> expectOneLineError words
                        Expect.isFalse (Directory.Exists out || File.Exists out) "nothing written")
                }
            for name, text, words in badConfigFiles do
                test ("config file: " + name) {
                    withFolder "bad-config" (fun folder ->
                        Directory.CreateDirectory folder |> ignore
                        let file = Path.Combine(folder, "run.json")
                        File.WriteAllText(file, text)
                        let out = Path.Combine(folder, "run")
                        prunerl [ "train"; "--config"; file; "--out"; out ] |> expectOneLineError words
                        Expect.isFalse (Directory.Exists out) "nothing written")
                }
            test "a missing config file" {
                prunerl [ "train"; "--config"; freshPath "missing.json" ] |> expectOneLineError "config: cannot read"
            }
            test "an output path that is a file, or lies under one" {
                withFolder "file" (fun file ->
                    File.WriteAllText(file, "keep")
                    prunerl [ "train"; "--out"; file ] |> expectOneLineError "out: "
                    prunerl [ "train"; "--out"; Path.Combine(file, "run") ] |> expectOneLineError "is a file"
                    Expect.equal (File.ReadAllText file) "keep" "the file is untouched")
            }
            test "a folder that holds other files, without --resume" {
                withFolder "nonempty" (fun out ->
                    Directory.CreateDirectory out |> ignore
                    File.WriteAllText(Path.Combine(out, "notes.txt"), "mine")
                    let before = snapshot out
                    prunerl [ "train"; "--out"; out ] |> expectOneLineError (sprintf "out: %s is not empty" out)
                    Expect.equal (snapshot out) before "the folder is untouched")
            }
            test "resume without a folder, of a folder that is not there, or of one that holds no run" {
                prunerl [ "train"; "--resume" ] |> expectOneLineError "resume needs --out"
                withFolder "resume" (fun out ->
                    prunerl [ "train"; "--out"; out; "--resume" ] |> expectOneLineError "does not exist"
                    Directory.CreateDirectory out |> ignore
                    prunerl [ "train"; "--out"; out; "--resume" ] |> expectOneLineError "holds no config.json"
                    Expect.isEmpty (snapshot out) "nothing written")
            }
        ]

        test "dry run prints the resolved configuration and the schedule's key steps, and writes nothing" {
            withFolder "dry" (fun out ->
                // MinAtar's own id for the game (minatar/gym.py) is an alias of prunerl's.
                let r = prunerl [ "train"; "--agent"; "dqn"; "--env"; "MinAtar/Breakout-v0"; "--width"; "4"; "--out"; out; "--dry-run" ]
                Expect.equal r.ExitCode 0 (describe r)
                Expect.isFalse (Directory.Exists out) "nothing written"
                let config = r.Output.Substring(r.Output.IndexOf '{', r.Output.IndexOf '}' - r.Output.IndexOf '{' + 1)
                let fields = JsonDocument.Parse(config).RootElement.EnumerateObject() |> Seq.map _.Name |> List.ofSeq
                Expect.equal fields ((RunFields.names |> List.filter (RunFields.appliesTo AgentKind.Dqn)) @ provenance) "every field of a DQN run's config.json, in order, then the prunerl that wrote it"
                // The paper's protocol on MinAtar: Dopamine's MinAtar DQN (labs/environments/minatar/dqn_*.gin), 95%,
                // the width on the convolutions, Xavier-uniform, the squared TD error, JaxPruner's per-layer timing.
                for words in [ "\"env\": \"minatar/breakout\""; "\"preset\": \"dopamine\""; "\"network\": \"minatar\""; "\"width\": 4"
                               "\"width_scope\": \"conv\""; "\"init\": \"xavier-uniform\""; "\"sparsity\": 0.95"; "\"layer_schedule\": \"scaled\""
                               "\"replay_ratio\": 0.25"; "\"min_replay\": 1000"; "\"target_update_period\": 1000"; "\"learning_rate\": 0.00025"
                               "\"replay_capacity\": 100000"; "\"epsilon_train\": 0.01"; "\"epsilon_decay_steps\": 250000"; "\"loss\": \"squared\"" ] do
                    Expect.stringContains r.Output words "resolved from the MinAtar defaults"
                // 1M steps, learning from 1000, an update every 4 steps: 250,000 - 250 = 249,750 updates, the first at
                // step 1004; pruning from update 49,950 (20%, step (250 + 49,950 + 1) * 4 = 200,804) to 199,800 (80%, step 800,204).
                Expect.stringContains r.Output "gradient updates: 249750" "the updates"
                Expect.stringContains r.Output "49950        200804            0.0000" "pruning starts at update 49950 (step 200804)"
                Expect.stringContains r.Output "199800        800204            0.9500" "and ends at update 199800 at 95%"
                Expect.stringContains r.Output "evaluations: 100 (every 10000 steps, 10 episodes each)" "evaluations")
        }

        test "a replay ratio written 1/4, as the help documents it, is 0.25 on the command line, in a config file and in sweep axes" {
            withFolder "ratio" (fun folder ->
                let flag = prunerl [ "train"; "--replay-ratio"; "1/4"; "--dry-run" ]
                Expect.equal flag.ExitCode 0 (describe flag)
                Expect.stringContains flag.Output "\"replay_ratio\": 0.25" "config.json keeps the number"
                Expect.stringContains flag.Output "replay ratio 0.25: 1 per update step, every 4 agent steps" "an update every 4 steps"
                let number = prunerl [ "train"; "--replay-ratio"; "0.25"; "--dry-run" ]
                Expect.equal number.Output flag.Output "0.25 is the same run"
                Directory.CreateDirectory folder |> ignore
                let file = Path.Combine(folder, "run.json")
                File.WriteAllText(file, """{ "replay_ratio": "1/4" }""")
                let fromFile = prunerl [ "train"; "--config"; file; "--dry-run" ]
                Expect.equal fromFile.ExitCode 0 (describe fromFile)
                Expect.stringContains fromFile.Output "\"replay_ratio\": 0.25" "a JSON string 1/4 in a config file"
                let results = Path.Combine(folder, "results")
                let sweep = prunerl [ "sweep"; "--out"; results; "--set"; "replay_ratio=1/4,1/2"; "--dry-run" ]
                Expect.equal sweep.ExitCode 0 (describe sweep)
                for name in [ "cartpole_w2_s0.95_none_seed0_replay_ratio-0.25"; "cartpole_w2_s0.95_none_seed0_replay_ratio-0.5" ] do
                    Expect.stringContains sweep.Output (name + " ") "--set axes take 1/k, named by the number"
                let sweepFile = Path.Combine(folder, "sweep.json")
                File.WriteAllText(sweepFile, """{ "replay_ratio": ["1/4", 1] }""")
                let fromSweepFile = prunerl [ "sweep"; "--config"; sweepFile; "--out"; results; "--dry-run" ]
                Expect.equal fromSweepFile.ExitCode 0 (describe fromSweepFile)
                for name in [ "cartpole_w2_s0.95_none_seed0_replay_ratio-0.25"; "cartpole_w2_s0.95_none_seed0_replay_ratio-1" ] do
                    Expect.stringContains fromSweepFile.Output (name + " ") "a sweep file's axes take 1/k"
                prunerl [ "train"; "--replay-ratio"; "1/x" ] |> expectOneLineError "replay_ratio must be a number (1, 2, 0.25, ...) or a fraction 1/k (1/4, ...), got '1/x'"
                Expect.isFalse (Directory.Exists results) "dry runs write nothing")
        }

        test "train without --out says first that nothing will be saved, and how to save" {
            let r = prunerl [ "train"; "--steps"; "1001"; "--eval-every"; "0"; "--analyse-every"; "0"; "--checkpoint-every"; "0" ]
            Expect.equal r.ExitCode 0 (describe r)
            let first = r.Output.Split('\n')[0]
            Expect.stringStarts first "Nothing will be saved" (sprintf "the first line says so: %s" r.Output)
            Expect.stringContains first "give --out DIR" "and how to save"
            // CartPole has no random-policy score beside the recent return.
            Expect.stringContains r.Output "Recent return (in progress lines): the mean return of the last 20 training episodes.\n" "the recent return explained"
            withFolder "saved" (fun out ->
                let saved = prunerl [ "train"; "--steps"; "1001"; "--eval-every"; "0"; "--analyse-every"; "0"; "--checkpoint-every"; "0"; "--out"; out ]
                Expect.equal saved.ExitCode 0 (describe saved)
                Expect.isFalse (saved.Output.Contains "Nothing will be saved") "a run with --out says nothing of the kind")
        }

        test "a MinAtar run's progress explains the recent return (mean of the last 20 episodes) beside the game's random-policy score" {
            let r = prunerl [ "train"; "--env"; "minatar/breakout"; "--steps"; "1001"; "--eval-every"; "0"; "--analyse-every"; "0"; "--checkpoint-every"; "0" ]
            Expect.equal r.ExitCode 0 (describe r)
            // Breakout's uniformly random policy scores 0.52 (Normalization.builtIn, re-measured by the MinAtar tests).
            Expect.stringContains r.Output "Recent return (in progress lines): the mean return of the last 20 training episodes; a uniformly random policy scores 0.52 on this game." "the context"
        }

        test "train writes a run folder: config, status, metrics, TensorBoard events; refuses to overwrite it; a finished run is not resumed" {
            withFolder "run" (fun out ->
                // --resume-if-exists starts a run that has not started.
                let r = prunerl ([ "train"; "--out"; out; "--sparsity"; "0.8"; "--distribution"; "uniform"; "--resume-if-exists" ] @ tiny)
                Expect.equal r.ExitCode 0 (describe r)
                let config = json (Path.Combine(out, "config.json"))
                Expect.equal (config.EnumerateObject() |> Seq.map _.Name |> List.ofSeq) ((RunFields.names |> List.filter (RunFields.appliesTo AgentKind.Dqn)) @ provenance) "config.json holds every field of a DQN run, then the prunerl that wrote it"
                Expect.equal (config.GetProperty("prunerl_commit").GetString()) (Prunerl.Cli.BuildInfo.commit) "the commit this prunerl was built from"
                Expect.equal (config.GetProperty("prunerl_version").GetString()) (Prunerl.Cli.BuildInfo.version) "its version"
                Expect.equal (config.GetProperty("format").GetString()) "prunerl-run/1" "format"
                Expect.equal (config.GetProperty("steps").GetInt64()) 2000L "steps"
                Expect.equal (config.GetProperty("distribution").GetString()) "uniform" "distribution"
                let status = json (Path.Combine(out, "status.json"))
                Expect.equal (status.GetProperty("state").GetString()) "finished" "finished"
                Expect.equal (status.GetProperty("step").GetInt64(), status.GetProperty("total_steps").GetInt64()) (2000L, 2000L) "at its last step"
                Expect.equal (status.GetProperty("error").ValueKind) JsonValueKind.Null "no error"
                Expect.isTrue (status.GetProperty("updated").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes -5.0) "stamped now"
                let csv = File.ReadAllLines(Path.Combine(out, "metrics.csv"))
                Expect.equal csv[0] "step,metric,value" "header"
                let rows metric = csv |> Array.filter (fun l -> l.Split(',')[1] = metric)
                Expect.equal (rows "eval/return" |> Array.map (fun l -> l.Split(',')[0])) [| "1000"; "2000" |] "two evaluations"
                Expect.equal (Array.length (rows "analysis/srank")) 2 "two analyses"
                let lastSparsity = Array.last (rows "eval/sparsity")
                let finalSparsity = float (lastSparsity.Split(',')[2])
                Expect.floatClose Accuracy.low finalSparsity 0.8 "pruned to 80% by the end"
                let jsonl =
                    File.ReadAllLines(Path.Combine(out, "metrics.jsonl"))
                    |> Array.map (fun line -> use d = JsonDocument.Parse line in d.RootElement.GetProperty("metric").GetString() |> nonNull)
                let details = set [ "eval/episode_return"; "train/epsilon" ]
                Expect.equal (jsonl |> Array.filter (details.Contains >> not) |> Array.length) (csv.Length - 1) "metrics.csv's values as JSON lines"
                Expect.equal (jsonl |> Array.filter ((=) "eval/episode_return") |> Array.length) 4 "and each evaluation episode's return: 2 evaluations of 2 episodes"
                Expect.equal (jsonl |> Array.filter ((=) "train/epsilon") |> Array.length) (jsonl |> Array.filter ((=) "train/loss") |> Array.length) "the epsilon beside each loss"
                Expect.isTrue (status.GetProperty("steps_per_second").GetDouble() > 0.0) "status.json: the speed measured"
                Expect.isNonEmpty (Directory.GetFiles(out, "events.out.tfevents.*")) "a TensorBoard event file"
                Expect.isEmpty (Directory.GetFiles(out, "*.tmp", SearchOption.AllDirectories)) "no temporary file left"
                let before = snapshot out
                prunerl ([ "train"; "--out"; out ] @ tiny) |> expectOneLineError "is not empty"
                prunerl [ "train"; "--out"; out; "--resume"; "--width"; "3" ] |> expectOneLineError "width: the run holds 2, asked for 3"
                let again = prunerl [ "train"; "--out"; out; "--resume"; "--device"; "cpu"; "--steps"; "2000" ]
                Expect.equal again.ExitCode 0 (describe again)
                Expect.stringContains again.Output "has finished; nothing to resume" "a finished run stays as it is"
                let requeued = prunerl [ "train"; "--config"; Path.Combine(out, "config.json"); "--out"; out; "--resume-if-exists" ]
                Expect.equal requeued.ExitCode 0 (describe requeued)
                Expect.stringContains requeued.Output "has finished; nothing to resume" "as when a scheduler requeues it"
                Expect.equal (snapshot out) before "the run is untouched")
        }

        test "SIGTERM checkpoints a run and ends it with status interrupted and exit code 143" {
            withFolder "interrupt" (fun out ->
                let dll = Path.Combine(repoRoot.Value, "Cli", "bin", configuration.Value, "net10.0", "prunerl.dll")
                let info = ProcessStartInfo(dotnet (), [ dll; "train"; "--steps"; "1000000"; "--eval-every"; "1000"; "--checkpoint-every"; "1000"; "--out"; out ])
                info.RedirectStandardOutput <- true
                info.RedirectStandardError <- true
                use child = Process.Start info |> nonNull
                let errors = child.StandardError.ReadToEndAsync()
                // Wait until training has started (the header names the run folder).
                let mutable line = child.StandardOutput.ReadLine()
                while not (isNull line || line.StartsWith "Run folder:") do
                    line <- child.StandardOutput.ReadLine()
                if isNull line then failtestf "training did not start; stderr: %s" errors.Result
                // Wait for a first checkpoint, so that the stop is the one a scheduler's preemption makes.
                let checkpoint = Path.Combine(out, "checkpoint", Prunerl.Agents.Checkpoints.CheckpointFile.LatestName)
                let waited = Stopwatch.StartNew()
                while not (File.Exists checkpoint) && waited.Elapsed < TimeSpan.FromMinutes 2.0 do
                    Threading.Thread.Sleep 50
                terminate child.Id
                child.StandardOutput.ReadToEnd() |> ignore
                Expect.isTrue (child.WaitForExit 60_000) "ended"
                Expect.equal child.ExitCode 143 "128 + SIGTERM"
                Expect.stringContains errors.Result (sprintf "continue with: prunerl train --out %s --resume" out) "says how to go on"
                let status = json (Path.Combine(out, "status.json"))
                Expect.equal (status.GetProperty("state").GetString()) "interrupted" "interrupted"
                Expect.equal (status.GetProperty("total_steps").GetInt64()) 1_000_000L "of its steps"
                let stoppedAt = Text.RegularExpressions.Regex.Match(errors.Result, "cancelled at step (\\d+)")
                Expect.isTrue stoppedAt.Success (sprintf "names the step it stopped at: %s" errors.Result)
                Expect.equal (status.GetProperty("step").GetInt64()) (int64 stoppedAt.Groups[1].Value) "status.json's step is the checkpoint's")
        }

        test "sweep trains a 2x2 grid with 2 workers; a failing run is reported, the others finish; a re-run skips them" {
            withFolder "sweep" (fun results ->
                let grid = [ "--width"; "1,2"; "--seed"; "1,2"; "--steps"; "1.5k"; "--set"; "eval_every=750"; "--set"; "eval_episodes=2"; "--set"; "analyse_every=0" ]
                let broken = Path.Combine(results, "cartpole_w2_s0.95_none_seed2")
                // An interrupted run whose checkpoint is corrupt: its worker fails.
                writeConfig broken [ "width", Number 2.0; "seed", Number 2.0; "steps", Number 1500.0; "eval_every", Number 750.0; "eval_episodes", Number 2.0; "analyse_every", Number 0.0 ]
                File.WriteAllText(Path.Combine(broken, "status.json"), """{"state":"interrupted","step":1000,"total_steps":1500,"error":null,"updated":"2026-01-01T00:00:00Z"}""")
                File.WriteAllText(Path.Combine(broken, "metrics.csv"), "step,metric,value\n")
                File.WriteAllText(Path.Combine(broken, "metrics.jsonl"), "")
                File.WriteAllText(Path.Combine(broken, "events.out.tfevents.1.node1"), "")
                Directory.CreateDirectory(Path.Combine(broken, "checkpoint")) |> ignore
                File.WriteAllText(Path.Combine(broken, "checkpoint", Prunerl.Agents.Checkpoints.CheckpointFile.LatestName), "not a checkpoint")
                let first = prunerl ([ "sweep"; "--out"; results; "--workers"; "2" ] @ grid)
                Expect.equal first.ExitCode 1 (sprintf "a run failed: %s" (describe first))
                let names = [ "cartpole_w1_s0.95_none_seed1"; "cartpole_w1_s0.95_none_seed2"; "cartpole_w2_s0.95_none_seed1" ]
                for name in names do
                    let status = json (Path.Combine(results, name, "status.json"))
                    Expect.equal (status.GetProperty("state").GetString()) "finished" (name + " finished")
                    Expect.equal (json(Path.Combine(results, name, "config.json")).GetProperty("steps").GetInt64()) 1500L "its config"
                    Expect.stringContains (File.ReadAllText(Path.Combine(results, name, "train.log"))) "Training dqn on cartpole for 1500 steps" "its worker's output kept in its folder"
                let untouched = json (Path.Combine(broken, "status.json"))
                Expect.equal (untouched.GetProperty("state").GetString()) "interrupted" "the broken run's worker refused it, changing nothing"
                Expect.stringContains first.Output "failed (exit code 2): resume: " "the table reports the failure"
                Expect.stringContains first.Output "checkpoint.bin: not a prunerl checkpoint" "and why"
                Expect.stringContains first.Output "3 finished or skipped, 1 failed" "and counts it"
                Expect.stringContains (File.ReadAllText(Path.Combine(broken, "train.log"))) "prunerl: resume: " "the failing worker's error is in its train.log"
                let finishedBefore = names |> List.map (fun n -> snapshot (Path.Combine(results, n)))
                let second = prunerl ([ "sweep"; "--out"; results; "--workers"; "2" ] @ grid)
                Expect.equal second.ExitCode 1 (describe second)
                Expect.equal (second.Output.Split("skipped: finished before").Length - 1) 3 "the finished runs are skipped"
                Expect.equal (names |> List.map (fun n -> snapshot (Path.Combine(results, n)))) finishedBefore "and left as they were")
        }

        test "a sweep stopped by SIGTERM passes it to its workers, which checkpoint; the next sweep continues them" {
            withFolder "sweep-stop" (fun results ->
                let dll = Path.Combine(repoRoot.Value, "Cli", "bin", configuration.Value, "net10.0", "prunerl.dll")
                let args = [ dll; "sweep"; "--out"; results; "--seed"; "1,2"; "--steps"; "6000"; "--set"; "eval_every=2000"; "--set"; "eval_episodes=2"; "--set"; "checkpoint_every=500"; "--workers"; "2" ]
                let info = ProcessStartInfo(dotnet (), args)
                info.RedirectStandardOutput <- true
                info.RedirectStandardError <- true
                use sweep = Process.Start info |> nonNull
                let output = sweep.StandardOutput.ReadToEndAsync()
                let errors = sweep.StandardError.ReadToEndAsync()
                let runs = [ "cartpole_w2_s0.95_none_seed1"; "cartpole_w2_s0.95_none_seed2" ]
                let checkpointOf run = Path.Combine(results, run, "checkpoint", Prunerl.Agents.Checkpoints.CheckpointFile.LatestName)
                let waited = Stopwatch.StartNew()
                while not (runs |> List.forall (checkpointOf >> File.Exists)) && waited.Elapsed < TimeSpan.FromMinutes 2.0 do
                    Threading.Thread.Sleep 50
                terminate sweep.Id
                Expect.isTrue (sweep.WaitForExit 60_000) "the sweep ended"
                Expect.equal sweep.ExitCode 143 (sprintf "interrupted by SIGTERM: %s%s" output.Result errors.Result)
                for run in runs do
                    let status = json (Path.Combine(results, run, "status.json"))
                    Expect.equal (status.GetProperty("state").GetString()) "interrupted" (run + " interrupted")
                Expect.stringContains output.Result "interrupted at step" "the table says so"
                let again = prunerl [ "sweep"; "--out"; results; "--seed"; "1,2"; "--steps"; "6000"; "--set"; "eval_every=2000"; "--set"; "eval_episodes=2"; "--set"; "checkpoint_every=500"; "--workers"; "2" ]
                Expect.equal again.ExitCode 0 (describe again)
                for run in runs do
                    let status = json (Path.Combine(results, run, "status.json"))
                    Expect.equal (status.GetProperty("state").GetString()) "finished" (run + " finished")
                    let evaluations = File.ReadAllLines(Path.Combine(results, run, "metrics.csv")) |> Array.filter (fun l -> l.Contains ",eval/return,")
                    Expect.equal (evaluations |> Array.map (fun l -> l.Split(',')[0])) [| "2000"; "4000"; "6000" |] (run + ": each evaluation once, across the interruption"))
        }

        test "sweep refuses bad input before writing anything; a dry run lists the grid from flags or a file" {
            withFolder "sweep-bad" (fun results ->
                for args, words in
                    [ [ "--width"; "1,x" ], "sweep: width must be a number, got 'x'"
                      [ "--seed"; "1,1" ], "sweep: seed lists '1' twice"
                      [ "--set"; "widht=2" ], "set: unknown field 'widht'"
                      [ "--set"; "width" ], "set must be field=value"
                      [ "--env"; "cartpole,pong" ], "env must be one of"
                      [ "--baseline"; "none,redo" ], "baseline must be none, wd or l2 for a pruned network"
                      [ "--workers"; "0" ], "workers must be >= 1, got 0" ] do
                    prunerl ([ "sweep"; "--out"; results ] @ args) |> expectOneLineError words
                prunerl [ "sweep"; "--width"; "1" ] |> expectOneLineError "out is required"
                Expect.isFalse (Directory.Exists results) "nothing written"
                let dry = prunerl [ "sweep"; "--out"; results; "--env"; "cartpole,minatar/breakout"; "--sparsity"; "0,0.9"; "--dry-run" ]
                Expect.equal dry.ExitCode 0 (describe dry)
                for name in [ "cartpole_w2_s0_none_seed0"; "cartpole_w2_s0.9_none_seed0"; "minatar-breakout_w1_s0_none_seed0"; "minatar-breakout_w1_s0.9_none_seed0" ] do
                    Expect.stringContains dry.Output (name + " ") "each run of the grid listed"
                Expect.isFalse (Directory.Exists results) "a dry run writes nothing"
                // A sweep file: lists are axes, single values shared; a flag replaces a field of the file.
                let file = results + ".json"
                try
                    File.WriteAllText(file, """{ "env": ["cartpole"], "width": [1, 2], "seed": 3, "replay_ratio": [0.5, 1], "steps": 5000 }""")
                    let fromFile = prunerl [ "sweep"; "--config"; file; "--out"; results; "--width"; "4"; "--dry-run" ]
                    Expect.equal fromFile.ExitCode 0 (describe fromFile)
                    Expect.stringContains fromFile.Output "2 runs in" "width 4 replaces the file's widths: 1 x 2"
                    for name in [ "cartpole_w4_s0.95_none_seed3_replay_ratio-0.5"; "cartpole_w4_s0.95_none_seed3_replay_ratio-1" ] do
                        Expect.stringContains fromFile.Output (name + " ") "a varied field beyond the standard five is in the name"
                    File.WriteAllText(file, """{ "width": [1, 2], "wdith": 3 }""")
                    prunerl [ "sweep"; "--config"; file; "--out"; results ] |> expectOneLineError "unknown field 'wdith'"
                    Expect.isFalse (Directory.Exists results) "nothing written"
                finally
                    File.Delete file)
        }

        test "a sweep file's grids sweep their union: a dqn cartpole grid and a sac pendulum grid in one dry run" {
            withFolder "sweep-grids" (fun results ->
                let file = results + ".json"
                try
                    File.WriteAllText(file, """{ "grids": [ { "agent": "dqn", "env": "cartpole", "width": [1, 2] }, { "agent": "sac", "env": "pendulum" } ], "sparsity": [0, 0.9], "seed": 1, "steps": 5000 }""")
                    let dry = prunerl [ "sweep"; "--config"; file; "--out"; results; "--dry-run" ]
                    Expect.equal dry.ExitCode 0 (describe dry)
                    Expect.stringContains dry.Output "6 runs in" "2 x 2 dqn runs and 2 sac runs"
                    let listed = dry.Output.Split('\n') |> Array.filter (fun line -> line.StartsWith "  ") |> Array.map (fun line -> line.Trim().Split(' ')[0])
                    Expect.equal listed
                        [| "cartpole_w1_s0_none_seed1_agent-dqn"; "cartpole_w1_s0.9_none_seed1_agent-dqn"; "cartpole_w2_s0_none_seed1_agent-dqn"; "cartpole_w2_s0.9_none_seed1_agent-dqn"
                           "pendulum_w1_s0_none_seed1_agent-sac"; "pendulum_w1_s0.9_none_seed1_agent-sac" |]
                        "grid order; the agents differ across grids, so names carry them"
                    // A flag sets its field in every run, a grid's included.
                    let flagged = prunerl [ "sweep"; "--config"; file; "--out"; results; "--width"; "1"; "--dry-run" ]
                    Expect.equal flagged.ExitCode 0 (describe flagged)
                    Expect.stringContains flagged.Output "4 runs in" "--width 1 replaces the dqn grid's widths"
                    for grids, words in
                        [ "{ \"env\": \"cartpole\" }", "grids must be a list of objects of run fields, got a JSON Object"
                          "[ { \"env\": \"cartpole\" }, \"pendulum\" ]", "grids must be a list of objects of run fields, got a JSON String as grid 2"
                          "[]", "sweep: grids lists no grids"
                          "[ { \"env\": \"cartpole\" }, { \"env\": [\"acrobot\", \"pendulum\"] } ]", "sweep: grid 2: env must have discrete actions for agent dqn"
                          "[ { \"env\": \"cartpole\" }, { \"wdith\": 2 } ]", "grid 2: unknown field 'wdith'" ] do
                        File.WriteAllText(file, sprintf """{ "grids": %s, "sparsity": [0, 0.9] }""" grids)
                        prunerl [ "sweep"; "--config"; file; "--out"; results ] |> expectOneLineError words
                    Expect.isFalse (Directory.Exists results) "nothing written"
                finally
                    File.Delete file)
        }
    ]
