namespace Prunerl.Experiments

open System
open Prunerl.Core
open Prunerl.Core.Validate

/// A run's folder name in a sweep.
[<RequireQualifiedAccess>]
module RunNames =

    /// A value as it appears in a run's folder name: numbers in their shortest exact form, text with
    /// every character other than letters, digits, '.' and '-' as '-'.
    let nameValue (value: FieldValue) : string =
        match value with
        | Text s -> String(s.ToCharArray() |> Array.map (fun ch -> if Char.IsAsciiLetterOrDigit ch || ch = '.' || ch = '-' then ch else '-'))
        | Number x -> show x
        | Switch b -> if b then "true" else "false"
        | Empty -> "none"

    /// A run's folder name in a sweep: environment, width, sparsity, baseline and seed, as in
    /// "minatar-breakout_w4_s0.9_none_seed1", then "_field-value" for every other field in `varying`
    /// (the fields the sweep varies), in config order. Different values of a field give different names,
    /// but for a lottery run's ticket, which is never in a name: it is the gmp run of the run's own seed and
    /// game, so it varies as they do (two runs differing in their tickets only would share a folder, which a
    /// sweep refuses).
    let runName (varying: string list) (c: RunConfig) : string =
        let value name = (RunFields.all |> List.find (fun f -> f.Name = name)).Read c |> nameValue
        let standard = [ "env"; "width"; "sparsity"; "baseline"; "seed"; "ticket" ]
        let extra =
            RunFields.names
            |> List.filter (fun n -> List.contains n varying && not (List.contains n standard))
            |> List.map (fun n -> sprintf "_%s-%s" n (value n))
        sprintf "%s_w%s_s%s_%s_seed%s" (value "env") (value "width") (value "sparsity") (value "baseline") (value "seed")
        + String.concat "" extra
