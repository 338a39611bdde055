/// Expected failures of the command line: a one-line message for the user, exit code 2.
module Prunerl.Cli.UserError

/// An expected failure: a one-line message for the user.
exception UserError of message: string

/// The value, or the core's one-line error raised as a UserError.
let orFail (r: Result<'a, string>) =
    match r with
    | Ok x -> x
    | Error e -> raise (UserError e)

/// An argument error from the library as one line: its message without .NET's " (Parameter 'x')".
let argumentError (e: System.ArgumentException) =
    UserError(System.Text.RegularExpressions.Regex.Replace(e.Message, @" \(Parameter '[^']*'\)$", ""))

/// A registered environment by its id or a Gymnasium alias (EnvIds), or a one-line error: an unknown id, or one
/// that cannot run here (its engine missing).
let createEnvironment (id: string) =
    let id = Prunerl.Experiments.EnvIds.canonical id |> orFail
    try Prunerl.Agents.Envs.EnvironmentRegistry.Create id
    with
    | :? System.ArgumentException as e -> raise (argumentError e)
    | :? Prunerl.Agents.Envs.EnvironmentUnavailableException as e -> raise (UserError e.Message)

/// Refuses a flag given more than once among a command's arguments (`--seed 1 --seed 2`): Argu would
/// keep the last silently, and a run would differ from what its command line seems to say.
let once (results: Argu.ParseResults<'T>) =
    results.GetAllResults()
    |> List.countBy (fun a -> (Microsoft.FSharp.Reflection.FSharpValue.GetUnionFields(box a, typeof<'T>) |> fst).Name)
    |> List.tryFind (fun (_, n) -> n > 1)
    |> Option.iter (fun (name, _) ->
        raise (UserError(sprintf "--%s is given more than once; give it once (the last would win silently)" (name.ToLowerInvariant().Replace('_', '-')))))

/// A count given on the command line as text, "100000", "1e5", "100k" or "2.5M" (RunFields.count), as a whole
/// number; the command checks its range. A one-line error naming the flag otherwise.
let count (field: string) (text: string) : int64 =
    match Prunerl.Experiments.RunFields.count field (Prunerl.Experiments.Text text) with
    | Ok x when System.Double.IsFinite x && floor x = x && abs x <= 9.007199254740992e15 -> int64 x
    | Ok _ -> raise (UserError(sprintf "%s must be a whole number, got '%s'" field text))
    | Error e -> raise (UserError e)
