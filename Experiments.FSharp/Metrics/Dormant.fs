namespace Prunerl.Experiments.Metrics

open System
open Prunerl.Core.Validate

/// tau-dormant neurons (Sokar, Agarwal, Castro, Evci 2023, "The dormant neuron phenomenon in deep
/// reinforcement learning", definition 3.1). For a layer of H neurons with activations h_i(x) over a
/// batch of inputs, neuron i scores
///   s_i = E_x |h_i(x)| / ((1 / H) * sum_k E_x |h_k(x)|)
/// and is tau-dormant when s_i &lt;= tau. As in the reference ReDo code, the denominator gets 1e-9 so a
/// silent layer scores 0 everywhere (every neuron dormant). Convolution channels average |h| over
/// their spatial positions as well.
[<RequireQualifiedAccess>]
module Dormant =

    /// Added to the layer's mean score, as the reference code does.
    let epsilon = 1e-9

    let private checkBatch (activations: float32[][]) =
        if activations.Length = 0 then Error "activations: the batch is empty"
        elif activations[0].Length = 0 then Error "activations: the layer has no neurons"
        elif activations |> Array.exists (fun row -> row.Length <> activations[0].Length) then
            Error "activations: every sample must have the same number of neurons"
        else Ok activations

    /// Each neuron's score s_i from activations [sample][neuron].
    let scores (activations: float32[][]) : Result<float[], string> =
        checkBatch activations
        |> Result.map (fun batch ->
            let neurons = batch[0].Length
            let meanAbs = Array.init neurons (fun i -> batch |> Array.averageBy (fun row -> float (abs row[i])))
            let layerMean = Array.average meanAbs
            meanAbs |> Array.map (fun m -> m / (layerMean + epsilon)))

    /// Per-channel activations of a convolution, [sample][channel][position], as [sample][channel]
    /// mean |activation| over positions: what `scores` takes for a convolution layer.
    let ofConvolution (activations: float32[][][]) : float32[][] =
        activations |> Array.map (Array.map (fun positions -> if positions.Length = 0 then 0.0f else Array.averageBy abs positions))

    /// Which neurons are tau-dormant.
    let dormant (tau: float) (activations: float32[][]) : Result<bool[], string> =
        result {
            let! tau = inClosed "tau" 0.0 Double.MaxValue tau
            let! s = scores activations
            return s |> Array.map (fun score -> score <= tau)
        }

    /// The fraction of tau-dormant neurons in one layer.
    let fraction (tau: float) (activations: float32[][]) : Result<float, string> =
        dormant tau activations |> Result.map (fun d -> float (Array.sumBy (fun x -> if x then 1 else 0) d) / float d.Length)

    /// The fraction of tau-dormant neurons over several layers together (dormant neurons / all neurons).
    let overall (tau: float) (layers: float32[][] list) : Result<float, string> =
        result {
            let! perLayer = traverse (dormant tau) layers
            let all = Array.concat perLayer
            return if all.Length = 0 then 0.0 else float (Array.sumBy (fun x -> if x then 1 else 0) all) / float all.Length
        }
