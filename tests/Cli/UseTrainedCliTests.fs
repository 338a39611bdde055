/// `prunerl evaluate` and `prunerl export` end to end, as the README walks a user through them: train CartPole,
/// evaluate the finished run, record a GIF, export to PyTorch's formats and load the files back; and bad input
/// (no run, an unfinished run, no network, an unknown format) refused in one line with exit code 2.
module Prunerl.Tests.UseTrainedCliTests

open System
open System.IO
open System.Text.Json
open Expecto
open Prunerl.Core
open Prunerl.Experiments
open Prunerl.Agents.Envs
open Prunerl.Agents.Runtime
open Prunerl.Agents.Inference
open Prunerl.Agents.Networks
open Prunerl.Tests.Processes
open Prunerl.Tests.CliTests
open Prunerl.Tests.RunCommandTests
open SixLabors.ImageSharp
open SixLabors.ImageSharp.PixelFormats

let private json (path: string) = JsonDocument.Parse(File.ReadAllText path).RootElement.Clone()

/// Forty CartPole-sized observations.
let private observations =
    let mutable random = EnvRandom 5UL
    Array.init 160 (fun _ -> float32 (random.Uniform(-2.0, 2.0)))

/// Whether Debian's python3 has torch here (python3-torch; CI does not install it, so the cross-check is skipped there, saying so).
let private pythonHasTorch =
    lazy
        (File.Exists "/usr/bin/python3"
         && (run "/usr/bin/python3" [ "-c"; "import torch" ] (Path.GetTempPath())).ExitCode = 0)

/// The README's Python, run on the exported folder, then the Q-values of the observations from network.pt and from
/// network.safetensors read by hand (8-byte length, JSON header, raw little-endian floats): the two last lines.
let private pythonQValues (folder: string) (out: string) =
    let readme = File.ReadAllText(Path.Combine(repoRoot.Value, "README.md"))
    let start = readme.IndexOf("```python\nimport json, torch") + "```python\n".Length
    let code = readme.Substring(start, readme.IndexOf("```", start) - start)
    Expect.stringContains code "folder = \"runs/cartpole/export\"" "the README's folder"
    let script =
        code.Replace("folder = \"runs/cartpole/export\"", "folder = " + JsonSerializer.Serialize out)
        + String.concat "\n" [
            "import struct, sys"
            "observations = torch.tensor(json.loads(sys.argv[1])).view(-1, 4)"
            "print(json.dumps(network(observations).flatten().tolist()))"
            "data = open(f\"{folder}/network.safetensors\", \"rb\").read()"
            "n = struct.unpack(\"<Q\", data[:8])[0]"
            "header = json.loads(data[8:8 + n])"
            "network.load_state_dict({k: torch.frombuffer(bytearray(data[8 + n + v[\"data_offsets\"][0]:8 + n + v[\"data_offsets\"][1]]), dtype=torch.float32).view(v[\"shape\"]) for k, v in header.items() if k != \"__metadata__\"})"
            "print(json.dumps(network(observations).flatten().tolist()))"
            "" ]
    let file = Path.Combine(folder, "readme.py")
    File.WriteAllText(file, script)
    let r = run "/usr/bin/python3" [ file; JsonSerializer.Serialize observations ] folder
    Expect.equal r.ExitCode 0 (describe r)
    let lines = r.Output.Trim().Split('\n')
    [ for line in lines[lines.Length - 2 ..] -> JsonSerializer.Deserialize<float[]> line ]

/// The README's commands from CartPole to a GIF and a PyTorch module (the sh block under "Using a trained agent"),
/// each a prunerl command line as its words, the comment dropped.
let private readmeCommands () =
    let readme = File.ReadAllText(Path.Combine(repoRoot.Value, "README.md"))
    let start = readme.IndexOf("```sh\n", readme.IndexOf "From CartPole to a GIF") + "```sh\n".Length
    [ for line in readme.Substring(start, readme.IndexOf("```", start) - start).Split('\n', StringSplitOptions.RemoveEmptyEntries) ->
        line.Split('#').[0].Split(' ', StringSplitOptions.RemoveEmptyEntries) |> List.ofArray ]

/// Runs the built prunerl with the arguments in a working folder (where the README's relative paths go).
let private prunerlIn (folder: string) (args: string list) =
    let dll = Path.Combine(repoRoot.Value, "Cli", "bin", configuration.Value, "net10.0", "prunerl.dll")
    run (dotnet ()) (dll :: args) folder

