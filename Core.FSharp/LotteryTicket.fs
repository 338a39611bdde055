namespace Prunerl.Core

open Prunerl.Core.Validate

/// Which weights a lottery ticket restarts from.
type Rewind =
    /// The run's initial weights, at step 0 (Frankle and Carbin 2019, "The lottery ticket hypothesis").
    | ToInitial
    /// The weights at an early step of the run (Frankle et al. 2020, "Linear mode connectivity and the lottery
    /// ticket hypothesis", sec. 5: rewinding to iteration k).
    | ToStep of step: int64

/// A network's weights as a run recorded them at one step, one flat array per parameter in network order.
type WeightSnapshot =
    { /// The training step (gradient updates) the weights were recorded at: 0 for the initial weights.
      Step: int64
      /// The weights, one array per parameter.
      Weights: float32[][] }

/// A lottery ticket: a finished pruned run's final mask and the recorded weights its retraining starts from.
/// Build it with LotteryTicket.create, which checks that the two fit.
type LotteryTicket =
    { /// The final masks of the pruned run, one per parameter (all true for a dense one); fixed while retraining.
      Masks: bool[][]
      /// The weights retraining starts from, before the mask is applied.
      Start: WeightSnapshot }

/// The lottery ticket's plan: the final mask on the initial (or rewound) weights, trained again with the mask fixed.
[<RequireQualifiedAccess>]
module LotteryTicket =

    /// The step whose weights a rewind asks for.
    let rewindStep (rewind: Rewind) : int64 =
        match rewind with
        | ToInitial -> 0L
        | ToStep step -> step

    /// Checks a rewind: its step is >= 0.
    let validateRewind (rewind: Rewind) : Result<Rewind, string> =
        atLeast "rewind_step" 0L (rewindStep rewind) |> Result.map (fun _ -> rewind)

    let private fits (masks: bool[][]) (weights: float32[][]) =
        if masks.Length <> weights.Length then
            Error(sprintf "the final masks cover %d parameters but the recorded weights %d" masks.Length weights.Length)
        else
            traverse
                (fun (i, (m: bool[], w: float32[])) ->
                    if m.Length = w.Length then Ok()
                    else Error(sprintf "parameter %d: the final mask has %d entries but the recorded weights %d" i m.Length w.Length))
                (Array.indexed (Array.zip masks weights))
            |> Result.map ignore

    /// The ticket of a finished run: its final masks and, among the weights it recorded, those at the rewind's
    /// step. Fails when no snapshot has that step or the shapes differ.
    let create (rewind: Rewind) (finalMasks: bool[][]) (snapshots: WeightSnapshot seq) : Result<LotteryTicket, string> =
        result {
            let! rewind = validateRewind rewind
            let step = rewindStep rewind
            let snapshots = Array.ofSeq snapshots
            let! start =
                match snapshots |> Array.tryFind (fun s -> s.Step = step) with
                | Some s -> Ok s
                | None ->
                    let recorded = snapshots |> Array.map (fun s -> string s.Step) |> String.concat ", "
                    Error(sprintf "rewind_step: the run recorded no weights at step %d (it recorded steps: %s)" step (if recorded = "" then "none" else recorded))
            do! fits finalMasks start.Weights
            return { Masks = finalMasks |> Array.map Array.copy; Start = { start with Weights = start.Weights |> Array.map Array.copy } }
        }

    /// The weights the ticket's run starts from: the recorded weights with the entries the final mask prunes set to 0.
    let startingWeights (ticket: LotteryTicket) : float32[][] =
        Array.map2 (fun (m: bool[]) (w: float32[]) -> Array.map2 (fun k x -> if k then x else 0.0f) m w) ticket.Masks ticket.Start.Weights
