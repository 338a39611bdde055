/// `prunerl train`: one run. Every field of a run config is a flag (the core's RunConfig names them);
/// `--config FILE` gives any of them as JSON, flags override it. Everything is checked before anything
/// is written; the run's folder (RunFolder) gets its config, status and metrics as it trains.
module Prunerl.Cli.TrainCommand

open System
open System.IO
open Argu
open Microsoft.FSharp.Reflection
open Prunerl.Core
open Prunerl.Experiments
open Prunerl.Agents.Networks
open Prunerl.Agents.Training
open Prunerl.Agents.Runtime
open Prunerl.Cli.UserError
open Prunerl.Agents.Checkpoints

/// The most torch threads a run takes: the hardware threads of the largest common CPU nodes (two 64-core
/// processors with two threads a core: 256). Threads beyond the cores only contend, so 10,000 of them
/// slow a run until it never ends.
[<Literal>]
let maxThreads = 256

/// The flags of `prunerl train`. A case named like a run field (Prune_Start -> prune_start) sets that
/// field; the others say where the run goes and how. A choice is typed by the run config's own choice type,
/// so Argu lists and checks its names, which are config.json's (Choices.spelling).
[<RequireQualifiedAccess>]
type TrainArgs =
    | Config of file: string
    | Out of directory: string
    | Resume
    | Resume_If_Exists
    | Dry_Run
    | Keep_Checkpoint
    | Threads of count: int
    | Agent of AgentKind
    | Env of id: string
    | Preset of PresetKind
    | Network of NetworkKind
    | Mlp_Hidden of units: string
    | Width of multiplier: float
    | Width_Scope of WidthScope
    | Init of Initialization
    | Sparsity of fraction: float
    | Schedule of RampKind
    | Power of power: float
    | Prune_Start of fraction: float
    | Prune_End of fraction: float
    | Prune_Every of updates: int64
    | Distribution of DistributionKind
    | Layer_Schedule of LayerTiming
    | Method of SparseMethod
    | Ticket of run: string
    | Rewind_Step of updates: int64
    | Drop_Fraction of fraction: float
    | Rewire_Every of updates: int64
    | Baseline of BaselineKind
    | Baseline_Period of updates: float
    | Redo_Tau of tau: float
    | Weight_Decay of lambda: float
    | Reset_Layers of count: int
    | Steps of count: string
    | Replay_Ratio of ratio: string
    | Seed of seed: int64
    | Device of DeviceKind
    | Eval_Every of steps: string
    | Eval_Episodes of count: int
    | Analyse_Every of steps: string
    | Srank_States of count: int
    | Dormant_States of count: int
    | Checkpoint_Every of steps: string
    | Stop_At of mean_return: float
    | Gamma of discount: float
    | N_Step of n: int
    | Batch_Size of count: int
    | Replay_Capacity of transitions: string
    | Min_Replay of steps: string
    | Target_Update_Period of steps: string
    | Learning_Rate of rate: float
    | Epsilon_Train of epsilon: float
    | Epsilon_Decay_Steps of steps: string
    | Epsilon_Eval of epsilon: float
    | Loss of TdLoss
    | Double_Q of enabled: bool
    | Dueling of enabled: bool
    | Atoms of count: int
    | V_Min of value: float
    | V_Max of value: float
    | Priority_Sampling of PrioritySampling
    | Noisy of enabled: bool
    | Noisy_Sigma0 of sigma0: float
    | Augmentation of enabled: bool
    | Shift_Padding of pixels: int
    | Intensity_Scale of scale: float
    | Tau of tau: float
    | Actor_Learning_Rate of rate: float
    | Critic_Learning_Rate of rate: float
    | Alpha_Learning_Rate of rate: float
    | Initial_Alpha of alpha: float
    | Target_Entropy of per_dimension: float
    | Reward_Scale of scale: float
    | Kernel_L2 of lambda: float
    | Dataset of file: string
    | Conservative_Weight of alpha: float
    | Record_Dataset of enabled: bool

    interface IArgParserTemplate with
        member this.Usage =
            match this with
            | Config _ -> "a JSON file of run fields (any subset of config.json's); flags override it."
            | Out _ -> "the run's folder: config.json, status.json, metrics.csv, metrics.jsonl, TensorBoard events, checkpoint/ (absent or empty unless --resume)."
            | Resume -> "continue the run in --out from its config.json; other flags may only repeat its values (--device may differ)."
            | Resume_If_Exists -> "--resume when --out holds a run that has started (a status.json), else start it: for schedulers that requeue."
            | Dry_Run -> "print the resolved configuration and the schedule's key steps, and write nothing."
            | Keep_Checkpoint -> "keep the run's last checkpoint (replay and all) once it has finished; without it only the final network, network.safetensors, is kept."
            | Threads _ -> sprintf "torch threads, 1 to %d (default: OMP_NUM_THREADS when set, else 1 for a network under 500k parameters and 2 above; README, 'Benchmarks')." maxThreads
            | field ->
                let name = (FSharpValue.GetUnionFields(field, typeof<TrainArgs>) |> fst).Name.ToLowerInvariant()
                match RunFields.field name with
                | Ok f -> f.Help + "."
                | Error e -> e

