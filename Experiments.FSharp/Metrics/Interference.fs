namespace Prunerl.Experiments.Metrics

open System

/// Parameter norm and gradient interference, two of the paper's explanations of why pruned networks
/// train better (Obando-Ceron et al. 2024, sec. 5).
[<RequireQualifiedAccess>]
module ParameterNorm =

    /// The L2 norm of all parameters together: sqrt(sum of w^2).
    let l2 (parameters: float32[] seq) : float =
        parameters |> Seq.sumBy (Array.sumBy (fun w -> float w * float w)) |> sqrt

/// Gradient interference (Lyle, Rowland, Dabney 2022, "Understanding and preventing capacity loss in
/// reinforcement learning"): the cosines between per-sample gradients of the loss over a batch of
/// transitions. Strong positive or negative cosines mean updates on one sample move the others.
[<RequireQualifiedAccess>]
module GradientInterference =

    let private dot (a: float32[]) (b: float32[]) = Array.fold2 (fun s (x: float32) (y: float32) -> s + float x * float y) 0.0 a b

    /// C[i][j] = g_i . g_j / (|g_i| |g_j|); 0 where either gradient is zero.
    let cosines (gradients: float32[][]) : Result<float[][], string> =
        if gradients |> Array.exists (fun g -> g.Length <> gradients[0].Length) then
            Error "gradients: every per-sample gradient must have the same length"
        else
            let norms = gradients |> Array.map (fun g -> sqrt (dot g g))
            Ok(
                Array.init gradients.Length (fun i ->
                    Array.init gradients.Length (fun j ->
                        if norms[i] = 0.0 || norms[j] = 0.0 then 0.0
                        else Math.Clamp(dot gradients[i] gradients[j] / (norms[i] * norms[j]), -1.0, 1.0)))
            )

    /// The mean absolute cosine over distinct pairs (i &lt; j): interference of either sign, which the signed
    /// mean lets cancel; 0 for fewer than two gradients.
    let meanAbsolutePairwise (cosines: float[][]) : float =
        let pairs = [| for i in 0 .. cosines.Length - 1 do for j in i + 1 .. cosines.Length - 1 -> abs (cosines[i][j]) |]
        if pairs.Length = 0 then 0.0 else Array.average pairs

    /// The mean cosine over distinct pairs (i &lt; j); 0 for fewer than two gradients.
    let meanPairwise (cosines: float[][]) : float =
        let pairs = [| for i in 0 .. cosines.Length - 1 do for j in i + 1 .. cosines.Length - 1 -> cosines[i][j] |]
        if pairs.Length = 0 then 0.0 else Array.average pairs
