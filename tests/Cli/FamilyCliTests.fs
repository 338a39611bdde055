/// Every agent family through `prunerl train`, `sweep` and `report`: SAC on Pendulum, a dataset recorded
/// by a DQN run (and the same after an interruption and resume), CQL and CQL+C51 trained from it, a sweep
/// over agents reported per agent, and the refusals: agents on the wrong kind of actions, fields of
/// another agent, corrupt and mismatched datasets.
module Prunerl.Tests.FamilyCliTests

open System
open System.Diagnostics
open System.IO
open System.Text.Json
open Expecto
open Prunerl.Tests.Processes
open Prunerl.Tests.CliTests
open Prunerl.Tests.RunCommandTests

let private json (path: string) = JsonDocument.Parse(File.ReadAllText path).RootElement

let private state (run: string) = (json (Path.Combine(run, "status.json"))).GetProperty("state").GetString()

/// The values of a metric in a run's metrics.csv (columns step, name, value).
let private metric (run: string) (name: string) =
    File.ReadAllLines(Path.Combine(run, "metrics.csv"))
    |> Array.skip 1
    |> Array.map (fun line -> line.Split(','))
    |> Array.filter (fun cells -> cells[1] = name)
    |> Array.map (fun cells -> int64 cells[0], float cells[2])

/// The dataset a run trained with --record-dataset true writes into its folder.
let private datasetOf (run: string) = Path.Combine(run, "dataset.prlds")

/// A tiny CartPole DQN run that records its experience: 1200 steps, learning from step 200.
let private recording = [ "--steps"; "1200"; "--min-replay"; "200"; "--eval-every"; "0"; "--record-dataset"; "true" ]

/// A dataset recorded once by a tiny DQN run (in a folder of its own under the temporary folder), for
/// the tests that read it.
let private recorded =
    lazy
        (let run = Path.Combine(Path.GetTempPath(), "prunerl-recorded-" + Guid.NewGuid().ToString("N"))
         let r = prunerl ([ "train"; "--out"; run ] @ recording)
         Expect.equal r.ExitCode 0 (describe r)
         datasetOf run)

/// The recorded dataset, copied into the folder.
let private recordDataset (folder: string) =
    Directory.CreateDirectory folder |> ignore
    let path = Path.Combine(folder, "dataset.prlds")
    File.Copy(recorded.Force(), path)
    path

