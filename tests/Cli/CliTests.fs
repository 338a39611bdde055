/// The prunerl command line end to end: the main job's output, and bad input as one-line errors.
module Prunerl.Tests.CliTests

open System
open System.IO
open Expecto
open Prunerl.Tests.Processes

/// Runs the built prunerl (the same configuration as these tests) with extra environment variables and the arguments.
let prunerlWith (environment: (string * string) list) (args: string list) =
    let dll = Path.Combine(repoRoot.Value, "Cli", "bin", configuration.Value, "net10.0", "prunerl.dll")
    Expect.isTrue (File.Exists dll) (sprintf "%s is built" dll)
    runWith environment (dotnet ()) (dll :: args) repoRoot.Value

/// Runs the built prunerl (the same configuration as these tests) with the arguments.
let prunerl (args: string list) = prunerlWith [] args

/// The one-line refusal a command line gets, run in-process through Program.dispatch: its UserError (or Argu's
/// first line). A command that is not refused fails the test.
let refusal (argv: string list) : string =
    try
        let code = Prunerl.Cli.Program.dispatch (Array.ofList argv)
        failtestf "prunerl %s was not refused (exit code %d)" (String.concat " " argv) code
    with
    | Prunerl.Cli.UserError.UserError message -> message
    | :? Argu.ArguParseException as e -> e.Message.Split('\n').[0]

/// Bad input: exit code 2, nothing on stdout, one line on stderr that contains the words.
let expectOneLineError (words: string) (r: ProcessResult) =
    Expect.equal r.ExitCode 2 (describe r)
    let lines = r.Error.Trim().Split('\n')
    Expect.equal lines.Length 1 (sprintf "one line on stderr: %s" (describe r))
    Expect.stringStarts lines[0] "prunerl: " "names the program"
    Expect.stringContains lines[0] words "says what is wrong"

