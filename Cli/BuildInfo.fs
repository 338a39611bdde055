/// prunerl's version and the source commit it was built from, as the build stamped them: the .NET SDK
/// appends the git commit (Source Link's SourceRevisionId) to the assembly's informational version,
/// "1.0.0+352b4720..."; a build outside a git checkout has no commit, shown as "unknown".
module Prunerl.Cli.BuildInfo

open System.Reflection

/// The informational version as stamped, "unknown" when there is none.
let private stamped =
    match Assembly.GetExecutingAssembly().GetCustomAttributes(typeof<AssemblyInformationalVersionAttribute>, false) with
    | [| :? AssemblyInformationalVersionAttribute as a |] -> a.InformationalVersion
    | _ -> "unknown"

/// prunerl's version number ("1.0.0").
let version : string = stamped.Split('+', 2).[0]

/// The git commit prunerl was built from (40 hex digits), or "unknown" when the build did not stamp one.
let commit : string =
    match stamped.Split('+', 2) with
    | [| _; commit |] when commit <> "" -> commit
    | _ -> "unknown"

/// The config.json members that record which prunerl wrote the run (not run fields: a run's settings do not
/// include them, a resume or a report ignores them), with their values.
let configMembers : (string * string) list = [ "prunerl_version", version; "prunerl_commit", commit ]
