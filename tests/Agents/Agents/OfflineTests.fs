/// Offline RL from recorded datasets: the dataset file (round trip, recording during a run, refusals of
/// corrupt, truncated, foreign and mismatched files), CQL's regulariser against hand computations (DQN and
/// C51 forms), and CQL learning CartPole from a short DQN run's dataset, dense and pruned.
module Prunerl.Tests.OfflineTests

open System
open System.IO
open Expecto
open TorchSharp
open Prunerl.Core
open Prunerl.Experiments
open Prunerl.Agents.Agents
open Prunerl.Agents.Checkpoints
open Prunerl.Agents.Envs
open Prunerl.Agents.Networks
open Prunerl.Agents.Replay
open Prunerl.Agents.Training
open Prunerl.Agents.Runtime

let private scratch () =
    let directory = Path.Combine(Path.GetTempPath(), "prunerl-offline-" + Guid.NewGuid().ToString("N"))
    Directory.CreateDirectory directory |> ignore
    directory

/// `steps` vector steps of `copies` copies with random observations (0/1 values for binary storage),
/// actions, rewards and episode ends (terminations and truncations), given to both a dataset and a
/// replay memory that holds them all.
let private synthetic (storage: ObservationStorage) copies steps (seed: uint64) =
    let size = 6
    let dataset = Dataset("cartpole", [| 2; 3 |], 3, copies, storage)
    let mutable random = EnvRandom seed
    let value () = if storage = ObservationStorage.Binary then float32 (random.NextInt 2) else float32 (random.Uniform(-2.0, 2.0))
    let recorded = ResizeArray()
    for _ in 1..steps do
        let observations = Array.init (copies * size) (fun _ -> value ())
        let finals = Array.init (copies * size) (fun _ -> value ())
        let actions = Array.init copies (fun _ -> random.NextInt 3)
        let rewards = Array.init copies (fun _ -> float32 (random.Uniform(-1.0, 1.0)))
        let terminated = Array.init copies (fun _ -> random.Chance 0.1)
        let truncated = Array.init copies (fun i -> not terminated[i] && random.Chance 0.05)
        dataset.Add(ReadOnlySpan observations, ReadOnlySpan actions, ReadOnlySpan rewards, ReadOnlySpan terminated, ReadOnlySpan truncated, ReadOnlySpan finals)
        recorded.Add((observations, actions, rewards, terminated, truncated, finals))
    dataset, recorded

/// The replay memory the recorded steps make when given to it directly, as a run's memory is.
let private directly (options: ReplayOptions) (recorded: ResizeArray<float32[] * int[] * float32[] * bool[] * bool[] * float32[]>) =
    let memory = ReplayBuffer options
    for (o, a, r, te, tr, f) in recorded do
        memory.Add(ReadOnlySpan o, ReadOnlySpan a, ReadOnlySpan r, ReadOnlySpan te, ReadOnlySpan tr, ReadOnlySpan f)
    memory

let private expectOneLine (message: string) (parts: string list) =
    Expect.isFalse (message.Contains '\n') $"one line: {message}"
    for part in parts do Expect.stringContains message part "the message names it"

/// The exception of type 'E that f throws.
let private thrown<'E when 'E :> exn> (f: unit -> unit) : 'E =
    try
        f ()
        failtestf "expected %s" typeof<'E>.Name
    with :? 'E as e -> e

let private expectRefused (path: string) (parts: string list) =
    let e = thrown<CheckpointException> (fun () -> Dataset.Read path |> ignore)
    expectOneLine e.Message (path :: parts)

/// 128-128 units at width 2, as the online learning tests.
let private network = NetworkSpec(NetworkKind.Mlp, Width = 2.0, MlpHidden = [| 128; 128 |])

/// A dataset recorded once by a short online DQN run on CartPole (25k steps; it reaches a good policy
/// early, so the data mixes exploration with near-solved episodes).
let private recordedCartPole =
    lazy
        (let path = Path.Combine(scratch (), "cartpole.prlds")
         torch.set_num_threads 1
         let result = TrainingRun.Run(RunSpec("cartpole", DqnFamily AgentConfig.cartpoleDqn, network, 30_000L, 1L, EvaluateEvery = 5000L, EvaluationEpisodes = 5), RunHooks(Dataset = path))
         printfn "online run: evaluations %s; dataset %d bytes" (result.Evaluations |> Seq.map (fun e -> sprintf "%d:%.0f" e.Step e.MeanReturn) |> String.concat " ") (FileInfo(path).Length)
         path)

