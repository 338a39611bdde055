namespace Prunerl.Experiments

open System
open Prunerl.Core
open Prunerl.Core.Validate

/// A grid of runs: every combination of the values listed per field; a sweep: the union of grids.
[<RequireQualifiedAccess>]
module Sweep =

    /// The grid's points, one field list per combination of the axes' values, the first axis varying
    /// slowest. Every axis lists at least one value and no value twice; a field named twice is refused.
    let expand (axes: (string * FieldValue list) list) : Result<(string * FieldValue) list list, string> =
        result {
            do!
                match axes |> List.countBy fst |> List.tryFind (fun (_, n) -> n > 1) with
                | Some(name, _) -> Error(sprintf "%s is given twice" name)
                | None -> Ok()
            let! _ =
                axes
                |> traverse (fun (name, values) ->
                    match values, values |> List.countBy id |> List.tryFind (fun (_, n) -> n > 1) with
                    | [], _ -> Error(sprintf "%s lists no values" name)
                    | _, Some(v, _) -> Error(sprintf "%s lists %s twice" name (RunFields.describe v))
                    | _ -> Ok())
            return
                List.foldBack
                    (fun (name, values) points -> [ for v in values do for rest in points -> (name, v) :: rest ])
                    axes
                    [ [] ]
        }

    /// The fields a grid varies: those listing more than one value.
    let varying (axes: (string * FieldValue list) list) : string list =
        axes |> List.filter (fun (_, values) -> List.length values > 1) |> List.map fst

    /// Every point of a grid resolved and validated, with its folder name: the run's values of the fields in
    /// `varies` that apply to its agent; the first bad point is the error, naming the point by those fields.
    let private resolveGrid (environments: EnvironmentInfo list) (varies: string list) (axes: (string * FieldValue list) list) : Result<(string * RunConfig) list, string> =
        result {
            let! points = expand axes
            return!
                points
                |> traverse (fun point ->
                    Resolution.resolve environments point
                    |> Result.map (fun c -> RunNames.runName (varies |> List.filter (RunFields.appliesTo c.Agent)) c, c)
                    |> Result.mapError (fun e ->
                        let where = point |> List.filter (fun (n, _) -> List.contains n varies) |> List.map (fun (n, v) -> sprintf "%s %s" n (RunFields.describe v))
                        if where.IsEmpty then e else sprintf "%s (at %s)" e (String.concat ", " where)))
        }

    /// Every run of a grid with its folder name, each point resolved and validated (a field every run
    /// shares is an axis of one value); the first bad point is the error, and two points may not share
    /// a name.
    let plan (environments: EnvironmentInfo list) (axes: (string * FieldValue list) list) : Result<(string * RunConfig) list, string> =
        result {
            let! runs = resolveGrid environments (varying axes) axes
            do!
                match runs |> List.countBy fst |> List.tryFind (fun (_, n) -> n > 1) with
                | Some(name, _) -> Error(sprintf "two runs of the grid would share the folder %s: give values that differ in their letters and digits" name)
                | None -> Ok()
            return runs
        }

    /// A grid's axes over the shared ones: the grid's fields in its order (a grid's field replaces the
    /// shared field of that name), then the shared fields the grid does not give.
    let private over (shared: (string * FieldValue list) list) (grid: (string * FieldValue list) list) =
        grid @ (shared |> List.filter (fun (name, _) -> not (List.exists (fst >> (=) name) grid)))

    /// The fields a union of grids varies: those some grid lists more than one value of, or that the
    /// grids give differently (a grid that does not give a field differs from one that does). For one
    /// grid this is `varying`.
    let private varyingOver (grids: (string * FieldValue list) list list) : string list =
        let names = grids |> List.collect (List.map fst) |> List.distinct
        let given name = grids |> List.map (List.tryFind (fst >> (=) name) >> Option.map snd)
        names |> List.filter (fun name -> (given name |> List.distinct |> List.length > 1) || List.contains name (grids |> List.collect varying))

    /// Every run of a union of grids with its folder name, in grid order: each grid crossed with the
    /// shared axes (a grid's field replaces a shared one of the same name), every point resolved and
    /// validated before any run starts. One grid is exactly `plan` of its axes over the shared ones.
    /// With several, names carry every field the union varies (the agent when the grids' agents differ)
    /// that applies to the run's agent; the first bad point is the error, naming its grid (from 1) and the
    /// point; the same run given twice, or two runs that would share a folder, are refused.
    let planGrids (environments: EnvironmentInfo list) (shared: (string * FieldValue list) list) (grids: (string * FieldValue list) list list) : Result<(string * RunConfig) list, string> =
        match grids |> List.map (over shared) with
        | [] -> Error "grids lists no grids: give at least one object of run fields"
        | [ axes ] -> plan environments axes
        | merged ->
            result {
                let varies = varyingOver merged
                let! runs =
                    merged
                    |> List.indexed
                    |> traverse (fun (index, axes) ->
                        resolveGrid environments varies axes
                        |> Result.map (List.map (fun (name, c) -> index + 1, name, c))
                        |> Result.mapError (sprintf "grid %d: %s" (index + 1)))
                let runs = List.concat runs
                do!
                    match runs |> List.countBy (fun (_, _, c) -> c) |> List.tryFind (fun (_, n) -> n > 1) with
                    | Some(config, _) ->
                        let twice = runs |> List.filter (fun (_, _, c) -> c = config)
                        let (first, name, _), (second, _, _) = twice[0], twice[1]
                        if first = second then Error(sprintf "grid %d gives the run %s twice" first name)
                        else Error(sprintf "grid %d gives the run %s that grid %d gives already: leave it out of one" second name first)
                    | None -> Ok()
                do!
                    match runs |> List.countBy (fun (_, name, _) -> name) |> List.tryFind (fun (_, n) -> n > 1) with
                    | Some(name, _) ->
                        match runs |> List.filter (fun (_, n, _) -> n = name) |> List.map (fun (g, _, _) -> g) with
                        | first :: second :: _ when first <> second ->
                            Error(sprintf "a run of grid %d and one of grid %d would share the folder %s: give values that differ in their letters and digits" first second name)
                        | grid :: _ -> Error(sprintf "two runs of grid %d would share the folder %s: give values that differ in their letters and digits" grid name)
                        | [] -> Ok()
                    | None -> Ok()
                return runs |> List.map (fun (_, name, c) -> name, c)
            }