/// The run field a flag sets, with its value; None for the flags that are not run fields.
let fieldOf (arg: TrainArgs) : (string * FieldValue) option =
    let case, values = FSharpValue.GetUnionFields(arg, typeof<TrainArgs>)
    let name = case.Name.ToLowerInvariant()
    match RunFields.field name, values with
    | Ok _, [| value |] ->
        Some(
            name,
            match value with
            | :? string as s -> Text s
            | :? float as x -> Number x
            | :? int64 as n -> Number(float n)
            | :? int as n -> Number(float n)
            | :? bool as b -> Switch b
            | choice when FSharpType.IsUnion(choice.GetType()) -> Text(Choices.spelling (fst (FSharpValue.GetUnionFields(choice, choice.GetType()))).Name)
            | other -> failwithf "flag --%s carries an unexpected %O" name (other.GetType())
        )
    | _ -> None

/// A run ready to start: its config, where it goes, and whether it continues one.
type Plan =
    { Config: RunConfig
      Out: string option
      Resume: bool
      /// Torch threads asked for; None for the default.
      Threads: int option
      /// Whether a finished run keeps its last checkpoint (else only its final network).
      KeepCheckpoint: bool
      /// The device the run trains on: config.json's device resolved here (auto: CUDA when torch finds a GPU).
      Device: TorchSharp.torch.Device }

/// Resolves and checks everything the flags ask for; writes nothing.
let plan (args: ParseResults<TrainArgs>) : Plan =
    let fromFile =
        match args.TryGetResult TrainArgs.Config with
        | Some path -> RunFolder.readFields "config" path
        | None -> []
    let requested = fromFile @ (args.GetAllResults() |> List.choose fieldOf) |> RunInputs.absolutePaths
    let out = args.TryGetResult TrainArgs.Out
    match out with
    | Some o when String.IsNullOrWhiteSpace o -> raise (UserError "out must name a folder, got ''")
    | _ -> ()
    let resume =
        args.Contains TrainArgs.Resume
        || (args.Contains TrainArgs.Resume_If_Exists && out |> Option.exists (RunFolder.statusPath >> File.Exists))
    let config =
        match out, resume with
        | None, true -> raise (UserError "resume needs --out, the folder of the run to continue")
        | Some run, true ->
            if File.Exists run then raise (UserError(sprintf "resume: %s is a file, not a run's folder" run))
            if not (Directory.Exists run) then raise (UserError(sprintf "resume: %s does not exist; start the run without --resume" run))
            match RunFolder.tryReadConfig run with
            | None -> raise (UserError(sprintf "resume: %s holds no config.json; start the run without --resume" run))
            | Some stored ->
                Resolution.agrees stored requested |> Result.mapError (sprintf "resume %s: %s" run) |> orFail
                let device = requested |> List.filter (fst >> (=) "device")
                RunFields.apply device stored |> orFail
        | _, false -> Resolution.resolve TrainingRun.Environments requested |> orFail
    out |> Option.iter RunLock.checkFree
    match out with
    | Some run when not resume ->
        RunFolder.checkWritable "out" run
        if not (RunFolder.isFreshFor config run) then
            raise (UserError(sprintf "out: %s is not empty (it holds a run or other files); continue it with --resume or choose another folder" run))
    | Some run ->
        RunFolder.checkWritable "out" run
        RunFolder.checkCheckpointUsable run
        // A checkpoint that is corrupt, truncated or of another format is refused before anything changes.
        match Prunerl.Agents.Checkpoints.CheckpointFile.Find(RunFolder.checkpointPath run) with
        | null -> ()
        | path ->
            try (Prunerl.Agents.Checkpoints.CheckpointFile.Open path).Dispose()
            with :? CheckpointException as e -> raise (UserError("resume: " + e.Message))
    | None -> ()
    if config.RecordDataset && out.IsNone then
        raise (UserError "record_dataset: a recorded dataset goes into the run's folder; give --out")
    RunInputs.checkDataset config
    RunInputs.checkTicket config
    let threads = args.TryGetResult TrainArgs.Threads
    threads |> Option.iter (fun t -> Validate.atLeast "threads" 1L (int64 t) |> orFail |> ignore)
    threads |> Option.iter (fun t -> if t > maxThreads then raise (UserError(sprintf "threads must be <= %d (threads beyond the cores only contend), got %d" maxThreads t)))
    RunValidation.fits TrainingRun.Environments (RunFolder.availableMemory ()) config |> orFail |> ignore
    let device = RunInputs.resolveDevice config.Device
    { Config = config; Out = out; Resume = resume; Threads = threads; KeepCheckpoint = args.Contains TrainArgs.Keep_Checkpoint; Device = device }

