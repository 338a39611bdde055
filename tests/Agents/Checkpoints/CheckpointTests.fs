/// Checkpoints and exact resume: every environment, the vector environment and the replay memories go on
/// exactly as before after a save and a load into fresh objects; whole training runs (DQN pruned, a
/// Rainbow-style agent on MinAtar, ReDo, every sparse-training method, a gmp run recording its lottery ticket) stopped at an odd step and resumed end bit for bit as
/// uninterrupted ones, their metrics included, in process and as a killed `prunerl train`; corrupt,
/// truncated, foreign and mismatched checkpoints are one-line errors that change nothing.
module Prunerl.Tests.CheckpointTests

open System
open System.IO
open System.Threading
open Expecto
open Prunerl.Core
open Prunerl.Experiments
open Prunerl.Agents.Checkpoints
open Prunerl.Agents.Envs
open Prunerl.Agents.Networks
open Prunerl.Agents.Replay
open Prunerl.Agents.Training
open Prunerl.Tests.Processes
open Prunerl.Agents.Runtime

/// A fresh temporary directory name for one test.
let private scratch () = Fixtures.scratchPath "resume"

let private cleanUp = Fixtures.cleanUp

/// A random policy whose position can be copied along with an environment's state.
type private Policy(start: EnvRandom) =
    let mutable random = start
    member _.Position = random
    member _.Int n = random.NextInt n
    member _.Uniform(low: float32, high: float32) = float32 (random.Uniform(float low, float high))
    member _.Chance p = random.Chance p
    member _.Sample(memory: IReplayMemory, rows, batch) = memory.Sample(rows, &random, batch)

/// One random action in an environment (discrete or continuous), stepped.
let private stepRandomly (environment: Prunerl.Agents.Envs.Environment) (policy: Policy) =
    match environment.ActionSpace with
    | :? DiscreteSpace as d -> environment.Step(policy.Int d.Count)
    | :? BoxSpace as b -> environment.Step(ReadOnlySpan(Array.init b.Size (fun i -> policy.Uniform(b.Low[i], b.High[i]))))
    | other -> failtestf "cannot act in %O" other

/// Two recordings of steps are the same; a failure names the first step where they part.
let private expectSameSteps (actual: 'a list) (expected: 'a list) what =
    Expect.equal actual.Length expected.Length (what + ": as many steps")
    match List.zip actual expected |> List.tryFindIndex (fun (a, e) -> a <> e) with
    | Some i -> failtestf "%s: step %d differs: %A instead of %A" what i actual[i] expected[i]
    | None -> ()

/// Steps under the policy, resetting after each episode, and returns what was seen; starts with a reset
/// when the last episode is over. Also returns whether it is over at the end.
let private trace (environment: Prunerl.Agents.Envs.Environment) (policy: Policy) (over: bool) steps =
    let seen = ResizeArray()
    let mutable over = over
    for _ in 1..steps do
        let start = if over then environment.Reset().ToArray() else [||]
        let result = stepRandomly environment policy
        seen.Add((start, environment.Observation.ToArray(), result.Reward, result.Terminated, result.Truncated, environment.ElapsedSteps))
        over <- result.Done
    List.ofSeq seen, over

/// Saves an environment's state, steps it on, loads the state into a fresh environment and steps that
/// with the policy as it was: both must see the same. Returns whether the episode is over at the end.
let private expectSameAfterLoad id (environment: Prunerl.Agents.Envs.Environment) (policy: Policy) over steps what =
    let saved = Snapshot.Capture environment
    let policyAt = policy.Position
    let expected, overAfter = trace environment policy over steps
    let fresh = EnvironmentRegistry.Create id
    Snapshot.Restore(fresh, saved)
    Expect.isTrue (Snapshot.Capture fresh = saved) (sprintf "%s %s: the loaded state saves back the same" id what)
    let actual, _ = trace fresh (Policy policyAt) over steps
    expectSameSteps actual expected (sprintf "%s %s: the same %d steps after a load" id what steps)
    overAfter

/// The step in the middle of the longest episode of a random-policy run: deep in an episode, where
/// MinAtar's difficulty has ramped and time limits near.
let private deepStep id seed steps =
    let environment = EnvironmentRegistry.Create id
    let policy = Policy(EnvRandom(seed + 1UL))
    environment.Reset(seed).Length |> ignore
    let mutable longest, longestEnd, length = 0, 0, 0
    for t in 1..steps do
        let result = stepRandomly environment policy
        length <- length + 1
        if result.Done then
            if length > longest then
                longest <- length
                longestEnd <- t
            length <- 0
            environment.Reset().Length |> ignore
    longestEnd - longest / 2, longest

