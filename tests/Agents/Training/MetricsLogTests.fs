/// The metrics log: CSV and JSON lines as written, and TensorBoard event files that decode back.
module Prunerl.Tests.MetricsLogTests

open System
open System.IO
open System.Text
open System.Text.Json
open Expecto
open Prunerl.Agents.Training

/// A fresh temporary directory for one test.
let private scratch () = Fixtures.scratchPath "metrics"

/// CRC32C by the bit, independent of the log's table, masked as TensorFlow masks it.
let private maskedCrc (data: byte[]) =
    let mutable crc = 0xFFFFFFFFu
    for b in data do
        crc <- crc ^^^ uint32 b
        for _ in 1..8 do crc <- if crc &&& 1u <> 0u then (crc >>> 1) ^^^ 0x82F63B78u else crc >>> 1
    let crc = crc ^^^ 0xFFFFFFFFu
    ((crc >>> 15) ||| (crc <<< 17)) + 0xa282ead8u

/// Protocol-buffer fields of a message: (field number, wire type, varint or fixed value, bytes).
let rec private fields (data: byte[]) =
    let mutable i = 0
    let varint () =
        let mutable value, shift = 0UL, 0
        let mutable more = true
        while more do
            let b = data[i]
            i <- i + 1
            value <- value ||| (uint64 (b &&& 0x7Fuy) <<< shift)
            shift <- shift + 7
            more <- b &&& 0x80uy <> 0uy
        value
    [ while i < data.Length do
        let key = varint ()
        let field, wire = int (key >>> 3), int (key &&& 7UL)
        match wire with
        | 0 -> yield field, wire, varint (), [||]
        | 1 -> yield field, wire, BitConverter.ToUInt64(data, i), data[i .. i + 7]; i <- i + 8
        | 5 -> yield field, wire, uint64 (BitConverter.ToUInt32(data, i)), data[i .. i + 3]; i <- i + 4
        | 2 ->
            let length = int (varint ())
            yield field, wire, 0UL, data[i .. i + length - 1]
            i <- i + length
        | other -> failtestf "unexpected wire type %d" other ]

/// The records of an event file, each checked against its two CRCs.
let private records (path: string) =
    let bytes = File.ReadAllBytes path
    let mutable i = 0
    [ while i < bytes.Length do
        let lengthBytes = bytes[i .. i + 7]
        let length = int (BitConverter.ToUInt64(lengthBytes, 0))
        Expect.equal (BitConverter.ToUInt32(bytes, i + 8)) (maskedCrc lengthBytes) "the length's CRC"
        let data = bytes[i + 12 .. i + 12 + length - 1]
        Expect.equal (BitConverter.ToUInt32(bytes, i + 12 + length)) (maskedCrc data) "the data's CRC"
        yield data
        i <- i + 16 + length ]

/// Runs body in a fresh scratch folder, deleted afterwards.
let private inScratch (body: string -> unit) =
    let directory = scratch ()
    try body directory finally Directory.Delete(directory, true)

