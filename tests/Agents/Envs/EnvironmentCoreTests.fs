/// The environment contract shared by every environment: seeding, bad input, time limits, the
/// vectorised form's automatic resets and episode statistics, random numbers and PNG frames.
module Prunerl.Tests.EnvironmentCoreTests

open System
open System.IO
open System.IO.Compression
open Expecto
open Prunerl.Agents.Envs
open Prunerl.Agents.Runtime

/// A counter on a line: the observation is the position; action 1 moves right, 0 stays; reaching 3
/// ends the episode with reward 1; the start is 0 or 1 at random; a time limit of 5 steps.
type private Walk() =
    inherit Prunerl.Agents.Envs.Environment("test/walk", BoxSpace.Uniform(0f, 10f, 1), DiscreteSpace 2, Nullable 5)
    let mutable position = 0
    override this.ResetCore(observation) =
        position <- this.Random.NextInt 2
        observation[0] <- float32 position
    override _.StepCore(action: int, observation: Span<float32>) =
        position <- position + action
        observation[0] <- float32 position
        StepResult((if position = 3 then 1f else 0f), (position = 3), false)
    override _.SaveDynamics writer = writer.Write position
    override _.LoadDynamics reader = position <- reader.ReadInt32()

/// Resets and drops the observation (a span, which F# cannot pipe).
let private reset (e: Prunerl.Agents.Envs.Environment) (seed: uint64 option) =
    match seed with
    | Some s -> e.Reset(s).Length |> ignore
    | None -> e.Reset().Length |> ignore

/// Steps with a continuous action.
let private stepWith (e: Prunerl.Agents.Envs.Environment) (action: float32[]) = e.Step(ReadOnlySpan<float32>(action))

/// Runs f and expects an exception of type 'e whose message contains the words.
let throwsWith<'e when 'e :> exn> (words: string) (f: unit -> unit) =
    try
        f ()
        failtestf "expected %s saying '%s'" typeof<'e>.Name words
    with
    | :? 'e as e -> Expect.stringContains e.Message words "the message says what is wrong"