/// Replays a transition stream into a memory: each call adds one vector step of random observations.
let private addRandom (memory: IReplayMemory) (source: Policy) (copies: int) (size: int) (binary: bool) =
    let value () = if binary then (if source.Chance 0.5 then 1f else 0f) else source.Uniform(-1f, 1f)
    let observations = Array.init (copies * size) (fun _ -> value ())
    let finals = Array.init (copies * size) (fun _ -> value ())
    let actions = Array.init copies (fun _ -> source.Int 4)
    let rewards = Array.init copies (fun _ -> source.Uniform(-1f, 1f))
    let terminated = Array.init copies (fun _ -> source.Chance 0.04)
    let truncated = Array.init copies (fun _ -> source.Chance 0.02)
    memory.Add(ReadOnlySpan observations, ReadOnlySpan actions, ReadOnlySpan rewards, ReadOnlySpan terminated, ReadOnlySpan truncated, ReadOnlySpan finals)

/// Draws a batch and, when prioritized, gives its rows new random priorities.
let private drawAndReprioritise (memory: IReplayMemory) (source: Policy) (batch: ReplayBatch) =
    source.Sample(memory, batch.BatchSize, batch)
    match memory with
    | :? PrioritizedReplayBuffer as prioritized ->
        prioritized.UpdatePriorities(ReadOnlySpan batch.Indices, ReadOnlySpan(Array.init batch.BatchSize (fun _ -> source.Uniform(0.01f, 3f))))
    | _ -> ()

/// Adds, samples and (prioritized) updates priorities for a while, and returns every batch drawn.
let private exercise (memory: IReplayMemory) (source: Policy) copies size binary rounds =
    let batch = ReplayBatch(8, size)
    [ for _ in 1..rounds do
        addRandom memory source copies size binary
        if memory.SampleableCount > 0 then
            drawAndReprioritise memory source batch
            yield
                (Array.copy batch.Observations, Array.copy batch.NextObservations, Array.copy batch.Actions, Array.copy batch.Returns,
                 Array.copy batch.Discounts, Array.copy batch.Weights, Array.copy batch.Indices) ]

/// A run's result in comparable form.
let private comparable (r: TrainingResult) =
    List.ofSeq r.Episodes,
    List.ofSeq r.Evaluations,
    [ for a in r.Analyses ->
        a.Step, List.ofSeq a.Dormancy, a.DormantFraction, a.EffectiveRank, a.ParameterNorm, a.QMean, a.QVariance, a.GradientInterference, a.NonZeroParameters ],
    List.ofSeq r.Renewals,
    r.Updates,
    [ for p in r.Parameters -> p.Name, List.ofArray p.Shape, p.Size, p.NonZero, p.Pruned ]

/// A metrics log that also cancels the run once a value at or after a given step is written: episodes
/// end at odd steps, so the run stops at a step no checkpoint period lines up with.
let private cancellingAt (log: MetricsLog) (step: int64) (cancellation: CancellationTokenSource) =
    { new IRewindableMetrics with
        member _.Mark() = log.Mark()
        member _.Rewind mark = log.Rewind mark
      interface IMetricsSink with
        member _.Write(at, name, value) =
            log.Write(at, name, value)
            if at >= step then cancellation.Cancel()
        member _.WriteDetail(at, name, value) = log.WriteDetail(at, name, value) }

/// Runs a spec with a metrics log and checkpoints in `directory` until it is cancelled after a metric at
/// or after `stopAfter`, and returns the progress it reported.
let private runUntilCancelled (run: RunHooks -> TrainingResult) (directory: string) (stopAfter: int64) (every: int64) =
    let progress = ResizeArray<TrainingProgress>()
    use log = new MetricsLog(directory)
    use cancellation = new CancellationTokenSource()
    let hooks =
        RunHooks(Metrics = cancellingAt log stopAfter cancellation, Checkpoints = CheckpointPolicy(Path.Combine(directory, "checkpoint"), every),
                 Progress = { new IProgress<TrainingProgress> with member _.Report p = progress.Add p }, Cancellation = cancellation.Token)
    try
        run hooks |> ignore
        failtest "the run was not cancelled"
    with :? OperationCanceledException -> ()
    List.ofSeq progress

/// Every section of two checkpoints but where their metrics logs stood (the event files' names carry the time).
let private expectSameCheckpoints (a: string) (b: string) =
    use first = CheckpointFile.Open a
    use second = CheckpointFile.Open b
    Expect.sequenceEqual (List.ofSeq second.Sections) (List.ofSeq first.Sections) "the same sections"
    for name in first.Sections |> Seq.filter (fun n -> n <> "metrics") do
        Expect.isTrue (first.ReadRaw name = second.ReadRaw name) (sprintf "section '%s' is bit for bit the same" name)

