/// The samples against the packed library, as a user gets them: Core.FSharp packed into a folder feed,
/// the samples folder copied out of the repository, restored from that feed and nuget.org only.
module Prunerl.Tests.SamplesTests

open System
open System.IO
open Expecto
open Prunerl.Tests.Processes

/// What both samples print: the paper's schedule at 90% over 2.5M updates (p = 1/3 gives
/// 0.9 * 19/27, p = 1/2 gives 0.9 * 7/8), ERK over the Nature DQN's weights keeping exactly 10% of
/// 1,692,672 entries (the small output layer dense), and the four largest of eight weights.
let private expected =
    """paper schedule, 90% over 2500000 updates:
  step 0: sparsity 0.000000, update no
  step 500000: sparsity 0.000000, update yes
  step 1000000: sparsity 0.633333, update yes
  step 1250000: sparsity 0.787500, update yes
  step 1250999: sparsity 0.787500, update no
  step 2000000: sparsity 0.900000, update yes
  step 2500000: sparsity 0.900000, update no
  1501 mask updates, final sparsity 0.900000
ERK at 90%:
  conv1: keep 2113 of 8192 (sparsity 0.742065)
  conv2: keep 4227 of 32768 (sparsity 0.871002)
  conv3: keep 5446 of 36864 (sparsity 0.852268)
  fc: keep 148265 of 1605632 (sparsity 0.907659)
  out: keep 9216 of 9216 (sparsity 0.000000)
mask at 50%: 0 1 0 1 0 1 0 1
masked weights: 0 -1.2 0 0.9 0 2 0 0.6"""

let private lines (text: string) =
    text.Replace("\r\n", "\n").Trim().Split('\n') |> Array.map (fun l -> l.TrimEnd())

/// Packing writes under Core.FSharp/obj: one pack at a time.
let private packing = obj ()

/// Runs `sample` (given the copied samples folder and the environment to run in) in a scratch folder
/// holding a fresh pack of the library as a feed, a copy of samples/ whose nuget.config names that feed
/// and nuget.org, and an empty HOME and package cache: nothing restored before can stand in for the
/// package (dotnet fsi also caches its resolutions under HOME).
let private withPackedSamples (sample: string -> (string * string) list -> ProcessResult) =
    let scratch = Path.Combine(Path.GetTempPath(), "prunerl-samples-" + Guid.NewGuid().ToString("N"))
    try
        let feed = Path.Combine(scratch, "feed")
        let pack =
            lock packing (fun () ->
                run (dotnet ()) [ "pack"; "Core.FSharp/Core.FSharp.fsproj"; "-c"; configuration.Value; "--no-build"; "-nologo"; "-o"; feed ] repoRoot.Value)
        Expect.equal pack.ExitCode 0 (describe pack)
        Expect.isTrue (File.Exists(Path.Combine(feed, "Prunerl.Pruning.0.1.0.nupkg"))) "the package is Prunerl.Pruning 0.1.0"
        let samples = Path.Combine(scratch, "samples")
        for file in Directory.GetFiles(Path.Combine(repoRoot.Value, "samples"), "*", SearchOption.AllDirectories) do
            let relative = Path.GetRelativePath(Path.Combine(repoRoot.Value, "samples"), file)
            let parts = relative.Split(Path.DirectorySeparatorChar)
            if not (parts |> Array.exists (fun p -> p = "bin" || p = "obj")) then
                let target = Path.Combine(samples, relative)
                Directory.CreateDirectory(Path.GetDirectoryName target |> nonNull) |> ignore
                File.Copy(file, target)
        File.WriteAllText(
            Path.Combine(samples, "nuget.config"),
            $"""<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="prunerl-test-feed" value="{feed}" />
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
  </packageSources>
</configuration>""")
        let home = Path.Combine(scratch, "home")
        Directory.CreateDirectory home |> ignore
        let r = sample samples [ "HOME", home; "NUGET_PACKAGES", Path.Combine(scratch, "packages") ]
        Expect.equal r.ExitCode 0 (describe r)
        Expect.sequenceEqual (lines r.Output) (lines expected) (sprintf "the sample's output:\n%s" r.All)
    finally
        if Directory.Exists scratch then Directory.Delete(scratch, true)

[<Tests>]
let tests =
    testList "samples against the packed library" [
        test "the C# quickstart builds against Prunerl.Pruning 0.1.0 and prints the pinned values" {
            withPackedSamples (fun samples environment ->
                runWith environment (dotnet ()) [ "run"; "--project"; "CSharpQuickstart"; "-nologo" ] samples)
        }

        test "the F# script loads Prunerl.Pruning 0.1.0 with #r nuget and prints the pinned values" {
            withPackedSamples (fun samples environment -> runWith environment (dotnet ()) [ "fsi"; "quickstart.fsx" ] samples)
        }
    ]
