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