/// How often something every `period` agent steps happens in a run.
let private count (period: int64) (steps: int64) = if period > 0L then steps / period else 0L

/// The resolved configuration as config.json will hold it, then the run's key steps: gradient updates,
/// the pruning schedule's mask updates (update, agent step, target sparsity), the baseline's
/// applications, evaluations, analyses and checkpoints.
let printDryRun (c: RunConfig) (device: TorchSharp.torch.Device) =
    let updates = RunConfig.gradientUpdates c
    printfn "Resolved configuration (config.json):"
    printf "%s" (Text.Encoding.UTF8.GetString(RunFolder.configJson c))
    printfn ""
    printfn "Trains on: %s (device %s)" (TorchRuntime.Name device) (Choices.nameIn Choices.devices c.Device)
    printfn "Key steps of %d agent steps:" c.Steps
    if RunConfig.isOffline c.Agent then
        printfn "  gradient updates: %d, one per step, on batches from %s (CQL weight %s)" updates (Option.defaultValue "-" c.Dataset) (Validate.show c.ConservativeWeight)
    else
        let perStep, period, warmUp =
            if c.Agent = AgentKind.Sac then c.Sac.UpdatesPerStep, c.Sac.UpdatePeriod, c.Sac.MinReplay
            else c.Hyperparameters.UpdatesPerStep, c.Hyperparameters.UpdatePeriod, c.Hyperparameters.MinReplay
        printfn "  gradient updates: %d (replay ratio %s: %d per update step, every %d agent steps after %d; the first at step %d)"
            updates (Validate.show (RunConfig.replayRatio c)) perStep period warmUp (RunConfig.stepOfUpdate c 0L)
    match RunConfig.schedule c |> orFail with
    | None -> printfn "  pruning: none (sparsity 0, a dense network)"
    | Some _ when c.Method <> GMP ->
        let from = match c.Method with Lottery -> sprintf "the ticket of %s" (Option.defaultValue "-" c.Ticket) | _ -> "a random mask per layer"
        printfn "  sparse training: method %s, sparsity %s from step 0 (%s over layers), %s" (SparseMethod.name c.Method) (Validate.show c.Sparsity)
            (Choices.nameIn Choices.distributions c.Distribution) from
        if SparseMethod.isDynamic c.Method then
            match DropFraction.create (max 1L updates) (RunConfig.dropSpec c) with
            | Ok drop ->
                printfn "  rewiring: %d times, every %d gradient updates up to update %d, dropping %s of each layer's kept weights at first, cosine to 0 (prunerl schedule --method %s lists them)"
                    (DropFraction.updateSteps drop |> Seq.length) drop.Period drop.End (Validate.show drop.Initial) (SparseMethod.name c.Method)
            | Error e -> raise (UserError e)
    | Some schedule ->
        let ramp =
            match c.Ramp with
            | RampKind.Polynomial -> sprintf "polynomial, power %s" (Validate.show c.Power)
            | RampKind.Linear -> "linear"
            | RampKind.Cosine -> "cosine"
        let masks = Schedule.updateSteps schedule |> Seq.length
        printfn "  pruning: 0 -> %s (%s, %s over layers), %d mask updates, every %d gradient updates:"
            (Validate.show c.Sparsity) ramp (Choices.nameIn Choices.distributions c.Distribution) masks c.PruneEvery
        printfn "    %10s  %12s  %16s" "update" "agent step" "target sparsity"
        for update in Schedule.milestones 7 schedule do
            printfn "    %10d  %12d  %16.4f" update (RunConfig.stepOfUpdate c update) (Schedule.sparsityAt schedule update)
    match c.Baseline with
    | BaselineKind.None -> ()
    | BaselineKind.Wd -> printfn "  baseline: decoupled weight decay, lambda %s, at every update" (Validate.show c.WeightDecay)
    | BaselineKind.L2 -> printfn "  baseline: an L2 term in the loss, lambda %s times the kernels' sum of squares" (Validate.show c.WeightDecay)
    | baseline ->
        printfn "  baseline: %s every %d gradient updates, %d times (the first after update %d, at step %d)"
            (Choices.nameIn Choices.baselines baseline) (RunConfig.baselinePeriodUpdates c) (updates / RunConfig.baselinePeriodUpdates c) (RunConfig.baselinePeriodUpdates c)
            (RunConfig.stepOfUpdate c (RunConfig.baselinePeriodUpdates c - 1L))
    printfn "  evaluations: %d (every %d steps, %d episodes each)%s" (count c.EvalEvery c.Steps) c.EvalEvery c.EvalEpisodes
        (match c.StopAt with Some r -> sprintf ", stopping once the mean return reaches %s" (Validate.show r) | None -> "")
    printfn "  analyses: %d (every %d steps); checkpoints: %d (every %d steps)"
        (count c.AnalyseEvery c.Steps) c.AnalyseEvery (count c.CheckpointEvery c.Steps) c.CheckpointEvery

