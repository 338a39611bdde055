namespace Prunerl.Experiments

open System
open System.Text.Json

/// Where a run stands. status.json holds the first five (RunFormat.stateName spells them); Lost is what
/// a scheduler's view adds (`sweep --status`): a run pending or running whose task the scheduler no
/// longer holds. Nothing writes it to status.json.
[<RequireQualifiedAccess>]
type RunState =
    /// Prepared and handed to a scheduler; not started yet.
    | Pending
    /// Training.
    | Running
    /// Trained to its last step.
    | Finished
    /// Stopped by an error (status.json's error says which).
    | Failed
    /// Stopped by a signal (SIGINT, SIGTERM); resumable from its last checkpoint.
    | Interrupted
    /// Pending or running by its status.json, but gone from its scheduler's queue.
    | Lost

/// status.json: a run's state, how far it got, and its error when it failed.
type RunStatus =
    { /// Where the run stands.
      State: RunState
      /// The agent step it reached.
      Step: int64
      /// The agent steps of the whole run.
      TotalSteps: int64
      /// Why it failed, when it did.
      Error: string option
      /// When the status was written (UTC).
      Updated: DateTimeOffset
      /// The device the run trains on (config.json's device resolved: auto becomes cpu or cuda); None before it starts.
      Device: string option
      /// Agent steps per second since the training process started (wall clock, so not reproducible); None
      /// until it has been measured.
      StepsPerSecond: float option
      /// The mean return of the last 20 training episodes (the progress reports'); None before the first episode.
      RecentReturn: float option }

/// How strictly status.json is read.
[<RequireQualifiedAccess>]
type StatusReading =
    /// Every field the training loop writes: state, step, total_steps, error and updated.
    | Strict
    /// The state alone, the rest defaulted (0, no error, no time, no device): the Slurm batch script's
    /// record of a command that could not start holds only state and error.
    | Lenient

