/// The Slurm launcher's pure part: resource validation names the bad field, time limits and memory
/// sizes read back what they write, and a job's batch script asks for exactly what the job holds.
module Prunerl.Properties.SlurmProperties

open System
open Expecto
open FsCheck.FSharp
open Prunerl.Core
open Prunerl.Experiments
open Prunerl.Properties.Generators

let private config = { FsCheckConfig.defaultConfig with maxTest = 200 }

let private nameChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-"

/// A Slurm name: 1 to 12 letters, digits, '_', '.', '-'.
let private slurmName =
    gen {
        let! length = Gen.choose (1, 12)
        let! chars = Gen.arrayOfLength length (Gen.elements nameChars)
        return String chars
    }

/// A name with one character sbatch or the script would misread (space, newline, quote, '=', ...).
let private badName =
    gen {
        let! good = slurmName
        let! bad = Gen.elements [ ' '; '\n'; '"'; '\''; '='; '$'; ';'; '#'; '/'; '\t' ]
        let! at = Gen.choose (0, good.Length)
        return good.Insert(at, string bad)
    }

let private gres =
    gen {
        let! n = Gen.choose (1, 3)
        let! items =
            Gen.listOfLength n (
                gen {
                    let! kind = slurmName
                    let! form = Gen.choose (0, 3)
                    let! typeName = slurmName
                    let! count = Gen.choose (1, 8)
                    return
                        match form with
                        | 0 -> kind
                        | 1 -> sprintf "%s:%d" kind count
                        | 2 -> sprintf "%s:%s" kind typeName
                        | _ -> sprintf "%s:%s:%d" kind typeName count
                })
        return String.Join(",", items)
    }

/// Valid resources: every optional field given or not.
let private resources =
    gen {
        let! cpus = Gen.choose (1, 128)
        let! memory = Gen.optionOf (Gen.choose (1, 1 <<< 30) |> Gen.map int64)
        let! time = Gen.optionOf (Gen.choose (3600, 100_000_000) |> Gen.map int64)
        let! partition = Gen.optionOf (Gen.listOfLength 2 slurmName |> Gen.map (fun l -> String.Join(",", l)))
        let! account = Gen.optionOf slurmName
        let! gres = Gen.optionOf gres
        let! throttle = Gen.optionOf (Gen.choose (1, 100))
        let! requeue = Gen.elements [ true; false ]
        let! jobName = slurmName
        let! lead = Gen.choose (0, 3599)
        return
            { Cpus = cpus
              MemoryMegabytes = memory
              TimeLimitSeconds = time
              Partition = partition
              Account = account
              Gres = gres
              Throttle = throttle
              Requeue = requeue
              JobName = jobName
              SignalLeadSeconds = lead }
    }

/// A run directory: printable text with the characters shells trip over (spaces, quotes, $, `, \, {run}).
let private runDirectory =
    gen {
        let! length = Gen.choose (1, 20)
        let! chars = Gen.arrayOfLength length (Gen.elements (nameChars + " '\"$`\\*?!{}[]()&|<>;~#%é"))
        return String chars
    }

let private job =
    gen {
        let! r = resources
        let! count = Gen.choose (1, 40)
        let! runs = Gen.listOfLength count runDirectory
        let! results = slurmName
        return
            { Resources = r
              ResultsDir = "/results/" + results
              LogDir = "/results/" + results + "/slurm/logs"
              Manifest = "/results/" + results + "/slurm/manifest.txt"
              Runs = runs
              Command = [ "prunerl"; "train"; "--config"; "{run}/config.json"; "--out"; "{run}"; "--resume-if-exists" ] }
    }

/// Days, hours, minutes, seconds.
let private clock =
    gen {
        let! d = Gen.choose (0, 400)
        let! h = Gen.choose (0, 23)
        let! m = Gen.choose (0, 59)
        let! s = Gen.choose (0, 59)
        return d, h, m, s
    }

