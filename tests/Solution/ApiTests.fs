/// The pure assemblies' public surfaces, pinned: a checked-in listing per assembly that changes only on
/// purpose, and a doc comment on every member a user can call.
module Prunerl.Tests.ApiTests

open System
open System.Collections.Generic
open System.IO
open System.Reflection
open System.Runtime.CompilerServices
open System.Xml.Linq
open Expecto
open Microsoft.FSharp.Core
open Microsoft.FSharp.Reflection
open Prunerl.Core
open Prunerl.Experiments
open Prunerl.Tests.Processes

/// The pure assemblies: the packed pruning core and the experiment runner's types.
let private assemblies = [ typeof<Schedule>.Assembly; typeof<RunConfig>.Assembly ]

/// A type as XML doc ids spell it (ECMA-334 annex D): nested types with '.', generic arguments in braces.
let rec private docType (t: Type) : string =
    if t.IsGenericParameter then
        (if isNull t.DeclaringMethod then "`" else "``") + string t.GenericParameterPosition
    elif t.IsArray then docType (t.GetElementType() |> nonNull) + "[]"
    elif t.IsByRef then docType (t.GetElementType() |> nonNull) + "@"
    elif t.IsGenericType && not t.IsGenericTypeDefinition then
        let definition = t.GetGenericTypeDefinition()
        let name = ((nonNull definition.FullName).Split([| '`' |])[0]).Replace('+', '.')
        name + "{" + String.Join(",", t.GetGenericArguments() |> Array.map docType) + "}"
    else (nonNull t.FullName).Replace('+', '.')

let private parameters (ps: ParameterInfo[]) =
    if ps.Length = 0 then "" else "(" + String.Join(",", ps |> Array.map (fun p -> docType p.ParameterType)) + ")"

/// The doc id of a member: what the compiler writes into the assembly's .xml for its doc comment.
let private docId (m: MemberInfo) =
    let owner = match m.DeclaringType with null -> "" | t -> docType t
    match m with
    | :? Type as t -> "T:" + docType t
    | :? MethodInfo as mi ->
        let arity = if mi.IsGenericMethod then "``" + string (mi.GetGenericArguments().Length) else ""
        sprintf "M:%s.%s%s%s" owner mi.Name arity (parameters (mi.GetParameters()))
    | :? ConstructorInfo as c -> sprintf "M:%s.#ctor%s" owner (parameters (c.GetParameters()))
    | :? PropertyInfo as p -> sprintf "P:%s.%s%s" owner p.Name (parameters (p.GetIndexParameters()))
    // F# writes a module's [<Literal>] (a const field to .NET) into the XML doc as a property.
    | :? FieldInfo as f when f.IsLiteral && FSharpType.IsModule(nonNull f.DeclaringType) -> sprintf "P:%s.%s" owner f.Name
    | :? FieldInfo as f -> sprintf "F:%s.%s" owner f.Name
    | _ -> sprintf "?:%s.%s" owner m.Name

let private publicTypes (assembly: Assembly) = assembly.GetExportedTypes() |> Array.sortBy (fun t -> t.FullName)

let private declared (t: Type) =
    let flags = BindingFlags.Public ||| BindingFlags.Instance ||| BindingFlags.Static ||| BindingFlags.DeclaredOnly
    // Accessors are listed through their properties, nested types as types of their own.
    let accessors = HashSet<MemberInfo>(t.GetProperties flags |> Seq.collect (fun p -> p.GetAccessors() |> Seq.cast<MemberInfo>))
    t.GetMembers flags |> Array.filter (fun m -> not (accessors.Contains m || m :? Type))

/// The classes F# generates inside a union to represent it (one per case, and Tags).
let private representsUnion (t: Type) =
    match t.DeclaringType with
    | null -> false
    | owner -> FSharpType.IsUnion owner

/// Parameter names and default values, which C# callers compile against.
let private names (ps: ParameterInfo[]) =
    let one (p: ParameterInfo) =
        let name = (if p.IsDefined typeof<ParamArrayAttribute> then "params " else "") + p.Name
        if p.HasDefaultValue then sprintf "%s = %s" name (string p.DefaultValue) else name
    if ps.Length = 0 then "" else " | " + String.Join(", ", ps |> Array.map one)