[<Tests>]
let tests =
    testList "environment core" [
        test "the same seed gives the same stream; uniform integers stay in range without bias" {
            let mutable a = EnvRandom 42UL
            let mutable b = EnvRandom 42UL
            let xs = Array.init 1000 (fun _ -> a.NextUInt64())
            Expect.equal (Array.init 1000 (fun _ -> b.NextUInt64())) xs "same seed, same stream"
            let mutable c = EnvRandom 43UL
            Expect.notEqual (Array.init 1000 (fun _ -> c.NextUInt64())) xs "another seed, another stream"
            let mutable r = EnvRandom 7UL
            let counts = Array.zeroCreate 6
            for _ in 1..60_000 do
                let k = r.NextInt 6
                counts[k] <- counts[k] + 1
            // Each bucket ~ Binomial(60000, 1/6): sd ~ 91; 5 sd either side.
            for k in counts do Expect.isTrue (abs (k - 10_000) < 460) (sprintf "counts %A" counts)
            Expect.notEqual (EnvRandom.Derive(1UL, 0)) (EnvRandom.Derive(1UL, 1)) "copies get different seeds"
        }

        test "stepping before a seeded reset, after the end, or out of the action space is a clear error" {
            let walk = new Walk()
            throwsWith<InvalidOperationException> "reset with a seed first" (fun () -> reset walk None)
            throwsWith<InvalidOperationException> "reset with a seed before the first step" (fun () -> walk.Step 1 |> ignore)
            reset walk (Some 0UL)
            throwsWith<ArgumentOutOfRangeException> "action must be in [0, 2), got 2" (fun () -> walk.Step 2 |> ignore)
            throwsWith<InvalidOperationException> "actions are discrete" (fun () -> stepWith walk [| 1f |] |> ignore)
            while not (walk.Step 1).Done do ()
            throwsWith<InvalidOperationException> "the episode is over; call Reset" (fun () -> walk.Step 0 |> ignore)
        }

        test "the time limit truncates; the rules terminate" {
            let walk = new Walk()
            reset walk (Some 3UL)
            let results = List.init 5 (fun _ -> walk.Step 0)
            Expect.isTrue (List.last results).Truncated "truncated at the 5th step"
            Expect.isFalse (List.last results).Terminated "not terminated"
            Expect.isFalse (results |> List.take 4 |> List.exists (fun r -> r.Done)) "running before"
            reset walk None
            let mutable last = walk.Step 1
            while not last.Done do last <- walk.Step 1
            Expect.isTrue last.Terminated "reaching 3 terminates"
            Expect.equal last.Reward 1f "with reward 1"
        }

        test "unknown ids and bad options are clear errors" {
            throwsWith<ArgumentException> "unknown environment 'pong'; known:" (fun () -> EnvironmentRegistry.Create "pong" |> ignore)
            throwsWith<ArgumentOutOfRangeException> "count must be >= 1, got 0" (fun () -> EnvironmentRegistry.CreateVector("pong", 0) |> ignore)
        }

        test "vectorised: one contiguous buffer, automatic reset, episode return and length, final observation" {
            let copies = [ for _ in 1..3 -> new Walk() :> Prunerl.Agents.Envs.Environment ]
            let buffer = Array.zeroCreate<float32> 3
            let vector = VectorEnvironment(copies, Nullable(Memory buffer))
            vector.Reset 11UL
            Expect.equal (vector.Observations.ToArray()) buffer "observations are the caller's buffer"
            let starts = buffer |> Array.copy
            // Copy 0 walks right until its episode ends; copies 1 and 2 stand still until truncated.
            let mutable steps = 0
            let mutable ended = false
            while not ended do
                vector.Step(ReadOnlySpan<int> [| 1; 0; 0 |])
                steps <- steps + 1
                ended <- vector.EpisodeEnded[0]
                Expect.equal buffer[0] (if ended then buffer[0] else starts[0] + float32 steps) "copy 0 walks in place in the buffer"
            Expect.equal vector.EpisodeLengths[0] (3 - int starts[0]) "length of the finished episode"
            Expect.equal vector.EpisodeReturns[0] 1f "its return"
            Expect.equal vector.FinalObservations[0] 3f "the observation it ended on"
            Expect.isTrue (buffer[0] = 0f || buffer[0] = 1f) "and the copy was reset"
            Expect.isTrue vector.Terminated[0] "terminated"
        }

        test "vectorised copies are seeded apart and reproducibly" {
            let run () =
                let vector = VectorEnvironment([ for _ in 1..16 -> new Walk() :> Prunerl.Agents.Envs.Environment ])
                vector.Reset 5UL
                vector.Observations.ToArray()
            let a = run ()
            Expect.equal (run ()) a "same seed, same starts"
            Expect.equal (Array.distinct a).Length 2 "copies differ (starts 0 and 1 both appear)"
        }

        test "PNG frames decode to the pixels drawn" {
            let frame = Frame(7, 3, Rgb.Black)
            frame.FillRectangle(1, 1, 2, 1, Rgb(10uy, 200uy, 30uy))
            frame.Plot(6, 2, Rgb.White)
            use stream = new MemoryStream()
            Png.Write(frame, stream)
            let bytes = stream.ToArray()
            Expect.equal bytes[0..7] [| 0x89uy; 0x50uy; 0x4Euy; 0x47uy; 0x0Duy; 0x0Auy; 0x1Auy; 0x0Auy |] "signature"
            let be (i: int) = (int bytes[i] <<< 24) ||| (int bytes[i + 1] <<< 16) ||| (int bytes[i + 2] <<< 8) ||| int bytes[i + 3]
            Expect.equal (be 16, be 20) (7, 3) "IHDR width and height"
            // The IHDR chunk's CRC-32 (ISO 3309) over its type and data, computed here bit by bit.
            let mutable crc = 0xFFFFFFFFu
            for b in bytes[12 .. 12 + 4 + 13 - 1] do
                crc <- crc ^^^ uint32 b
                for _ in 1..8 do crc <- if crc &&& 1u <> 0u then (crc >>> 1) ^^^ 0xEDB88320u else crc >>> 1
            Expect.equal (uint32 (be 29)) (crc ^^^ 0xFFFFFFFFu) "IHDR checksum"
            // The IDAT chunk follows IHDR (8 + 25 bytes in): inflate it and compare the scanlines.
            let idatLength = be 33
            Expect.equal (Text.Encoding.ASCII.GetString(bytes, 37, 4)) "IDAT" "IDAT chunk"
            use inflated = new MemoryStream()
            using (new ZLibStream(new MemoryStream(bytes, 41, idatLength), CompressionMode.Decompress)) (fun z -> z.CopyTo inflated)
            let rows = inflated.ToArray()
            Expect.equal rows.Length (3 * (1 + 7 * 3)) "three filtered scanlines"
            for y in 0..2 do
                Expect.equal rows[y * 22] 0uy "filter type none"
                Expect.equal rows[y * 22 + 1 .. y * 22 + 21] (frame.Pixels.Slice(y * 21, 21).ToArray()) (sprintf "row %d" y)
            let strip = Frame.Strip([| frame; frame |], 2, Rgb.White)
            Expect.equal (strip.Width, strip.Height) (16, 3) "two frames and a gap"
            Expect.equal strip[9 + 6, 2] Rgb.White "the second frame's pixel"
            Expect.equal strip[7, 0] Rgb.White "the gap"
        }
    ]