/// Runs a spec uninterrupted, and again stopped (cancelled) after a metric at or after `stopAfter` and
/// resumed from its checkpoint by a new session with a reopened log: both must end the same.
let private expectRunResumesExactly (run: RunHooks -> TrainingResult) (totalSteps: int64) (stopAfter: int64) (every: int64) =
    TorchSharp.torch.set_num_threads 1
    let whole, interrupted = scratch (), scratch ()
    try
        let uninterrupted =
            use log = new MetricsLog(whole)
            run (RunHooks(Metrics = log, Checkpoints = CheckpointPolicy(Path.Combine(whole, "checkpoint"), Int64.MaxValue)))
        let stoppedAt = runUntilCancelled run interrupted stopAfter every |> List.tryLast |> Option.map (fun p -> p.Step)
        let progress = ResizeArray<TrainingProgress>()
        let resumable = ResizeArray<int64>()
        let resumed =
            use log = MetricsLog.Reopen interrupted
            run (RunHooks(Metrics = log, Checkpoints = CheckpointPolicy(Path.Combine(interrupted, "checkpoint"), every, Resumable = Action<int64>(resumable.Add)),
                          Progress = { new IProgress<TrainingProgress> with member _.Report p = progress.Add p }))
        // Status truth: the resumed run reports its checkpoint's step at once (status.json's step, not 0 until the
        // next report), and says where a resume would continue from: the checkpoint loaded, then each one put in place.
        Expect.equal (Some progress[0].Step) stoppedAt "the first progress report is the checkpoint's step"
        Expect.equal (Some resumable[0]) stoppedAt "the checkpoint loaded is where a resume continues"
        Expect.equal (Seq.last resumable) totalSteps "and the last checkpoint, at the end"
        let last = Seq.last progress
        Expect.equal (last.Step, last.TotalSteps, last.Episodes, last.Updates) (totalSteps, totalSteps, resumed.Episodes.Count, resumed.Updates) "the last progress report is the end"
        Expect.equal (comparable resumed) (comparable uninterrupted) (sprintf "the resumed run (stopped after step %d, last progress at %A) ends as the uninterrupted one" stopAfter stoppedAt)
        for file in [ "metrics.csv"; "metrics.jsonl" ] do
            Expect.equal (File.ReadAllBytes(Path.Combine(interrupted, file))) (File.ReadAllBytes(Path.Combine(whole, file))) (file + " byte for byte")
        expectSameCheckpoints (Path.Combine(whole, "checkpoint", CheckpointFile.LatestName)) (Path.Combine(interrupted, "checkpoint", CheckpointFile.LatestName))
        uninterrupted
    finally
        cleanUp [ whole; interrupted ]

/// expectRunResumesExactly for a DQN-family spec.
let private expectResumeExact (spec: RunSpec) (stopAfter: int64) (every: int64) =
    expectRunResumesExactly (fun hooks -> TrainingRun.Run(spec, hooks)) spec.TotalSteps stopAfter every

/// The fields of prunedCartpoleSeeded.
let private prunedCartpoleFields (seed: int64) (steps: int64) =
    [ "env", Text "cartpole"; "mlp_hidden", Text "64,64"; "min_replay", Number 300.0; "sparsity", Number 0.9; "distribution", Text "erk"
      "prune_start", Number 0.1; "prune_end", Number 0.6; "prune_every", Number 50.0; "steps", Number(float steps); "seed", Number(float seed)
      "eval_every", Number 500.0; "eval_episodes", Number 1.0; "analyse_every", Number 400.0 ]

/// A small pruned CartPole DQN as `prunerl train` resolves it: ERK 90% between 10% and 60% of its updates, masks every
/// 50, an MLP of 64-64, learning after 300 steps, evaluations and analyses along the way; its fingerprint is its config's.
let private prunedCartpoleSeeded (seed: int64) (steps: int64) = Fixtures.runOf (prunedCartpoleFields seed steps)

/// prunedCartpoleSeeded of seed 5.
let private prunedCartpole steps = prunedCartpoleSeeded 5L steps

/// The hooks with a lottery ticket written to `path`.
let private withTicket (path: string) (hooks: RunHooks) =
    RunHooks(hooks.Evaluations, hooks.Progress, hooks.Metrics, hooks.Checkpoints, hooks.Cancellation, hooks.Dataset, hooks.Device,
             FinalNetwork = hooks.FinalNetwork, Ticket = path)

/// The bytes of every file under a directory, by relative path.
let private contents (directory: string) =
    Directory.GetFiles(directory, "*", SearchOption.AllDirectories)
    |> Array.sort
    |> Array.map (fun f -> Path.GetRelativePath(directory, f), File.ReadAllBytes f)
    |> List.ofArray

/// Resuming the run in `directory` with `spec` must fail with a CheckpointException saying `words`, and touch nothing.
let private expectRefused (directory: string) (spec: RunSpec) (words: string) =
    let before = contents directory
    let error =
        try
            use log = MetricsLog.Reopen directory
            TrainingRun.Run(spec, RunHooks(Metrics = log, Checkpoints = CheckpointPolicy(Path.Combine(directory, "checkpoint"), 100L))) |> ignore
            failtestf "expected a CheckpointException saying '%s'" words
        with :? CheckpointException as e -> e.Message
    Expect.stringContains error words "the message says what is wrong"
    Expect.isFalse (error.Contains '\n') "one line"
    Expect.stringContains error "checkpoint" "names the file"
    Expect.equal (contents directory) before "nothing in the run's directory changed"

