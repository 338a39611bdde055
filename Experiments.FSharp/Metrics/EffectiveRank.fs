namespace Prunerl.Experiments.Metrics

open System
open Prunerl.Core.Validate

/// Effective rank srank_delta (Kumar, Agarwal, Ghosh, Levine 2021, "Implicit under-parameterization
/// inhibits data-efficient deep reinforcement learning", eq. 1) of a feature matrix Phi (n states x d
/// features) with singular values s_1 >= s_2 >= ...:
///   srank_delta(Phi) = min { k : (s_1 + ... + s_k) / (s_1 + ... + s_min(n,d)) >= 1 - delta },
/// delta = 0.01 in the paper. A zero matrix has effective rank 0.
[<RequireQualifiedAccess>]
module EffectiveRank =

    /// The paper's delta.
    let paperDelta = 0.01

    /// Eigenvalues of a symmetric matrix by the cyclic Jacobi method (Golub and Van Loan, sec. 8.5):
    /// plane rotations zero the off-diagonal entries until they are negligible.
    let private symmetricEigenvalues (a: float[,]) : float[] =
        let n = Array2D.length1 a
        let a = Array2D.copy a
        let offDiagonal () =
            let mutable sum = 0.0
            for p in 0 .. n - 1 do
                for q in 0 .. n - 1 do
                    if p <> q then sum <- sum + a[p, q] * a[p, q]
            sum
        let scale = max 1e-300 (Seq.sum (seq { for p in 0 .. n - 1 do for q in 0 .. n - 1 -> a[p, q] * a[p, q] }))
        let mutable sweeps = 0
        while sweeps < 100 && offDiagonal () > 1e-30 * scale do
            sweeps <- sweeps + 1
            for p in 0 .. n - 2 do
                for q in p + 1 .. n - 1 do
                    if a[p, q] <> 0.0 then
                        let theta = (a[q, q] - a[p, p]) / (2.0 * a[p, q])
                        let t = (if theta >= 0.0 then 1.0 else -1.0) / (abs theta + sqrt (theta * theta + 1.0))
                        let c = 1.0 / sqrt (t * t + 1.0)
                        let s = t * c
                        for k in 0 .. n - 1 do
                            let akp, akq = a[k, p], a[k, q]
                            a[k, p] <- c * akp - s * akq
                            a[k, q] <- s * akp + c * akq
                        for k in 0 .. n - 1 do
                            let apk, aqk = a[p, k], a[q, k]
                            a[p, k] <- c * apk - s * aqk
                            a[q, k] <- s * apk + c * aqk
        Array.init n (fun i -> a[i, i])

    let private checkMatrix (features: float32[][]) =
        if features.Length = 0 || features[0].Length = 0 then Error "features: the matrix is empty"
        elif features |> Array.exists (fun row -> row.Length <> features[0].Length) then
            Error "features: every row must have the same length"
        elif features |> Array.exists (Array.exists (fun x -> not (Single.IsFinite x))) then
            Error "features: every entry must be finite"
        else Ok features

    /// Singular values of the matrix, largest first: square roots of the eigenvalues of the smaller
    /// Gram matrix (Phi^T Phi or Phi Phi^T).
    let singularValues (features: float32[][]) : Result<float[], string> =
        checkMatrix features
        |> Result.map (fun phi ->
            let n, d = phi.Length, phi[0].Length
            let entry (i: int) (j: int) = float (phi[i][j])
            let gram =
                if d <= n then Array2D.init d d (fun p q -> Seq.sum (seq { for i in 0 .. n - 1 -> entry i p * entry i q }))
                else Array2D.init n n (fun p q -> Seq.sum (seq { for j in 0 .. d - 1 -> entry p j * entry q j }))
            symmetricEigenvalues gram |> Array.map (fun l -> sqrt (max l 0.0)) |> Array.sortDescending)

    /// srank_delta from singular values sorted largest first.
    let ofSingularValues (delta: float) (singular: float[]) : int =
        let total = Array.sum singular
        if total <= 0.0 then 0
        else
            let cumulative = Array.scan (+) 0.0 singular |> Array.tail
            1 + (cumulative |> Array.findIndex (fun c -> c / total >= 1.0 - delta))

    /// srank_delta of the feature matrix [state][feature].
    let srank (delta: float) (features: float32[][]) : Result<int, string> =
        result {
            let! delta = inHalfOpen "delta" 0.0 1.0 delta
            let! singular = singularValues features
            return ofSingularValues delta singular
        }
