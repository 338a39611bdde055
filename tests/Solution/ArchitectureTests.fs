/// The fixed design, checked: the pure projects are pure and dependencies point one way.
module Prunerl.Tests.ArchitectureTests

open System
open System.IO
open System.Reflection
open System.Reflection.Emit
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

/// Agents.CSharp's folders (each its namespace, Prunerl.Agents.<Folder>), bottom-up: a namespace may use its own
/// layer and the layers below it, never one above (so no two depend on each other).
let agentLayers =
    [ "Runtime"; "Checkpoints"; "Envs"; "Networks"; "Optimisers"; "Pruning"; "Replay"; "Agents"; "Analysis"; "Baselines"
      "Inference"; "Training"; "Benchmarks" ]

/// The layer of a type of Agents.CSharp: the folder of its namespace (Prunerl.Agents.Envs.MinAtar is in Envs);
/// None for compiler-made types outside any namespace.
let private layerOf (t: Type) =
    let rec outer (t: Type) = if isNull t.DeclaringType then t else outer t.DeclaringType
    match (outer t).Namespace with
    | null -> None
    | ns when ns.StartsWith "Prunerl.Agents." -> Some(ns.Substring("Prunerl.Agents.".Length).Split('.').[0])
    | _ -> None

let private opCodes =
    typeof<OpCodes>.GetFields(BindingFlags.Public ||| BindingFlags.Static)
    |> Array.map (fun f -> f.GetValue null :?> OpCode)
    |> Array.map (fun o -> uint16 o.Value, o)
    |> dict

/// The types a method body names in its instructions (calls, fields, types, tokens), read from its IL.
let private bodyTypes (m: MethodBase) : Type seq =
    match (try m.GetMethodBody() with _ -> null) with
    | null -> Seq.empty
    | body ->
        let il = body.GetILAsByteArray()
        let typeArgs = if m.DeclaringType.IsGenericType then m.DeclaringType.GetGenericArguments() else null
        let methodArgs = if m.IsGenericMethod then m.GetGenericArguments() else null
        let found = ResizeArray<Type>()
        let mutable i = 0
        while i < il.Length do
            let code = if il.[i] = 0xFEuy then (i <- i + 1; 0xFE00us ||| uint16 il.[i]) else uint16 il.[i]
            let op = opCodes.[code]
            i <- i + 1
            let token () = BitConverter.ToInt32(il, i)
            let resolve f = try found.Add(f ()) with _ -> ()
            match op.OperandType with
            | OperandType.InlineMethod -> resolve (fun () -> m.Module.ResolveMethod(token (), typeArgs, methodArgs).DeclaringType)
            | OperandType.InlineField -> resolve (fun () -> m.Module.ResolveField(token (), typeArgs, methodArgs).DeclaringType)
            | OperandType.InlineType -> resolve (fun () -> m.Module.ResolveType(token (), typeArgs, methodArgs))
            | OperandType.InlineTok ->
                let asType (info: MemberInfo) = match info with :? Type as t -> t | _ -> info.DeclaringType
                resolve (fun () -> asType (m.Module.ResolveMember(token (), typeArgs, methodArgs)))
            | _ -> ()
            i <- i + (match op.OperandType with
                      | OperandType.InlineNone -> 0
                      | OperandType.ShortInlineBrTarget | OperandType.ShortInlineI | OperandType.ShortInlineVar -> 1
                      | OperandType.InlineVar -> 2
                      | OperandType.InlineI8 | OperandType.InlineR -> 8
                      | OperandType.InlineSwitch -> 4 + 4 * BitConverter.ToInt32(il, i)
                      | _ -> 4)
        found :> Type seq

/// Every type a type uses: its base and interfaces, its fields', properties', methods' and constructors' signatures,
/// and what their bodies name; generic arguments and element types unwrapped.
let usedTypes (t: Type) : Type seq =
    let all = BindingFlags.Public ||| BindingFlags.NonPublic ||| BindingFlags.Instance ||| BindingFlags.Static ||| BindingFlags.DeclaredOnly
    let rec unwrap (t: Type) : Type seq =
        if isNull t then Seq.empty
        elif t.HasElementType then unwrap (t.GetElementType())
        elif t.IsGenericType && not t.IsGenericTypeDefinition then
            Seq.append [ t.GetGenericTypeDefinition() ] (t.GetGenericArguments() |> Seq.collect unwrap)
        else Seq.singleton t
    let methods = Seq.append (t.GetMethods all |> Seq.cast<MethodBase>) (t.GetConstructors all |> Seq.cast<MethodBase>)
    seq {
        yield t.BaseType
        yield! t.GetInterfaces()
        for f in t.GetFields all do yield f.FieldType
        for p in t.GetProperties all do yield p.PropertyType
        for m in methods do
            match m with
            | :? MethodInfo as mi -> yield mi.ReturnType
            | _ -> ()
            for p in m.GetParameters() do yield p.ParameterType
            yield! bodyTypes m
    }
    |> Seq.collect unwrap

/// Every use of one layer by another of Agents.CSharp: (user type, used type, from layer, to layer).
let layerUses () =
    let assembly = typeof<Prunerl.Agents.Pruning.MagnitudePruner>.Assembly
    [ for t in assembly.GetTypes() do
        match layerOf t with
        | None -> ()
        | Some from ->
            for used in usedTypes t |> Seq.distinct do
                if used.Assembly = assembly then
                    match layerOf used with
                    | Some target when target <> from -> yield t.FullName, used.FullName, from, target
                    | _ -> () ]

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
    
        test "Agents.CSharp's namespaces are layers: each uses only those below it, so none depend on each other" {
            let assembly = typeof<Prunerl.Agents.Pruning.MagnitudePruner>.Assembly
            let layers = assembly.GetTypes() |> Array.choose layerOf |> Set.ofArray
            Expect.equal (Set.difference layers (Set.ofList agentLayers)) Set.empty "every folder of Agents.CSharp has its place in the layers"
            let rank layer = List.findIndex ((=) layer) agentLayers
            let uses = layerUses ()
            Expect.isNonEmpty uses "the layers use each other (the scan sees the uses)"
            let upward = uses |> List.filter (fun (_, _, from, target) -> rank target > rank from)
            let shown =
                upward |> List.truncate 10
                |> List.map (fun (user, used, from, target) -> sprintf "%s (%s) uses %s (%s)" user from used target)
            Expect.isEmpty shown "no layer uses one above it"
        }

        test "the layering scan finds a use read only from a method body" {
            // DqnTraining's learner calls SeedStreams (Runtime) only inside its constructor's body.
            let uses = layerUses ()
            Expect.exists uses (fun (user, used, _, _) -> user.Contains "DqnTraining" && used.EndsWith "SeedStreams") "a body's call is seen"
        }
    ]
