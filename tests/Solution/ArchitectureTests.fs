/// The fixed design, checked: the core is pure and dependencies point one way.
module Prunerl.Tests.ArchitectureTests

open System.IO
open System.Text.RegularExpressions
open Expecto
open Prunerl.Core
open Prunerl.Tests.Processes

let private referencedNames (assembly: System.Reflection.Assembly) =
    assembly.GetReferencedAssemblies() |> Array.map (fun a -> a.Name |> Option.ofObj |> Option.defaultValue "") |> Set.ofArray

/// Patterns of effects the core must not have: I/O, console, environment, clocks, global randomness.
let private effects =
    [ @"\bSystem\.IO\b"; @"\bFile\."; @"\bDirectory\."; @"\bConsole\."; @"\b(e?printfn?|stdout|stderr)\b"
      @"\bEnvironment\."; @"\bDateTime\.(Now|UtcNow)\b"; @"\bRandom\b"; @"\bTorchSharp\b"; @"static\s+mutable"
      @"\bHttpClient\b"; @"\bProcess\b" ]

[<Tests>]
let tests =
    testList "architecture" [
        test "Core.FSharp references FSharp.Core and the framework only" {
            let references = referencedNames typeof<Schedule>.Assembly
            let foreign = references |> Set.filter (fun n -> not (n = "FSharp.Core" || n = "netstandard" || n.StartsWith "System"))
            Expect.isEmpty foreign (sprintf "Core.FSharp references %A" references)
        }

        test "Core.FSharp's sources perform no I/O and use no global state" {
            let sources = Directory.GetFiles(Path.Combine(repoRoot.Value, "Core.FSharp"), "*.fs")
            Expect.isNonEmpty sources "the core's sources are found"
            for source in sources do
                for number, line in File.ReadAllLines source |> Array.indexed do
                    let code = Regex.Replace(line, "//.*$", "")
                    for pattern in effects do
                        Expect.isFalse (Regex.IsMatch(code, pattern))
                            (sprintf "%s:%d uses %s: %s" (Path.GetFileName source) (number + 1) pattern (line.Trim()))
        }

        test "dependencies point one way: Cli -> Agents.CSharp -> Core.FSharp" {
            let agents = typeof<Prunerl.Agents.Pruning.MagnitudePruner>.Assembly
            Expect.contains (referencedNames agents) "Prunerl.Core" "Agents uses the core"
            Expect.isFalse (referencedNames typeof<Schedule>.Assembly |> Set.contains "Prunerl.Agents") "the core does not use Agents"
        }
    ]
