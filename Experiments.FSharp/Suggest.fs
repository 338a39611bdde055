namespace Prunerl.Experiments

open System

/// "Did you mean ...?": the known name closest to a mistyped one, as git and cargo suggest a command.
[<RequireQualifiedAccess>]
module Suggest =

    /// The optimal-string-alignment distance between two strings (Damerau 1964, Levenshtein 1966): the fewest
    /// insertions, deletions, substitutions and swaps of two neighbouring characters that turn one into the
    /// other, each substring edited at most once; case is ignored.
    let distance (a: string) (b: string) : int =
        let a, b = a.ToLowerInvariant(), b.ToLowerInvariant()
        let d = Array2D.zeroCreate (a.Length + 1) (b.Length + 1)
        for i in 0 .. a.Length do d[i, 0] <- i
        for j in 0 .. b.Length do d[0, j] <- j
        for i in 1 .. a.Length do
            for j in 1 .. b.Length do
                let cost = if a[i - 1] = b[j - 1] then 0 else 1
                let best = min (min (d[i - 1, j] + 1) (d[i, j - 1] + 1)) (d[i - 1, j - 1] + cost)
                d[i, j] <-
                    if i > 1 && j > 1 && a[i - 1] = b[j - 2] && a[i - 2] = b[j - 1] then min best (d[i - 2, j - 2] + 1)
                    else best
        d[a.Length, b.Length]

    /// The largest distance a suggestion may be from what was typed: a third of its length, at least 1 and at
    /// most 3 (git's help.autocorrect weighs similarly; "sparsty" -> "sparsity" is 1, "x" -> "seed" is none).
    let tolerance (typed: string) : int = max 1 (min 3 (typed.Length / 3))

    /// The known name closest to the typed one within its tolerance (the first of equals in the order given),
    /// or None; an exact match is no suggestion.
    let closest (known: string list) (typed: string) : string option =
        if isNull typed || List.contains typed known then None
        else
            known
            |> List.map (fun k -> k, distance k typed)
            |> List.filter (fun (_, d) -> d <= tolerance typed)
            |> List.sortBy snd
            |> List.tryHead
            |> Option.map fst

    /// The one-line hint for a mistyped name: " (did you mean 'sparsity'?)", or "" without a suggestion.
    let hint (known: string list) (typed: string) : string =
        match closest known typed with
        | Some name -> sprintf " (did you mean '%s'?)" name
        | None -> ""