/// The run folder's format, one place for every name in it: the files, config.json's format tag, the
/// states' spellings and the metrics the training loop writes and the report reads. A run's folder:
///   config.json    the resolved run config (every field), written before training starts
///   status.json    {"state", "step", "total_steps", "error", "updated", "device" once training has started,
///                   "steps_per_second" and "recent_return" once measured}
///   train.log      a sweep worker's output (its progress lines and errors), appended to by each attempt
///   slurm.json     the Slurm job array task it was last submitted as, when it was
///   metrics.csv, metrics.jsonl, events.out.tfevents.*   the metrics, one row per (step, metric)
///   checkpoint/    the training state a resumed run continues from
///   dataset.prlds  the experience a run with record_dataset writes
///   ticket.bin     a gmp pruned run's lottery ticket: initial (and rewound) weights, final masks
///   .lock          the lock of the process writing the run (its pid and host)
[<RequireQualifiedAccess>]
module RunFormat =

    /// The resolved run config.
    [<Literal>]
    let ConfigFile = "config.json"

    /// The run's state.
    [<Literal>]
    let StatusFile = "status.json"

    /// The Slurm task the run was last submitted as.
    [<Literal>]
    let SlurmFile = "slurm.json"

    /// The run folder's lock: held by the one process writing the run (its pid and host inside).
    [<Literal>]
    let LockFile = ".lock"

    /// The folder of the run's checkpoints.
    [<Literal>]
    let CheckpointFolder = "checkpoint"

    /// A sweep worker's output, kept in its run's folder.
    [<Literal>]
    let TrainLog = "train.log"

    /// The metrics as CSV rows step,metric,value.
    [<Literal>]
    let MetricsCsv = "metrics.csv"

    /// The metrics as JSON lines.
    [<Literal>]
    let MetricsJsonl = "metrics.jsonl"

    /// The TensorBoard event files' pattern.
    [<Literal>]
    let EventsPattern = "events.out.tfevents.*"

    /// The dataset a run with record_dataset writes.
    [<Literal>]
    let DatasetFile = "dataset.prlds"

    /// What a lottery ticket needs of a gmp pruned run (its initial weights, optionally the weights at its
    /// rewind step, and its final masks), written when the run ends; `train --method lottery --ticket RUN` reads it.
    [<Literal>]
    let TicketFile = "ticket.bin"

    /// The format tag written first in every config.json.
    [<Literal>]
    let ConfigFormat = "prunerl-run/1"

    /// The states with their spellings, in the order a summary counts them.
    let states =
        [ RunState.Pending, "pending"
          RunState.Running, "running"
          RunState.Finished, "finished"
          RunState.Failed, "failed"
          RunState.Interrupted, "interrupted"
          RunState.Lost, "lost" ]

    /// A state as status.json and `sweep --status` spell it.
    let stateName (state: RunState) : string = states |> List.find (fst >> (=) state) |> snd

    /// The state a spelling names, if any.
    let tryState (name: string) : RunState option = states |> List.tryFind (snd >> (=) name) |> Option.map fst

    /// The states status.json may hold (every state but Lost).
    let written = states |> List.map fst |> List.filter ((<>) RunState.Lost)

    /// A status with its state, step, length and error, nothing measured yet (no time, device, speed or return).
    let status (state: RunState) (step: int64) (totalSteps: int64) (error: string option) : RunStatus =
        { State = state; Step = step; TotalSteps = totalSteps; Error = error; Updated = DateTimeOffset.MinValue
          Device = None; StepsPerSecond = None; RecentReturn = None }

    /// The mean return of a greedy evaluation (the report's score by default).
    [<Literal>]
    let EvalReturn = "eval/return"

    /// The network's sparsity measured at an evaluation.
    [<Literal>]
    let EvalSparsity = "eval/sparsity"

    /// One evaluation episode's return (metrics.jsonl and TensorBoard only: metrics.csv keeps the mean).
    [<Literal>]
    let EvalEpisodeReturn = "eval/episode_return"

    /// The training epsilon when the loss is recorded (metrics.jsonl and TensorBoard only).
    [<Literal>]
    let TrainEpsilon = "train/epsilon"

    /// Agent steps per second at a progress report (TensorBoard only: wall clock, not reproducible).
    [<Literal>]
    let StepsPerSecond = "perf/steps_per_second"

    /// A training episode's return.
    [<Literal>]
    let TrainEpisodeReturn = "train/episode_return"

    /// A training episode's length.
    [<Literal>]
    let TrainEpisodeLength = "train/episode_length"

    /// The prefix of the network analyses' metrics (analysis/srank, analysis/dormant_fraction, ...).
    [<Literal>]
    let AnalysisPrefix = "analysis/"

    /// The fraction of tau-dormant neurons over the hidden layers.
    [<Literal>]
    let AnalysisDormantFraction = AnalysisPrefix + "dormant_fraction"

    /// The effective rank (srank) of the penultimate features.
    [<Literal>]
    let AnalysisSrank = AnalysisPrefix + "srank"

    /// The L2 norm of the parameters.
    [<Literal>]
    let AnalysisParameterNorm = AnalysisPrefix + "parameter_norm"

    /// The mean Q estimate over replay states.
    [<Literal>]
    let AnalysisQMean = AnalysisPrefix + "q_mean"

    /// The variance of the Q estimates over replay states.
    [<Literal>]
    let AnalysisQVariance = AnalysisPrefix + "q_variance"

    /// The variance of the target network's Q estimates.
    [<Literal>]
    let AnalysisTargetQVariance = AnalysisPrefix + "target_q_variance"

    /// The variance of the TD targets.
    [<Literal>]
    let AnalysisTdTargetVariance = AnalysisPrefix + "td_target_variance"

    /// The mean over states of |Q(s, .)|.
    [<Literal>]
    let AnalysisQNorm = AnalysisPrefix + "q_norm"

    /// The mean cosine between per-sample gradients.
    [<Literal>]
    let AnalysisGradientInterference = AnalysisPrefix + "gradient_interference"

    /// The mean |cosine| between per-sample gradients.
    [<Literal>]
    let AnalysisGradientInterferenceAbs = AnalysisPrefix + "gradient_interference_abs"

    /// The non-zero parameters.
    [<Literal>]
    let AnalysisNonzeroParameters = AnalysisPrefix + "nonzero_parameters"

    /// The prefix of one hidden layer's dormant fraction (analysis/dormant/&lt;layer&gt;).
    [<Literal>]
    let AnalysisDormantLayerPrefix = AnalysisPrefix + "dormant/"

    /// status.json's text read as a status: Strict wants every field the loop writes, Lenient the state
    /// alone. An error names what is missing or wrong.
    let parseStatus (reading: StatusReading) (text: string) : Result<RunStatus, string> =
        let spellings = written |> List.map stateName |> String.concat ", "
        try
            use document = JsonDocument.Parse text
            let root = document.RootElement
            if root.ValueKind <> JsonValueKind.Object then Error "must hold a JSON object"
            else
                let field (name: string) =
                    match root.TryGetProperty name with
                    | true, e -> Some e
                    | _ -> None
                let optional name (read: JsonElement -> 'a) (otherwise: 'a) : Result<'a, string> =
                    match field name, reading with
                    | Some e, _ -> Ok(read e)
                    | None, StatusReading.Lenient -> Ok otherwise
                    | None, StatusReading.Strict -> Error(sprintf "has no %s" name)
                let state =
                    match field "state" with
                    | Some v when v.ValueKind = JsonValueKind.String ->
                        match v.GetString() |> Option.ofObj |> Option.bind tryState with
                        | Some s when s <> RunState.Lost -> Ok s
                        | _ -> Error(sprintf "state must be one of %s, got %s" spellings (v.GetRawText()))
                    | Some v -> Error(sprintf "state must be one of %s, got %s" spellings (v.GetRawText()))
                    | None -> Error(sprintf "has no state (one of %s)" spellings)
                match state with
                | Error e -> Error e
                | Ok state ->
                    let error e = if (e: JsonElement).ValueKind = JsonValueKind.String then e.GetString() |> Option.ofObj else None
                    let measured name = field name |> Option.bind (fun e -> if e.ValueKind = JsonValueKind.Number then Some(e.GetDouble()) else None)
                    match
                        optional "step" _.GetInt64() 0L,
                        optional "total_steps" _.GetInt64() 0L,
                        optional "error" error None,
                        optional "updated" _.GetDateTimeOffset() DateTimeOffset.MinValue
                    with
                    | Ok step, Ok total, Ok error, Ok updated ->
                        Ok
                            { State = state
                              Step = step
                              TotalSteps = total
                              Error = error
                              Updated = updated
                              Device = field "device" |> Option.bind (fun e -> if e.ValueKind = JsonValueKind.String then e.GetString() |> Option.ofObj else None)
                              StepsPerSecond = measured "steps_per_second"
                              RecentReturn = measured "recent_return" }
                    | Error e, _, _, _
                    | _, Error e, _, _
                    | _, _, Error e, _
                    | _, _, _, Error e -> Error e
        with
        | :? JsonException as e -> Error(sprintf "not valid JSON (%s)" (e.Message.Split('\n').[0]))
        | :? InvalidOperationException
        | :? FormatException as e -> Error(sprintf "a field has the wrong kind (%s)" (e.Message.Split('\n').[0]))
