/// The sample-efficient agents' mechanics: DrQ's random shift against a plain pad-and-crop reference,
/// its intensity noise, noisy nets' noise redrawn for every acting pass and update (target apart from
/// online, none in evaluation or in the analysis' loss), and `prunerl train --agent der|drq` end to end.
module Prunerl.Tests.SampleEfficientTests

open System
open System.IO
open System.Text.Json
open Expecto
open TorchSharp
open Prunerl.Core
open Prunerl.Experiments
open Prunerl.Agents.Agents
open Prunerl.Agents.Envs
open Prunerl.Agents.Networks
open Prunerl.Agents.Replay
open Prunerl.Agents.Checkpoints
open Prunerl.Tests.Processes
open Prunerl.Tests.CliTests
open Prunerl.Agents.Runtime

/// For each sample of `shifted`, the offsets (dy, dx) in [0, 2p] at which a crop of the replicate-padded
/// input equals it exactly (torch's own ReplicationPad, the reference).
let private matchingOffsets (input: torch.Tensor) (shifted: torch.Tensor) (padding: int) =
    use scope = torch.NewDisposeScope()
    let h, w = input.shape[2], input.shape[3]
    let padded = torch.nn.functional.pad (input, [| int64 padding; int64 padding; int64 padding; int64 padding |], PaddingModes.Replicate)
    let side = 2 * padding + 1
    let matches =
        [| for dy in 0 .. side - 1 do
               for dx in 0 .. side - 1 ->
                   let crop = padded.narrow(2, int64 dy, h).narrow(3, int64 dx, w)
                   crop.eq(shifted).flatten(1).all(1).data<bool>().ToArray() |]
    Array.init (int input.shape[0]) (fun b -> [ for k in 0 .. matches.Length - 1 do if matches[k][b] then k / side, k % side ])

/// The noise every noisy layer of a network holds now, flattened.
let private noiseOf (network: QNetwork) =
    network.named_buffers ()
    |> Seq.filter (fun struct (name, _) -> name.Contains "epsilon")
    |> Seq.collect (fun struct (_, buffer) -> buffer.data<float32>().ToArray())
    |> Array.ofSeq

let private minatar = [| 4; 10; 10 |]

/// Whether two tensors hold the same values.
let private same (a: torch.Tensor) (b: torch.Tensor) = a.shape = b.shape && a.eq(b).all().item<bool> ()

/// A batch of random MinAtar-like transitions (0/1 frames).
let private randomBatch (size: int) (seed: int) =
    let random = Random seed
    let batch = ReplayBatch(size, 400)
    for i in 0 .. batch.Observations.Length - 1 do
        batch.Observations[i] <- float32 (random.Next 2)
        batch.NextObservations[i] <- float32 (random.Next 2)
    for i in 0 .. size - 1 do
        batch.Actions[i] <- int64 (random.Next 3)
        batch.Returns[i] <- float32 (random.NextDouble())
        batch.Discounts[i] <- 0.9f
        batch.Weights[i] <- 1f
    batch

let private small (preset: AgentConfig) = { preset with BatchSize = 8; MinReplay = 0L; ReplayCapacity = 64 }

