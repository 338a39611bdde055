/// The build's switches, checked by evaluating the projects with MSBuild.
module Prunerl.Tests.BuildTests

open Expecto
open Prunerl.Tests.Processes

/// Evaluates Agents.CSharp with the properties and returns MSBuild's JSON answer.
let private evaluate (properties: string list) (queries: string list) =
    let args = [ "msbuild"; "Agents.CSharp/Agents.CSharp.csproj"; "-nologo"; "-noAutoResponse" ] @ queries @ (properties |> List.map (fun p -> "-p:" + p))
    let r = run (dotnet ()) args repoRoot.Value
    Expect.equal r.ExitCode 0 (describe r)
    r.Output

[<Tests>]
let tests =
    testList "build switches" [
        test "TorchBackend=cpu (the default) references the CPU libtorch and the main lock file" {
            let json = evaluate [] [ "-getItem:PackageReference"; "-getProperty:NuGetLockFilePath"; "-getProperty:TorchBackend" ]
            Expect.stringContains json "\"libtorch-cpu-linux-x64\"" "CPU libtorch"
            Expect.isFalse (json.Contains "TorchSharp-cuda-linux") "no CUDA package"
            Expect.stringContains json "\"TorchBackend\": \"cpu\"" "cpu by default"
            Expect.isFalse (json.Contains "packages.cuda.lock.json") "main lock file"
        }

        test "TorchBackend=cuda references TorchSharp-cuda-linux instead, with its own lock file" {
            let json = evaluate [ "TorchBackend=cuda" ] [ "-getItem:PackageReference"; "-getProperty:NuGetLockFilePath" ]
            Expect.stringContains json "\"TorchSharp-cuda-linux\"" "CUDA package"
            Expect.isFalse (json.Contains "libtorch-cpu-linux-x64") "no CPU libtorch"
            Expect.stringContains json "packages.cuda.lock.json" "its own lock file"
        }

        test "an unknown TorchBackend stops the build with a clear error" {
            let r = run (dotnet ()) [ "msbuild"; "Agents.CSharp/Agents.CSharp.csproj"; "-nologo"; "-noAutoResponse"; "-t:CheckTorchBackend"; "-p:TorchBackend=rocm" ] repoRoot.Value
            Expect.notEqual r.ExitCode 0 "fails"
            Expect.stringContains r.All "TorchBackend must be cpu or cuda, got 'rocm'" (describe r)
        }
    ]