/// status.json kept by one writer: progress while running, then one final state that nothing overwrites.
/// Its step is the last progress report's, except for an interrupted run: the step a resume continues
/// from (the last checkpoint in place), even when a second signal stopped the run between its progress
/// report and its checkpoint.
type StatusFile(run: string option, totalSteps: int64, device: string) =
    let gate = obj ()
    let mutable settled = false
    let mutable written = false
    let mutable step = 0L
    let mutable resumable = 0L
    let mutable pace: float option = None
    let mutable recent: float option = None
    let write (state: RunState) (at: int64) (error: string option) =
        run |> Option.iter (fun r ->
            RunFolder.writeStatus r { RunFormat.status state at totalSteps error with Device = Some device; StepsPerSecond = pace; RecentReturn = recent })

    /// The last step reported.
    member _.Step = step

    /// Whether this process has written status.json (a resumed run writes it once its checkpoint has loaded).
    member _.Written = written

    /// Records progress (state running).
    member _.Progress(at: int64) =
        lock gate (fun () ->
            step <- at
            if not settled then
                write RunState.Running at None
                written <- true)

    /// Records a progress report (state running) with the agent steps per second measured so far, and its recent return.
    member this.Progress(p: TrainingProgress, stepsPerSecond: float option) =
        lock gate (fun () ->
            if stepsPerSecond.IsSome then pace <- stepsPerSecond
            recent <- if Double.IsNaN p.RecentReturn then None else Some p.RecentReturn
            this.Progress p.Step)

    /// Records the step a resume would continue from: a checkpoint loaded or put in place.
    member _.Resumable(at: int64) = lock gate (fun () -> resumable <- at)

    /// Records the final state once; later calls change nothing. A one-line UserError when status.json
    /// cannot be written (a full disk), the state then unrecorded.
    member _.Settle(state: RunState, error: string option) =
        lock gate (fun () ->
            if not settled then
                settled <- true
                let at = if state = RunState.Interrupted then resumable else step
                write state at error
                written <- true)

