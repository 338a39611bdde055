/// Using what was trained: a network's weights written as safetensors and as PyTorch's state_dict and read
/// back to the same outputs (the safetensors header read here by hand, as another tool would), files of
/// another network refused, a run's final network replaying the run's last evaluation exactly, and animated
/// GIFs of episodes decoded back to their frames.
module Prunerl.Tests.InferenceTests

open System
open System.Buffers.Binary
open System.IO
open System.Text
open System.Text.Json
open Expecto
open TorchSharp
open Prunerl.Core
open Prunerl.Experiments
open Prunerl.Agents.Envs
open Prunerl.Agents.Runtime
open Prunerl.Agents.Inference
open Prunerl.Agents.Networks
open Prunerl.Agents.Training
open SixLabors.ImageSharp
open SixLabors.ImageSharp.PixelFormats

let private scratch (what: string) = Path.Combine(Path.GetTempPath(), sprintf "prunerl-%s-%s" what (Guid.NewGuid().ToString("N")))

/// Runs the body with a fresh folder and removes it after.
let private inFolder (what: string) (body: string -> unit) =
    let folder = scratch what
    Directory.CreateDirectory folder |> ignore
    try body folder
    finally Directory.Delete(folder, true)

let private mlp = NetworkSpec(NetworkKind.Mlp, MlpHidden = [| 16; 8 |])

/// C51 over 11 atoms, dueling, noisy: every part of a value network's head.
let private fullHead = { AgentConfig.cartpoleDqn with Atoms = 11; VMin = -5.0; VMax = 5.0; Dueling = true; Noisy = true }

/// Twenty CartPole-sized observations, uniform in [-2, 2].
let private observations =
    let mutable random = EnvRandom 11UL
    Array.init 80 (fun _ -> float32 (random.Uniform(-2.0, 2.0)))

/// A policy whose network starts from `seed` and whose weights are half zeros (a pruned network).
let private prunedPolicy (config: AgentConfig) (seed: int64) =
    let policy = new QPolicy(config, mlp, [| 4 |], 2, 0.0)
    // Weights other than the policy's own seed's, with every other kernel entry zero.
    use other = new QNetwork(Prunerl.Agents.Agents.DqnAgent.NetworkOf(config, mlp), [| 4 |], 2, seed)
    use _ = torch.no_grad ()
    for (_, mine), (_, theirs) in Seq.zip (policy.Network.named_parameters ()) (other.named_parameters ()) do
        mine.copy_ theirs |> ignore
        if mine.dim () = 2L then mine.view(-1L).index_fill_(0L, torch.arange(0L, mine.numel (), 2L), (0.0f).ToScalar()) |> ignore
    policy

/// The safetensors header read by hand: the 8-byte little-endian length, then that many bytes of JSON.
let private safetensorsHeader (path: string) =
    let bytes = File.ReadAllBytes path
    let length = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(0, 8))
    JsonDocument.Parse(Encoding.UTF8.GetString(bytes, 8, int length)).RootElement.Clone(), bytes, 8 + int length

