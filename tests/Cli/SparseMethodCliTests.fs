/// The sparse-training methods on the command line (issue 18): `train --method` with a lottery ticket from a
/// finished gmp run's folder, bad combinations refused in one line before anything is written, `sweep --method` as an
/// axis, and `report` reading a method as a kind (a config.json without one as gmp, the committed study's included).
module Prunerl.Tests.SparseMethodCliTests

open System.IO
open System.Text.Json
open Expecto
open Prunerl.Experiments
open Prunerl.Cli
open Prunerl.Cli.UserError
open Prunerl.Tests.CliTests

/// Every file under a folder with its bytes (the lock's text names the last process: left out).
let private snapshot (folder: string) =
    [ for path in Directory.GetFiles(folder, "*", SearchOption.AllDirectories) |> Array.sort do
          if Path.GetFileName path <> RunFormat.LockFile then Path.GetRelativePath(folder, path), File.ReadAllBytes path ]

/// A short CartPole run's flags: 1500 steps on one thread, one evaluation, no analyses or checkpoints.
let private short = [ "--steps"; "1500"; "--eval-every"; "500"; "--eval-episodes"; "1"; "--analyse-every"; "0"; "--checkpoint-every"; "0"; "--threads"; "1" ]

/// A finished gmp run pruned to 90% with its ticket, and a folder beside it holding only a SET run's config.json and one a
/// gmp run's without its ticket, trained once for the tests.
let private fixtures: Lazy<string> =
    lazy
        let root = Fixtures.scratchPath "sparse-methods"
        Expect.equal (Program.dispatch (Array.ofList ([ "train"; "--sparsity"; "0.9"; "--out"; Path.Combine(root, "gmp") ] @ short))) 0 "the gmp run trained"
        let configOf values = Resolution.resolve Prunerl.Agents.Training.TrainingRun.Environments values |> Result.defaultWith failwith
        for name in [ "set"; "unfinished" ] do Directory.CreateDirectory(Path.Combine(root, name)) |> ignore
        RunFolder.writeConfig (Path.Combine(root, "set")) (configOf [ "sparsity", Number 0.9; "method", Text "set" ])
        RunFolder.writeConfig (Path.Combine(root, "unfinished")) (configOf [ "sparsity", Number 0.9 ])
        root

