/// A run's folder on disk: reading and writing its config.json and status.json atomically
/// (Files.writeAtomically). The folder's names, states and status format are the core's (RunFormat);
/// what config fields mean is RunFields'. Config files are parsed here (System.Text.Json).
module Prunerl.Cli.RunFolder

open System
open System.IO
open System.Runtime.InteropServices
open System.Text
open System.Text.Json
open Prunerl.Core
open Prunerl.Experiments
open Prunerl.Cli.UserError

/// The run's resolved configuration.
let configPath (run: string) = Path.Combine(run, RunFormat.ConfigFile)

/// The run's state, step and error.
let statusPath (run: string) = Path.Combine(run, RunFormat.StatusFile)

/// The folder of the run's checkpoints.
let checkpointPath (run: string) = Path.Combine(run, RunFormat.CheckpointFolder)

/// The dataset a run trained with record_dataset writes its experience to.
let datasetPath (run: string) = Path.Combine(run, RunFormat.DatasetFile)

/// The final network a finished run keeps (safetensors; Prunerl.Agents.Inference.NetworkFile).
let networkPath (run: string) = Path.Combine(run, Prunerl.Agents.Inference.NetworkFile.RunFileName)

/// A run's lottery ticket file (a gmp pruned run writes it when it finishes).
let ticketPath (run: string) = Path.Combine(run, RunFormat.TicketFile)

let private readJson (what: string) (path: string) : JsonElement =
    if Directory.Exists path then raise (UserError(sprintf "%s: %s is a folder, not a file" what path))
    let text =
        try File.ReadAllText path
        with :? IOException | :? UnauthorizedAccessException as e -> raise (UserError(sprintf "%s: cannot read %s: %s" what path (e.Message.Split('\n').[0])))
    try
        use document = JsonDocument.Parse(text, JsonDocumentOptions(CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true))
        document.RootElement.Clone()
    with :? JsonException as e -> raise (UserError(sprintf "%s: %s is not valid JSON: %s" what path (e.Message.Split('\n').[0])))

let private scalar (what: string) (key: string) (element: JsonElement) : FieldValue =
    match element.ValueKind with
    | JsonValueKind.String when (match RunFields.field key with Ok f -> f.Numeric | Error _ -> false) ->
        raise (UserError(sprintf "%s: %s must be a number, got '%s' (a JSON string: write the number without quotes)" what key (element.GetString())))
    | JsonValueKind.String -> Text(element.GetString() |> nonNull)
    | JsonValueKind.Number -> Number(element.GetDouble())
    | JsonValueKind.True -> Switch true
    | JsonValueKind.False -> Switch false
    | JsonValueKind.Null -> Empty
    | kind -> raise (UserError(sprintf "%s: %s must be a string, a number, true, false or null, got a JSON %O" what key kind))

/// The object's members in order, each key once; keys in `reserved` are not run fields and are taken as they are.
let private membersExcept (reserved: string list) (what: string) (path: string) (root: JsonElement) =
    if root.ValueKind <> JsonValueKind.Object then
        raise (UserError(sprintf "%s: %s must hold a JSON object of run fields, got a JSON %O" what path root.ValueKind))
    let items = root.EnumerateObject() |> Seq.map (fun p -> p.Name, p.Value) |> List.ofSeq
    match items |> List.countBy fst |> List.tryFind (fun (_, n) -> n > 1) with
    | Some(key, _) -> raise (UserError(sprintf "%s: %s gives %s twice" what path key))
    | None -> ()
    for key, _ in items |> List.filter (fun (key, _) -> not (List.contains key reserved)) do
        match RunFields.field key with
        | Ok _ -> ()
        | Error e -> raise (UserError(sprintf "%s: %s: %s" what path e))
    items

let private members = membersExcept []

/// The config.json members that say which prunerl wrote it (BuildInfo.configMembers): not run fields.
let private provenanceKeys = BuildInfo.configMembers |> List.map fst

/// A run config file's fields (any subset of config.json's; the prunerl version and commit config.json
/// records are skipped); an unknown key, a repeated key or a value that is not a scalar is a one-line
/// error naming it.
let readFields (what: string) (path: string) : (string * FieldValue) list =
    readJson what path
    |> membersExcept provenanceKeys what path
    |> List.filter (fun (key, _) -> not (List.contains key provenanceKeys))
    |> List.map (fun (key, value) -> key, scalar what key value)

