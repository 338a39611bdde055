/// Tests for the build-time fix of TorchSharp's native library (build/WeakenVersionNeed.cs,
/// build/TorchNative.targets): the ELF edit is checked on small libraries built here with gcc from
/// tests/native/*.c, through the MSBuild harness tests/native/PatchHarness.proj, as the build runs it.
module Prunerl.Tests.NativeFixTests

open System
open System.Diagnostics
open System.IO
open System.Security.Cryptography
open System.Text
open Expecto
open Prunerl.Tests.Processes

let private versionName = "GLIBCXX_3.4.32"

/// Path.GetFileName without the nullable result.
let private fileName (path: string) : string =
    match Path.GetFileName path with
    | null -> ""
    | name -> name

let private nativeSources () = Path.Combine(repoRoot.Value, "tests", "native")

// ------------------------------------------------------------------------------------------ fixtures

type private Fixtures =
    { NewProvider: string // libfakestd.so defining GLIBCXX_3.4.30 and GLIBCXX_3.4.32
      OldProvider: string // libfakestd.so defining GLIBCXX_3.4.30 only ("Debian 12")
      Marker: string // needs GLIBCXX_3.4.32 through the .globl marker only
      Caller: string // calls the 3.4.32 symbol (relocation)
      Plain: string // needs GLIBCXX_3.4.30 only
      DlopenCheck: string } // dlopen(argv[1]) helper executable

let private gcc (args: string list) =
    let r =
        try
            run "gcc" args (nativeSources ())
        with :? ComponentModel.Win32Exception as e ->
            failtestf "gcc is required to build the native-fix test libraries but could not be started (%s); install gcc" e.Message
    if r.ExitCode <> 0 then
        failtestf "gcc %s failed: %s" (String.Join(" ", args)) (describe r)

/// A fresh temporary directory for this test run, removed when the process exits.
let private tempRoot =
    lazy
        let root = Path.Combine(Path.GetTempPath(), "prunerl-nativefix-" + Guid.NewGuid().ToString("N"))
        Directory.CreateDirectory root |> ignore
        AppDomain.CurrentDomain.ProcessExit.Add(fun _ ->
            try Directory.Delete(root, true) with _ -> ())
        root

/// Builds every fixture once, into tempRoot.
let private fixtures =
    lazy
        let root = tempRoot.Value
        let dir name = Directory.CreateDirectory(Path.Combine(root, name)).FullName
        let newDir, oldDir, buildDir = dir "new", dir "old", dir "build"
        let src name = Path.Combine(nativeSources (), name)
        let shared = [ "-shared"; "-fPIC"; "-O1" ]
        let soname = "-Wl,-soname,libfakestd.so"
        gcc (shared @ [ "-o"; Path.Combine(newDir, "libfakestd.so"); src "fakestd.c"; soname
                        "-Wl,--version-script=" + src "fakestd-new.map" ])
        gcc (shared @ [ "-DFAKESTD_OLD"; "-o"; Path.Combine(oldDir, "libfakestd.so"); src "fakestd.c"; soname
                        "-Wl,--version-script=" + src "fakestd-old.map" ])
        // Consumers find libfakestd.so next to themselves (rpath $ORIGIN): the load tests pick the provider
        // by putting a consumer in a directory with the old or the new one.
        let consumer name source providerDir =
            let output = Path.Combine(buildDir, name)
            gcc (shared @ [ "-o"; output; src source; "-L" + providerDir; "-lfakestd"; "-Wl,-rpath,$ORIGIN" ])
            output
        let dlopenCheck = Path.Combine(buildDir, "dlopen-check")
        gcc [ "-O1"; "-o"; dlopenCheck; src "dlopen-check.c"; "-ldl" ]
        { NewProvider = Path.Combine(newDir, "libfakestd.so")
          OldProvider = Path.Combine(oldDir, "libfakestd.so")
          Marker = consumer "libmarker.so" "marker.c" newDir
          Caller = consumer "libcaller.so" "caller.c" newDir
          Plain = consumer "libplain.so" "plain.c" oldDir
          DlopenCheck = dlopenCheck }

/// A new, empty directory for one test case.
let private caseDir (name: string) =
    Directory.CreateDirectory(Path.Combine(tempRoot.Value, "cases", name + "-" + Guid.NewGuid().ToString("N").Substring(0, 8))).FullName

// ------------------------------------------------------------------------------------------ the harness

type private HarnessResult = { Outcome: string; Run: ProcessResult }