[<Tests>]
let tests =
    testSequenced <| testList "inference" [
        test "a network written as safetensors and as PyTorch's state_dict loads into a fresh one with the same Q-values, zeros kept" {
            inFolder "weights" (fun folder ->
                for config in [ AgentConfig.cartpoleDqn; fullHead ] do
                    use policy = prunedPolicy config 5L
                    let expected = policy.QValues observations
                    for file, format in [ "q.safetensors", WeightFormat.Safetensors; "q.pt", WeightFormat.PyTorch ] do
                        let path = Path.Combine(folder, file)
                        NetworkFile.Save(policy.Network, path, format)
                        Expect.equal (NetworkFile.FormatOf path) (Nullable format) "the extension names the format"
                        use fresh = new QPolicy(config, mlp, [| 4 |], 2, 0.0)
                        Expect.notEqual (fresh.QValues observations) expected "a fresh network differs before loading"
                        fresh.Load path
                        Expect.equal (fresh.QValues observations) expected (sprintf "%s: the same Q-values, bit for bit (atoms %d)" file config.Atoms)
                        for KeyValue(name, loaded), KeyValue(_, saved) in Seq.zip (fresh.Network.state_dict ()) (policy.Network.state_dict ()) do
                            Expect.isTrue (loaded.eq(saved).all().item<bool> ()) (sprintf "%s: %s is the same tensor" file name)
                        let zeros = fresh.Network.named_parameters () |> Seq.sumBy (fun struct (_, p) -> if p.dim () = 2L then p.numel () - p.count_nonzero().item<int64> () else 0L)
                        Expect.isGreaterThan zeros 0L "pruned weights stay zero")
        }

        test "the safetensors file read independently: its header names every tensor's dtype, shape and bytes, which hold the values" {
            inFolder "header" (fun folder ->
                use policy = prunedPolicy AgentConfig.cartpoleDqn 6L
                let path = Path.Combine(folder, "network.safetensors")
                NetworkFile.Save(policy.Network, path, WeightFormat.Safetensors)
                let header, bytes, dataStart = safetensorsHeader path
                let entries = header.EnumerateObject() |> Seq.filter (fun e -> e.Name <> "__metadata__") |> Seq.map (fun e -> e.Name, e.Value) |> Map.ofSeq
                let stateDict = policy.Network.state_dict ()
                Expect.equal (entries |> Map.keys |> Set.ofSeq) (stateDict.Keys |> Set.ofSeq) "one entry per tensor of the state_dict"
                let mutable covered = 0L
                for KeyValue(name, tensor) in stateDict do
                    let entry = entries[name]
                    Expect.equal (entry.GetProperty("dtype").GetString()) "F32" (name + " is float32")
                    Expect.equal [ for d in entry.GetProperty("shape").EnumerateArray() -> d.GetInt64() ] (List.ofArray tensor.shape) (name + "'s shape")
                    let offsets = [| for o in entry.GetProperty("data_offsets").EnumerateArray() -> o.GetInt64() |]
                    Expect.equal (offsets[1] - offsets[0]) (tensor.numel () * 4L) (name + ": 4 bytes an entry")
                    covered <- covered + offsets[1] - offsets[0]
                    let stored = Array.init (int (tensor.numel ())) (fun i -> BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(dataStart + int offsets[0] + 4 * i, 4)))
                    Expect.equal stored (tensor.contiguous().data<float32>().ToArray()) (name + "'s values, little-endian, row-major")
                Expect.equal covered (int64 (bytes.Length - dataStart)) "the tensors fill the rest of the file")
        }

        test "a weights file of another network, a truncated one or one of another format is refused in one line, the network unchanged" {
            inFolder "refused" (fun folder ->
                use policy = prunedPolicy AgentConfig.cartpoleDqn 7L
                use wider = new QPolicy(AgentConfig.cartpoleDqn, NetworkSpec(NetworkKind.Mlp, MlpHidden = [| 16; 8 |], Width = 2.0), [| 4 |], 2, 0.0)
                let widerFile = Path.Combine(folder, "wider.safetensors")
                NetworkFile.Save(wider.Network, widerFile, WeightFormat.Safetensors)
                use dueling = new QPolicy({ AgentConfig.cartpoleDqn with Dueling = true }, mlp, [| 4 |], 2, 0.0)
                let duelingFile = Path.Combine(folder, "dueling.pt")
                NetworkFile.Save(dueling.Network, duelingFile, WeightFormat.PyTorch)
                let truncated = Path.Combine(folder, "truncated.safetensors")
                let whole = Path.Combine(folder, "whole.safetensors")
                NetworkFile.Save(policy.Network, whole, WeightFormat.Safetensors)
                File.WriteAllBytes(truncated, File.ReadAllBytes(whole)[.. 40])
                let text = Path.Combine(folder, "notes.pt")
                File.WriteAllText(text, "not a network")
                let before = policy.QValues observations
                for path, words in [ widerFile, "torso.layers.0.weight is Float32 [32, 4] where Float32 [16, 4] is expected"
                                     duelingFile, "holds value.bias, which this network does not have"
                                     truncated, "is not a readable safetensors file"
                                     text, "is not a readable PyTorch state_dict file"
                                     Path.Combine(folder, "absent.safetensors"), "does not exist"
                                     Path.Combine(folder, "network.onnx"), "not a weights file (.safetensors, .pt or .pth)" ] do
                    let e = try policy.Load path; failtest "loaded" with :? InvalidDataException as e -> e
                    Expect.stringContains e.Message words (Path.GetFileName path)
                    Expect.isFalse (e.Message.Contains '\n') "one line"
                    Expect.equal (policy.QValues observations) before "the network is unchanged")
        }

        test "a run's final network replays the run's last evaluation exactly: the DQN family (C51, dueling, noisy) and SAC" {
            inFolder "final" (fun folder ->
                let config = { fullHead with MinReplay = 500L; EpsilonEval = 0.2 }
                let spec = RunSpec("cartpole", DqnFamily config, mlp, 1000L, 3L, null, 1, 1000L, 3)
                let path = Path.Combine(folder, NetworkFile.RunFileName)
                let result = TrainingRun.Run(spec, RunHooks(FinalNetwork = path))
                use policy = new QPolicy(config, mlp, [| 4 |], 2, config.EpsilonEval)
                policy.Load path
                let seed = uint64 spec.Seed ^^^ 1000UL
                let replay = PolicyEvaluation.Play(policy, EnvironmentRegistry.Create "cartpole", 3, EnvRandom.Derive(seed, 4), EnvRandom.Derive(seed, 3))
                Expect.equal (replay |> Seq.averageBy _.Return) (Seq.last result.Evaluations).MeanReturn "the DQN family: the same episodes"
                let sac = RunSpec("pendulum", SacFamily { SacConfig.pendulum with MinReplay = 100L; BatchSize = 16 }, NetworkSpec(NetworkKind.Mlp, MlpHidden = [| 16; 16 |]), 200L, 4L, null, 1, 200L, 1)
                let sacPath = Path.Combine(folder, "actor.safetensors")
                let sacResult = TrainingRun.Run(sac, RunHooks(FinalNetwork = sacPath))
                let environment = EnvironmentRegistry.Create "pendulum"
                use actor = new ActorPolicy(sac.Network, 3, environment.ActionSpace :?> BoxSpace)
                actor.Load sacPath
                let sacSeed = 4UL ^^^ 200UL
                let sacReplay = PolicyEvaluation.Play(actor, environment, 1, EnvRandom.Derive(sacSeed, 4), EnvRandom.Derive(sacSeed, 3))
                Expect.floatClose Accuracy.veryHigh (sacReplay |> Seq.averageBy _.Return) (Seq.last sacResult.Evaluations).MeanReturn "SAC: the same episode")
        }

        test "evaluation's own streams follow training's, and the recording's defaults are pinned" {
            // Training derives streams 1 to 12 from a run's seed (PolicyEvaluation's doc lists them).
            Expect.equal (PolicyEvaluation.PolicyStream, PolicyEvaluation.EnvironmentStream) (13, 14) "evaluation's streams"
            // Gymnasium's classic-control render_fps of MountainCar and Pendulum.
            Expect.equal GifRecorder.DefaultFramesPerSecond 30 "30 frames per second"
            Expect.equal (GifRecorder().DelayCentiseconds) 3 "100 / 30 rounded: 3 hundredths"
            Expect.equal (GifRecorder(framesPerSecond = 100).DelayCentiseconds) 2 "at least 2 hundredths (browsers slow 0 and 1 to 10)"
            Expect.equal GifRecorder.DefaultMaxFrames 1000 "1000 frames, 33 s at 30 per second"
        }

        test "a recording decodes to its frames: sizes scaled by nearest neighbour, colours, delays and looping" {
            let frame (shift: int) =
                let f = Frame(10, 6, Rgb.White)
                f.FillRectangle(shift, 1, 3, 2, Rgb(200uy, 30uy, 40uy))
                f.Plot(9, 5, Rgb.Black)
                f
            let recorder = GifRecorder(episodes = 1, scale = 2.0, framesPerSecond = 20, maxFrames = 3)
            Expect.isTrue (recorder.Wants 0) "the first episode is wanted"
            Expect.isFalse (recorder.Wants 1) "the second is not"
            for shift in 0 .. 4 do recorder.Add(frame shift)
            Expect.equal recorder.Count 3 "at most 3 frames"
            Expect.isFalse (recorder.Wants 0) "no more once full"
            use buffer = new MemoryStream()
            recorder.Write buffer
            buffer.Position <- 0L
            use image = Image.Load<Rgb24>(buffer)
            Expect.equal (image.Width, image.Height) (20, 12) "twice the size"
            Expect.equal image.Frames.Count 3 "three frames"
            Expect.equal (image.Metadata.GetGifMetadata().RepeatCount) 0us "loops for ever"
            for k in 0 .. 2 do
                let decoded = image.Frames[k]
                Expect.equal (decoded.Metadata.GetGifMetadata().FrameDelay) 5 "100 / 20 = 5 hundredths a frame"
                // Frame k's rectangle covers source columns k..k+2, rows 1..2: pixels 2k..2k+5, rows 2..5.
                Expect.equal decoded[2 * k, 2] (Rgb24(200uy, 30uy, 40uy)) "the rectangle's top-left"
                Expect.equal decoded[2 * k + 5, 5] (Rgb24(200uy, 30uy, 40uy)) "its bottom-right"
                Expect.equal decoded[2 * k + 6, 5] (Rgb24(255uy, 255uy, 255uy)) "white beyond it"
                Expect.equal decoded[19, 11] (Rgb24(0uy, 0uy, 0uy)) "the black corner pixel, two by two"
                Expect.equal decoded[18, 10] (Rgb24(0uy, 0uy, 0uy)) "the black corner pixel's other corner"
            let mixed = GifRecorder()
            mixed.Add(frame 0)
            Expect.throwsT<ArgumentException> (fun () -> mixed.Add(Frame(40, 40, Rgb.White))) "one size for every frame"
            Expect.throwsT<InvalidOperationException> (fun () -> GifRecorder().Write(new MemoryStream())) "no frames, no animation"
        }

        test "a recording of more than 256 colours (shaded renders) takes a quantized table per frame, close to its colours" {
            let frame (offset: int) =
                let f = Frame(40, 40, Rgb.White)
                for y in 0 .. 39 do
                    for x in 0 .. 39 do f.Plot(x, y, Rgb(byte (x * 6 + offset), byte (y * 6), byte ((x + y) * 3)))
                f
            let recorder = GifRecorder()
            for offset in [ 0; 5 ] do recorder.Add(frame offset)
            use buffer = new MemoryStream()
            recorder.Write buffer
            buffer.Position <- 0L
            use image = Image.Load<Rgb24>(buffer)
            Expect.equal image.Frames.Count 2 "two frames"
            for k, offset in [ 0, 0; 1, 5 ] do
                for x, y in [ 3, 7; 20, 20; 39, 1; 12, 33 ] do
                    let p = image.Frames[k].[x, y]
                    let distance = abs (int p.R - (x * 6 + offset)) + abs (int p.G - y * 6) + abs (int p.B - (x + y) * 3)
                    Expect.isLessThan distance 60 (sprintf "frame %d (%d, %d): %O close to its colour" k x y p)
        }

        test "evaluation plays whole episodes and hands the wanted ones' frames, the first after the reset" {
            use policy = new QPolicy(AgentConfig.cartpoleDqn, mlp, [| 4 |], 2, 1.0)
            let recorder = GifRecorder(episodes = 2, scale = 0.25)
            let outcomes = PolicyEvaluation.Play(policy, EnvironmentRegistry.Create "cartpole", 3, 9UL, recorder)
            Expect.equal outcomes.Count 3 "three episodes"
            Expect.equal recorder.Count (outcomes[0].Length + 1 + outcomes[1].Length + 1) "each recorded episode: its reset's frame and one a step"
            Expect.isTrue (outcomes |> Seq.forall (fun o -> o.Return = float o.Length)) "CartPole pays 1 a step"
            let again = PolicyEvaluation.Play(policy, EnvironmentRegistry.Create "cartpole", 3, 9UL)
            Expect.sequenceEqual again outcomes "the same seed, the same episodes"
            Expect.throwsT<ArgumentOutOfRangeException> (fun () -> PolicyEvaluation.Play(policy, EnvironmentRegistry.Create "cartpole", 0, 9UL) |> ignore) "at least one episode"
        }
    ]