/// A sweep file: its run fields, each a value or a list of values to sweep over; its "grids", when it
/// has them (a list of objects of such fields, each a grid crossed with the other fields); and its
/// members named in `launcherKeys` (how the grid is launched, not run fields) as JSON.
let readSweepFile (launcherKeys: string list) (what: string) (path: string) =
    let axes (items: (string * JsonElement) list) =
        items
        |> List.map (fun (key, value) ->
            match value.ValueKind with
            | JsonValueKind.Array -> key, [ for item in value.EnumerateArray() -> scalar what key item ]
            | _ -> key, [ scalar what key value ])
    let items = readJson what path |> membersExcept ("grids" :: launcherKeys) what path
    let launcher, fields = items |> List.partition (fun (key, _) -> List.contains key launcherKeys)
    let grids, fields = fields |> List.partition (fst >> (=) "grids")
    let grids =
        grids
        |> List.tryHead
        |> Option.map (fun (_, value) ->
            let refuse (got: string) = raise (UserError(sprintf "%s: %s: grids must be a list of objects of run fields, got %s" what path got))
            if value.ValueKind <> JsonValueKind.Array then refuse (sprintf "a JSON %O" value.ValueKind)
            [ for index, grid in value.EnumerateArray() |> Seq.indexed ->
                  if grid.ValueKind <> JsonValueKind.Object then refuse (sprintf "a JSON %O as grid %d" grid.ValueKind (index + 1))
                  members what (sprintf "%s: grid %d" path (index + 1)) grid |> axes ])
    axes fields, grids, launcher

/// A config as config.json holds it: every field, format first, then the prunerl version and source
/// commit that wrote it (BuildInfo.configMembers), indented.
let configJson (config: RunConfig) : byte[] =
    use buffer = new MemoryStream()
    do
        use writer = new Utf8JsonWriter(buffer, JsonWriterOptions(Indented = true))
        writer.WriteStartObject()
        for name, value in RunFields.toFields config do
            match value with
            | Text s -> writer.WriteString(name, s)
            | Number x -> writer.WriteNumber(name, x)
            | Switch b -> writer.WriteBoolean(name, b)
            | Empty -> writer.WriteNull name
        for name, value in BuildInfo.configMembers do
            writer.WriteString(name, value)
        writer.WriteEndObject()
    Array.append (buffer.ToArray()) "\n"B

/// Writes config.json atomically.
let writeConfig (run: string) (config: RunConfig) = Files.writeAtomically (configPath run) (configJson config)

/// The config a run's folder holds, resolved and validated; None when it holds no config.json.
let tryReadConfig (run: string) : RunConfig option =
    let path = configPath run
    if not (File.Exists path) then None
    else
        let what = "config"
        Some(Resolution.resolve Prunerl.Agents.Training.TrainingRun.Environments (readFields what path) |> Result.mapError (sprintf "%s: %s: %s" what path) |> orFail)

