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

/// A registered environment, or a one-line error: an unknown id, or one that cannot run here (its engine missing).
let createEnvironment (id: string) =
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