/// Runs the WeakenVersionNeed task once through tests/native/PatchHarness.proj.
let private patch (source: string) (destination: string) (host: string option) =
    let args =
        [ "msbuild"; Path.Combine("tests", "native", "PatchHarness.proj")
          "-nologo"; "-noAutoResponse"; "-nodeReuse:false"; "-verbosity:minimal"
          "-p:Source=" + source; "-p:Destination=" + destination ]
        @ (match host with Some h -> [ "-p:Host=" + h ] | None -> [])
    let r = run (dotnet ()) args repoRoot.Value
    if r.ExitCode <> 0 then failtestf "the harness failed: %s" (describe r)
    let outcome =
        r.All.Split('\n')
        |> Array.tryPick (fun line ->
            let i = line.IndexOf "outcome="
            if i < 0 then None else Some(line.Substring(i + 8).Split(' ').[0].Trim()))
    match outcome with
    | Some o -> { Outcome = o; Run = r }
    | None -> failtestf "the harness printed no outcome: %s" (describe r)

let private expectOutcome expected (result: HarnessResult) =
    Expect.equal result.Outcome expected (sprintf "outcome (harness output:\n%s)" result.Run.All)

let private expectRefusedWith (fileName: string) (result: HarnessResult) =
    expectOutcome "refused" result
    let warnings =
        result.Run.All.Split('\n') |> Array.filter (fun l -> l.Contains "PRUNERL001" && l.Contains fileName)
    Expect.isNonEmpty warnings (sprintf "a PRUNERL001 warning naming %s in:\n%s" fileName result.Run.All)

let private sha256 (path: string) = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes path))

/// Checks that `patched` is `original` with exactly one 2-byte little-endian field changed, by
/// setting bit 0x2 (VER_FLG_WEAK), and that readelf now reports the version need as WEAK.
let private expectOnlyWeakFlagAdded (original: string) (patched: string) =
    let a, b = File.ReadAllBytes original, File.ReadAllBytes patched
    Expect.equal b.Length a.Length "the patched copy has the source's length"
    let differing = [ for i in 0 .. a.Length - 1 do if a[i] <> b[i] then i ]
    Expect.isNonEmpty differing "the patched copy differs from the source"
    let field = List.head differing &&& ~~~1 // vna_flags sits at an even offset
    Expect.all differing (fun i -> i = field || i = field + 1) (sprintf "only the 2-byte field at 0x%x changed (differing bytes: %A)" field differing)
    let u16 (bytes: byte[]) = int bytes[field] ||| (int bytes[field + 1] <<< 8)
    Expect.equal (u16 b) (u16 a ||| 0x2) "the field gains exactly VER_FLG_WEAK (0x2)"
    Expect.equal (u16 a &&& 0x2) 0 "the source's field did not have VER_FLG_WEAK"
    let r = run "readelf" [ "-V"; patched ] (Path.GetTempPath())
    Expect.stringContains r.All (sprintf "Name: %s  Flags: WEAK" versionName) "readelf -V shows the need as WEAK"

/// Loads `library` with dlopen(RTLD_NOW) in a child process next to `provider` (copied in as
/// libfakestd.so, which the library's rpath $ORIGIN resolves to), and calls marker_answer.
let private loadNextTo (provider: string) (library: string) =
    let dir = caseDir "load"
    File.Copy(provider, Path.Combine(dir, "libfakestd.so"))
    let copy = Path.Combine(dir, fileName library)
    File.Copy(library, copy)
    run fixtures.Value.DlopenCheck [ copy; "marker_answer" ] dir

let private nugetPackagesRoot () =
    match Environment.GetEnvironmentVariable "NUGET_PACKAGES" with
    | null
    | "" -> Path.Combine(Environment.GetFolderPath Environment.SpecialFolder.UserProfile, ".nuget", "packages")
    | root -> root

/// Whether this machine's libstdc++ defines GLIBCXX_3.4.32, told by a plain byte search
/// (independent of the task's ELF reading).
let private hostLibstdcxxHasVersion () =
    let candidates =
        [ "/lib/x86_64-linux-gnu"; "/usr/lib/x86_64-linux-gnu"; "/lib64"; "/usr/lib64"; "/usr/lib"; "/lib" ]
        |> List.map (fun d -> Path.Combine(d, "libstdc++.so.6"))
    match candidates |> List.tryFind File.Exists with
    | None -> failtestf "no libstdc++.so.6 found in %A" candidates
    | Some lib ->
        let bytes = File.ReadAllBytes lib
        let needle = Encoding.ASCII.GetBytes(versionName + "\000")
        lib, MemoryExtensions.IndexOf(ReadOnlySpan bytes, ReadOnlySpan needle) >= 0

// ------------------------------------------------------------------------------------------ tests

