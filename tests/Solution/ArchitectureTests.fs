/// The fixed design, checked: the pure projects are pure and dependencies point one way.
module Prunerl.Tests.ArchitectureTests

open System.IO
open System.Text.RegularExpressions
open Expecto
open Prunerl.Core
open Prunerl.Experiments
open Prunerl.Tests.Processes

let private referencedNames (assembly: System.Reflection.Assembly) =
    assembly.GetReferencedAssemblies() |> Array.map (fun a -> a.Name |> Option.ofObj |> Option.defaultValue "") |> Set.ofArray

/// Patterns of effects the core must not have: I/O, console, environment, clocks, global randomness.
let private effects =
    [ @"\bSystem\.IO\b"; @"\bFile\."; @"\bDirectory\."; @"\bConsole\."; @"\b(e?printfn?|stdout|stderr)\b"
      @"\bEnvironment\."; @"\bDateTime\.(Now|UtcNow)\b"; @"\bRandom\b"; @"\bTorchSharp\b"; @"static\s+mutable"
      @"\bHttpClient\b"; @"\bProcess\b" ]

/// The pruning core (packed as Prunerl.Pruning) and the experiment runner's pure types.
let private core = typeof<Schedule>.Assembly
let private experiments = typeof<RunConfig>.Assembly

[<Tests>]
let tests =
    testList "architecture" [
        test "Core.FSharp references FSharp.Core and the framework only" {
            let references = referencedNames core
            let foreign = references |> Set.filter (fun n -> not (n = "FSharp.Core" || n = "netstandard" || n.StartsWith "System"))
            Expect.isEmpty foreign (sprintf "Core.FSharp references %A" references)
        }

        test "Experiments.FSharp references the pruning core, FSharp.Core and the framework only" {
            let references = referencedNames experiments
            let foreign =
                references |> Set.filter (fun n -> not (n = "Prunerl.Core" || n = "FSharp.Core" || n = "netstandard" || n.StartsWith "System"))
            Expect.isEmpty foreign (sprintf "Experiments.FSharp references %A" references)
        }

        test "the pure projects' sources perform no I/O and use no global state" {
            for project in [ "Core.FSharp"; "Experiments.FSharp" ] do
                let sources = Directory.GetFiles(Path.Combine(repoRoot.Value, project), "*.fs", SearchOption.AllDirectories)
                Expect.isNonEmpty sources (sprintf "%s's sources are found" project)
                for source in sources do
                    for number, line in File.ReadAllLines source |> Array.indexed do
                        let code = Regex.Replace(line, "//.*$", "")
                        for pattern in effects do
                            Expect.isFalse (Regex.IsMatch(code, pattern))
                                (sprintf "%s:%d uses %s: %s" (Path.GetRelativePath(repoRoot.Value, source)) (number + 1) pattern (line.Trim()))
        }

        test "dependencies point one way: Cli -> Agents.CSharp -> Experiments.FSharp -> Core.FSharp" {
            let agents = typeof<Prunerl.Agents.Pruning.MagnitudePruner>.Assembly
            Expect.contains (referencedNames agents) "Prunerl.Core" "Agents uses the pruning core"
            Expect.contains (referencedNames agents) "Prunerl.Experiments" "Agents uses the run configuration"
            Expect.contains (referencedNames experiments) "Prunerl.Core" "the experiments use the pruning core"
            Expect.isFalse (referencedNames core |> Set.contains "Prunerl.Experiments") "the pruning core does not use the experiments"
            Expect.isFalse (referencedNames core |> Set.contains "Prunerl.Agents") "the core does not use Agents"
            Expect.isFalse (referencedNames experiments |> Set.contains "Prunerl.Agents") "the experiments do not use Agents"
        }
    ]
