/// Running the project's programs and tools from tests: child processes and the repository's place.
module Prunerl.Tests.Processes

open System
open System.Diagnostics
open System.IO
open Expecto

/// A finished child process.
type ProcessResult =
    { ExitCode: int
      Output: string
      Error: string }

    /// Standard output followed by standard error.
    member r.All = r.Output + r.Error

/// A child process started with its output being read, for tests that wait on it, signal it or kill it.
type RunningProcess =
    { Process: Process
      Output: Threading.Tasks.Task<string>
      Error: Threading.Tasks.Task<string> }

/// Starts a program with extra environment variables, reading its output as it comes. MSBuild's own
/// environment variables are dropped so that a child `dotnet msbuild` resolves its SDK afresh instead
/// of inheriting the settings of the build that started these tests.
let startWith (environment: (string * string) list) (fileName: string) (args: string list) (workingDirectory: string) : RunningProcess =
    let info = ProcessStartInfo(fileName, args)
    info.WorkingDirectory <- workingDirectory
    info.RedirectStandardOutput <- true
    info.RedirectStandardError <- true
    info.UseShellExecute <- false
    for key in List.ofSeq info.Environment.Keys do
        if key.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) then
            info.Environment.Remove key |> ignore
    info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] <- "1"
    info.Environment["DOTNET_NOLOGO"] <- "1"
    for key, value in environment do
        info.Environment[key] <- value
    match Process.Start info with
    | null -> failtestf "could not start %s" fileName
    | p -> { Process = p; Output = p.StandardOutput.ReadToEndAsync(); Error = p.StandardError.ReadToEndAsync() }

/// Waits for a started program to end (2 minutes at most) and returns what it did.
let finish (running: RunningProcess) : ProcessResult =
    use p = running.Process
    if not (p.WaitForExit(TimeSpan.FromMinutes 2.0)) then
        p.Kill true
        failtestf "%s %s did not finish within 2 minutes" p.StartInfo.FileName (String.Join(" ", p.StartInfo.ArgumentList))
    { ExitCode = p.ExitCode; Output = running.Output.Result; Error = running.Error.Result }

/// Runs a program to completion (2 minutes at most) with extra environment variables (see startWith).
let runWith (environment: (string * string) list) (fileName: string) (args: string list) (workingDirectory: string) : ProcessResult =
    startWith environment fileName args workingDirectory |> finish

/// Runs a program to completion (2 minutes at most); see runWith.
let run (fileName: string) (args: string list) (workingDirectory: string) : ProcessResult = runWith [] fileName args workingDirectory

/// A result as a test failure shows it.
let describe (r: ProcessResult) =
    sprintf "exit code %d, output:\n%s" r.ExitCode r.All

/// The repository root: the first folder above the test binaries holding Hybrid.sln.
let repoRoot: Lazy<string> =
    lazy
        let rec up (d: DirectoryInfo | null) =
            match d with
            | null -> failtestf "no Hybrid.sln above %s" AppContext.BaseDirectory
            | d when File.Exists(Path.Combine(d.FullName, "Hybrid.sln")) -> d.FullName
            | d -> up d.Parent
        up (DirectoryInfo AppContext.BaseDirectory)

/// The `dotnet` host that runs these tests, else the one on PATH.
let dotnet () =
    match Environment.GetEnvironmentVariable "DOTNET_HOST_PATH" with
    | null -> "dotnet"
    | path when File.Exists path -> path
    | _ -> "dotnet"

/// The build configuration these tests were built in (Release or Debug), read off their folder.
let configuration =
    lazy
        // The binaries sit in <project>/bin/<configuration>/<framework>/.
        (DirectoryInfo(Path.TrimEndingDirectorySeparator AppContext.BaseDirectory)).Parent
        |> Option.ofObj
        |> Option.map (fun c -> c.Name)
        |> Option.defaultValue "Release"