[<Tests>]
let tests =
    testSequenced
    <| testList "native fix (ELF weak version need)" [
        test "marker-only consumer on an old host is patched: one flag, source untouched, and it loads" {
            let f = fixtures.Value
            let dir = caseDir "patch"
            let destination = Path.Combine(dir, "out", "libmarker.so")
            let before = sha256 f.Marker
            patch f.Marker destination (Some f.OldProvider) |> expectOutcome "patched"
            Expect.equal (sha256 f.Marker) before "the source file is unchanged"
            expectOnlyWeakFlagAdded f.Marker destination
            Expect.equal (File.GetUnixFileMode destination) (File.GetUnixFileMode f.Marker) "the copy keeps the source's permissions"

            let withNew = loadNextTo f.NewProvider f.Marker
            Expect.equal withNew.ExitCode 0 (sprintf "fixture check: the consumer loads with the new provider (%s)" (describe withNew))
            let unpatched = loadNextTo f.OldProvider f.Marker
            Expect.notEqual unpatched.ExitCode 0 "the unpatched consumer fails to load against the old provider"
            Expect.stringContains unpatched.All versionName "...because GLIBCXX_3.4.32 is missing"
            let patched = loadNextTo f.OldProvider destination
            Expect.equal patched.ExitCode 0 (sprintf "the patched consumer loads against the old provider (%s)" (describe patched))
            Expect.stringContains patched.All "marker_answer=31" "and its code runs"
        }

        test "a host that provides the version needs no patch" {
            let f = fixtures.Value
            let destination = Path.Combine(caseDir "host-provides", "libmarker.so")
            patch f.Marker destination (Some f.NewProvider) |> expectOutcome "host-provides"
            Expect.isFalse (File.Exists destination) "no destination file is written"
        }

        test "a consumer with a relocation against the versioned symbol is refused" {
            let f = fixtures.Value
            let destination = Path.Combine(caseDir "caller", "libcaller.so")
            let result = patch f.Caller destination (Some f.OldProvider)
            expectRefusedWith "libcaller.so" result
            Expect.stringContains result.Run.All "relocation" "the warning gives the relocation as the reason"
            Expect.isFalse (File.Exists destination) "no destination file is written"
        }

        test "a non-ELF file and a truncated ELF are refused with a warning" {
            let f = fixtures.Value
            let dir = caseDir "bad"
            let notElf = Path.Combine(dir, "notelf.so")
            File.WriteAllText(notElf, "this is not an ELF file\n")
            let truncated = Path.Combine(dir, "truncated.so")
            File.WriteAllBytes(truncated, File.ReadAllBytes f.Marker |> Array.truncate 512)
            for source in [ notElf; truncated ] do
                let destination = Path.Combine(dir, "out", fileName source)
                patch source destination (Some f.OldProvider) |> expectRefusedWith (fileName source)
                Expect.isFalse (File.Exists destination) "no destination file is written"
        }

        test "patching an already patched copy is a no-op (already-weak, same bytes)" {
            let f = fixtures.Value
            let dir = caseDir "idempotent"
            let once = Path.Combine(dir, "once", "libmarker.so")
            let twice = Path.Combine(dir, "twice", "libmarker.so")
            patch f.Marker once (Some f.OldProvider) |> expectOutcome "patched"
            patch once twice (Some f.OldProvider) |> expectOutcome "already-weak"
            Expect.equal (sha256 twice) (sha256 once) "the second copy is byte for byte the first"
        }

        test "a library that does not need the version is left alone" {
            let f = fixtures.Value
            let destination = Path.Combine(caseDir "not-needed", "libplain.so")
            patch f.Plain destination (Some f.OldProvider) |> expectOutcome "not-needed"
            Expect.isFalse (File.Exists destination) "no destination file is written"
        }

        test "the real libLibTorchSharp.so is patched exactly when this host's libstdc++ lacks GLIBCXX_3.4.32" {
            let source =
                Path.Combine(nugetPackagesRoot (), "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so")
            Expect.isTrue (File.Exists source) (sprintf "TorchSharp 0.107.0 is restored (%s)" source)
            let hostLib, hostHasVersion = hostLibstdcxxHasVersion ()
            let destination = Path.Combine(caseDir "real", "libLibTorchSharp.so")
            let before = sha256 source
            let result = patch source destination None // the task finds the host libstdc++ itself
            Expect.equal (sha256 source) before "the NuGet cache file is unchanged"
            if hostHasVersion then
                expectOutcome "host-provides" result
                Expect.isFalse (File.Exists destination) (sprintf "%s provides %s: nothing written" hostLib versionName)
            else
                expectOutcome "patched" result
                expectOnlyWeakFlagAdded source destination
        }
    ]