[<Tests>]
let tests =
    testSequenced <| testList "sample-efficient agents" [
        test "the random shift is the padded frame cropped at a random offset per sample, every offset taken" {
            for shape, padding in [ [| 3; 6; 7 |], 2; minatar, 1 ] do
                use shift = new RandomShift(shape, padding, 0.0, 11UL)
                use input = torch.rand (400L, int64 shape[0], int64 shape[1], int64 shape[2])
                use shifted = shift.Apply input
                Expect.equal shifted.shape input.shape "same shape"
                let offsets = matchingOffsets input shifted padding
                for b, found in Array.indexed offsets do
                    Expect.equal found.Length 1 (sprintf "sample %d is the padded input cropped at exactly one offset, got %A" b found)
                let taken = offsets |> Array.map List.head |> Array.countBy id
                Expect.equal taken.Length ((2 * padding + 1) * (2 * padding + 1)) "all (2p + 1)^2 offsets occur"
                Expect.isLessThan (taken |> Array.map snd |> Array.max) (3 * 400 / taken.Length) "none far more often than uniform"
        }

        test "the random shift is seeded and resumes from its saved generator" {
            use first = new RandomShift(minatar, 1, 0.05, 3UL)
            use second = new RandomShift(minatar, 1, 0.05, 3UL)
            use input = torch.rand (16L, 4L, 10L, 10L)
            use a = first.Apply input
            Expect.isTrue (same a (second.Apply input)) "same seed, same batch"
            let saved = Snapshot.Capture first
            use next = first.Apply input
            Expect.isFalse (same next a) "the next batch differs"
            use fresh = new RandomShift(minatar, 1, 0.05, 99UL)
            Snapshot.Restore(fresh, saved)
            Expect.isTrue (same next (fresh.Apply input)) "a loaded generator draws what the saved one would have"
        }

        test "intensity noise multiplies each sample by one factor within 1 +- 2 scale" {
            use noisy = new RandomShift(minatar, 0, 0.1, 5UL)
            use input = torch.rand(200L, 4L, 10L, 10L).add_(torch.tensor 0.5f)
            use scaled = noisy.Apply input
            use ratio = (scaled / input).flatten 1
            let low, high = ratio.amin([| 1L |]).data<float32>().ToArray(), ratio.amax([| 1L |]).data<float32>().ToArray()
            for b in 0 .. low.Length - 1 do
                Expect.floatClose Accuracy.medium (float high[b]) (float low[b]) "one factor per sample"
                Expect.isTrue (low[b] >= 0.8f - 1e-5f && high[b] <= 1.2f + 1e-5f) "within 1 +- 0.2"
            Expect.isGreaterThan (Array.distinct low |> Array.length) 150 "factors differ between samples"
            Expect.isTrue (low |> Array.exists (fun x -> abs (x - 0.8f) < 1e-5f)) "clipped at -2 standard deviations"
        }

        test "noisy nets: fresh noise for each acting pass and each update, the target's apart from the online's, none in evaluation" {
            use agent = new DqnAgent(small AgentConfig.der, NetworkSpec(NetworkKind.MinAtar, Width = 0.5), minatar, 3, null, 1L)
            Expect.isTrue (noiseOf agent.Online |> Array.forall ((=) 0f)) "no noise before the first pass"
            let observation = Array.init 400 (fun i -> float32 (i % 3 % 2))
            let mutable random = EnvRandom 1UL
            let action = [| 0 |]
            agent.Act(ReadOnlySpan observation, 0.0, &random, Span action)
            let acting = noiseOf agent.Online
            Expect.isTrue (acting |> Array.exists ((<>) 0f)) "acting drew noise"
            agent.Act(ReadOnlySpan observation, 0.0, &random, Span action)
            let actingAgain = noiseOf agent.Online
            Expect.notEqual actingAgain acting "each acting pass draws anew"
            Expect.isTrue (noiseOf agent.Target |> Array.forall ((=) 0f)) "acting leaves the target alone"
            let evaluated =
                [ for _ in 1..5 ->
                      agent.Act(ReadOnlySpan observation, 0.0, &random, Span action, evaluation = true)
                      action[0] ]
            Expect.equal (noiseOf agent.Online) actingAgain "evaluation draws nothing"
            Expect.equal (List.distinct evaluated).Length 1 "evaluation acts on the means: always the same action"
            Expect.isTrue agent.Online.training "back in training mode after evaluating"
            let batch = randomBatch 8 4
            agent.Update batch |> ignore
            let online, target = noiseOf agent.Online, noiseOf agent.Target
            Expect.notEqual online actingAgain "the update drew the online network's noise"
            Expect.isTrue (target |> Array.exists ((<>) 0f)) "the update drew the target's noise"
            Expect.notEqual target online "independent noise for target and online"
            use _ = torch.NewDisposeScope()
            agent.Loss batch |> ignore
            Expect.equal (noiseOf agent.Online, noiseOf agent.Target) (online, target) "measuring the loss draws nothing"
            agent.Update batch |> ignore
            Expect.notEqual (noiseOf agent.Online) online "the next update draws again (online)"
            Expect.notEqual (noiseOf agent.Target) target "the next update draws again (target)"
        }

        test "an augmenting agent updates on shifted batches; its analysis loss is unshifted and repeatable" {
            let config = small AgentConfig.drqEpsilon
            use shifting = new DqnAgent({ config with ShiftPadding = 1 }, NetworkSpec(NetworkKind.MinAtar, Width = 0.5), minatar, 3, null, 2L)
            use plain = new DqnAgent({ config with Augment = false }, NetworkSpec(NetworkKind.MinAtar, Width = 0.5), minatar, 3, null, 2L)
            let batch = randomBatch 8 5
            let loss (agent: DqnAgent) =
                use _ = torch.NewDisposeScope()
                let struct (total, _) = agent.Loss batch
                total.item<float32> ()
            Expect.equal (loss shifting) (loss plain) "the same network: the analysis' loss sees the batch as it is"
            Expect.equal (loss shifting) (loss shifting) "and draws nothing"
            Expect.notEqual (shifting.Update batch) (plain.Update batch) "an update sees shifted observations"
        }

        test "prunerl train --agent der and --agent drq on MinAtar Breakout write their run folders" {
            for agent in [ "der"; "drq" ] do
                RunCommandTests.withFolder agent (fun out ->
                    let r =
                        prunerl [ "train"; "--agent"; agent; "--env"; "minatar/breakout"; "--steps"; "2000"; "--eval-every"; "1000"
                                  "--eval-episodes"; "2"; "--analyse-every"; "1000"; "--sparsity"; "0.9"; "--out"; out ]
                    Expect.equal r.ExitCode 0 (describe r)
                    let config = JsonDocument.Parse(File.ReadAllText(Path.Combine(out, "config.json"))).RootElement
                    Expect.equal (config.GetProperty("agent").GetString()) agent "the agent"
                    Expect.equal (config.GetProperty("noisy").GetBoolean(), config.GetProperty("augmentation").GetBoolean()) ((agent = "der"), (agent = "drq")) "noisy DER, augmenting DrQ"
                    Expect.equal (config.GetProperty("n_step").GetInt32(), config.GetProperty("shift_padding").GetInt32()) (10, 1) "10-step, 1-pixel shifts"
                    let status = JsonDocument.Parse(File.ReadAllText(Path.Combine(out, "status.json"))).RootElement
                    Expect.equal (status.GetProperty("state").GetString()) "finished" "finished"
                    let csv = File.ReadAllLines(Path.Combine(out, "metrics.csv"))
                    Expect.equal (csv |> Array.filter (fun l -> l.Split(',')[1] = "eval/return") |> Array.length) 2 "two evaluations"
                    Expect.isTrue (csv |> Array.exists (fun l -> l.Split(',')[1] = "train/loss")) "it learned")
        }

        test "prunerl train --agent der with --baseline redo or reset renews its noisy network during the run" {
            for baseline in [ "redo"; "reset" ] do
                RunCommandTests.withFolder ("der-" + baseline) (fun out ->
                    // Learning from step 200, an update every step: renewals at updates 250, 500, 750 and 1000.
                    let r =
                        prunerl [ "train"; "--agent"; "der"; "--env"; "minatar/breakout"; "--steps"; "1200"; "--min-replay"; "200"; "--eval-every"; "0"
                                  "--analyse-every"; "0"; "--sparsity"; "0"; "--baseline"; baseline; "--baseline-period"; "250"; "--out"; out ]
                    Expect.equal r.ExitCode 0 (describe r)
                    let config = JsonDocument.Parse(File.ReadAllText(Path.Combine(out, "config.json"))).RootElement
                    Expect.equal (config.GetProperty("noisy").GetBoolean(), config.GetProperty("baseline").GetString()) (true, baseline) "a noisy network with the baseline"
                    let renewed =
                        File.ReadAllLines(Path.Combine(out, "metrics.csv"))
                        |> Array.map (fun l -> l.Split(','))
                        |> Array.filter (fun cells -> cells[1] = "baseline/renewed_neurons")
                        |> Array.map (fun cells -> float cells[2])
                    Expect.equal renewed.Length 4 (baseline + " every 250 updates")
                    if baseline = "reset" then
                        // The dueling C51 head: both streams, every unit, each time.
                        Expect.isTrue (renewed |> Array.forall (fun n -> n > 51.0 && n = renewed[0])) (sprintf "the whole head each time: %A" renewed))
        }
    ]