[<Tests>]
let tests =
    testSequenced <| testList "sparse methods on the command line" [
        test "a gmp pruned run leaves its ticket; train --method lottery --ticket retrains it, the folder made absolute in config.json" {
            let root = fixtures.Value
            Expect.isTrue (File.Exists(Path.Combine(root, "gmp", RunFormat.TicketFile))) "ticket.bin"
            let lottery = Path.Combine(root, "lottery")
            let relative = Path.GetRelativePath(Directory.GetCurrentDirectory(), Path.Combine(root, "gmp"))
            Expect.equal (Program.dispatch (Array.ofList ([ "train"; "--sparsity"; "0.9"; "--method"; "lottery"; "--ticket"; relative; "--out"; lottery ] @ short))) 0 "trained"
            let config = JsonDocument.Parse(File.ReadAllText(Path.Combine(lottery, RunFormat.ConfigFile))).RootElement
            Expect.equal (config.GetProperty("method").GetString()) "lottery" "the method"
            Expect.equal (config.GetProperty("ticket").GetString()) (Path.Combine(root, "gmp")) "the ticket's folder, absolute"
            Expect.isFalse (File.Exists(Path.Combine(lottery, RunFormat.TicketFile))) "a lottery run leaves no ticket of its own"
            Expect.equal (Report.kind (Results.readConfig (Path.Combine(lottery, RunFormat.ConfigFile)))) "lottery" "report's kind"
            Expect.equal (Report.kind (Results.readConfig (Path.Combine(root, "gmp", RunFormat.ConfigFile)))) "pruned" "gmp is pruned"
        }

        testList "bad combinations are refused in one line, nothing written" [
            for name, argv, words in
                [ "lottery without a ticket", (fun _ -> [ "train"; "--method"; "lottery" ]), "method lottery needs ticket: the folder of a finished gmp run"
                  "a method on a dense network", (fun _ -> [ "train"; "--method"; "set"; "--sparsity"; "0" ]), "method set trains a sparse network: give sparsity > 0"
                  "a ticket for another method", (fun root -> [ "train"; "--method"; "rigl"; "--ticket"; Path.Combine(root, "gmp") ]), "ticket applies to method lottery only, got method rigl"
                  "a ticket folder that does not exist", (fun root -> [ "train"; "--method"; "lottery"; "--ticket"; Path.Combine(root, "none") ]), "none does not exist"
                  "a ticket folder without its ticket", (fun root -> [ "train"; "--sparsity"; "0.9"; "--method"; "lottery"; "--ticket"; Path.Combine(root, "unfinished") ]), "holds no ticket.bin"
                  "a ticket of a SET run", (fun root -> [ "train"; "--sparsity"; "0.9"; "--method"; "lottery"; "--ticket"; Path.Combine(root, "set") ]), "is a method set run; a ticket comes from a gmp pruned run"
                  "a ticket of another sparsity", (fun root -> [ "train"; "--sparsity"; "0.8"; "--method"; "lottery"; "--ticket"; Path.Combine(root, "gmp") ]), "was trained with sparsity 0.9, this run asks for 0.8"
                  "a rewind step the run did not record", (fun root -> [ "train"; "--sparsity"; "0.9"; "--method"; "lottery"; "--ticket"; Path.Combine(root, "gmp"); "--rewind-step"; "7" ]), "the run recorded no weights at step 7 (it recorded steps: 0)"
                  "a rewind step on SET", (fun _ -> [ "train"; "--method"; "set"; "--rewind-step"; "7" ]), "rewind_step applies to methods gmp"
                  "an unknown method", (fun _ -> [ "train"; "--method"; "sparse" ]), "--method"
                  "a sweep's lottery without a ticket", (fun _ -> [ "sweep"; "--method"; "gmp,lottery" ]), "method lottery needs ticket" ] ->
                test name {
                    let root = fixtures.Value
                    let out = Path.Combine(root, "refused")
                    let before = snapshot root
                    Expect.stringContains (refusal (argv root @ [ "--out"; out ])) words "the one line says what is wrong"
                    Expect.equal (snapshot root) before "nothing written"
                    Expect.isFalse (Directory.Exists out) "no run folder"
                }
        ]

        test "sweep --method is an axis: the runs' folders carry the method" {
            let root = fixtures.Value
            let out = Path.Combine(root, "sweep")
            let output =
                let original = System.Console.Out
                use captured = new StringWriter()
                System.Console.SetOut captured
                try Program.dispatch [| "sweep"; "--sparsity"; "0.9"; "--method"; "gmp,static,set,rigl"; "--out"; out; "--dry-run" |] |> ignore
                finally System.Console.SetOut original
                captured.ToString()
            for m in [ "gmp"; "static"; "set"; "rigl" ] do
                Expect.stringContains output (sprintf "cartpole_w2_s0.9_none_seed0_method-%s" m) (m + " in its run's name")
            Expect.isFalse (Directory.Exists out) "a dry run writes nothing"
        }

        test "report reads a config.json without a method as gmp, and the committed width study's configs as pruned and dense" {
            let root = fixtures.Value
            let old = Path.Combine(root, "old.json")
            File.WriteAllText(old, """{"format":"prunerl-run/1","agent":"dqn","env":"cartpole","width":1,"sparsity":0.9,"baseline":"none","steps":1000,"seed":1}""")
            let config = Results.readConfig old
            Expect.equal (config.TryFind "method") (Some "gmp") "gmp"
            Expect.equal (Report.kind config) "pruned" "pruned"
            let study = Path.Combine(Prunerl.Tests.Processes.repoRoot.Value, "results", "minatar-width")
            let kinds =
                [ for folder in Directory.GetDirectories study do
                      let path = Path.Combine(folder, RunFormat.ConfigFile)
                      if File.Exists path then Report.kind (Results.readConfig path) ]
            Expect.isNonEmpty kinds "the study's runs"
            Expect.equal (set kinds) (set [ "dense"; "pruned" ]) "dense and pruned, as before"
        }
    ]