[<Tests>]
let tests =
    testSequenced <| testList "agent families on the command line" [
        test "train --agent sac on Pendulum writes the run folder: config, status, metrics, final network, pruned actor and critics" {
            withFolder "sac" (fun out ->
                let r =
                    prunerl [ "train"; "--agent"; "sac"; "--env"; "pendulum"; "--out"; out; "--steps"; "400"; "--min-replay"; "200"
                              "--batch-size"; "32"; "--width"; "0.25"; "--eval-every"; "400"; "--eval-episodes"; "1"; "--checkpoint-every"; "400"
                              "--sparsity"; "0.5"; "--prune-every"; "20"; "--distribution"; "uniform" ]
                Expect.equal r.ExitCode 0 (describe r)
                for file in [ "config.json"; "status.json"; "metrics.csv"; "metrics.jsonl" ] do
                    Expect.isTrue (File.Exists(Path.Combine(out, file))) (file + " written")
                Expect.isTrue (File.Exists(Path.Combine(out, "network.safetensors"))) "the final network (the actor) kept"
                Expect.isFalse (Directory.Exists(Path.Combine(out, "checkpoint"))) "the checkpoint dropped once finished"
                Expect.equal (state out) "finished" "finished"
                let config = json (Path.Combine(out, "config.json"))
                Expect.equal (config.GetProperty("agent").GetString()) "sac" "agent"
                Expect.equal (config.GetProperty("tau").GetDouble()) 0.005 "SAC's own fields are written"
                Expect.isFalse (config.TryGetProperty "atoms" |> fst) "the DQN family's are not"
                Expect.equal (metric out "eval/return" |> Array.map fst) [| 400L |] "evaluated at step 400"
                Expect.isNonEmpty (metric out "train/critic_loss") "SAC's losses logged"
                let row name = r.Output.Split('\n') |> Array.find (fun l -> l.TrimStart().StartsWith(name + " "))
                for name in [ "actor.torso.layers.1.weight"; "critic.q1_torso.layers.1.weight"; "critic.q2_torso.layers.1.weight" ] do
                    Expect.floatClose Accuracy.medium (float (row name |> fun l -> l.Split(' ', StringSplitOptions.RemoveEmptyEntries) |> Array.last)) 0.5 (name + " pruned to 50%"))
        }

        test "a DQN run records dataset.prlds; cql and cql-c51 train from it, pruned, evaluated in the environment" {
            withFolder "offline" (fun folder ->
                Expect.isTrue (File.Exists(recorded.Force())) "dataset.prlds in the recording run's folder"
                let dataset = recordDataset folder
                let data = Prunerl.Agents.Training.Dataset.Read dataset
                Expect.equal (data.Environment, data.Steps) ("cartpole", 1200L) "every step of the run"
                for agent in [ "cql"; "cql-c51" ] do
                    let out = Path.Combine(folder, agent)
                    // A relative path: the run's config holds it made absolute.
                    let relative = Path.GetRelativePath(repoRoot.Value, dataset)
                    let r =
                        prunerl [ "train"; "--agent"; agent; "--dataset"; relative; "--out"; out; "--steps"; "300"; "--eval-every"; "300"
                                  "--eval-episodes"; "2"; "--sparsity"; "0.8"; "--prune-every"; "10" ]
                    Expect.equal r.ExitCode 0 (describe r)
                    Expect.equal (state out) "finished" (agent + " finished")
                    let config = json (Path.Combine(out, "config.json"))
                    Expect.equal (config.GetProperty("dataset").GetString()) (Path.GetFullPath dataset) "the dataset's full path"
                    Expect.equal (config.GetProperty("conservative_weight").GetDouble()) (if agent = "cql" then 1.0 else 0.1) "the published weight"
                    Expect.equal (config.GetProperty("atoms").GetInt32()) (if agent = "cql" then 1 else 51) "C51 for cql-c51"
                    Expect.equal (metric out "eval/return" |> Array.map fst) [| 300L |] "evaluated in the environment after 300 updates"
                    Expect.isFalse (File.Exists(Path.Combine(out, "dataset.prlds"))) "an offline run records nothing")
        }

        test "a recording run interrupted and resumed writes the same dataset as one that ran straight through" {
            withFolder "record-resume" (fun folder ->
                let straight = Path.Combine(folder, "straight")
                let resumed = Path.Combine(folder, "resumed")
                let args out = [ "train"; "--out"; out; "--steps"; "3000"; "--eval-every"; "0"; "--checkpoint-every"; "1000"; "--record-dataset"; "true" ]
                let r = prunerl (args straight)
                Expect.equal r.ExitCode 0 (describe r)
                let dll = Path.Combine(repoRoot.Value, "Cli", "bin", configuration.Value, "net10.0", "prunerl.dll")
                let info = ProcessStartInfo(dotnet (), dll :: args resumed)
                info.RedirectStandardOutput <- true
                info.RedirectStandardError <- true
                use child = Process.Start info |> nonNull
                let output = child.StandardOutput.ReadToEndAsync()
                let errors = child.StandardError.ReadToEndAsync()
                let checkpoint = Path.Combine(resumed, "checkpoint", Prunerl.Agents.Checkpoints.CheckpointFile.LatestName)
                let waited = Stopwatch.StartNew()
                while not (File.Exists checkpoint) && waited.Elapsed < TimeSpan.FromMinutes 2.0 do
                    Threading.Thread.Sleep 20
                terminate child.Id
                Expect.isTrue (child.WaitForExit 60_000) "ended"
                Expect.equal child.ExitCode 143 (sprintf "interrupted: %s%s" output.Result errors.Result)
                Expect.isFalse (File.Exists(datasetOf resumed)) "no dataset before the run ends"
                let again = prunerl [ "train"; "--out"; resumed; "--resume" ]
                Expect.equal again.ExitCode 0 (describe again)
                Expect.equal (File.ReadAllBytes(datasetOf resumed)) (File.ReadAllBytes(datasetOf straight)) "the same dataset, byte for byte")
        }

        test "a corrupt, missing or mismatched dataset is a one-line error with exit code 2 that writes nothing" {
            withFolder "bad-dataset" (fun folder ->
                let dataset = recordDataset folder
                let corrupt = Path.Combine(folder, "corrupt.prlds")
                let bytes = File.ReadAllBytes dataset
                File.WriteAllBytes(corrupt, bytes[.. bytes.Length / 2])
                let flipped = Path.Combine(folder, "flipped.prlds")
                File.WriteAllBytes(flipped, bytes |> Array.mapi (fun i b -> if i = bytes.Length / 2 then b ^^^ 0xFFuy else b))
                let out = Path.Combine(folder, "cql")
                let refuse (args: string list) (words: string) =
                    prunerl ([ "train"; "--agent"; "cql"; "--out"; out; "--steps"; "100" ] @ args) |> expectOneLineError words
                    Expect.isFalse (Directory.Exists out) "nothing written"
                refuse [ "--dataset"; corrupt ] "dataset: "
                refuse [ "--dataset"; flipped ] "dataset: "
                refuse [ "--dataset"; Path.Combine(folder, "none.prlds") ] "none.prlds does not exist"
                refuse [ "--dataset"; dataset; "--env"; "acrobot" ] "recorded on cartpole (observations [4], 2 actions), not on acrobot"
                refuse [] "dataset must name the dataset file agent cql learns from"
                prunerl [ "sweep"; "--out"; out; "--agent"; "cql,cql-c51"; "--set"; "dataset=" + corrupt ] |> expectOneLineError "dataset: "
                Expect.isFalse (Directory.Exists out) "a sweep writes nothing either")
        }

        test "agents on the wrong kind of actions, and fields of another agent, are refused by name" {
            prunerl [ "train"; "--agent"; "sac"; "--env"; "cartpole" ] |> expectOneLineError "env must have continuous actions for agent sac"
            prunerl [ "train"; "--agent"; "dqn"; "--env"; "pendulum" ] |> expectOneLineError "env must have discrete actions for agent dqn"
            prunerl [ "train"; "--agent"; "rainbow"; "--env"; "mujoco/hopper" ] |> expectOneLineError "env must have discrete actions for agent rainbow"
            prunerl [ "train"; "--agent"; "sac"; "--atoms"; "51" ] |> expectOneLineError "atoms does not apply to agent sac (only to dqn, rainbow, der, drq, cql, cql-c51)"
            prunerl [ "train"; "--agent"; "dqn"; "--tau"; "0.01" ] |> expectOneLineError "tau does not apply to agent dqn (only to sac)"
            prunerl [ "train"; "--agent"; "sac"; "--network"; "minatar" ] |> expectOneLineError "network must be mlp for agent sac"
            prunerl [ "train"; "--agent"; "cql"; "--replay-ratio"; "2"; "--dataset"; "x" ] |> expectOneLineError "replay_ratio does not apply to agent cql"
            prunerl [ "train"; "--agent"; "cql"; "--record-dataset"; "true"; "--dataset"; "x" ] |> expectOneLineError "record_dataset does not apply to agent cql"
            prunerl [ "train"; "--record-dataset"; "true" ] |> expectOneLineError "record_dataset: a recorded dataset goes into the run's folder; give --out"
        }

        test "a sweep over two agents names each run by its agent, and the report keeps agents apart" {
            withFolder "agent-sweep" (fun folder ->
                let dataset = recordDataset folder
                let results = Path.Combine(folder, "results")
                let sweep =
                    prunerl [ "sweep"; "--out"; results; "--agent"; "cql,cql-c51"; "--sparsity"; "0,0.8"; "--workers"; "2"
                              "--set"; "dataset=" + dataset; "--steps"; "200"; "--set"; "eval_every=100"; "--set"; "eval_episodes=2" ]
                Expect.equal sweep.ExitCode 0 (describe sweep)
                let runs = Directory.GetDirectories results |> Array.map Path.GetFileName |> Array.sort
                Expect.equal runs.Length 4 "agents x sparsities"
                for agent in [ "cql"; "cql-c51" ] do
                    Expect.equal (runs |> Array.filter (fun n -> n.EndsWith("_agent-" + agent)) |> Array.length) 2 (agent + " in two run names")
                // Without --group-by, runs of different agents are grouped apart (agent, kind, width).
                let report = prunerl [ "report"; results; "--reps"; "200" ]
                Expect.equal report.ExitCode 0 (describe report)
                for group in [ "agent=cql, dense, width=2"; "agent=cql, pruned, width=2"; "agent=cql-c51, dense, width=2"; "agent=cql-c51, pruned, width=2" ] do
                    Expect.stringContains report.Output ("| " + group + " |") (group + " is a group")
                let byAgent = prunerl [ "report"; results; "--reps"; "200"; "--group-by"; "agent"; "--allow-mixed"; "--out"; Path.Combine(folder, "by-agent") ]
                Expect.equal byAgent.ExitCode 0 (describe byAgent)
                Expect.stringContains byAgent.Output "| agent=cql | 2 |" "two cql runs in one group")
        }
    ]