/// An exception as one line for status.json and the terminal.
let private oneLine (e: exn) =
    let message = (e.Message.Split('\n').[0]).Trim()
    match e with
    | :? ArgumentException as a -> (match argumentError a with UserError m -> m | _ -> message)
    | UserError m -> m
    | :? IOException -> message
    | _ -> sprintf "%s: %s" (e.GetType().Name) message

let private printNetwork (result: TrainingResult) (seconds: float) =
    printfn ""
    printfn "Final network (measured on the tensors):"
    // Names as long as SAC's critics' widen the first column.
    let width = result.Parameters |> Seq.map (fun p -> p.Name.Length) |> Seq.fold max 22
    printfn "  %-*s  %-12s  %8s  %8s  %8s" width "parameter" "shape" "size" "non-zero" "sparsity"
    for p in result.Parameters do
        printfn "  %-*s  %-12s  %8d  %8d  %8.4f" width p.Name (p.Shape |> Array.map string |> String.concat "x") p.Size p.NonZero p.Sparsity
    let total, nonZero = result.Parameters |> Seq.sumBy (fun p -> p.Size), result.Parameters |> Seq.sumBy (fun p -> p.NonZero)
    printfn "  %-*s  %-12s  %8d  %8d  %8.4f" width "total" "" total nonZero (1.0 - float nonZero / float total)
    match result.Evaluations |> Seq.sortByDescending (fun e -> e.MeanReturn) |> Seq.tryHead with
    | Some best -> printfn "Best evaluation: %.1f at step %d; %d episodes, %d gradient updates in %.1f s" best.MeanReturn best.Step result.Episodes.Count result.Updates seconds
    | None -> printfn "%d episodes, %d gradient updates in %.1f s" result.Episodes.Count result.Updates seconds

let private describeRun (c: RunConfig) =
    let regulariser =
        match c.Baseline with
        | BaselineKind.Wd -> sprintf ", weight decay %s" (Validate.show c.WeightDecay)
        | BaselineKind.L2 -> sprintf ", L2 %s" (Validate.show c.WeightDecay)
        | _ -> ""
    let what =
        if c.Sparsity = 0.0 then
            match c.Baseline with
            | BaselineKind.None -> "dense"
            | BaselineKind.Wd | BaselineKind.L2 -> "dense" + regulariser
            | b -> sprintf "dense, %s every %d updates" (Choices.nameIn Choices.baselines b) (RunConfig.baselinePeriodUpdates c)
        else
            sprintf "pruned to %s (%s) between %s and %s of %d updates%s" (Validate.show c.Sparsity) (Choices.nameIn Choices.distributions c.Distribution)
                (Validate.show c.PruneStart) (Validate.show c.PruneEnd) (RunConfig.gradientUpdates c) regulariser
    let source =
        match c.Dataset with
        | Some path when RunConfig.isOffline c.Agent -> sprintf " offline from %s (a step is an update)" path
        | _ -> ""
    sprintf "Training %s on %s%s for %d steps, seed %d: %s network at width %s, %s"
        (Choices.nameIn Choices.agents c.Agent) c.Env source c.Steps c.Seed (Choices.nameIn Choices.networks c.Network) (Validate.show c.Width) what

/// Ends the run at its next step, after a checkpoint, on the first SIGINT (exit code 130) or SIGTERM
/// (143, a scheduler's preemption); a second signal ends the process at once, the run marked interrupted.
type private Interruption(status: StatusFile) =
    let cancellation = new Threading.CancellationTokenSource()
    let mutable code = 0
    let handle (exitCode: int) (context: Runtime.InteropServices.PosixSignalContext) =
        if Threading.Interlocked.CompareExchange(&code, exitCode, 0) = 0 then
            context.Cancel <- true
            cancellation.Cancel()
        else status.Settle(RunState.Interrupted, None)
    let registrations =
        [ Runtime.InteropServices.PosixSignalRegistration.Create(Runtime.InteropServices.PosixSignal.SIGINT, handle 130)
          Runtime.InteropServices.PosixSignalRegistration.Create(Runtime.InteropServices.PosixSignal.SIGTERM, handle 143) ]

    member _.Token = cancellation.Token

    /// The exit code of the signal that stopped the run.
    member _.ExitCode = if code = 0 then 130 else code

    interface IDisposable with
        member _.Dispose() =
            for r in registrations do r.Dispose()
            cancellation.Dispose()