/// One line per public type and member: its doc id, whether static, what it returns, and its
/// parameters' names and defaults.
let private line (m: MemberInfo) =
    let isStatic, returns =
        match m with
        | :? Type as t ->
            let kind =
                if t.IsEnum then "enum" elif t.IsInterface then "interface" elif t.IsValueType then "struct"
                elif FSharpType.IsModule t then "module" elif FSharpType.IsUnion t then "union"
                elif FSharpType.IsRecord t then "record" elif t.IsAbstract then "abstract class" else "class"
            false, kind
        | :? MethodInfo as mi -> mi.IsStatic, docType mi.ReturnType + names (mi.GetParameters())
        | :? PropertyInfo as p ->
            let setter = if isNull (p.GetSetMethod()) then "" else " { set }"
            let accessor = match p.GetMethod with null -> p.SetMethod | getter -> getter
            (nonNull accessor).IsStatic, docType p.PropertyType + setter
        | :? FieldInfo as f -> f.IsStatic, docType f.FieldType
        | :? ConstructorInfo as c -> false, "new" + names (c.GetParameters())
        | _ -> false, ""
    sprintf "%s%s -> %s" (if isStatic then "static " else "") (docId m) returns

let private surface (assembly: Assembly) =
    [ for t in publicTypes assembly do
        line t
        for m in declared t do line m ]
    |> List.sort

/// The members a user writes against: declared in source, so they need a doc comment. Left out:
/// what the compiler generates (equality, union testers and tags) and constructors (the type's doc
/// covers them); union cases and record fields are checked through F# reflection.
let private documentable (assembly: Assembly) =
    [ for t in publicTypes assembly |> Array.filter (representsUnion >> not) do
        docId t
        if FSharpType.IsUnion t then
            for case in FSharpType.GetUnionCases t do
                sprintf "T:%s.%s" (docType t) case.Name
        elif FSharpType.IsRecord t then
            for field in FSharpType.GetRecordFields t do
                docId field
        for m in declared t do
            let generated =
                m.IsDefined typeof<CompilerGeneratedAttribute> || m.IsDefined typeof<CompilationMappingAttribute>
                || (m :? ConstructorInfo) || (t.IsEnum && m.Name = "value__")
            if not generated then docId m ]
    |> List.distinct

let private name (assembly: Assembly) = assembly.GetName().Name |> nonNull

let private listingPath (assembly: Assembly) = Path.Combine(repoRoot.Value, "tests", "api", name assembly + ".api.txt")

let private surfaceTest (assembly: Assembly) =
    test (sprintf "the public surface of %s equals tests/api/%s.api.txt" (name assembly) (name assembly)) {
        let actual = surface assembly
        let path = listingPath assembly
        if Environment.GetEnvironmentVariable "PRUNERL_UPDATE_API" = "1" then
            Directory.CreateDirectory(Path.GetDirectoryName path |> nonNull) |> ignore
            File.WriteAllLines(path, actual)
        let expected = if File.Exists path then File.ReadAllLines path |> List.ofArray else []
        let removed = expected |> List.except actual |> List.map (fun l -> "- " + l)
        let added = actual |> List.except expected |> List.map (fun l -> "+ " + l)
        if not (removed.IsEmpty && added.IsEmpty) then
            failtestf
                "The public API of %s changed (- listed, + now):\n%s\n\nIf the change is intended, update the listing and commit it:\n  PRUNERL_UPDATE_API=1 ./test.sh --filter-test-case \"public surface\""
                (name assembly) (String.Join("\n", removed @ added))
    }

let private documentedTest (assembly: Assembly) =
    test (sprintf "every public type and member of %s has a doc comment" (name assembly)) {
        let xml = Path.ChangeExtension(assembly.Location, ".xml")
        Expect.isTrue (File.Exists xml) (sprintf "%s is generated" xml)
        let documented =
            XDocument.Load(xml).Descendants(XName.Get "member")
            |> Seq.choose (fun m -> m.Attribute(XName.Get "name") |> Option.ofObj |> Option.map (fun a -> a.Value))
            |> Set.ofSeq
        let missing = documentable assembly |> List.filter (documented.Contains >> not)
        if not missing.IsEmpty then
            failtestf "%d public members have no /// comment:\n%s" missing.Length (String.Join("\n", missing))
        Expect.isNonEmpty (Set.intersect documented (documentable assembly |> Set.ofList)) "the check reads real doc ids"
    }

[<Tests>]
let tests =
    testList "public API" [
        for assembly in assemblies do
            surfaceTest assembly
            documentedTest assembly
    ]
