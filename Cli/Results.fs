/// Reading a results folder: every run under it (a folder holding config.json, at any depth) with its
/// config.json, status.json and metrics.csv, into the core's Run records. Malformed files are
/// one-line errors naming the file and what is wrong.
module Prunerl.Cli.Results

open System
open System.Globalization
open System.IO
open System.Text.Json
open Prunerl.Core
open Prunerl.Experiments
open Prunerl.Cli.UserError

let private fail (path: string) (problem: string) = raise (UserError(sprintf "%s: %s" path problem))

let private readText (path: string) =
    try File.ReadAllText path
    with :? IOException | :? UnauthorizedAccessException as e -> fail path (sprintf "cannot read it: %s" (e.Message.Split('\n').[0]))

/// A JSON file's top-level object.
let private readObject (path: string) : JsonElement =
    let document =
        try JsonDocument.Parse(readText path)
        with :? JsonException as e -> fail path (sprintf "not valid JSON (%s)" (e.Message.Split('\n').[0]))
    if document.RootElement.ValueKind <> JsonValueKind.Object then fail path "must hold a JSON object"
    document.RootElement

/// A JSON value as config text: strings as they are, numbers in shortest round-trip form (1.0 -> "1"),
/// booleans as true/false, anything else as compact JSON; null fields are left out.
let private configText (value: JsonElement) : string option =
    match value.ValueKind with
    | JsonValueKind.String -> Some(value.GetString() |> nonNull)
    | JsonValueKind.Number -> Some(Validate.show (value.GetDouble()))
    | JsonValueKind.True -> Some "true"
    | JsonValueKind.False -> Some "false"
    | JsonValueKind.Null -> None
    | _ -> Some(value.GetRawText())

/// config.json as key -> text; it must name the env and give sparsity and steps as numbers.
let readConfig (path: string) : Map<string, string> =
    let root = readObject path
    let given = [ for p in root.EnumerateObject() do match configText p.Value with Some text -> p.Name, text | None -> () ] |> Map.ofList
    // A config.json written before the sparse-training fields holds their values then (gmp, ...), as a resolved run reads it.
    let added =
        RunFields.addedFields
        |> List.choose (fun (name, value) ->
            match value with
            | Text s -> Some(name, s)
            | Number x -> Some(name, Validate.show x)
            | _ -> None)
    let fields = added |> List.fold (fun (m: Map<string, string>) (name, text) -> if m.ContainsKey name then m else m.Add(name, text)) given
    let kindOf (name: string) = match root.TryGetProperty name with | true, v -> Some v.ValueKind | _ -> None
    match fields.TryFind "format" with
    | Some f when f <> RunFormat.ConfigFormat -> fail path (sprintf "format must be %s, got '%s'" RunFormat.ConfigFormat f)
    | _ -> ()
    if kindOf "env" <> Some JsonValueKind.String then fail path "env must be a string (an environment id such as cartpole)"
    for name in [ "sparsity"; "steps" ] do
        if kindOf name <> Some JsonValueKind.Number then fail path (sprintf "%s must be a number" name)
    match kindOf "width" with
    | Some kind when kind <> JsonValueKind.Number -> fail path (sprintf "width must be a number, got %s" (root.GetProperty("width").GetRawText()))
    | _ -> ()
    fields

/// status.json's state as it spells it, read leniently (RunFormat.parseStatus; "unknown" when the run has
/// no status.json); a state it does not know is an error.
let readState (path: string) : string =
    if not (File.Exists path) then "unknown"
    else
        match RunFormat.parseStatus StatusReading.Lenient (readText path) with
        | Ok status -> RunFormat.stateName status.State
        | Error e -> fail path e

/// A gzip-compressed text file's text (a finished run's metrics.csv.gz, as a study commits it).
let private readGzipText (path: string) =
    try
        use file = File.OpenRead path
        use unzip = new Compression.GZipStream(file, Compression.CompressionMode.Decompress)
        use reader = new StreamReader(unzip, Text.Encoding.UTF8)
        reader.ReadToEnd()
    with :? IOException | :? UnauthorizedAccessException | :? InvalidDataException as e ->
        fail path (sprintf "cannot read it as gzip: %s" (e.Message.Split('\n').[0]))

