/// `prunerl evaluate RUN`: plays a finished run's final network for whole episodes, prints the mean return with
/// its spread and interval, writes each episode's return, and with --record an animated GIF of the episodes.
module Prunerl.Cli.EvaluateCommand

open System
open System.Globalization
open System.IO
open System.Text
open Argu
open Prunerl.Core
open Prunerl.Experiments
open Prunerl.Experiments.Metrics
open Prunerl.Agents.Inference
open Prunerl.Cli.UserError

/// The flags of `prunerl evaluate`.
[<RequireQualifiedAccess>]
type EvaluateArgs =
    | [<MainCommand; ExactlyOnce>] Run of folder: string
    | Episodes of count: int
    | Epsilon of epsilon: float
    | Seed of seed: int64
    | Csv of file: string
    | Record of file: string
    | Record_Episodes of count: int
    | Fps of frames: int
    | Scale of factor: float
    | Max_Frames of count: int

    interface IArgParserTemplate with
        member this.Usage =
            match this with
            | Run _ -> "the folder of a finished run (train --out DIR): its config.json and its final network, network.safetensors."
            | Episodes _ -> "episodes to play (default: the run's eval_episodes)."
            | Epsilon _ -> "DQN family: the probability of a random action (default: the run's epsilon_eval); SAC plays its deterministic policy."
            | Seed _ -> "seed of the episodes and of the policy's random actions (default: the run's seed)."
            | Csv _ -> "where each episode's return and length go (default RUN/evaluation.csv)."
            | Record _ -> "write the first episodes as an animated GIF to this file."
            | Record_Episodes _ -> "episodes in the GIF, from the first (default 1)."
            | Fps _ -> sprintf "the GIF's frames per second, 1 to 100 (default %d)." GifRecorder.DefaultFramesPerSecond
            | Scale _ -> "the GIF's size relative to the environment's picture, nearest-neighbour (default 1)."
            | Max_Frames _ -> sprintf "frames in the GIF at most; a longer recording is cut (default %d)." GifRecorder.DefaultMaxFrames

/// Repetitions of the bootstrap interval of the mean return: rliable's default (Bootstrap.defaultRepetitions).
let repetitions = Bootstrap.defaultRepetitions

/// The episodes' returns as evaluation.csv holds them: "episode,return,length", one line per episode from 1.
let csv (outcomes: EpisodeOutcome seq) : string =
    let text = StringBuilder("episode,return,length\n")
    outcomes |> Seq.iteri (fun i o -> text.AppendFormat(CultureInfo.InvariantCulture, "{0},{1:R},{2}\n", i + 1, o.Return, o.Length) |> ignore)
    text.ToString()

/// The sample standard deviation (n - 1 in the denominator); 0 for one value.
let standardDeviation (xs: float[]) =
    if xs.Length < 2 then 0.0
    else
        let mean = Array.average xs
        sqrt ((xs |> Array.sumBy (fun x -> (x - mean) ** 2.0)) / float (xs.Length - 1))

/// The summary line: mean return, its standard deviation, its 95% stratified-bootstrap interval (rliable's,
/// the episodes as one task's runs), the extremes and the mean length.
let summary (seed: uint64) (outcomes: EpisodeOutcome[]) : string =
    let returns = outcomes |> Array.map _.Return
    let interval = Bootstrap.interval Aggregate.mean 0.95 repetitions seed [| returns |] |> orFail
    sprintf "Mean return %.2f (std %.2f, 95%% bootstrap CI [%.2f, %.2f]) over %d episodes; min %.2f, max %.2f; mean length %.1f steps"
        interval.Estimate (standardDeviation returns) interval.Lower interval.Upper returns.Length (Array.min returns) (Array.max returns)
        (outcomes |> Array.averageBy (fun o -> float o.Length))

