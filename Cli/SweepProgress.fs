/// A local sweep's progress as it runs: one line per running run (steps, steps/s, recent return, time
/// left) and one for the whole sweep (runs done, time left), read from each run's status.json as its
/// worker writes it (TrainCommand's StatusFile: step, total_steps, steps_per_second, recent_return). On a
/// terminal a live panel redrawn every second; otherwise plain lines, the workers' started and ended lines
/// and a progress block every minute.
module Prunerl.Cli.SweepProgress

open System
open System.Collections.Concurrent
open System.IO
open System.Threading
open Spectre.Console
open Prunerl.Experiments

/// Plain output prints a progress block at most this often: a long sweep's log stays readable.
let private plainEvery = TimeSpan.FromMinutes 1.0

/// Where one running run stands, from its status.json.
type RunProgress =
    { /// The run's folder name.
      Name: string
      /// Agent steps taken.
      Step: int64
      /// The run's length in agent steps.
      TotalSteps: int64
      /// Agent steps per second, once its worker has measured them.
      StepsPerSecond: float option
      /// The mean return of its last training episodes, once it has any.
      RecentReturn: float option }

/// The time the run's remaining steps take at its pace, if it has one.
let timeLeft (r: RunProgress) : TimeSpan option =
    r.StepsPerSecond |> Option.filter (fun s -> s > 0.0) |> Option.map (fun s -> TimeSpan.FromSeconds(float (max 0L (r.TotalSteps - r.Step)) / s))

/// One running run as a line: "name  step 12000 of 30000 (40%), 850 steps/s, recent return 3.2, 21s left".
let runLine (r: RunProgress) : string =
    let percent = 100.0 * float r.Step / float (max 1L r.TotalSteps)
    let speed = r.StepsPerSecond |> Option.map (sprintf ", %.0f steps/s") |> Option.defaultValue ""
    let recent = r.RecentReturn |> Option.map (sprintf ", recent return %.1f") |> Option.defaultValue ""
    let left = timeLeft r |> Option.map (fun t -> sprintf ", %s left" (TrainingDisplay.duration t)) |> Option.defaultValue ""
    sprintf "%s  step %d of %d (%.0f%%)%s%s%s" r.Name r.Step r.TotalSteps percent speed recent left

/// The whole sweep as a line: runs done of those to train, and the time left at the running runs' combined
/// pace for their remaining steps and the waiting runs' (`waitingSteps`), once every running run has a pace.
let overallLine (ended: int) (toTrain: int) (running: RunProgress list) (waitingSteps: int64) : string =
    let pace = running |> List.choose _.StepsPerSecond |> List.sum
    let remaining = (running |> List.sumBy (fun r -> max 0L (r.TotalSteps - r.Step))) + waitingSteps
    let left =
        if pace > 0.0 && running |> List.forall _.StepsPerSecond.IsSome then
            sprintf "; about %s left at the current pace" (TrainingDisplay.duration (TimeSpan.FromSeconds(float remaining / pace)))
        else ""
    sprintf "%d of %d runs done, %d running%s" ended toTrain running.Length left

/// The runs of a local sweep that train, as the workers start and end them: what the display reads.
/// `steps` gives each run to train with the agent steps it has left when the sweep starts.
type Tracker(results: string, steps: (string * int64) list) =
    let waiting = ConcurrentDictionary<string, int64>(steps |> Seq.map (fun (name, left) -> Collections.Generic.KeyValuePair(name, left)))
    let running = ConcurrentDictionary<string, DateTime>()
    let events = ConcurrentQueue<string>()
    let mutable ended = 0

    /// A worker starts a run.
    member _.Started(name: string) =
        waiting.TryRemove name |> ignore
        running[name] <- DateTime.UtcNow

    /// A worker's run ended, or was not started after all (line: what it says of it).
    member _.Ended(name: string, line: string) =
        waiting.TryRemove name |> ignore
        running.TryRemove name |> ignore
        Interlocked.Increment &ended |> ignore
        events.Enqueue line
        while events.Count > 5 do events.TryDequeue() |> ignore

    /// The last few ended lines, oldest first.
    member _.Events = List.ofSeq events

    /// Where each running run stands now, by its status.json (in the order they started).
    member _.Running() : RunProgress list =
        [ for KeyValue(name, _) in running |> Seq.sortBy (fun kv -> kv.Value) do
            match RunFolder.tryReadStatus (Path.Combine(results, name)) with
            | Some s -> { Name = name; Step = s.Step; TotalSteps = s.TotalSteps; StepsPerSecond = s.StepsPerSecond; RecentReturn = s.RecentReturn }
            | None -> () ]

    /// The sweep's line now.
    member this.Overall(running: RunProgress list) = overallLine ended steps.Length running (waiting.Values |> Seq.sum)

/// Follows the tracker until `working` says the workers are done: a live panel on a terminal (redrawn every
/// second), else a block of plain lines every plainEvery (under `gate`, the lock the workers print under).
let follow (tracker: Tracker) (live: bool) (gate: obj) (working: unit -> bool) =
    let panel () =
        let running = tracker.Running()
        let lines =
            [ for e in tracker.Events -> Markup(Markup.Escape("  " + e)) :> Rendering.IRenderable
              yield Markup("[bold]" + Markup.Escape(tracker.Overall running) + "[/]")
              for r in running -> Markup(Markup.Escape("  " + runLine r)) ]
        Rows(lines) :> Rendering.IRenderable
    if live then
        AnsiConsole.Live(panel ()).Start(fun context ->
            while working () do
                Thread.Sleep 1000
                context.UpdateTarget(panel ()))
    else
        let clock = Diagnostics.Stopwatch.StartNew()
        let mutable last = TimeSpan.Zero
        while working () do
            Thread.Sleep 1000
            if clock.Elapsed - last >= plainEvery then
                last <- clock.Elapsed
                let running = tracker.Running()
                lock gate (fun () ->
                    printfn "  progress: %s" (tracker.Overall running)
                    for r in running do printfn "    %s" (runLine r))
