/// Writing the command line's outputs so that a failure never leaves a half-written file behind.
module Prunerl.Cli.Files

open System
open System.IO
open Prunerl.Cli.UserError

/// The nearest existing path at or above the path.
let rec private nearestExisting (full: string) =
    match Path.GetDirectoryName full with
    | null -> full
    | _ when File.Exists full || Directory.Exists full -> full
    | parent -> nearestExisting parent

/// One line saying why a path could not be written.
let private reason (path: string) (e: exn) =
    let full = Path.GetFullPath path
    let existing = nearestExisting full
    if existing <> full && File.Exists existing then sprintf "cannot write %s: %s is a file, not a folder" path existing
    else
        match e with
        | :? DirectoryNotFoundException -> sprintf "cannot write %s: the folder %s does not exist" path (Path.GetDirectoryName full)
        | _ -> sprintf "cannot write %s: %s" path (e.Message.Split('\n').[0])

/// A hidden temporary name beside the target.
let private temporaryFor (full: string) =
    Path.Combine(Path.GetDirectoryName full |> nonNull, sprintf ".%s.%s.tmp" (Path.GetFileName full) (Guid.NewGuid().ToString("N")))

/// Writes the file whole or not at all: into a temporary file beside it, then renamed over it.
let writeAtomically (path: string) (bytes: byte[]) =
    let full = Path.GetFullPath path
    let temp = temporaryFor full
    try
        File.WriteAllBytes(temp, bytes)
        File.Move(temp, full, true)
    with :? IOException | :? UnauthorizedAccessException as e ->
        if File.Exists temp then File.Delete temp
        raise (UserError(reason path e))

/// Writes files (name, bytes) into a folder, creating it if needed: every file goes to a temporary
/// name first and only when all are written are they renamed into place, so a failure (a path that
/// cannot be a folder, a full disk) leaves the folder as it was, and a folder it created removed.
let writeFolder (folder: string) (files: (string * byte[]) list) =
    let full = Path.GetFullPath folder
    let existed = Directory.Exists full
    let staged = Collections.Generic.List<string * string>()
    try
        Directory.CreateDirectory full |> ignore
        for name, bytes in files do
            let target = Path.Combine(full, name)
            let temp = temporaryFor target
            staged.Add((temp, target))
            File.WriteAllBytes(temp, bytes)
    with :? IOException | :? UnauthorizedAccessException as e ->
        for temp, _ in staged do
            if File.Exists temp then File.Delete temp
        if not existed && Directory.Exists full && Seq.isEmpty (Directory.EnumerateFileSystemEntries full) then Directory.Delete full
        raise (UserError(reason folder e))
    for temp, target in staged do
        File.Move(temp, target, true)