/// Runs `prunerl evaluate`.
let run (args: ParseResults<EvaluateArgs>) : int =
    let folder = args.GetResult EvaluateArgs.Run
    let positive (name: string) (value: int) = if value < 1 then raise (UserError(sprintf "evaluate: %s must be >= 1, got %d" name value))
    args.TryGetResult EvaluateArgs.Episodes |> Option.iter (positive "episodes")
    args.TryGetResult EvaluateArgs.Record_Episodes |> Option.iter (positive "record-episodes")
    args.TryGetResult EvaluateArgs.Max_Frames |> Option.iter (positive "max-frames")
    let recorder =
        args.TryGetResult EvaluateArgs.Record
        |> Option.map (fun file ->
            if Path.GetExtension(file).ToLowerInvariant() <> ".gif" then raise (UserError(sprintf "evaluate: --record writes a GIF; name a .gif file, got %s" file))
            RunFolder.checkWritable "record" (Path.GetDirectoryName(Path.GetFullPath file) |> nonNull)
            try
                GifRecorder(args.GetResult(EvaluateArgs.Record_Episodes, 1), args.GetResult(EvaluateArgs.Scale, 1.0),
                            args.GetResult(EvaluateArgs.Fps, GifRecorder.DefaultFramesPerSecond), args.GetResult(EvaluateArgs.Max_Frames, GifRecorder.DefaultMaxFrames)), file
            with :? ArgumentException as e -> raise (argumentError e))
    if recorder.IsNone then
        for flag, given in [ "record-episodes", args.Contains EvaluateArgs.Record_Episodes; "fps", args.Contains EvaluateArgs.Fps
                             "scale", args.Contains EvaluateArgs.Scale; "max-frames", args.Contains EvaluateArgs.Max_Frames ] do
            if given then raise (UserError(sprintf "evaluate: --%s sets the recording; give --record FILE.gif" flag))
    let trained = TrainedRun.openRun "evaluate" folder (args.TryGetResult EvaluateArgs.Epsilon)
    use policy = trained.Policy
    let c = trained.Config
    let csvPath = args.GetResult(EvaluateArgs.Csv, Path.Combine(folder, "evaluation.csv"))
    RunFolder.checkWritable "csv" (Path.GetDirectoryName(Path.GetFullPath csvPath) |> nonNull)
    let episodes = args.GetResult(EvaluateArgs.Episodes, c.EvalEpisodes)
    let seed = uint64 (args.GetResult(EvaluateArgs.Seed, c.Seed))
    let how =
        match policy with
        | :? QPolicy as q -> sprintf "epsilon %s" (Validate.show q.Epsilon)
        | _ -> "deterministic policy"
    printfn "Evaluating %s on %s from %s (%s, seed %d): %d episodes"
        (Choices.nameIn Choices.agents c.Agent) c.Env (RunFolder.networkPath folder) how seed episodes
    if recorder.IsSome then
        // Fail before playing when the environment cannot draw itself.
        try trained.Environment.Reset(0UL).Length |> ignore; trained.Environment.Render() |> ignore
        with :? NotSupportedException -> raise (UserError(sprintf "evaluate: %s cannot render frames, so it cannot be recorded" c.Env))
    let frames = recorder |> Option.map (fst >> fun r -> r :> IFrameSink) |> Option.toObj
    let outcomes = PolicyEvaluation.Play(policy, trained.Environment, episodes, seed, frames) |> Array.ofSeq
    printfn "%s" (summary seed outcomes)
    Files.writeAtomically csvPath (Encoding.UTF8.GetBytes(csv outcomes))
    printfn "Per-episode returns: %s" csvPath
    match recorder with
    | Some(gif, file) ->
        gif.Save file
        printfn "Recorded %d episode(s) in %d frames at %d fps (a frame every %d/100 s): %s (%d KB)"
            (min gif.Episodes episodes) gif.Count gif.FramesPerSecond gif.DelayCentiseconds file ((FileInfo file).Length / 1024L)
    | None -> ()
    0