/// The final analysis' matrix of cosines between per-sample gradients (the paper's Figure 14) as
/// interference.csv in the run's folder: a header "step,i,j,cosine", then one line per pair.
let private writeInterference (run: string) (analysis: Prunerl.Agents.Analysis.AnalysisRecord) =
    let text = Text.StringBuilder("step,i,j,cosine\n")
    analysis.Cosines |> Array.iteri (fun i row -> row |> Array.iteri (fun j c -> text.AppendFormat(Globalization.CultureInfo.InvariantCulture, "{0},{1},{2},{3:R}\n", analysis.Step, i, j, c) |> ignore))
    Files.writeAtomically (IO.Path.Combine(run, "interference.csv")) (Text.Encoding.UTF8.GetBytes(text.ToString()))

/// Settles status.json; when it cannot be written (the disk that failed the run is full, say), the
/// line that says so, the run's own failure being reported first.
let private settle (status: StatusFile) (state: RunState) (error: string option) : string option =
    try
        status.Settle(state, error)
        None
    with UserError m -> Some(sprintf "and the run's status could not be recorded: %s" m)

/// The run's hyperparameters as TensorBoard's HParams view shows them: config.json's fields (nulls left
/// out) and the prunerl version and commit that trained it (BuildInfo.configMembers).
let hyperparameters (config: RunConfig) : Collections.Generic.KeyValuePair<string, obj> list =
    [ for name, value in RunFields.toFields config do
        match value with
        | Text s -> yield Collections.Generic.KeyValuePair<string, obj>(name, box s)
        | Number x -> yield Collections.Generic.KeyValuePair<string, obj>(name, box x)
        | Switch b -> yield Collections.Generic.KeyValuePair<string, obj>(name, box b)
        | Empty -> ()
      for name, value in BuildInfo.configMembers -> Collections.Generic.KeyValuePair<string, obj>(name, box value) ]

/// The first line of a run without --out: it trains, but nothing of it is kept.
let unsavedNotice =
    "Nothing will be saved: no --out given, so the run's config, metrics and checkpoints are not written (give --out DIR to keep them)."