let private rejects (field: string) (r: Result<'a, string>) =
    match r with
    | Ok _ -> failwithf "accepted a bad %s" field
    | Error e -> Expect.stringContains e field "the message names the field"

let private lines (script: string) = script.Split('\n') |> List.ofArray

let private directive (script: string) (option: string) =
    lines script |> List.filter (fun l -> l.StartsWith("#SBATCH " + option + "=") || l = "#SBATCH " + option)

[<Tests>]
let tests =
    testList "Slurm launcher properties" [
        testPropertyWithConfig config "valid resources and jobs are accepted as they are" <|
            Prop.forAll (arb job) (fun j ->
                Expect.equal (Slurm.validate j.Resources) (Ok j.Resources) "resources"
                Expect.equal (Slurm.validateJob j) (Ok j) "job")

        testPropertyWithConfig config "each bad resource is rejected with a message naming it" <|
            Prop.forAll (arb (Gen.zip3 resources badName (Gen.choose (-1000, 0)))) (fun (r, bad, nonPositive) ->
                rejects "cpus" (Slurm.validate { r with Cpus = nonPositive })
                rejects "memory" (Slurm.validate { r with MemoryMegabytes = Some(int64 nonPositive) })
                rejects "time_limit" (Slurm.validate { r with TimeLimitSeconds = Some(int64 nonPositive) })
                rejects "partition" (Slurm.validate { r with Partition = Some bad })
                rejects "partition" (Slurm.validate { r with Partition = Some "a,,b" })
                rejects "account" (Slurm.validate { r with Account = Some bad })
                rejects "gres" (Slurm.validate { r with Gres = Some bad })
                rejects "gres" (Slurm.validate { r with Gres = Some "gpu:a100:0" })
                rejects "gres" (Slurm.validate { r with Gres = Some "" })
                rejects "throttle" (Slurm.validate { r with Throttle = Some nonPositive })
                rejects "job_name" (Slurm.validate { r with JobName = bad })
                rejects "job_name" (Slurm.validate { r with JobName = "" })
                rejects "signal_lead" (Slurm.validate { r with SignalLeadSeconds = nonPositive - 1 })
                rejects "signal_lead" (Slurm.validate { r with SignalLeadSeconds = 65536 - nonPositive })
                rejects "signal_lead" (Slurm.validate { r with SignalLeadSeconds = 600; TimeLimitSeconds = Some(max 1L (600L + int64 nonPositive)) }))

        testPropertyWithConfig config "a bad job is rejected with a message naming the field" <|
            Prop.forAll (arb (Gen.zip job (Gen.elements [ "\n"; "\r"; "\t"; "\000" ]))) (fun (j, control) ->
                rejects "runs" (Slurm.validateJob { j with Runs = [] })
                rejects "runs" (Slurm.validateJob { j with Runs = j.Runs @ [ "a" + control + "b" ] })
                rejects "runs" (Slurm.validateJob { j with Runs = "" :: j.Runs })
                rejects "results_dir" (Slurm.validateJob { j with ResultsDir = "results" })
                for c in [ "\""; "%"; "\\"; control ] do
                    rejects "results_dir" (Slurm.validateJob { j with ResultsDir = j.ResultsDir + c })
                    rejects "log_dir" (Slurm.validateJob { j with LogDir = j.LogDir + c })
                rejects "manifest" (Slurm.validateJob { j with Manifest = "manifest.txt" })
                rejects "manifest" (Slurm.validateJob { j with Manifest = j.Manifest + control })
                rejects "command" (Slurm.validateJob { j with Command = [] })
                rejects "command" (Slurm.validateJob { j with Command = [ "" ; "train" ] })
                rejects "command" (Slurm.validateJob { j with Command = j.Command @ [ control ] })
                rejects "cpus" (Slurm.batchScript { j with Resources = { j.Resources with Cpus = 0 } }))

        testPropertyWithConfig config "time limits: D-HH:MM:SS reads back exactly, and every sbatch form means what it says" <|
            Prop.forAll (arb clock) (fun (d, h, m, s) ->
                let total = int64 (((d * 24 + h) * 60 + m) * 60 + s)
                if total > 0L then
                    Expect.equal (Slurm.parseTimeLimit (Slurm.formatTimeLimit total)) (Ok total) "round trip"
                    Expect.equal (Slurm.parseTimeLimit (sprintf "%d-%d:%d:%d" d h m s)) (Ok total) "D-H:M:S"
                    Expect.equal (Slurm.parseTimeLimit (sprintf "%d:%02d:%02d" (d * 24 + h) m s)) (Ok total) "hours:minutes:seconds"
                let minutes = int64 ((d * 24 + h) * 60 + m)
                if minutes > 0L then
                    Expect.equal (Slurm.parseTimeLimit (string minutes)) (Ok(minutes * 60L)) "minutes"
                    Expect.equal (Slurm.parseTimeLimit (sprintf "%d:%02d" minutes s)) (Ok(minutes * 60L + int64 s)) "minutes:seconds"
                if d > 0 || h > 0 then
                    Expect.equal (Slurm.parseTimeLimit (sprintf "%d-%d" d h)) (Ok(int64 ((d * 24 + h) * 3600))) "days-hours"
                    Expect.equal (Slurm.parseTimeLimit (sprintf "%d-%d:%d" d h m)) (Ok(int64 (((d * 24 + h) * 60 + m) * 60))) "days-hours:minutes")

        testPropertyWithConfig config "malformed time limits are rejected naming time_limit" <|
            Prop.forAll (arb (Gen.zip (Gen.choose (1, 99)) (Gen.choose (60, 99)))) (fun (n, over) ->
                for text in
                    [ ""; "0"; "0:00"; "0-0"; "abc"; "1.5"; "-5"; "1-2-3"; "1:2:3:4"; "1-1:1:1:1"; string n + "m"
                      sprintf "%d:%d" n over; sprintf "%d:%d:%d" n over 0; sprintf "%d:%d:%d" n 0 over
                      sprintf "%d-%d" n (24 + n); sprintf "%d-%d:%d" n 1 over; " " + string n; "1234567890" ] do
                    rejects "time_limit" (Slurm.parseTimeLimit text))

        testPropertyWithConfig config "memory: the written form reads back exactly, and units are powers of 1024" <|
            Prop.forAll (arb (Gen.zip (Gen.choose (1, 999_999_999)) (Gen.choose (1, 4096)))) (fun (mb, n) ->
                let mb = int64 mb
                Expect.equal (Slurm.parseMemory (Slurm.formatMemory mb)) (Ok mb) "round trip"
                Expect.equal (Slurm.parseMemory (string mb)) (Ok mb) "no unit is MiB"
                Expect.equal (Slurm.parseMemory (sprintf "%dm" mb)) (Ok mb) "M, either case"
                Expect.equal (Slurm.parseMemory (sprintf "%dG" n)) (Ok(int64 n * 1024L)) "G"
                Expect.equal (Slurm.parseMemory (sprintf "%dt" n)) (Ok(int64 n * 1024L * 1024L)) "T"
                Expect.equal (Slurm.parseMemory (sprintf "%dK" (n * 1024))) (Ok(int64 n)) "K in whole MiB"
                for text in [ ""; "0"; "0G"; "G"; "4X"; "1.5G"; "-4G"; "4 G"; "4GB"; sprintf "%dK" (n * 1024 + 1); "9999999999" ] do
                    rejects "memory" (Slurm.parseMemory text))

        testPropertyWithConfig config "the script asks for one array index per run, the throttle and each resource given" <|
            Prop.forAll (arb job) (fun j ->
                let script = Slurm.batchScript j |> Result.defaultWith failwith
                let r = j.Resources
                let expectOne option value =
                    Expect.equal (directive script option) [ sprintf "#SBATCH %s=%s" option value ] option
                let expectIf option value =
                    match value with
                    | Some v -> expectOne option v
                    | None -> Expect.isEmpty (directive script option) (option + " only when given")
                let range = if j.Runs.Length = 1 then "0" else sprintf "0-%d" (j.Runs.Length - 1)
                expectOne "--array" (range + (r.Throttle |> Option.map (sprintf "%%%d") |> Option.defaultValue ""))
                expectOne "--job-name" r.JobName
                expectOne "--cpus-per-task" (string r.Cpus)
                expectIf "--mem" (r.MemoryMegabytes |> Option.map Slurm.formatMemory)
                expectIf "--time" (r.TimeLimitSeconds |> Option.map Slurm.formatTimeLimit)
                expectIf "--partition" r.Partition
                expectIf "--account" r.Account
                expectIf "--gres" r.Gres
                expectIf "--signal" (if r.SignalLeadSeconds > 0 then Some(sprintf "B:TERM@%d" r.SignalLeadSeconds) else None)
                Expect.equal (directive script "--requeue").Length (if r.Requeue then 1 else 0) "--requeue when asked"
                Expect.equal (directive script "--no-requeue").Length (if r.Requeue then 0 else 1) "--no-requeue otherwise"
                expectOne "--chdir" (sprintf "\"%s\"" j.ResultsDir)
                expectOne "--output" (sprintf "\"%s/%%A_%%a.out\"" j.LogDir)
                expectOne "--error" (sprintf "\"%s/%%A_%%a.err\"" j.LogDir)
                // Every directive comes before the first command, where sbatch stops reading them.
                let body = lines script |> List.skip 1 |> List.skipWhile (fun l -> l.StartsWith "#SBATCH ")
                Expect.isFalse (body |> List.exists (fun l -> l.StartsWith "#SBATCH")) "directives form one block at the top"
                Expect.equal (List.head (lines script)) "#!/bin/bash" "a bash script"
                Expect.contains (lines script) "set -euo pipefail" "strict mode")

        testPropertyWithConfig config "the manifest lists the runs in task order and reads back exactly" <|
            Prop.forAll (arb job) (fun j ->
                let text = Slurm.manifest j.Runs
                Expect.equal (Slurm.parseManifest text) j.Runs "round trip"
                Expect.equal (text.Split('\n') |> Array.take j.Runs.Length |> List.ofArray) j.Runs "line i + 1 is run i"
                Expect.isTrue (text.EndsWith "\n") "every line ended")

        testPropertyWithConfig config "sbatch --parsable's job id is read, with or without a cluster name" <|
            Prop.forAll (arb (Gen.zip (Gen.choose (1, Int32.MaxValue)) slurmName)) (fun (id, cluster) ->
                Expect.equal (Slurm.parseJobId (sprintf "%d\n" id)) (Ok(int64 id)) "id"
                Expect.equal (Slurm.parseJobId (sprintf "%d;%s\n" id cluster)) (Ok(int64 id)) "id;cluster"
                rejects "job id" (Slurm.parseJobId (sprintf "Submitted batch job %d\n" id))
                rejects "job id" (Slurm.parseJobId (sprintf "%s\n" cluster |> fun s -> if Char.IsAsciiDigit s[0] then "x" + s else s)))
    ]