let private writeStatus (run: string) (state: string) =
    File.WriteAllText(Path.Combine(run, "status.json"), sprintf """{ "state": "%s", "step": 5, "total_steps": 2000, "error": null }""" state)

[<Tests>]
let tests =
    testSequenced <| testList "evaluate and export" [
        test "the README's path on CartPole, its own commands: train, evaluate, record a GIF, export to PyTorch's formats, load them back" {
            withFolder "use-trained" (fun folder ->
                Directory.CreateDirectory folder |> ignore
                let commands = readmeCommands ()
                Expect.equal [ for c in commands -> List.truncate 2 c ] [ [ "prunerl"; "train" ]; [ "prunerl"; "evaluate" ]; [ "prunerl"; "evaluate" ]; [ "prunerl"; "export" ] ] "the README's four commands"
                let readme (index: int) = List.tail commands[index]
                let run = Path.Combine(folder, "runs", "cartpole")
                // The one change to the README's train: 2000 steps instead of 30,000, checkpointed every 1000 (so its drop is seen), to keep the suite short.
                let train = readme 0 |> List.map (fun word -> if word = "30000" then "2000" else word)
                Expect.notEqual train (readme 0) "the README trains for 30000 steps"
                let trained = prunerlIn folder (train @ [ "--checkpoint-every"; "1000" ])
                Expect.equal trained.ExitCode 0 (describe trained)
                Expect.isTrue (File.Exists(Path.Combine(run, "network.safetensors"))) "the finished run keeps its final network"
                Expect.isFalse (Directory.Exists(Path.Combine(run, "checkpoint"))) "and drops its checkpoint"
                let again = prunerl [ "train"; "--out"; run; "--resume" ]
                Expect.equal again.ExitCode 0 (describe again)
                Expect.stringContains again.Output "has finished; nothing to resume" "a finished run is not trained again"

                let evaluated = prunerlIn folder (readme 1)
                Expect.equal evaluated.ExitCode 0 (describe evaluated)
                let csv = File.ReadAllLines(Path.Combine(run, "evaluation.csv"))
                Expect.equal csv[0] "episode,return,length" "the CSV's header"
                Expect.equal csv.Length 11 "one line per episode: the README's 10"
                let returns = csv[1..] |> Array.map (fun line -> let cells = line.Split ',' in float cells[1], int cells[2])
                Expect.isTrue (returns |> Array.forall (fun (r, length) -> r = float length)) "CartPole pays 1 a step"
                Expect.stringContains evaluated.Output (sprintf "Mean return %.2f (std " (returns |> Array.averageBy fst)) "the mean of the CSV's returns"
                Expect.stringContains evaluated.Output "95% bootstrap CI [" "with its interval"
                let same = prunerl [ "evaluate"; run; "--episodes"; "10"; "--csv"; Path.Combine(folder, "again.csv") ]
                Expect.equal same.ExitCode 0 (describe same)
                Expect.equal (File.ReadAllLines(Path.Combine(folder, "again.csv"))) csv "the same seed, the same episodes"

                let recorded = prunerlIn folder (readme 2)
                Expect.equal recorded.ExitCode 0 (describe recorded)
                use image = Image.Load<Rgb24>(Path.Combine(folder, "cartpole.gif"))
                Expect.equal (image.Width, image.Height) (300, 200) "half of CartPole's 600x400 (--scale 0.5)"
                Expect.equal image.Frames.Count (min 1000 (snd returns[0] + 1)) "the first episode: its reset and every step"
                Expect.equal (image.Frames[0].Metadata.GetGifMetadata().FrameDelay) 3 "30 frames per second: 100 / 30 hundredths, rounded"
                Expect.equal image.Frames[0].[0, 0] (Rgb24(255uy, 255uy, 255uy)) "CartPole's white background"

                let exported = prunerlIn folder (readme 3)
                Expect.equal exported.ExitCode 0 (describe exported)
                let out = Path.Combine(run, "export")
                let description = json (Path.Combine(out, "network.json"))
                Expect.equal (description.GetProperty("module").GetString()) "QNetwork" "the module"
                Expect.equal [ for l in description.GetProperty("layers").EnumerateArray() -> l.GetProperty("name").GetString(), l.GetProperty("out_features").GetInt32() ]
                    [ "head", 2; "torso.layers.0", 256; "torso.layers.1", 256 ] "the layers, width 2 on 128-unit layers"
                let sparsity = description.GetProperty("sparsity")
                Expect.equal (sparsity.GetProperty("target").GetDouble()) 0.95 "the run's target"
                // Pruning ends at 80% of the updates: the weights are at 95% (within rounding of each layer's count).
                Expect.floatClose { absolute = 0.002; relative = 0.0 } (sparsity.GetProperty("weights").GetDouble()) 0.95 "measured on the weights"
                // Built as the README's Python builds it: the description's width on CartPole's 128-128 MLP.
                let spec = NetworkSpec(NetworkKind.Mlp, Width = description.GetProperty("width").GetDouble(), MlpHidden = [| 128; 128 |])
                let qValues (path: string) =
                    use policy = new QPolicy(AgentConfig.cartpoleDqn, spec, [| 4 |], 2, 0.0)
                    policy.Load path
                    policy.QValues observations
                let final = qValues (Path.Combine(run, "network.safetensors"))
                Expect.equal (qValues (Path.Combine(out, "network.pt"))) final "network.pt gives the run's Q-values"
                Expect.equal (qValues (Path.Combine(out, "network.safetensors"))) final "and so does network.safetensors"
                if pythonHasTorch.Value then
                    for values, file in List.zip (pythonQValues folder out) [ "network.pt"; "network.safetensors" ] do
                        for python, dotnet in Array.zip values final do
                            Expect.floatClose { absolute = 1e-5; relative = 1e-5 } python (float dotnet) (sprintf "PyTorch reads %s with the README's module: the same Q-values" file)
                else printfn "Skipped the PyTorch cross-check: no python3 with torch here (Debian's python3-torch)"

                prunerl [ "evaluate"; run; "--epsilon"; "2" ] |> expectOneLineError "evaluate: epsilon must be in [0, 1], got 2"
                let kept = Path.Combine(folder, "kept")
                let keeping = prunerl [ "train"; "--steps"; "1001"; "--eval-every"; "0"; "--analyse-every"; "0"; "--checkpoint-every"; "1000"; "--keep-checkpoint"; "--out"; kept ]
                Expect.equal keeping.ExitCode 0 (describe keeping)
                Expect.isNonEmpty (Directory.GetFiles(Path.Combine(kept, "checkpoint"))) "--keep-checkpoint keeps it"
                Expect.isTrue (File.Exists(Path.Combine(kept, "network.safetensors"))) "beside the final network")
        }

        test "bad input is one line with exit code 2, and writes nothing" {
            withFolder "use-bad" (fun folder ->
                let run = Path.Combine(folder, "run")
                prunerl [ "evaluate"; run ] |> expectOneLineError (sprintf "evaluate: %s does not exist" run)
                Directory.CreateDirectory run |> ignore
                prunerl [ "export"; run ] |> expectOneLineError "holds no config.json, so it is not a run's folder"
                writeConfig run [ "steps", FieldValue.Number 2000.0 ]
                writeStatus run "running"
                prunerl [ "evaluate"; run ] |> expectOneLineError "evaluate: the run in"
                prunerl [ "evaluate"; run ] |> expectOneLineError "has not finished (running at step 5 of 2000)"
                writeStatus run "finished"
                prunerl [ "evaluate"; run ] |> expectOneLineError "holds no network.safetensors"
                File.WriteAllText(Path.Combine(run, "network.safetensors"), "not a network")
                prunerl [ "evaluate"; run ] |> expectOneLineError "is not a readable safetensors file"
                prunerl [ "export"; run; "--format"; "onnx" ] |> expectOneLineError "export: unknown format 'onnx'; the formats are pt, safetensors"
                prunerl [ "evaluate"; run; "--record"; Path.Combine(folder, "x.png") ] |> expectOneLineError "--record writes a GIF; name a .gif file"
                prunerl [ "evaluate"; run; "--fps"; "5" ] |> expectOneLineError "--fps sets the recording; give --record FILE.gif"
                prunerl [ "evaluate"; run; "--episodes"; "0" ] |> expectOneLineError "episodes must be >= 1, got 0"
                Expect.equal (Directory.GetFiles run |> Array.map Path.GetFileName |> Array.sort) [| "config.json"; "network.safetensors"; "status.json" |] "nothing written"
                Expect.isFalse (Directory.Exists(Path.Combine(run, "export"))) "no export")
        }
    ]