/// Trains the planned run: config.json and status.json first, metrics and checkpoints as it goes, the
/// final status last. A resumed run continues from its checkpoint, or starts over when it has none. The
/// exit code: 0 finished, 1 failed (status.json says why), 130 or 143 interrupted. Without --out the
/// first line says that nothing will be saved.
let execute (p: Plan) : int =
    if p.Out.IsNone then printfn "%s" unsavedNotice
    match TorchRuntime.TryLoad() with
    | false, error -> raise (UserError error)
    | true, _ -> ()
    // One writer per run folder, from before its first write to the process's end (RunLock).
    use _lock = match p.Out with Some run -> RunLock.take run | None -> RunLock.none ()
    let threads = p.Threads |> Option.defaultWith (fun () -> TrainingRun.DefaultThreads p.Config)
    TorchSharp.torch.set_num_threads threads
    let checkpointed = p.Resume && p.Out |> Option.exists (fun run -> not (isNull (Prunerl.Agents.Checkpoints.CheckpointFile.Find(RunFolder.checkpointPath run))))
    match p.Out with
    | Some _ when checkpointed -> ()
    | Some run when p.Resume ->
        // No checkpoint/ at all (RunFolder.checkCheckpointUsable refused an unusable one): the run starts
        // over, without the metrics of its earlier attempt, which it writes again the same.
        for file in Directory.GetFiles run |> Array.filter (fun f -> Path.GetFileName(f).StartsWith "metrics." || Path.GetFileName(f).StartsWith "events.out.tfevents.") do
            File.Delete file
    | Some run -> RunFolder.writeConfig run p.Config
    | None -> ()
    match p.Out with
    | Some run when checkpointed ->
        let reached = RunFolder.tryReadStatus run |> Option.map _.Step |> Option.defaultValue 0L
        printfn "Resuming from the checkpoint in %s (the run had reached step %d)" (RunFolder.checkpointPath run) reached
    | _ -> ()
    let status = StatusFile(p.Out, p.Config.Steps, TorchRuntime.Name p.Device)
    // A resumed run's status.json changes once its checkpoint has loaded (its first progress report, at the
    // checkpoint's step): a checkpoint or metrics log it cannot continue is refused with nothing changed.
    if not checkpointed then status.Progress 0L
    use interruption = new Interruption(status)
    let checkpoints =
        match p.Out with
        | Some run when p.Config.CheckpointEvery > 0L -> CheckpointPolicy(RunFolder.checkpointPath run, p.Config.CheckpointEvery, Resumable = Action<int64>(status.Resumable))
        | _ -> null
    let title = sprintf "%s; on %s, %d torch thread(s)" (describeRun p.Config) (TorchRuntime.Name p.Device) threads + (p.Out |> Option.map (sprintf "\nRun folder: %s") |> Option.defaultValue "")
    let clock = Diagnostics.Stopwatch.StartNew()
    try
        use metrics =
            match p.Out with
            | Some run when checkpointed ->
                try MetricsLog.Reopen run
                with :? IOException as e -> raise (UserError(sprintf "resume: %s; its metrics log cannot continue from the checkpoint" (e.Message.Split('\n').[0])))
            | Some run ->
                let log = new MetricsLog(run)
                log.WriteHyperparameters(hyperparameters p.Config)
                log
            | None -> null
        // Each progress report: status.json (with the speed, for a sweep's display) and the speed in TensorBoard.
        let onProgress (progress: TrainingProgress) (stepsPerSecond: float option) =
            status.Progress(progress, stepsPerSecond)
            match stepsPerSecond with
            | Some perSecond when not (isNull metrics) -> metrics.WriteWallClock(progress.Step, RunFormat.StepsPerSecond, perSecond)
            | _ -> ()
        let display = TrainingDisplay.Display(title, TrainingDisplay.isTerminal (), TrainingDisplay.randomScore p.Config.Env, onProgress)
        let dataset = if p.Config.RecordDataset then p.Out |> Option.map RunFolder.datasetPath |> Option.toObj else null
        let finalNetwork = p.Out |> Option.map RunFolder.networkPath |> Option.toObj
        let ticket = p.Out |> Option.map RunFolder.ticketPath |> Option.toObj
        let hooks = RunHooks(display.Evaluations, display.Progress, metrics, checkpoints, interruption.Token, dataset, p.Device, FinalNetwork = finalNetwork, Ticket = ticket)
        let result = display.Run(fun () -> TrainingRun.Run(p.Config, hooks))
        status.Settle(RunState.Finished, None)
        // A finished run keeps its final network; its checkpoint (replay and all) only when asked to.
        match p.Out with
        | Some run when not p.KeepCheckpoint && Directory.Exists(RunFolder.checkpointPath run) -> Directory.Delete(RunFolder.checkpointPath run, true)
        | _ -> ()
        match p.Out, result.Analyses |> Seq.tryLast with
        | Some run, Some last when not (isNull last.Cosines) -> writeInterference run last
        | _ -> ()
        printNetwork result clock.Elapsed.TotalSeconds
        0
    with
    // Refused before the run changed anything (its checkpoint or metrics log cannot be continued): exit code 2.
    | UserError _ when not status.Written -> reraise ()
    | :? CheckpointException as e when not status.Written -> raise (UserError("resume: " + e.Message))
    | :? OperationCanceledException as e ->
        let unrecorded = settle status RunState.Interrupted None
        match p.Out with
        | Some run when not (isNull checkpoints) -> eprintfn "prunerl: %s and checkpointed; continue with: prunerl train --out %s --resume" e.Message run
        | _ -> eprintfn "prunerl: %s" e.Message
        unrecorded |> Option.iter (eprintfn "prunerl: %s")
        interruption.ExitCode
    | e ->
        let message = oneLine e
        let unrecorded = settle status RunState.Failed (Some message)
        eprintfn "prunerl: the run failed: %s" message
        unrecorded |> Option.iter (eprintfn "prunerl: %s")
        1

/// Runs `prunerl train`.
let run (args: ParseResults<TrainArgs>) : int =
    let p = plan args
    let finished = p.Resume && (p.Out |> Option.bind RunFolder.tryReadStatus |> Option.exists (fun s -> s.State = RunState.Finished))
    if args.Contains TrainArgs.Dry_Run then
        printDryRun p.Config p.Device
        0
    elif finished then
        printfn "The run in %s has finished; nothing to resume." (Option.get p.Out)
        0
    else execute p