[<Tests>]
let tests =
    testList "prunerl command line" [
        test "demo prints the schedule and prunes each weight matrix to 95% (the paper's level), biases dense" {
            let r = prunerl [ "demo" ]
            Expect.equal r.ExitCode 0 (describe r)
            Expect.stringContains r.Output "from update 500000 to 2000000 of 2500000" "the paper's 20%-80% window"
            let row name =
                r.Output.Split('\n') |> Array.tryFind (fun l -> l.TrimStart().StartsWith(name + " ")) |> Option.defaultWith (fun () -> failtestf "no row %s in\n%s" name r.Output)
            let sparsityOf name = row name |> fun l -> l.Split(' ', StringSplitOptions.RemoveEmptyEntries) |> Array.last |> float
            Expect.floatClose Accuracy.medium (sparsityOf "torso.layers.1.weight") 0.95 "hidden weights at 95%"
            Expect.isTrue (abs (sparsityOf "torso.layers.0.weight" - 0.95) < 0.01) "input weights near 95% (51 of 1024 kept)"
            Expect.equal (sparsityOf "torso.layers.0.bias") 0.0 "biases dense"
            Expect.stringContains (row "2000000") "0.9500" "the final milestone is measured at 95%"
        }

        test "help texts say what the study runs, name every agent of Choices.agents, and count gradient updates" {
            let help (args: string list) =
                let r = prunerl args
                Expect.equal r.ExitCode 0 (describe r)
                // Argu wraps its columns: one space for every run of white space.
                Text.RegularExpressions.Regex.Replace(r.Output, @"\s+", " ")
            let agents = Prunerl.Experiments.Choices.agents |> List.map fst |> String.concat ", "
            let main, study = help [ "--help" ], help [ "study"; "--help" ]
            for text in [ main; study ] do
                Expect.stringContains text "DQN dense vs pruned to 95% at widths 1 and 3 on MinAtar Space Invaders, seeds 1 and 2, 30k steps per run" "what the study runs"
                Expect.isFalse (text.Contains "Breakout") "and no other game"
            Expect.stringStarts study "prunerl study: the main job" "study --help begins with what it does"
            Expect.stringContains main (sprintf "train one run of an agent (%s)" agents) "prunerl --help: train's agents"
            let listed = Prunerl.Experiments.Choices.agents |> List.map fst |> String.concat "|"
            Expect.stringContains (help [ "train"; "--help" ]) (sprintf "--agent <%s> %s." listed agents) "train --agent: Argu lists the typed choice's names"
            Expect.stringContains (help [ "sweep"; "--help" ]) (sprintf "--agent <names> agents, comma-separated: %s (run names" agents) "sweep --agent"
            let baselines = Prunerl.Experiments.Choices.baselines |> List.map fst |> String.concat ", "
            Expect.stringContains (help [ "sweep"; "--help" ]) (sprintf "--baseline <names> baselines, comma-separated: %s." baselines) "sweep --baseline"
            Expect.stringContains (help [ "demo"; "--help" ]) "training length in gradient updates" "demo --total-steps"
        }

        test "bad values and flags are one-line errors with exit code 2" {
            prunerl [ "demo"; "--sparsity"; "1.5" ] |> expectOneLineError "sparsity must be in [0, 1), got 1.5"
            prunerl [ "demo"; "--device"; "tpu" ] |> expectOneLineError "parameter '--device' must be followed by <auto|cpu|cuda>, but was 'tpu'"
            prunerl [ "demo"; "--sparsity"; "lots" ] |> expectOneLineError "--sparsity"
            prunerl [ "frobnicate" ] |> expectOneLineError "frobnicate"
            prunerl [ "demo"; "--total-steps"; "0" ] |> expectOneLineError "total_steps must be >= 1, got 0"
        }

        test "--version names the version and commit; -h is --help; a mistyped command or flag gets a suggestion" {
            let v = prunerl [ "--version" ]
            Expect.equal v.ExitCode 0 v.Output
            Expect.isMatch (v.Output.Trim()) @"^prunerl \d+\.\d+\.\d+ \(commit ([0-9a-f]{40}|unknown)\)$" "one line: version and commit"
            Expect.equal (prunerl [ "-V" ]).Output v.Output "-V is --version"
            let h = prunerl [ "train"; "-h" ]
            Expect.equal h.ExitCode 0 h.Output
            Expect.equal h.Output (prunerl [ "train"; "--help" ]).Output "-h is --help"
            prunerl [ "trian" ] |> expectOneLineError "unrecognized argument: 'trian' (did you mean 'train'?)"
            prunerl [ "train"; "--sparsty"; "0.9" ] |> expectOneLineError "unrecognized argument: '--sparsty' (did you mean '--sparsity'?)"
            prunerl [ "frobnicate" ] |> expectOneLineError "unrecognized argument: 'frobnicate' (see prunerl --help)"
        }

        test "dotnet publish ships a prunerl whose torch loads (the fixed native library included)" {
            let output = Path.Combine(Path.GetTempPath(), "prunerl-publish-" + Guid.NewGuid().ToString("N"))
            try
                let publish =
                    run (dotnet ())
                        [ "publish"; "Cli/Cli.fsproj"; "-c"; configuration.Value; "--no-build"; "-nologo"; "-o"; output
                          "-p:CreateHardLinksForPublishFilesIfPossible=true" ]
                        repoRoot.Value
                Expect.equal publish.ExitCode 0 (describe publish)
                let r = run (dotnet ()) [ Path.Combine(output, "prunerl.dll"); "demo"; "--sparsity"; "0.5" ] output
                Expect.equal r.ExitCode 0 (describe r)
                Expect.stringContains r.Output "0.5000" "the published program prunes on torch"
            finally
                if Directory.Exists output then Directory.Delete(output, true)
        }

        test "envs lists every registered environment and renders one to a PNG strip" {
            let listing = prunerl [ "envs" ]
            Expect.equal listing.ExitCode 0 (describe listing)
            for id in Prunerl.Agents.Envs.EnvironmentRegistry.Ids do
                Expect.stringContains listing.Output id "listed"
            let out = Path.Combine(Path.GetTempPath(), "prunerl-strip-" + Guid.NewGuid().ToString("N") + ".png")
            try
                let r = prunerl [ "envs"; "--render"; "minatar/breakout"; "--frames"; "3"; "--out"; out ]
                Expect.equal r.ExitCode 0 (describe r)
                let png = File.ReadAllBytes out
                let be (i: int) = (int png[i] <<< 24) ||| (int png[i + 1] <<< 16) ||| (int png[i + 2] <<< 8) ||| int png[i + 3]
                // Three 160-pixel frames with two 4-pixel gaps.
                Expect.equal (be 16, be 20) (3 * 160 + 2 * 4, 160) "strip size"
            finally
                File.Delete out
            prunerl [ "envs"; "--render"; "pong" ] |> expectOneLineError "unknown environment 'pong'"
            prunerl [ "envs"; "--render"; "minatar/breakout"; "--frames"; "0" ] |> expectOneLineError "frames must be >= 1, got 0"
        }

        test "train runs a short pruned DQN, reports evaluations and the final sparsity" {
            let r = prunerl [ "train"; "--steps"; "3000"; "--eval-every"; "1500"; "--sparsity"; "0.8"; "--distribution"; "uniform" ]
            Expect.equal r.ExitCode 0 (describe r)
            let rows = r.Output.Split('\n') |> Array.map (fun l -> l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            let evaluations = rows |> Array.filter (fun cells -> cells.Length = 4 && (cells[0] = "1500" || cells[0] = "3000"))
            Expect.equal evaluations.Length 2 "an evaluation every 1500 steps"
            let hidden = rows |> Array.find (fun cells -> cells.Length > 0 && cells[0] = "torso.layers.1.weight")
            Expect.floatClose Accuracy.medium (float (Array.last hidden)) 0.8 "pruned to 80% at the end (uniform)"
        }

        test "bench train refuses bad input before measuring" {
            prunerl [ "bench"; "train"; "--env"; "cartpole" ] |> expectOneLineError "bench train runs on MinAtar games, got 'cartpole'"
            prunerl [ "bench"; "train"; "--widths"; "1,x" ] |> expectOneLineError "widths must be positive numbers, separated by commas, got 'x'"
            prunerl [ "bench"; "train"; "--steps"; "10" ] |> expectOneLineError "steps must be >= 200, got 10"
            prunerl [ "bench"; "train"; "--networks"; "minatar,resnet50" ] |> expectOneLineError "networks must be minatar or impala, separated by commas, got 'resnet50'"
            prunerl [ "bench"; "train"; "--threads"; "0" ] |> expectOneLineError "threads must be >= 1, got 0"
            prunerl [ "bench"; "train"; "--repeats"; "0" ] |> expectOneLineError "repeats must be >= 1, got 0"
        }

        test "bench train and bench update print a row per network and width, with the threads used" {
            let rows (r: ProcessResult) =
                Expect.equal r.ExitCode 0 (describe r)
                r.Output.Split('\n') |> Array.filter (fun l -> l.TrimStart().StartsWith "MinAtar " || l.TrimStart().StartsWith "Impala ")
            let train = prunerl [ "bench"; "train"; "--widths"; "0.25"; "--steps"; "200" ]
            Expect.equal (rows train |> Array.map (fun l -> l.Split(' ', StringSplitOptions.RemoveEmptyEntries).[0..2])) [| [| "MinAtar"; "0.25"; "1" |]; [| "Impala"; "0.25"; "1" |] |] train.Output
            let update = prunerl [ "bench"; "update"; "--networks"; "minatar"; "--widths"; "0.25,0.5"; "--threads"; "1"; "--seconds"; "0.05" ]
            Expect.equal (rows update |> Array.map (fun l -> l.Split(' ', StringSplitOptions.RemoveEmptyEntries).[0..2])) [| [| "MinAtar"; "0.25"; "1" |]; [| "MinAtar"; "0.5"; "1" |] |] update.Output
        }

        test "bench agents times each chosen agent, dense and pruned, and leaves no dataset behind" {
            let datasets () = Directory.GetDirectories(Path.GetTempPath(), "prunerl-bench-agents-*") |> Set.ofArray
            let before = datasets ()
            let r = prunerl [ "bench"; "agents"; "--agents"; "dqn,cql"; "--steps"; "40" ]
            Expect.equal r.ExitCode 0 (describe r)
            let rows =
                r.Output.Split('\n')
                |> Array.map (fun l -> l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                |> Array.filter (fun fields -> fields.Length > 0 && (fields[0] = "dqn" || fields[0] = "cql"))
            Expect.equal (rows |> Array.map (fun f -> f[0], f[1], f[2])) [| "dqn", "minatar/breakout", "minatar"; "cql", "cartpole", "mlp" |] r.Output
            for row in rows do
                // The last columns: steps, dense and pruned steps/s, dense and pruned ms per step (all measured,
                // so positive), overhead.
                let last = row.Length - 1
                Expect.equal row[last - 5] "40" "the steps asked for"
                for value in row[last - 4 .. last - 1] do
                    Expect.isGreaterThan (float value) 0.0 (sprintf "positive figures in %s" (String.concat " " row))
            Expect.equal (datasets () - before) Set.empty "the offline agents' dataset is deleted"
        }

        test "bench agents refuses bad input before measuring" {
            prunerl [ "bench"; "agents"; "--agents"; "dqn,rainbow" ] |> expectOneLineError "agents must be dqn, der, drq, sac, cql or cql-c51, separated by commas, got 'rainbow'"
            prunerl [ "bench"; "agents"; "--steps"; "0" ] |> expectOneLineError "steps must be >= 1, got 0"
            prunerl [ "bench"; "agents"; "--repeats"; "0" ] |> expectOneLineError "repeats must be >= 1, got 0"
            prunerl [ "bench"; "agents"; "--width"; "-1" ] |> expectOneLineError "width must be a finite number > 0, got -1"
            prunerl [ "bench"; "agents"; "--steps"; "many" ] |> expectOneLineError "steps must be a number, got 'many'"
        }

        test "bench methods refuses bad input before measuring" {
            prunerl [ "bench"; "methods"; "--repeats"; "0" ] |> expectOneLineError "repeats must be >= 1, got 0"
        }

        test "bench update refuses bad input before measuring" {
            prunerl [ "bench"; "update"; "--env"; "cartpole" ] |> expectOneLineError "bench update runs on MinAtar games, got 'cartpole'"
            prunerl [ "bench"; "update"; "--threads"; "1,0" ] |> expectOneLineError "threads must be whole numbers >= 1, separated by commas, got '0'"
            prunerl [ "bench"; "update"; "--seconds"; "0" ] |> expectOneLineError "seconds must be > 0, got 0"
        }

        test "train refuses a thread count below 1" {
            prunerl [ "train"; "--threads"; "0" ] |> expectOneLineError "threads must be >= 1, got 0"
        }

        test "--device cuda without CUDA is refused, not silently run on the CPU" {
            let r = prunerl [ "demo"; "--device"; "cuda" ]
            if r.ExitCode = 0 then Expect.stringContains r.Output "cuda" "ran on CUDA where it is available"
            else expectOneLineError "device: cuda is not available here" r
        }
    ]