/// Writes status.json atomically, stamped with the time now (UTC, ISO 8601; the status's own Updated is not
/// used), with the device the run trains on, its speed and its recent return when the status has them.
let writeStatus (run: string) (status: RunStatus) =
    use buffer = new MemoryStream()
    do
        use writer = new Utf8JsonWriter(buffer, JsonWriterOptions(Indented = true))
        writer.WriteStartObject()
        writer.WriteString("state", RunFormat.stateName status.State)
        writer.WriteNumber("step", status.Step)
        writer.WriteNumber("total_steps", status.TotalSteps)
        match status.Error with
        | Some e -> writer.WriteString("error", e)
        | None -> writer.WriteNull "error"
        writer.WriteString("updated", DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", Globalization.CultureInfo.InvariantCulture))
        status.Device |> Option.iter (fun d -> writer.WriteString("device", d))
        let finite (name: string) (value: float option) = value |> Option.filter Double.IsFinite |> Option.iter (fun x -> writer.WriteNumber(name, Math.Round(x, 3)))
        finite "steps_per_second" status.StepsPerSecond
        finite "recent_return" status.RecentReturn
        writer.WriteEndObject()
    Files.writeAtomically (statusPath run) (Array.append (buffer.ToArray()) "\n"B)

/// A run's status.json read leniently (RunFormat.parseStatus); None when there is none or it cannot be read as one.
let tryReadStatus (run: string) : RunStatus option =
    let text =
        try Some(File.ReadAllText(statusPath run))
        with :? IOException | :? UnauthorizedAccessException -> None
    text |> Option.bind (RunFormat.parseStatus StatusReading.Lenient >> Result.toOption)

[<DllImport("libc", SetLastError = true)>]
extern int private access(string path, int mode)

/// W_OK | X_OK: entries can be created in the folder.
let private writableFolder = 2 ||| 1

/// Checks, without writing anything, that a run folder can be made at the path: the path is a folder
/// or absent, and its nearest existing ancestor is a folder this process may create entries in.
let checkWritable (field: string) (path: string) =
    let full = Path.GetFullPath path
    if File.Exists full then raise (UserError(sprintf "%s: %s is a file, not a folder" field path))
    let rec nearest (p: string) =
        if Directory.Exists p then p
        elif File.Exists p then raise (UserError(sprintf "%s: cannot create %s: %s is a file" field path p))
        else
            match Path.GetDirectoryName p with
            | null -> raise (UserError(sprintf "%s: cannot create %s" field path))
            | parent -> nearest parent
    let existing = nearest full
    if OperatingSystem.IsLinux() && access (existing, writableFolder) <> 0 then
        raise (UserError(sprintf "%s: %s is not writable (no permission to create entries in %s)" field path existing))

/// Refuses, before anything changes, a run whose checkpoint/ is there but cannot be used: a file in its
/// place, or a folder that cannot be listed. Resuming would otherwise start the run over, deleting the
/// earlier attempt's metrics; a run with no checkpoint/ at all starts over (it has nothing to lose).
let checkCheckpointUsable (run: string) =
    let folder = checkpointPath run
    // A link to nowhere (which File.Exists takes for a file), or a folder this process may not list.
    let entry = FileInfo folder
    if not (Directory.Exists folder) && not (isNull entry.LinkTarget) then
        raise (UserError(sprintf "resume: cannot read the checkpoint folder %s: it links to %s, which is not a folder; nothing was changed" folder entry.LinkTarget))
    if File.Exists folder then
        raise (UserError(sprintf "resume: %s is a file, not a checkpoint folder; nothing was changed (move it away to start the run over)" folder))
    if Directory.Exists folder then
        try Directory.GetFileSystemEntries folder |> ignore
        with :? IOException | :? UnauthorizedAccessException as e ->
            raise (UserError(sprintf "resume: cannot read the checkpoint folder %s: %s; nothing was changed" folder (e.Message.Split('\n').[0])))

/// The memory this process may still take, in bytes: /proc/meminfo's MemAvailable, capped by the
/// runtime's limit (a container's or a job's cgroup, GC.GetGCMemoryInfo); None when neither is known.
/// What RunValidation.fits checks a run's network and replay memory against.
let availableMemory () : int64 option =
    let fromProc =
        try
            File.ReadLines "/proc/meminfo"
            |> Seq.tryFind (fun line -> line.StartsWith "MemAvailable:")
            |> Option.bind (fun line ->
                match Int64.TryParse(line.Substring(13).Trim().Split(' ').[0]) with
                | true, kilobytes -> Some(kilobytes * 1024L)
                | _ -> None)
        with :? IOException | :? UnauthorizedAccessException -> None
    let limit = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes
    match fromProc with
    | Some bytes when limit > 0L -> Some(min bytes limit)
    | Some bytes -> Some bytes
    | None when limit > 0L -> Some limit
    | None -> None

/// Whether the folder holds nothing, or only a config.json of this run (a run a sweep prepared; the
/// device may differ), a sweep worker's train.log aside.
let isFreshFor (config: RunConfig) (run: string) : bool =
    if not (Directory.Exists run) then true
    else
        match Directory.GetFileSystemEntries run |> Array.map Path.GetFileName |> Array.filter (fun f -> f <> RunFormat.LockFile && f <> RunFormat.TrainLog) with
        | [||] -> true
        | [| RunFormat.ConfigFile |] ->
            match (try tryReadConfig run with UserError _ -> None) with
            | Some stored -> Resolution.agrees stored (RunFields.toFields config) = Ok()
            | None -> false
        | _ -> false