/// The metrics file of a run folder: metrics.csv, or where only that is kept, metrics.csv.gz (the form a
/// study commits to a repository; `gzip -k metrics.csv` makes it).
let metricsFile (folder: string) : string =
    let plain = Path.Combine(folder, RunFormat.MetricsCsv)
    let compressed = plain + ".gz"
    if not (File.Exists plain) && File.Exists compressed then compressed else plain

/// metrics.csv ("step,metric,value" lines; gzip-compressed when the path ends in .gz) as series by metric
/// in step order; an empty map when the run has none. A last line cut short (no line end) is dropped for a
/// run still writing.
let readSeries (path: string) (finished: bool) : Map<string, Point[]> =
    if not (File.Exists path) then Map.empty
    else
        let text = if path.EndsWith(".gz", StringComparison.Ordinal) then readGzipText path else readText path
        let lines = text.Split('\n')
        if lines[0].TrimEnd('\r') <> "step,metric,value" then fail path (sprintf "the first line must be 'step,metric,value', got '%s'" (lines[0].TrimEnd('\r')))
        let lastComplete = if text.EndsWith "\n" || finished then lines.Length - 1 else lines.Length - 2
        let points = Collections.Generic.Dictionary<string, Collections.Generic.List<Point>>()
        // The line of each evaluation's step: an evaluation is recorded once (a resumed run rewinds its log).
        let evaluated = Collections.Generic.Dictionary<int64, int>()
        for i in 1 .. lastComplete do
            let line = lines[i].TrimEnd('\r')
            if line <> "" then
                let first, last = line.IndexOf ',', line.LastIndexOf ','
                let parsed =
                    if first < 0 || last <= first then None
                    else
                        match Int64.TryParse(line[.. first - 1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture),
                              Double.TryParse(line[last + 1 ..], NumberStyles.Float, CultureInfo.InvariantCulture) with
                        | (true, step), (true, value) when last - first > 1 -> Some(line[first + 1 .. last - 1], { Step = step; Value = value })
                        | _ -> None
                match parsed with
                | Some(metric, point) when (metric = RunFormat.EvalReturn || metric = RunFormat.TrainEpisodeReturn) && not (Double.IsFinite point.Value) ->
                    fail path (sprintf "line %d: %s is %s at step %d; a return must be a finite number" (i + 1) metric (Validate.show point.Value) point.Step)
                | Some(metric, point) when metric = RunFormat.EvalReturn && evaluated.ContainsKey point.Step ->
                    fail path (sprintf "line %d: %s at step %d appears twice (first on line %d); each evaluation is recorded once" (i + 1) metric point.Step evaluated[point.Step])
                | Some(metric, point) ->
                    if metric = RunFormat.EvalReturn then evaluated[point.Step] <- i + 1
                    match points.TryGetValue metric with
                    | true, list -> list.Add point
                    | _ -> points[metric] <- Collections.Generic.List [ point ]
                | None -> fail path (sprintf "line %d must be step,metric,value (a whole step and a number), got '%s'" (i + 1) line)
        points |> Seq.map (fun kv -> kv.Key, kv.Value.ToArray() |> Array.sortBy (fun p -> p.Step)) |> Map.ofSeq

/// Symbolic links followed in a row before a path is given up as a loop (Linux's limit, ELOOP).
let private linkLimit = 40

/// A folder's real path: every symbolic link along it resolved, so that two paths reach the same folder
/// exactly when their real paths are equal; None for a dangling link or a loop of links.
let realPath (path: string) : string option =
    let rec resolve (hops: int) (full: string) : string option =
        match Path.GetDirectoryName full with
        | null -> Some full
        | parent ->
            resolve hops parent
            |> Option.bind (fun realParent ->
                let here = Path.Combine(realParent, Path.GetFileName full)
                match (FileInfo here).LinkTarget with
                | null -> Some here
                | _ when hops >= linkLimit -> None
                // A relative target is relative to the link's folder.
                | target -> resolve (hops + 1) (Path.GetFullPath(Path.Combine(realParent, target))))
    try resolve 0 (Path.GetFullPath(Path.TrimEndingDirectorySeparator path)) with :? IOException | :? UnauthorizedAccessException -> None

/// The folders under a root, the root first, each reached by the path that leads there (through
/// symbolic links too), each real folder once: a link back to a folder already seen (a cycle, or a
/// second way to the same run) is not entered again. Hidden folders (a leading '.') and unreadable ones
/// are left out.
let private folders (root: string) : string list =
    let visited = Collections.Generic.HashSet<string>(StringComparer.Ordinal)
    let rec walk (folder: string) : string list =
        match realPath folder with
        | Some real when Directory.Exists real && visited.Add real ->
            let children =
                try Directory.GetDirectories folder |> Array.sortWith (fun a b -> String.CompareOrdinal(a, b)) |> List.ofArray
                with :? IOException | :? UnauthorizedAccessException -> []
            folder :: (children |> List.filter (fun c -> not (Path.GetFileName(c).StartsWith ".")) |> List.collect walk)
        | _ -> []
    walk root

/// The config key a run's folder given on the command line takes when a command reads several folders
/// (`report A B`): the folder as given, so runs can be grouped by it.
let folderKey = "folder"

/// Every run under the folders (config and state; series not read yet) with its folder, in Id order. Run
/// folders that are symbolic links are followed, as `sweep` follows them, each real folder read once. A run's
/// Id is its path under its root; with several roots it is prefixed by the root as given, and its config
/// gets the root as `folder`.
let findAll (roots: string list) : (Run * string) list =
    let seen = Collections.Generic.HashSet<string>(StringComparer.Ordinal)
    let runs =
        [ for root in roots do
            if not (Directory.Exists root) then raise (UserError(sprintf "results: no folder '%s'" root))
            let full = Path.GetFullPath root
            let named = Path.TrimEndingDirectorySeparator(root).Replace('\\', '/')
            for folder in folders full do
                if File.Exists(Path.Combine(folder, RunFormat.ConfigFile)) && seen.Add(realPath folder |> Option.defaultValue folder) then
                    let relative = Path.GetRelativePath(full, folder).Replace('\\', '/')
                    let id =
                        match roots, relative with
                        | [ _ ], "." -> Path.GetFileName folder
                        | [ _ ], _ -> relative
                        | _, "." -> named
                        | _ -> named + "/" + relative
                    let config = readConfig (Path.Combine(folder, RunFormat.ConfigFile))
                    let config = if roots.Length > 1 then config.Add(folderKey, named) else config
                    { Id = id; Config = config; State = readState (Path.Combine(folder, RunFormat.StatusFile)); Series = Map.empty }, folder ]
        |> List.sortWith (fun (a, _) (b, _) -> String.CompareOrdinal(a.Id, b.Id))
    if runs.IsEmpty then
        raise (UserError(sprintf "results: no runs under %s (a run is a folder holding config.json)" (roots |> List.map (sprintf "'%s'") |> String.concat ", ")))
    runs

/// Every run under the folder, as findAll finds them.
let find (root: string) : (Run * string) list = findAll [ root ]

/// The runs a command takes: finished ones (or every one not failed, if asked), with their metrics
/// read, that measured the metric; and those skipped, with why. At least one must be taken, else the
/// error says so, with the hint for the runs that lack the metric.
let gatherAll (roots: string list) (includeUnfinished: bool) (metric: string) (hint: Run list -> string) : Run list * (Run * string) list =
    let root = roots |> String.concat "', '"
    let found = findAll roots
    let folders = found |> List.map (fun (r, folder) -> r.Id, folder) |> Map.ofList
    let runs = found |> List.map fst
    let candidates, notFinished = Report.selectFinished includeUnfinished runs
    if candidates.IsEmpty then
        let states = runs |> List.countBy (fun r -> r.State) |> List.map (fun (s, n) -> sprintf "%s %d" s n) |> String.concat ", "
        raise (UserError(sprintf "results: none of the %d runs under '%s' has finished (%s); --include-unfinished takes running and interrupted ones" runs.Length root states))
    let loaded = candidates |> List.map (fun r -> { r with Series = readSeries (metricsFile folders[r.Id]) (r.State = RunFormat.stateName RunState.Finished) })
    let taken, unmeasured = Report.selectMeasured metric loaded
    if taken.IsEmpty then raise (UserError(sprintf "results: no run under '%s' has %s in its metrics.csv%s" root metric (hint loaded)))
    taken, notFinished @ unmeasured |> List.sortWith (fun (a, _) (b, _) -> String.CompareOrdinal(a.Id, b.Id))

/// The runs a command takes from one folder, as gatherAll takes them.
let gather (root: string) (includeUnfinished: bool) (metric: string) (hint: Run list -> string) : Run list * (Run * string) list =
    gatherAll [ root ] includeUnfinished metric hint