let private pruning =
    PruningRequest(
        { Schedule.paperSpec 0.9 with PruneEvery = 250L },
        LayerWise(Erk 1.0),
        Sparsity.paperScope)

[<Tests>]
let tests =
    testSequenced <| testList "offline" [
        for storage in [ ObservationStorage.Float32; ObservationStorage.Binary ] do
            test $"a dataset written and read gives the same transitions, and a replay memory filled from it equals the run's ({storage})" {
                let dataset, recorded = synthetic storage 3 400 5UL
                let path = Path.Combine(scratch (), "data.prlds")
                dataset.Write path
                let read = Dataset.Read path
                Expect.equal read.Environment "cartpole" "environment"
                Expect.sequenceEqual read.ObservationShape [ 2; 3 ] "shape"
                Expect.equal (read.Actions, read.Copies, read.Storage, read.Steps, read.Transitions) (3, 3, storage, 400L, 1200) "counts"
                Expect.equal read.EndedEpisodes dataset.EndedEpisodes "ended episodes"
                let a, b = Array.zeroCreate 6, Array.zeroCreate 6
                for i in 0 .. read.Transitions - 1 do
                    Expect.equal read[i] dataset[i] $"transition {i}"
                    dataset.ReadObservation(i, Span a)
                    read.ReadObservation(i, Span b)
                    Expect.equal b a $"observation {i}"
                let options = read.ReplayOptions(3, 0.9)
                let filled = ReplayBuffer options
                read.Fill filled
                Expect.equal filled.Count 1200 "every transition in replay"
                Expect.equal (Snapshot.Capture filled) (Snapshot.Capture(directly options recorded)) "the same memory as the steps given directly"
            }

        test "a recording run writes its every step as a dataset and runs as it would without recording" {
            let path = Path.Combine(scratch (), "run.prlds")
            let spec = RunSpec("cartpole", DqnFamily AgentConfig.cartpoleDqn, NetworkSpec(NetworkKind.Mlp, MlpHidden = [| 32 |]), 1500L, 3L, Copies = 2, EvaluateEvery = 750L, EvaluationEpisodes = 2)
            let recording = TrainingRun.Run(spec, RunHooks(Dataset = path))
            let plain = TrainingRun.Run spec
            Expect.equal (List.ofSeq recording.Episodes) (List.ofSeq plain.Episodes) "episodes"
            Expect.equal (List.ofSeq recording.Evaluations) (List.ofSeq plain.Evaluations) "evaluations"
            let dataset = Dataset.Read path
            Expect.equal (dataset.Environment, dataset.Copies, dataset.Steps, dataset.Actions) ("cartpole", 2, 750L, 2) "one step per vector step"
            Expect.sequenceEqual dataset.ObservationShape [ 4 ] "CartPole's observations"
            Expect.equal dataset.EndedEpisodes recording.Episodes.Count "every episode ended in it"
            // Each copy's rewards up to its last episode end are its finished episodes' returns.
            let mutable finished = 0.0
            for copy in 0..1 do
                let transitions = [ for i in copy .. 2 .. dataset.Transitions - 1 -> dataset[i] ]
                let last = transitions |> List.findIndexBack (fun (struct (_, _, terminated, truncated)) -> terminated || truncated)
                finished <- finished + (transitions[.. last] |> List.sumBy (fun (struct (_, r, _, _)) -> float r))
            Expect.floatClose Accuracy.veryHigh finished (recording.Episodes |> Seq.sumBy (fun e -> float e.Return)) "the episodes' returns"
        }

        test "corrupt, truncated, foreign-version, non-dataset and mismatched files are one-line errors naming the file" {
            let dataset, _ = synthetic ObservationStorage.Float32 1 200 9UL
            let directory = scratch ()
            let good = Path.Combine(directory, "good.prlds")
            dataset.Write good
            let bytes = File.ReadAllBytes good
            let variant name (change: byte[] -> byte[]) =
                let path = Path.Combine(directory, name)
                File.WriteAllBytes(path, change (Array.copy bytes))
                path
            expectRefused (variant "flipped.prlds" (fun b -> b[b.Length / 2] <- b[b.Length / 2] ^^^ 0x10uy; b)) [ "corrupt"; "checksum" ]
            expectRefused (variant "cut.prlds" (fun b -> b[.. b.Length * 2 / 3])) [ "truncated" ]
            expectRefused (variant "v2.prlds" (fun b -> b[8] <- 2uy; b)) [ "dataset format version 2"; "version 1 only" ]
            expectRefused (variant "other.prlds" (fun b -> Text.Encoding.ASCII.GetBytes "PRLCKPT\n" |> Array.iteri (fun i c -> b[i] <- c); b)) [ "not a prunerl dataset" ]
            expectRefused (Path.Combine(directory, "missing.prlds")) [ "cannot be read" ]
            // Recorded on CartPole: refused for Acrobot before any training.
            let spec = RunSpec("acrobot", OfflineFamily(good, 1.0, DqnFamily AgentConfig.cartpoleDqn), network, 10L, 1L)
            let e = thrown<CheckpointException> (fun () -> TrainingRun.Run spec |> ignore)
            expectOneLine e.Message [ good; "recorded on cartpole"; "not on acrobot" ]
            let e = thrown<CheckpointException> (fun () -> dataset.CheckRecordedOn("cartpole", [| 4 |], 3))
            expectOneLine e.Message [ "observations [2, 3], 3 actions"; "observations [4], 3 actions" ]
        }

        test "an offline run cancelled and resumed from its checkpoint ends as the uninterrupted one" {
            let directory = scratch ()
            let path = Path.Combine(directory, "short.prlds")
            let small = NetworkSpec(NetworkKind.Mlp, MlpHidden = [| 32 |])
            TrainingRun.Run(RunSpec("cartpole", DqnFamily AgentConfig.cartpoleDqn, small, 1200L, 5L), RunHooks(Dataset = path)) |> ignore
            let withAlpha (alpha: float) =
                Fixtures.runOf
                    [ "agent", Text "cql"; "env", Text "cartpole"; "dataset", Text path; "conservative_weight", Number alpha; "mlp_hidden", Text "32"
                      "steps", Number 600.0; "seed", Number 6.0; "sparsity", Number 0.9; "prune_every", Number 10.0; "eval_every", Number 100.0; "eval_episodes", Number 2.0 ]
            let spec = withAlpha 1.0
            let whole = TrainingRun.Run(spec, RunHooks(Checkpoints = CheckpointPolicy(Path.Combine(directory, "whole"), 1000L)))
            use cancellation = new Threading.CancellationTokenSource()
            let cancelAt300 = { new IProgress<EvaluationRecord> with member _.Report e = if e.Step = 300L then cancellation.Cancel() }
            let checkpoints = CheckpointPolicy(Path.Combine(directory, "cut"), 1000L)
            thrown<OperationCanceledException> (fun () ->
                TrainingRun.Run(spec, RunHooks(Evaluations = cancelAt300, Checkpoints = checkpoints, Cancellation = cancellation.Token)) |> ignore) |> ignore
            let resumed = TrainingRun.Run(spec, RunHooks(Checkpoints = checkpoints))
            Expect.equal (List.ofSeq resumed.Evaluations) (List.ofSeq whole.Evaluations) "evaluations"
            Expect.equal resumed.Updates whole.Updates "updates"
            let nonZeros (r: TrainingResult) = r.Parameters |> Seq.map (fun p -> p.Name, p.NonZero) |> List.ofSeq
            Expect.equal (nonZeros resumed) (nonZeros whole) "each parameter's non-zeros"
            let e = thrown<CheckpointException> (fun () -> TrainingRun.Run(withAlpha 2.0, RunHooks(Checkpoints = checkpoints)) |> ignore)
            expectOneLine e.Message [ "conservative_weight 1 there, 2 here" ]
        }

        test "only a DQN-family run that acts records a dataset: an offline run and a SAC run refuse the hook" {
            let directory = scratch ()
            let path = Path.Combine(directory, "tiny.prlds")
            let small = NetworkSpec(NetworkKind.Mlp, MlpHidden = [| 16 |])
            TrainingRun.Run(RunSpec("cartpole", DqnFamily AgentConfig.cartpoleDqn, small, 100L, 7L), RunHooks(Dataset = path)) |> ignore
            let again = RunHooks(Dataset = Path.Combine(directory, "again.prlds"))
            let offline = RunSpec("cartpole", OfflineFamily(path, 1.0, DqnFamily { AgentConfig.cartpoleDqn with BatchSize = 8 }), small, 10L, 7L)
            let e = thrown<ArgumentException> (fun () -> TrainingRun.Run(offline, again) |> ignore)
            Expect.stringContains e.Message "no experience to record" "offline"
            let e = thrown<ArgumentException> (fun () -> TrainingRun.Run(RunSpec("pendulum", SacFamily SacConfig.pendulum, small, 10L, 0L), again) |> ignore)
            Expect.stringContains e.Message "SAC run records none" "SAC"
            Expect.isFalse (File.Exists(Path.Combine(directory, "again.prlds"))) "nothing written"
        }

        test "CQL's penalty is the batch mean of logsumexp_a Q(s, a) - Q(s, a_data), by hand" {
            use q = torch.tensor([| 1.0f; 2.0f; 0.0f; 0.0f; -1.0f; 3.0f |]).view(3L, 2L)
            use actions = torch.tensor([| 1L; 0L; 0L |]).view(3L, 1L)
            use penalty = ConservativeQ.Penalty(q, actions)
            // log(e^1 + e^2) - 2, log 2 - 0, log(e^-1 + e^3) - (-1)
            let expected = (log (exp 1.0 + exp 2.0) - 2.0 + log 2.0 + log (exp -1.0 + exp 3.0) + 1.0) / 3.0
            Expect.floatClose Accuracy.high (float (penalty.item<float32> ())) expected "penalty"
        }

        for atoms in [ 1; 11 ] do
            test (sprintf "an agent with CQL weight alpha adds alpha x the penalty on its Q-values to the TD loss (%s)" (if atoms = 1 then "DQN" else "C51")) {
                let config = { AgentConfig.cartpoleDqn with BatchSize = 8; Atoms = atoms; VMin = -5.0; VMax = 5.0 }
                let shape = NetworkSpec(NetworkKind.Mlp, MlpHidden = [| 16 |])
                use plain = new DqnAgent(config, shape, [| 4 |], 2, null, 4L)
                use conservative = new DqnAgent(config, shape, [| 4 |], 2, null, 4L, 0.5)
                let batch = Fixtures.terminalBatch 8UL
                use scope = torch.NewDisposeScope()
                let struct (td, _) = plain.Loss batch
                let struct (withPenalty, _) = conservative.Loss batch
                // By hand from the online network's Q-values (C51: the expectation of each distribution).
                let q = conservative.Online.forward(conservative.Observations batch).data<float32>().ToArray() |> Array.map float
                let penalty =
                    Array.init 8 (fun row ->
                        let qs = q[row * 2 .. row * 2 + 1]
                        log (Array.sumBy exp qs) - qs[int batch.Actions[row]])
                    |> Array.average
                Expect.floatClose Accuracy.medium (float (withPenalty.item<float32> ())) (float (td.item<float32> ()) + 0.5 * penalty) "TD + alpha x penalty"
            }

        for pruned in [ false; true ] do
            test (sprintf "CQL learns CartPole from a short DQN run's dataset (%s)" (if pruned then "pruned to 90%" else "dense")) {
                torch.set_num_threads 1
                let path = recordedCartPole.Force()
                let spec =
                    RunSpec("cartpole", OfflineFamily(path, OfflineFamily.DqnAlpha, DqnFamily AgentConfig.cartpoleDqn), network, 8000L, 2L,
                            (if pruned then pruning else null), EvaluateEvery = 2000L, EvaluationEpisodes = 10)
                let watch = Diagnostics.Stopwatch.StartNew()
                let result = TrainingRun.Run spec
                let evaluations = result.Evaluations |> Seq.map (fun e -> sprintf "%d:%.0f@%.2f" e.Step e.MeanReturn e.Sparsity) |> String.concat " "
                printfn "offline %s: %s (%.1f s)" (if pruned then "pruned" else "dense") evaluations watch.Elapsed.TotalSeconds
                Expect.equal result.Updates 8000L "updates"
                Expect.isEmpty result.Episodes "no episodes: it never acted but to be evaluated"
                if pruned then Expect.isGreaterThanOrEqual result.Evaluations[result.Evaluations.Count - 1].Sparsity 0.899 "90% sparse, measured on the tensors"
                // A uniformly random policy averages 22 on CartPole-v1 and an episode of 100 steps is rare for
                // it, so a mean of 100 over 20 greedy episodes (the last two evaluations) is no chance: it
                // takes a policy that balances. The dataset's behaviour policy is DQN's epsilon-greedy one.
                let last = (result.Evaluations[result.Evaluations.Count - 1].MeanReturn + result.Evaluations[result.Evaluations.Count - 2].MeanReturn) / 2.0
                Expect.isGreaterThanOrEqual last 100.0 $"mean return of the last 20 evaluation episodes; evaluations (update:return@sparsity) {evaluations}"
            }
    ]