/// Runs the built prunerl (as CliTests does).
let private prunerlDll () = Path.Combine(repoRoot.Value, "Cli", "bin", configuration.Value, "net10.0", "prunerl.dll")

/// Waits (up to a minute) until the condition holds or the process has ended.
let private waitFor (running: RunningProcess) (condition: unit -> bool) what =
    let clock = Diagnostics.Stopwatch.StartNew()
    while not (condition ()) && not running.Process.HasExited && clock.Elapsed < TimeSpan.FromMinutes 1.0 do
        Thread.Sleep 20
    if not (condition ()) then failtestf "%s did not happen (process exited: %b)" what running.Process.HasExited

[<Tests>]
let tests =
    testSequenced <| testList "checkpoints" [
        test "every environment goes on exactly after its state is loaded into a fresh one (deep in episodes, after an ended one)" {
            for id in EnvironmentRegistry.Ids do
                let seed = 17UL
                let point, longest = deepStep id seed 20_000
                let environment = EnvironmentRegistry.Create id
                let policy = Policy(EnvRandom(seed + 1UL))
                environment.Reset(seed).Length |> ignore
                let _, over = trace environment policy false point
                let mutable over = expectSameAfterLoad id environment policy over 3000 (sprintf "in the middle of a %d-step episode" longest)
                let mutable ended = false
                while not ended do
                    if over then environment.Reset().Length |> ignore
                    over <- (stepRandomly environment policy).Done
                    ended <- over
                over <- expectSameAfterLoad id environment policy true 3000 "right after an episode ended"
                // Short stretches from many points: state that matters for one step only (MinAtar's sticky
                // previous action) shows at some of them.
                for point in 1..60 do
                    over <- expectSameAfterLoad id environment policy over 20 (sprintf "at point %d of 60" point)
        }

        test "a vector environment goes on exactly after a load: observations, rewards, ends, returns, final observations" {
            for id in EnvironmentRegistry.Ids do
                let vector = EnvironmentRegistry.CreateVector(id, 3)
                let policy = Policy(EnvRandom 4UL)
                let act (v: VectorEnvironment) (p: Policy) =
                    match v.ActionSpace with
                    | :? DiscreteSpace as d -> v.Step(ReadOnlySpan(Array.init v.Count (fun _ -> p.Int d.Count)))
                    | :? BoxSpace as b -> v.Step(ReadOnlySpan(Array.init (v.Count * b.Size) (fun i -> p.Uniform(b.Low[i % b.Size], b.High[i % b.Size]))))
                    | other -> failtestf "cannot act in %O" other
                let run (v: VectorEnvironment) (p: Policy) =
                    [ for _ in 1..2000 do
                        act v p
                        yield
                            (v.Observations.ToArray(), v.Rewards.ToArray(), v.Terminated.ToArray(), v.Truncated.ToArray(), v.EpisodeEnded.ToArray(),
                             v.EpisodeReturns.ToArray(), v.EpisodeLengths.ToArray(), v.FinalObservations.ToArray()) ]
                vector.Reset 9UL
                for _ in 1..777 do act vector policy
                let saved = Snapshot.Capture vector
                let policyAt = policy.Position
                let expected = run vector policy
                let fresh = EnvironmentRegistry.CreateVector(id, 3)
                Snapshot.Restore(fresh, saved)
                expectSameSteps (run fresh (Policy policyAt)) expected (id + ": the same steps after a load")
            let two = EnvironmentRegistry.CreateVector("cartpole", 2)
            two.Reset 1UL
            let saved = Snapshot.Capture(EnvironmentRegistry.CreateVector("cartpole", 3))
            Expect.throwsT<CheckpointException> (fun () -> Snapshot.Restore(two, saved)) "three copies do not load into two"
            let other = Snapshot.Capture(EnvironmentRegistry.Create "acrobot")
            let error = Expect.throwsC (fun () -> Snapshot.Restore(EnvironmentRegistry.Create "cartpole", other)) (fun e -> e.Message)
            Expect.stringContains error "holds the state of acrobot, not of cartpole" "another environment's state is refused by name"
        }

        test "replay memories (uniform, prioritized, n-step, binary, several copies) sample the same after a load" {
            let cases =
                [ "uniform 1-step float", false, 1, 1, false
                  "uniform 3-step binary x2", false, 3, 2, true
                  "prioritized 3-step float x2", true, 3, 2, false
                  "prioritized 1-step binary", true, 1, 1, true ]
            for name, prioritized, steps, copies, binary in cases do
                let size = 6
                let make () : IReplayMemory =
                    let options = ReplayOptions(64, copies, size, steps, 0.9, (if binary then ObservationStorage.Binary else ObservationStorage.Float32))
                    if prioritized then PrioritizedReplayBuffer(options, 0.6, 0.4) else ReplayBuffer(options)
                let memory = make ()
                let source = Policy(EnvRandom 21UL)
                exercise memory source copies size binary 150 |> ignore
                let saved = Snapshot.Capture memory
                let sourceAt = source.Position
                let expected = exercise memory source copies size binary 200
                let fresh = make ()
                Snapshot.Restore(fresh, saved)
                Expect.isTrue (Snapshot.Capture fresh = saved) (name + ": the loaded state saves back the same")
                let actual = exercise fresh (Policy sourceAt) copies size binary 200
                Expect.equal actual.Length 200 (name + ": a batch every round")
                Expect.isTrue (actual = expected) (name + ": the same batches (rows, weights, indices) after a load")
        }

        test "DQN on CartPole pruned to 90% (ERK), stopped at an odd step and resumed, ends bit for bit as an uninterrupted run" {
            let result = expectResumeExact (prunedCartpole 1600L) 737L 300L
            Expect.isGreaterThan result.Analyses.Count 0 "analyses were made"
            Expect.isGreaterThan result.Evaluations.Count 0 "evaluations were made"
            let pruned = result.Parameters |> Seq.filter (fun p -> p.Pruned)
            Expect.isTrue (1.0 - float (pruned |> Seq.sumBy (fun p -> p.NonZero)) / float (pruned |> Seq.sumBy (fun p -> p.Size)) > 0.89) "pruned to 90%"
        }

        test "a Rainbow-style agent (C51, 3-step, prioritized, dueling, noisy head redrawn every pass, DrQ's augmentation) on MinAtar with two copies resumes exactly" {
            let rainbow =
                { AgentConfig.minatarDqn with
                    NStep = 3
                    Atoms = 51
                    Dueling = true
                    DoubleQ = true
                    Replay = PrioritizedReplay(0.5, 0.4, 1000L)
                    ReplayCapacity = 400
                    MinReplay = 100L
                    BatchSize = 16
                    TargetUpdatePeriod = 100L
                    Noisy = true
                    Augment = true
                    ShiftPadding = 1 }
            let spec =
                RunSpec("minatar/breakout", DqnFamily(rainbow, 200L), NetworkSpec(NetworkKind.MinAtar, Width = 0.5), 600L, 2L, null, 2, 200L, 1)
            let result = expectResumeExact spec 263L 150L
            Expect.equal result.Updates 500L "an update every step after 100"
        }

        test "a ReDo run (renewals, optimizer state reset at the recycled entries) resumes exactly" {
            let spec = RunSpec("cartpole", DqnFamily({ AgentConfig.cartpoleDqn with MinReplay = 300L }, Baseline = BaselineRequest(BaselineKind.Redo, 100L, RedoTau = 0.1)), NetworkSpec(NetworkKind.Mlp, MlpHidden = [| 32; 32 |]),
                                    1500L, 3L, null, 1, 750L, 1)
            let result = expectResumeExact spec 901L 300L
            Expect.isGreaterThan result.Renewals.Count 3 "ReDo recycled several times"
        }

        test "a ReDo run of a noisy network (means and noise scales renewed) resumes exactly" {
            let spec = RunSpec("cartpole", DqnFamily({ AgentConfig.cartpoleDqn with MinReplay = 300L; Noisy = true }, Baseline = BaselineRequest(BaselineKind.Redo, 100L, RedoTau = 0.1)), NetworkSpec(NetworkKind.Mlp, MlpHidden = [| 32; 32 |]),
                                    1500L, 3L, null, 1, 750L, 1)
            let result = expectResumeExact spec 901L 300L
            Expect.isGreaterThan result.Renewals.Count 3 "ReDo recycled several times"
        }

        test "a gmp run recording its lottery ticket (rewound at update 100) resumes exactly and writes the same ticket" {
            let tickets = scratch ()
            Directory.CreateDirectory tickets |> ignore
            try
                let spec = Fixtures.runOf (prunedCartpoleFields 5L 1600L @ [ "rewind_step", Number 100.0 ])
                let mutable calls = 0
                let run hooks =
                    calls <- calls + 1
                    TrainingRun.Run(spec, withTicket (Path.Combine(tickets, sprintf "ticket-%d.bin" calls)) hooks)
                expectRunResumesExactly run spec.TotalSteps 737L 300L |> ignore
                Expect.equal calls 3 "uninterrupted, interrupted, resumed"
                Expect.isFalse (File.Exists(Path.Combine(tickets, "ticket-2.bin"))) "an interrupted run writes no ticket"
                Expect.equal (File.ReadAllBytes(Path.Combine(tickets, "ticket-3.bin"))) (File.ReadAllBytes(Path.Combine(tickets, "ticket-1.bin"))) "the resumed run's ticket byte for byte"
                let recorded = Prunerl.Agents.Pruning.TicketFile.Read(Path.Combine(tickets, "ticket-1.bin"))
                Expect.equal (recorded |> Seq.map (fun n -> n.Name, n.RewoundAt) |> List.ofSeq) [ "online", 100L ] "the online network, rewound at update 100"
            finally
                cleanUp [ tickets ]
        }

        test "a gmp run checkpointed before tickets were recorded resumes (as it ended before) and writes no ticket" {
            TorchSharp.torch.set_num_threads 1
            let directory = scratch ()
            try
                let spec = prunedCartpole 1200L
                // A checkpoint without the ticket's section, as a run without a ticket to write (or an older prunerl) leaves it.
                runUntilCancelled (fun hooks -> TrainingRun.Run(spec, hooks)) directory 737L 300L |> ignore
                let ticket = Path.Combine(directory, RunFormat.TicketFile)
                let resumed =
                    use log = MetricsLog.Reopen directory
                    TrainingRun.Run(spec, withTicket ticket (RunHooks(Metrics = log, Checkpoints = CheckpointPolicy(Path.Combine(directory, "checkpoint"), 300L))))
                let whole = TrainingRun.Run(spec, RunHooks())
                Expect.equal (comparable resumed) (comparable whole) "it ends as an uninterrupted run"
                Expect.isFalse (File.Exists ticket) "no ticket: its initial weights were not recorded"
            finally
                cleanUp [ directory ]
        }

        test "every sparse-training method resumes exactly: static, SET and RigL rewiring every 40 updates, a lottery ticket" {
            let ticket = scratch ()
            Directory.CreateDirectory ticket |> ignore
            try
                TrainingRun.Run(prunedCartpole 1200L, RunHooks(Ticket = Path.Combine(ticket, RunFormat.TicketFile))) |> ignore
                for fields in
                    [ [ "method", Text "static" ]
                      [ "method", Text "set"; "rewire_every", Number 40.0 ]
                      [ "method", Text "rigl"; "rewire_every", Number 40.0 ]
                      [ "method", Text "lottery"; "ticket", Text ticket ] ] do
                    let spec = Fixtures.runOf (prunedCartpoleFields 5L 1200L @ fields)
                    let result = expectResumeExact spec 737L 300L
                    let pruned = result.Parameters |> Seq.filter (fun p -> p.Pruned) |> List.ofSeq
                    let sparsity = 1.0 - float (pruned |> List.sumBy (fun p -> p.NonZero)) / float (pruned |> List.sumBy (fun p -> p.Size))
                    Expect.isGreaterThan sparsity 0.89 (sprintf "%A: 90%% sparse at the end" fields)
            finally
                cleanUp [ ticket ]
        }

        test "SAC with RigL rewiring its actor and critics every 40 updates resumes exactly" {
            let drop = { DropFraction.jaxPrunerSpec with RewireEvery = 40L }
            let pruning =
                PruningRequest(Schedule.paperSpec 0.9, LayerWise(Erk 1.0), Sparsity.paperScope, Method = SparseMethodRequest(RigL, RandomInit, drop))
            let spec = RunSpec("pendulum", SacFamily { SacConfig.pendulum with MinReplay = 200L; BatchSize = 32 }, NetworkSpec(NetworkKind.Mlp, MlpHidden = [| 32; 32 |]),
                               1000L, 4L, pruning, 1, 500L, 1)
            let result = expectRunResumesExactly (fun hooks -> TrainingRun.Run(spec, hooks)) spec.TotalSteps 537L 250L
            let pruned = result.Parameters |> Seq.filter (fun p -> p.Pruned) |> List.ofSeq
            let sparsity = 1.0 - float (pruned |> List.sumBy (fun p -> p.NonZero)) / float (pruned |> List.sumBy (fun p -> p.Size))
            Expect.isGreaterThan sparsity 0.89 "the actor's and critics' weights 90% sparse"
        }

        test "SAC on Pendulum with actor and critics pruned to 90%, stopped at an odd step and resumed, ends bit for bit as an uninterrupted run" {
            let pruning =
                PruningRequest(
                    { Schedule.paperSpec 0.9 with PruneStart = StepPoint.Fraction 0.1; PruneEnd = StepPoint.Fraction 0.6; PruneEvery = 50L },
                    LayerWise(Erk 1.0), Sparsity.paperScope)
            let spec = RunSpec("pendulum", SacFamily { SacConfig.pendulum with MinReplay = 200L; BatchSize = 32 }, NetworkSpec(NetworkKind.Mlp, MlpHidden = [| 32; 32 |]),
                               1000L, 4L, pruning, 1, 500L, 1)
            let result = expectRunResumesExactly (fun hooks -> TrainingRun.Run(spec, hooks)) spec.TotalSteps 537L 250L
            Expect.equal result.Updates 800L "an update every step after the warm-up"
            let pruned = result.Parameters |> Seq.filter (fun p -> p.Pruned) |> List.ofSeq
            let sparsity = 1.0 - float (pruned |> List.sumBy (fun p -> p.NonZero)) / float (pruned |> List.sumBy (fun p -> p.Size))
            Expect.isLessThan (abs (sparsity - 0.9)) 0.002 "the actor's and critics' weights end 90% sparse"
        }

        test "corrupt, truncated, foreign-version and mismatched checkpoints are one-line errors that change nothing" {
            let directory = scratch ()
            try
                let spec = prunedCartpole 1200L
                runUntilCancelled (fun hooks -> TrainingRun.Run(spec, hooks)) directory 999L 400L |> ignore
                let latest = Path.Combine(directory, "checkpoint", CheckpointFile.LatestName)
                let previous = Path.Combine(directory, "checkpoint", CheckpointFile.PreviousName)
                Expect.isTrue (File.Exists latest && File.Exists previous) "a checkpoint and the one before it"
                let good = File.ReadAllBytes latest
                let corrupt (change: byte[] -> byte[]) = File.WriteAllBytes(latest, change (Array.copy good))
                corrupt (fun b -> b[b.Length / 2] <- b[b.Length / 2] ^^^ 0x10uy; b)
                expectRefused directory spec "is corrupt (checksum mismatch)"
                corrupt (fun b -> b[20] <- b[20] ^^^ 0x01uy; b)
                expectRefused directory spec "corrupt"
                corrupt (fun b -> b[.. b.Length / 3])
                expectRefused directory spec "truncated"
                corrupt (fun b -> b[.. b.Length - 2])
                expectRefused directory spec "truncated"
                corrupt (fun b -> b[8] <- 99uy; b)
                expectRefused directory spec "checkpoint format version 99, but this prunerl reads version 1 only"
                corrupt (fun _ -> Text.Encoding.UTF8.GetBytes "step,metric,value\n")
                expectRefused directory spec "not a prunerl checkpoint"
                corrupt id
                expectRefused directory (prunedCartpoleSeeded 6L 1200L) "was written by a different run configuration: seed 5 there, 6 here"
                expectRefused directory (prunedCartpole 1300L) "steps 1200 there, 1300 here"
                // The metrics log must still reach as far as the checkpoint says.
                let csv = Path.Combine(directory, "metrics.csv")
                let lines = File.ReadAllBytes csv
                File.WriteAllBytes(csv, lines[.. lines.Length - 40])
                expectRefused directory spec "metrics.csv holds"
                File.WriteAllBytes(csv, lines)
                // A save cut off between its two moves leaves the previous checkpoint: the run resumes from it.
                File.Delete latest
                use log = MetricsLog.Reopen directory
                let resumed = TrainingRun.Run(spec, RunHooks(Metrics = log, Checkpoints = CheckpointPolicy(Path.Combine(directory, "checkpoint"), 400L)))
                Expect.equal resumed.Updates 450L "resumed from the previous checkpoint and finished"
            finally
                cleanUp [ directory ]
        }

        test "prunerl train killed (-9) after a checkpoint, then stopped by SIGTERM, resumes to the uninterrupted run's metrics.csv" {
            let killed, whole = scratch (), scratch ()
            try
                let args out = [ prunerlDll (); "train"; "--steps"; "3000"; "--eval-every"; "1000"; "--analyse-every"; "1000"; "--width"; "0.5"; "--seed"; "3"; "--out"; out; "--checkpoint-every"; "400" ]
                let latest = Path.Combine(killed, "checkpoint", CheckpointFile.LatestName)
                let first = startWith [] (dotnet ()) (args killed) repoRoot.Value
                waitFor first (fun () -> File.Exists latest) "a first checkpoint"
                first.Process.Kill()
                let killedResult = finish first
                Expect.notEqual killedResult.ExitCode 0 "killed"
                let written = File.GetLastWriteTimeUtc latest
                let second = startWith [] (dotnet ()) (args killed @ [ "--resume" ]) repoRoot.Value
                waitFor second (fun () -> File.GetLastWriteTimeUtc latest <> written) "a checkpoint of the resumed run"
                run "kill" [ "-TERM"; string second.Process.Id ] repoRoot.Value |> ignore
                let stopped = finish second
                Expect.equal stopped.ExitCode 143 (describe stopped)
                Expect.stringContains stopped.Error (sprintf "continue with: prunerl train --out %s --resume" killed) "says how to go on"
                let last = run (dotnet ()) (args killed @ [ "--resume" ]) repoRoot.Value
                Expect.equal last.ExitCode 0 (describe last)
                Expect.stringContains last.Output "Final network" "the resumed run finished"
                let uninterrupted = run (dotnet ()) (args whole) repoRoot.Value
                Expect.equal uninterrupted.ExitCode 0 (describe uninterrupted)
                Expect.equal (File.ReadAllText(Path.Combine(killed, "metrics.csv"))) (File.ReadAllText(Path.Combine(whole, "metrics.csv"))) "metrics.csv as uninterrupted"
                let mismatched = run (dotnet ()) [ prunerlDll (); "train"; "--steps"; "3000"; "--seed"; "4"; "--out"; killed; "--resume" ] repoRoot.Value
                Expect.equal mismatched.ExitCode 2 (describe mismatched)
                Expect.stringContains mismatched.Error "seed: the run holds 3, asked for 4" "a mismatched resume is refused"
                let again = run (dotnet ()) (args killed) repoRoot.Value
                Expect.equal again.ExitCode 2 (describe again)
                Expect.stringContains again.Error "is not empty (it holds a run or other files); continue it with --resume" "a fresh run does not start over a checkpointed one"
                let bench = run (dotnet ()) [ prunerlDll (); "bench"; "checkpoint"; "--steps"; "300"; "--width"; "0.5" ] repoRoot.Value
                Expect.equal bench.ExitCode 0 (describe bench)
                Expect.stringContains bench.Output "minatar/breakout" "bench checkpoint measures MinAtar"
                let missing = run (dotnet ()) [ prunerlDll (); "train"; "--resume"; "--out"; whole + "-none" ] repoRoot.Value
                Expect.equal missing.ExitCode 2 (describe missing)
                Expect.stringContains missing.Error "does not exist; start the run without --resume" "nothing to resume"
            finally
                cleanUp [ killed; whole ]
        }

        test "a run's fingerprint is its config's fields that decide its tensors and stream; differences are named" {
            let spec = prunedCartpole 1200L
            let fields = spec.Configuration |> Seq.map (fun struct (f, v) -> f, v) |> Map.ofSeq
            for field, value in
                [ "agent", "'dqn'"; "env", "'cartpole'"; "seed", "5"; "steps", "1200"; "mlp_hidden", "'64,64'"; "sparsity", "0.9"
                  "distribution", "'erk'"; "prune_start", "0.1"; "min_replay", "300"; "learning_rate", "0.0023" ] do
                Expect.equal (Map.tryFind field fields) (Some value) field
            for field in [ "format"; "device"; "checkpoint_every"; "eval_every"; "eval_episodes"; "stop_at"; "analyse_every"; "srank_states"; "dormant_states" ] do
                Expect.isFalse (fields.ContainsKey field) (field + " decides nothing of the tensors or the stream")
            let other =
                Fixtures.runOf
                    [ "env", Text "cartpole"; "mlp_hidden", Text "64,64"; "min_replay", Number 300.0; "sparsity", Number 0.8; "distribution", Text "erk"
                      "prune_start", Number 0.1; "prune_end", Number 0.6; "prune_every", Number 50.0; "steps", Number 1300.0; "seed", Number 5.0
                      "eval_every", Number 1000.0; "device", Text "cpu"; "width", Number 3.0 ]
            Expect.equal (RunFingerprint.Difference(spec.Configuration, other.Configuration))
                "width 2 there, 3 here; sparsity 0.9 there, 0.8 here; steps 1200 there, 1300 here" "named in config.json's order, at most three"
            Expect.isNull (RunFingerprint.Difference(spec.Configuration, (prunedCartpole 1200L).Configuration)) "an equal config"
            Expect.isEmpty (RunSpec("cartpole", DqnFamily AgentConfig.cartpoleDqn, NetworkSpec(NetworkKind.Mlp), 10L, 1L)).Configuration "a spec built by hand has none"
        }

        test "checkpoint files: sections come back as written; names must be distinct" {
            let directory = scratch ()
            try
                let save (numbers: int[]) =
                    CheckpointFile.Save(directory, [ CheckpointSection("numbers", fun w -> w.Write<int>(ReadOnlySpan numbers)); CheckpointSection("text", fun w -> w.Write "héllo") ])
                save [| 1; 2; 3 |]
                save [| 4; 5 |]
                use latest = CheckpointFile.Open(Path.Combine(directory, CheckpointFile.LatestName))
                use previous = CheckpointFile.Open(Path.Combine(directory, CheckpointFile.PreviousName))
                Expect.sequenceEqual latest.Sections [ "numbers"; "text" ] "sections in order"
                let read (file: CheckpointFile) =
                    let numbers = ref [||]
                    file.Read("numbers", fun r -> numbers.Value <- r.ReadArray<int>())
                    numbers.Value
                Expect.equal (read latest) [| 4; 5 |] "the latest"
                Expect.equal (read previous) [| 1; 2; 3 |] "the previous kept"
                latest.Read("text", fun r -> Expect.equal (r.ReadString()) "héllo" "a string")
                Expect.throwsT<CheckpointException> (fun () -> latest.Read("text", fun r -> r.ReadInt32() |> ignore)) "a section read short is refused"
                Expect.throwsT<ArgumentException> (fun () -> CheckpointFile.Save(directory, [ CheckpointSection("a", fun _ -> ()); CheckpointSection("a", fun _ -> ()) ])) "duplicate names"
                Expect.throwsT<ArgumentException> (fun () -> CheckpointFile.Save(directory, [ CheckpointSection("end", fun _ -> ()) ])) "the end marker's name"
            finally
                cleanUp [ directory ]
        }
    ]
