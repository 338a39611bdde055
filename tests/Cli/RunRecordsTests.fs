/// The same runs, byte for byte: one short run of each agent family (and each baseline) through `prunerl
/// train`, whose metrics.csv must equal the copy recorded in tests/runs/. It guards refactorings that must
/// keep every run what it was (the house issue): a changed number anywhere in a run (initialisation, seed
/// streams, schedule, masks, replay, losses, analyses, evaluation) changes its metrics file.
///
/// A float's last bit depends on the CPU's vector instructions that libtorch dispatches to, so the files
/// are recorded with the instruction set named in tests/runs/isa.txt; on a machine with another one the
/// comparison is skipped, saying so, rather than failing or passing falsely.
/// To record anew after an intended change: PRUNERL_UPDATE_RUNS=1 ./test.sh --filter-test-case "byte for byte"
module Prunerl.Tests.RunRecordsTests

open System
open System.IO
open System.Runtime.Intrinsics.X86
open Expecto
open Prunerl.Tests.Processes
open Prunerl.Tests.CliTests
open Prunerl.Tests.RunCommandTests

/// The widest x86 vector instructions this CPU has, as libtorch's CPU dispatch distinguishes them.
let private isa () =
    if Avx512F.IsSupported then "avx512"
    elif Avx2.IsSupported then "avx2"
    else "default"

let private recordsFolder () = Path.Combine(repoRoot.Value, "tests", "runs")

let private updating () = Environment.GetEnvironmentVariable "PRUNERL_UPDATE_RUNS" = "1"

/// Each recorded run: its name and `prunerl train` arguments (the output folder is added). The CartPole
/// DQN run records the dataset that the offline runs train from.
let private runs (dataset: string) =
    let minatar env = [ "--env"; env; "--width"; "1"; "--eval-every"; "1000"; "--eval-episodes"; "2" ]
    [ "dqn-cartpole-pruned",
      [ "--env"; "cartpole"; "--steps"; "1500"; "--min-replay"; "200"; "--sparsity"; "0.9"; "--prune-every"; "50"
        "--eval-every"; "750"; "--eval-episodes"; "2"; "--analyse-every"; "500"; "--seed"; "3"; "--record-dataset"; "true" ]
      "dqn-minatar-breakout-pruned",
      minatar "minatar/breakout" @ [ "--steps"; "3000"; "--min-replay"; "500"; "--analyse-every"; "1000"; "--seed"; "2" ]
      "dqn-minatar-asterix-dense-w3",
      [ "--env"; "minatar/asterix"; "--width"; "3"; "--sparsity"; "0"; "--steps"; "1500"; "--min-replay"; "500"; "--eval-every"; "0" ]
      "rainbow-minatar-space-invaders", [ "--agent"; "rainbow" ] @ minatar "minatar/space_invaders" @ [ "--steps"; "2000"; "--min-replay"; "500" ]
      "der-minatar-freeway", [ "--agent"; "der" ] @ minatar "minatar/freeway" @ [ "--steps"; "1000"; "--min-replay"; "300" ]
      "drq-minatar-seaquest", [ "--agent"; "drq" ] @ minatar "minatar/seaquest" @ [ "--steps"; "1000"; "--min-replay"; "300" ]
      "sac-pendulum-pruned",
      [ "--agent"; "sac"; "--env"; "pendulum"; "--steps"; "600"; "--min-replay"; "200"; "--batch-size"; "32"; "--width"; "0.25"
        "--eval-every"; "600"; "--eval-episodes"; "1"; "--sparsity"; "0.5"; "--prune-every"; "20" ]
      "cql-cartpole", [ "--agent"; "cql"; "--dataset"; dataset; "--steps"; "300"; "--eval-every"; "300"; "--eval-episodes"; "2"; "--sparsity"; "0.8"; "--prune-every"; "10" ]
      "cql-c51-cartpole", [ "--agent"; "cql-c51"; "--dataset"; dataset; "--steps"; "300"; "--eval-every"; "300"; "--eval-episodes"; "2" ]
      "dqn-cartpole-reset", [ "--env"; "cartpole"; "--steps"; "1200"; "--min-replay"; "200"; "--sparsity"; "0"; "--baseline"; "reset"; "--baseline-period"; "200"; "--eval-every"; "0" ]
      "dqn-cartpole-redo", [ "--env"; "cartpole"; "--steps"; "1200"; "--min-replay"; "200"; "--sparsity"; "0"; "--baseline"; "redo"; "--baseline-period"; "200"; "--analyse-every"; "600"; "--eval-every"; "0" ]
      "dqn-cartpole-pruned-wd", [ "--env"; "cartpole"; "--steps"; "1200"; "--min-replay"; "200"; "--sparsity"; "0.9"; "--prune-every"; "50"; "--baseline"; "wd"; "--eval-every"; "0" ] ]

/// Runs every recorded run into its own folder under `folder`, in order (the dataset first).
let private trainAll (folder: string) =
    let dataset = Path.Combine(folder, "dqn-cartpole-pruned", "dataset.prlds")
    [ for name, args in runs dataset do
          let out = Path.Combine(folder, name)
          let r = prunerl ([ "train"; "--out"; out ] @ args)
          Expect.equal r.ExitCode 0 (name + ": " + describe r)
          name, File.ReadAllLines(Path.Combine(out, "metrics.csv")) ]

/// The first line where two files differ, as a failure shows it.
let private firstDifference (expected: string[]) (actual: string[]) =
    let n = min expected.Length actual.Length
    match Seq.tryFind (fun i -> expected[i] <> actual[i]) (seq { 0 .. n - 1 }) with
    | Some i -> sprintf "line %d: expected %s, got %s" (i + 1) expected[i] actual[i]
    | None -> sprintf "%d lines expected, %d written" expected.Length actual.Length

[<Tests>]
let tests =
    testList "runs" [
        test "each family's short run writes, byte for byte, the metrics recorded in tests/runs/" {
            let folder = recordsFolder ()
            let isaFile = Path.Combine(folder, "isa.txt")
            if updating () then
                withFolder "records" (fun out ->
                    Directory.CreateDirectory folder |> ignore
                    File.WriteAllText(isaFile, isa () + "\n")
                    for name, lines in trainAll out do
                        File.WriteAllLines(Path.Combine(folder, name + ".metrics.csv"), lines))
            let recordedIsa = File.ReadAllText(isaFile).Trim()
            if recordedIsa <> isa () then
                skiptestf "tests/runs/ was recorded on %s; this CPU dispatches to %s, whose floats differ in the last bits" recordedIsa (isa ())
            withFolder "runs" (fun out ->
                let written = trainAll out
                Expect.equal (List.length written) (List.length (runs "")) "every run trained"
                for name, actual in written do
                    let expected = File.ReadAllLines(Path.Combine(folder, name + ".metrics.csv"))
                    Expect.isGreaterThan expected.Length 4 (name + ": a recorded run with metrics")
                    if expected <> actual then
                        failtestf "%s wrote other metrics than tests/runs/%s.metrics.csv: %s" name name (firstDifference expected actual))
        }
    ]