[<Tests>]
let tests =
    testList "metrics log" [
        test "the masked CRC is CRC32C: its check value for '123456789' is 0xE3069283" {
            let check = 0xE3069283u
            Expect.equal (TensorBoardEvents.MaskedCrc(Encoding.ASCII.GetBytes "123456789")) (((check >>> 15) ||| (check <<< 17)) + 0xa282ead8u) "check value"
        }

        test "values go to CSV, JSON lines and TensorBoard scalars that decode back" {
            let directory = scratch ()
            try
                using (new MetricsLog(directory)) (fun log ->
                    log.Write(10L, "eval/return", 21.5)
                    log.Write(20L, "analysis/srank", 7.0)
                    log.Write(30L, "train/loss", nan))
                let csv = File.ReadAllLines(Path.Combine(directory, "metrics.csv"))
                Expect.equal csv [| "step,metric,value"; "10,eval/return,21.5"; "20,analysis/srank,7"; "30,train/loss,NaN" |] "CSV"
                let json = File.ReadAllLines(Path.Combine(directory, "metrics.jsonl")) |> Array.map JsonDocument.Parse
                Expect.equal (json[0].RootElement.GetProperty("value").GetDouble()) 21.5 "JSON value"
                Expect.equal (json[2].RootElement.GetProperty("value").ValueKind) JsonValueKind.Null "NaN as null"
                let events = records (Directory.GetFiles(directory, "events.out.tfevents.*") |> Array.exactlyOne)
                Expect.equal events.Length 4 "a version event and three scalars"
                let version = fields events[0] |> List.find (fun (f, _, _, _) -> f = 3)
                Expect.equal (version |> fun (_, _, _, b) -> Encoding.UTF8.GetString b) "brain.Event:2" "file version"
                let scalar (data: byte[]) =
                    let all = fields data
                    let step = all |> List.pick (fun (f, _, v, _) -> if f = 2 then Some(int64 v) else None)
                    let summary = all |> List.pick (fun (f, _, _, b) -> if f = 5 then Some b else None)
                    let value = fields summary |> List.pick (fun (f, _, _, b) -> if f = 1 then Some b else None) |> fields
                    let tag = value |> List.pick (fun (f, _, _, b) -> if f = 1 then Some(Encoding.UTF8.GetString b) else None)
                    let number = value |> List.pick (fun (f, _, v, _) -> if f = 2 then Some(BitConverter.Int32BitsToSingle(int v)) else None)
                    step, tag, number
                Expect.equal (scalar events[1]) (10L, "eval/return", 21.5f) "first scalar"
                Expect.equal (scalar events[2]) (20L, "analysis/srank", 7.0f) "second scalar"
            finally
                Directory.Delete(directory, true)
        }

        test "details go to JSON lines and TensorBoard but not the CSV; wall-clock values to TensorBoard alone" {
            inScratch (fun directory ->
                using (new MetricsLog(directory)) (fun log ->
                    log.Write(10L, "eval/return", 2.5)
                    log.WriteDetail(10L, "eval/episode_return", 3.0)
                    log.WriteWallClock(10L, "perf/steps_per_second", 812.0))
                Expect.equal (File.ReadAllLines(Path.Combine(directory, "metrics.csv"))) [| "step,metric,value"; "10,eval/return,2.5" |] "the CSV as before"
                Expect.equal
                    (File.ReadAllLines(Path.Combine(directory, "metrics.jsonl")))
                    [| """{"step":10,"metric":"eval/return","value":2.5}"""; """{"step":10,"metric":"eval/episode_return","value":3}""" |]
                    "JSON lines: the value and the detail, not the speed"
                let events = records (Directory.GetFiles(directory, "events.out.tfevents.*") |> Array.exactlyOne)
                let tags =
                    [ for e in events.[1..] ->
                        let summary = fields e |> List.pick (fun (f, _, _, b) -> if f = 5 then Some b else None)
                        let value = fields summary |> List.pick (fun (f, _, _, b) -> if f = 1 then Some b else None)
                        fields value |> List.pick (fun (f, _, _, b) -> if f = 1 then Some(Encoding.UTF8.GetString b) else None) ]
                Expect.equal tags [ "eval/return"; "eval/episode_return"; "perf/steps_per_second" ] "TensorBoard: all three")
        }

        test "hyperparameters are one HParams session-start summary, decoded here by the plugin's protos" {
            inScratch (fun directory ->
                using (new MetricsLog(directory)) (fun log ->
                    log.WriteHyperparameters [ Collections.Generic.KeyValuePair<string, obj>("env", box "cartpole")
                                               Collections.Generic.KeyValuePair<string, obj>("sparsity", box 0.95)
                                               Collections.Generic.KeyValuePair<string, obj>("double_q", box true) ])
                let events = records (Directory.GetFiles(directory, "events.out.tfevents.*") |> Array.exactlyOne)
                Expect.equal events.Length 2 "the version and the summary"
                let field (n: int) (data: byte[]) = fields data |> List.pick (fun (f, _, _, b) -> if f = n then Some b else None)
                // Event.summary (5) -> Summary.value (1) -> Value: tag (1), metadata (9).
                let value = events[1] |> field 5 |> field 1
                Expect.equal (Encoding.UTF8.GetString(field 1 value)) "_hparams_/session_start_info" "the plugin's tag"
                // SummaryMetadata.plugin_data (1): plugin_name (1), content (2).
                let plugin = value |> field 9 |> field 1
                Expect.equal (Encoding.UTF8.GetString(field 1 plugin)) "hparams" "the plugin's name"
                // HParamsPluginData: version (1) absent, so 0; session_start_info (3): map entries (1) of key (1), Value (2).
                let content = field 2 plugin
                Expect.isFalse (fields content |> List.exists (fun (f, _, _, _) -> f = 1)) "version 0, the default"
                let info = field 3 content
                let entries =
                    [ for f, _, _, entry in fields info do
                        if f = 1 then
                            let key = Encoding.UTF8.GetString(field 1 entry)
                            // google.protobuf.Value: number_value (2, a double), string_value (3), bool_value (4).
                            match fields (field 2 entry) with
                            | [ 2, 1, bits, _ ] -> key, string (BitConverter.Int64BitsToDouble(int64 bits))
                            | [ 3, 2, _, text ] -> key, Encoding.UTF8.GetString text
                            | [ 4, 0, flag, _ ] -> key, (if flag = 1UL then "true" else "false")
                            | other -> failtestf "unexpected Value %A" other ]
                Expect.equal entries [ "env", "cartpole"; "sparsity", "0.95"; "double_q", "true" ] "each hyperparameter as its kind"
                Expect.isTrue (fields info |> List.exists (fun (f, wire, _, _) -> f = 5 && wire = 1)) "start_time_secs, a double")
        }

        test "the event file is named events.out.tfevents.<time>.<host name>, as TensorBoard names its own" {
            inScratch (fun directory ->
                let before = DateTimeOffset.UtcNow.ToUnixTimeSeconds()
                using (new MetricsLog(directory)) (fun log -> log.Write(1L, "x", 1.0))
                let after = DateTimeOffset.UtcNow.ToUnixTimeSeconds()
                let name = Path.GetFileName(Directory.GetFiles(directory, "events.out.tfevents.*") |> Array.exactlyOne)
                let parts = name.Split('.', 5)
                Expect.equal parts[.. 2] [| "events"; "out"; "tfevents" |] "TensorBoard's prefix"
                Expect.isTrue (int64 parts[3] >= before && int64 parts[3] <= after) (sprintf "%s: the wall time in whole seconds" name)
                Expect.equal parts[4] (Net.Dns.GetHostName()) (sprintf "%s: ends with this machine's host name" name))
        }

        test "a log written on another host reopens: its event file is found whatever host name it ends with" {
            inScratch (fun directory ->
                using (new MetricsLog(directory)) (fun log -> log.Write(1L, "a", 1.0))
                let written = Directory.GetFiles(directory, "events.out.tfevents.*") |> Array.exactlyOne
                // As a Slurm task requeued on another node finds it.
                let moved = Path.Combine(directory, "events.out.tfevents.1700000000.node042.cluster")
                File.Move(written, moved)
                using (MetricsLog.Reopen directory) (fun log ->
                    Expect.equal (log.Mark() |> Seq.map _.File |> List.ofSeq) [ "metrics.csv"; "metrics.jsonl"; Path.GetFileName moved ] "the other host's event file"
                    log.Write(2L, "b", 2.0))
                Expect.equal (records moved).Length 3 "version, a, b in the one file"
                Expect.equal (Directory.GetFiles(directory, "events.*").Length) 1 "no second event file")
        }

        test "a directory that holds a run is refused and left as it was" {
            let directory = scratch ()
            try
                using (new MetricsLog(directory)) (fun log -> log.Write(1L, "x", 1.0))
                let before = File.ReadAllBytes(Path.Combine(directory, "metrics.csv"))
                Expect.throwsT<IOException> (fun () -> new MetricsLog(directory) |> ignore) "refused"
                Expect.equal (File.ReadAllBytes(Path.Combine(directory, "metrics.csv"))) before "unchanged"
                Expect.equal (Directory.GetFiles(directory, "events.*").Length) 1 "no second event file"
            finally
                Directory.Delete(directory, true)
        }

        test "a reopened log rewinds to a mark and goes on as if nothing had followed it; a mark past the files is refused" {
            let directory = scratch ()
            try
                let mark =
                    use log = new MetricsLog(directory)
                    log.Write(1L, "a", 1.0)
                    let mark = log.Mark()
                    log.Write(2L, "b", 2.0)
                    mark
                Expect.equal [ for m in mark -> m.File ] [ "metrics.csv"; "metrics.jsonl"; Path.GetFileName(Directory.GetFiles(directory, "events.*")[0]) ] "the log's three files"
                let files () = [ for f in Directory.GetFiles directory |> Array.sort -> f, File.ReadAllBytes f ]
                let before = files ()
                using (MetricsLog.Reopen directory) (fun log ->
                    Expect.throwsT<IOException> (fun () -> log.Rewind [ for m in mark -> MetricsFileMark(m.File, m.Length + 1000L) ]) "a mark past the files")
                Expect.equal (files ()) before "nothing cut"
                using (MetricsLog.Reopen directory) (fun log ->
                    log.Rewind mark
                    log.Write(3L, "c", 3.0))
                Expect.equal (File.ReadAllLines(Path.Combine(directory, "metrics.csv"))) [| "step,metric,value"; "1,a,1"; "3,c,3" |] "CSV cut back and continued"
                Expect.equal (File.ReadAllLines(Path.Combine(directory, "metrics.jsonl")).Length) 2 "JSON lines cut back and continued"
                Expect.equal (records (Directory.GetFiles(directory, "events.*") |> Array.exactlyOne)).Length 3 "whole event records: version, a, c"
                Expect.throwsT<IOException> (fun () -> MetricsLog.Reopen(scratch ()) |> ignore) "no log to reopen"
            finally
                Directory.Delete(directory, true)
        }
    ]
