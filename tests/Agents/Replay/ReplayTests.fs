/// The replay memories: n-step returns and discounts worked out by hand (termination, truncation, the
/// circular wrap, two copies), eviction, binary storage, uniform and prioritized sampling, the sum tree.
module Prunerl.Tests.ReplayTests

open System
open Expecto
open Prunerl.Agents.Envs
open Prunerl.Agents.Replay
open Prunerl.Tests.EnvironmentCoreTests
open Prunerl.Agents.Runtime

/// Observations are two values, v and v + 0.5, so a row read at the wrong offset shows.
let private size = 2
let private observe (v: float32) = [| v; v + 0.5f |]

/// How a copy's step ends: it goes on, or the episode terminates or is truncated on a final observation.
type private Ending =
    | Continues
    | Terminates of float32
    | Truncates of float32

/// One vector step: per copy (observation value, reward, ending); the action is the observation value.
let private add (memory: IReplayMemory) (copies: (float32 * float32 * Ending) list) =
    let copies = List.toArray copies
    let observations = copies |> Array.collect (fun (v, _, _) -> observe v)
    let actions = copies |> Array.map (fun (v, _, _) -> int v)
    let rewards = copies |> Array.map (fun (_, r, _) -> r)
    let terminated = copies |> Array.map (fun (_, _, e) -> match e with Terminates _ -> true | _ -> false)
    let truncated = copies |> Array.map (fun (_, _, e) -> match e with Truncates _ -> true | _ -> false)
    let finals = copies |> Array.collect (fun (_, _, e) -> match e with Terminates f | Truncates f -> observe f | Continues -> observe -1f)
    memory.Add(ReadOnlySpan observations, ReadOnlySpan actions, ReadOnlySpan rewards, ReadOnlySpan terminated, ReadOnlySpan truncated, ReadOnlySpan finals)

/// Adds steps of one copy.
let private addOne memory (steps: (float32 * float32 * Ending) list) = for step in steps do add memory [ step ]

/// Draws a batch of `rows` with `seed`.
let private draw (memory: IReplayMemory) rows seed =
    let batch = ReplayBatch(rows, size)
    let mutable random = EnvRandom seed
    memory.Sample(rows, &random, batch)
    batch

/// The distinct transitions of a large batch as (observation, (action, return, next observation, discount)), by observation.
let private sampled (memory: IReplayMemory) =
    let batch = draw memory 2000 11UL
    [ for row in 0 .. batch.BatchSize - 1 ->
        Expect.equal batch.Observations[row * size + 1] (batch.Observations[row * size] + 0.5f) "whole observation rows"
        Expect.equal batch.NextObservations[row * size + 1] (batch.NextObservations[row * size] + 0.5f) "whole next-observation rows"
        batch.Observations[row * size], (batch.Actions[row], batch.Returns[row], batch.NextObservations[row * size], batch.Discounts[row]) ]
    |> List.distinct
    |> List.sortBy fst

/// The expected transitions: (observation, return, next observation, discount), the action being the observation.
let private expected (rows: (float32 * float32 * float32 * float32) list) =
    rows |> List.map (fun (o, r, next, d) -> o, (int64 o, r, next, d))

let private options capacity copies steps gamma = ReplayOptions(capacity, copies, size, steps, gamma)

/// An episode of 3 steps ending on observation 9, then 4 steps of the next (rewards 1, 2, 4, ...).
let private episodeThenMore ending =
    [ 0f, 1f, Continues; 1f, 2f, Continues; 2f, 4f, ending; 10f, 8f, Continues; 11f, 16f, Continues; 12f, 32f, Continues; 13f, 64f, Continues ]

let private binaryOptions = ReplayOptions(8, 1, 3, 1, 0.9, ObservationStorage.Binary)

let private addBinary (memory: IReplayMemory) (observation: float32[]) (ended: bool) (final: float32[]) =
    memory.Add(ReadOnlySpan observation, ReadOnlySpan [| 0 |], ReadOnlySpan [| 0f |], ReadOnlySpan [| ended |], ReadOnlySpan [| false |], ReadOnlySpan final)

let private linearFind (values: float[]) (prefix: float) =
    let mutable sum = 0.0
    let mutable found = -1
    for i in 0 .. values.Length - 1 do
        sum <- sum + values[i]
        if found < 0 && prefix < sum then found <- i
    found

[<Tests>]
let tests =
    testList "replay" [
        test "n-step windows that run into a termination end there, with discount 0 and the final observation" {
            let memory = ReplayBuffer(options 20 1 3 0.5)
            addOne memory (episodeThenMore (Terminates 9f))
            // 0: 1 + 0.5*2 + 0.25*4 = 3; 1: 2 + 0.5*4 = 4; 2: 4; 10: 8 + 0.5*16 + 0.25*32 = 24, gamma^3 = 0.125.
            Expect.equal (sampled memory) (expected [ 0f, 3f, 9f, 0f; 1f, 4f, 9f, 0f; 2f, 4f, 9f, 0f; 10f, 24f, 13f, 0.125f ]) "transitions"
            Expect.equal (memory.Count, memory.SampleableCount) (7, 4) "7 stored; 11, 12, 13 wait for later observations"
        }

        test "a truncation ends the window too but bootstraps from the final observation with gamma^m" {
            let memory = ReplayBuffer(options 20 1 3 0.5)
            addOne memory (episodeThenMore (Truncates 9f))
            Expect.equal (sampled memory) (expected [ 0f, 3f, 9f, 0.125f; 1f, 4f, 9f, 0.25f; 2f, 4f, 9f, 0.5f; 10f, 24f, 13f, 0.125f ]) "transitions"
        }

        test "windows run across the circular wrap; overwritten transitions leave, oldest first" {
            // 5 slots, n = 2, gamma 0.5, reward 2^t: R_t = 2^t + 0.5 * 2^(t+1) = 2^(t+1).
            let memory = ReplayBuffer(options 5 1 2 0.5)
            addOne memory [ for t in 0..6 -> float32 t, float32 (1 <<< t), Continues ]
            // Slots now hold 5, 6, 2, 3, 4: 3's and 4's windows wrap to slots 0 and 1.
            Expect.equal (sampled memory) (expected [ 2f, 8f, 4f, 0.25f; 3f, 16f, 5f, 0.25f; 4f, 32f, 6f, 0.25f ]) "before the end"
            addOne memory [ 7f, 128f, Terminates 50f ]
            // 7 and its final observation overwrite 2 and 3.
            Expect.equal (sampled memory) (expected [ 4f, 32f, 6f, 0.25f; 5f, 64f, 7f, 0.25f; 6f, 128f, 50f, 0f; 7f, 128f, 50f, 0f ]) "after the end"
            Expect.equal (memory.Count, memory.SampleableCount, memory.Capacity) (4, 4, 5) "the final observation takes a slot"
        }

        test "next observations come from the same copy and episode" {
            let memory = ReplayBuffer(options 40 2 2 0.5)
            add memory [ (0f, 1f, Continues); (100f, 10f, Continues) ]
            add memory [ (1f, 2f, Terminates 9f); (101f, 20f, Continues) ]
            add memory [ (2f, 3f, Continues); (102f, 30f, Truncates 109f) ]
            add memory [ (3f, 4f, Continues); (103f, 40f, Continues) ]
            add memory [ (4f, 5f, Continues); (104f, 50f, Continues) ]
            Expect.equal (sampled memory)
                (expected [ 0f, 2f, 9f, 0f; 1f, 2f, 9f, 0f; 2f, 5f, 4f, 0.25f
                            100f, 20f, 102f, 0.25f; 101f, 35f, 109f, 0.25f; 102f, 30f, 109f, 0.5f ]) "transitions"
            Expect.equal (memory.Count, memory.SampleableCount) (10, 6) "counts"
        }

        test "capacity is shared over copies: each copy keeps its last capacity / copies slots" {
            let memory = ReplayBuffer(options 7 2 1 1.0)
            Expect.equal memory.Capacity 6 "rounded down to a multiple of the copies"
            for t in 0..4 do add memory [ (float32 t, 1f, Continues); (float32 (100 + t), 1f, Continues) ]
            Expect.equal (sampled memory |> List.map fst) [ 2f; 3f; 102f; 103f ] "0, 1, 100, 101 were overwritten; 4 and 104 wait"
            Expect.equal memory.Count 6 "full"
            add memory [ (5f, 1f, Terminates 60f); (105f, 1f, Continues) ]
            Expect.equal (sampled memory) (expected [ 4f, 1f, 5f, 1f; 5f, 1f, 60f, 0f; 103f, 1f, 104f, 1f; 104f, 1f, 105f, 1f ]) "after the end"
            Expect.equal memory.Count 5 "the final observation evicted one more of copy 0"
        }

        test "binary storage gives back the 0/1 observations and rejects other values" {
            let memory = ReplayBuffer binaryOptions
            addBinary memory [| 1f; 0f; 1f |] false [| 0.5f; 0.5f; 0.5f |]
            addBinary memory [| 0f; 1f; 1f |] true [| 1f; 1f; 0f |]
            let batch = ReplayBatch(1, 3)
            let mutable random = EnvRandom 1UL
            Expect.equal memory.SampleableCount 2 "the stale final observation of a copy that did not end is not read"
            let rows = set [ for _ in 1..50 -> memory.Sample(1, &random, batch); Array.append batch.Observations batch.NextObservations ]
            Expect.equal rows (set [ [| 1f; 0f; 1f; 0f; 1f; 1f |]; [| 0f; 1f; 1f; 1f; 1f; 0f |] ]) "round trip"
            throwsWith<ArgumentException> "0/1 values only, got 0.5 at position 1" (fun () -> addBinary memory [| 1f; 0.5f; 0f |] false [| 0f; 0f; 0f |])
            throwsWith<ArgumentException> "0/1 values only, got 2" (fun () -> addBinary memory [| 1f; 1f; 0f |] true [| 0f; 2f; 0f |])
            Expect.equal memory.Count 2 "a rejected step stores nothing"
        }

        test "binary storage samples the same batches as float storage (observations of 100 values)" {
            let observationSize = 100
            let mutable random = EnvRandom 9UL
            let steps = [ for _ in 1..30 -> Array.init observationSize (fun _ -> float32 (random.NextInt 2)), random.NextInt 4 = 0 ]
            let batchFrom storage =
                let memory = ReplayBuffer(ReplayOptions(20, 1, observationSize, 2, 0.9, storage))
                for observation, ended in steps do
                    memory.Add(ReadOnlySpan observation, ReadOnlySpan [| 1 |], ReadOnlySpan [| 1f |], ReadOnlySpan [| ended |], ReadOnlySpan [| false |], ReadOnlySpan (Array.rev observation))
                let batch = ReplayBatch(16, observationSize)
                let mutable random = EnvRandom 4UL
                memory.Sample(16, &random, batch)
                batch.Observations, batch.NextObservations, batch.Discounts
            Expect.equal (batchFrom ObservationStorage.Binary) (batchFrom ObservationStorage.Float32) "same batches"
        }

        test "bad options, bad steps and sampling with nothing sampleable are clear errors" {
            throwsWith<ArgumentOutOfRangeException> "n of n-step returns must be >= 1, got 0" (fun () -> options 10 1 0 0.9 |> ignore)
            throwsWith<ArgumentOutOfRangeException> "gamma must be in [0, 1], got 1.5" (fun () -> options 10 1 1 1.5 |> ignore)
            throwsWith<ArgumentOutOfRangeException> "gamma must be in [0, 1], got -0.1" (fun () -> options 10 1 1 -0.1 |> ignore)
            throwsWith<ArgumentOutOfRangeException> "gamma must be in [0, 1], got NaN" (fun () -> options 10 1 1 nan |> ignore)
            throwsWith<ArgumentOutOfRangeException> "at least n + 1 = 4 slots, got 7" (fun () -> options 7 2 3 0.9 |> ignore)
            let memory = ReplayBuffer(options 10 2 1 0.9)
            throwsWith<InvalidOperationException> "nothing to sample: 0 transitions stored" (fun () -> draw memory 4 1UL |> ignore)
            add memory [ (0f, 1f, Continues); (1f, 1f, Continues) ]
            throwsWith<InvalidOperationException> "nothing to sample: 2 transitions stored" (fun () -> draw memory 4 1UL |> ignore)
            let two = [| 0f; 0f |]
            let four = Array.zeroCreate<float32> 4
            let call (observations: float32[]) (actions: int[]) (rewards: float32[]) (terminated: bool[]) (truncated: bool[]) (finals: float32[]) () =
                memory.Add(ReadOnlySpan observations, ReadOnlySpan actions, ReadOnlySpan rewards, ReadOnlySpan terminated, ReadOnlySpan truncated, ReadOnlySpan finals)
            throwsWith<ArgumentException> "expected 4 observation values (one step of every copy), got 2" (call two [| 0; 0 |] two [| false; false |] [| false; false |] four)
            throwsWith<ArgumentException> "expected 2 actions" (call four [| 0 |] two [| false; false |] [| false; false |] four)
            throwsWith<ArgumentException> "expected 2 rewards" (call four [| 0; 0 |] four [| false; false |] [| false; false |] four)
            throwsWith<ArgumentException> "expected 2 terminated flags" (call four [| 0; 0 |] two [| false |] [| false; false |] four)
            throwsWith<ArgumentException> "expected 2 truncated flags" (call four [| 0; 0 |] two [| false; false |] [||] four)
            throwsWith<ArgumentException> "expected 4 final observation values" (call four [| 0; 0 |] two [| false; false |] [| false; false |] two)
            Expect.equal memory.Count 2 "nothing stored by the bad steps"
            add memory [ (2f, 1f, Continues); (3f, 1f, Continues) ]
            let mutable random = EnvRandom 1UL
            throwsWith<ArgumentException> "the batch holds 3 rows of 2 values; sampling needs 4 of 2" (fun () -> memory.Sample(4, &random, ReplayBatch(3, size)))
        }

        test "sampling is deterministic with the seed and uniform over the sampleable transitions" {
            let fill () =
                let memory = ReplayBuffer(options 50 1 1 0.9)
                addOne memory [ for t in 0..59 -> float32 t, float32 t, Continues ]
                memory
            let a, b = fill (), fill ()
            Expect.equal (draw a 64 5UL).Indices (draw b 64 5UL).Indices "same seed, same batch"
            Expect.notEqual (draw a 64 5UL).Indices (draw a 64 6UL).Indices "another seed, another batch"
            // 10..58 are sampleable (59 waits for its next observation): 49 values, 1000 draws each expected.
            let counts = Array.zeroCreate 60
            for seed in 1UL .. 200UL do
                for o in (draw a 245 seed).Observations |> Array.chunkBySize size |> Array.map Array.head do
                    counts[int o] <- counts[int o] + 1
            Expect.equal (counts |> Array.indexed |> Array.filter (fun (_, c) -> c > 0) |> Array.map fst) [| 10..58 |] "exactly the sampleable transitions"
            let chiSquare = counts[10..58] |> Array.sumBy (fun c -> float (c - 1000) ** 2.0 / 1000.0)
            // 48 degrees of freedom: mean 48, sd ~9.8.
            Expect.isLessThan chiSquare 107.0 (sprintf "chi-square %.1f, counts %A" chiSquare counts[10..58])
        }

        test "sum tree: prefix-sum search equals a linear scan, sums follow updates, bad input is an error" {
            let mutable random = EnvRandom 3UL
            for _ in 1..300 do
                let capacity = 1 + random.NextInt 70
                let tree = SumTree capacity
                let values = Array.zeroCreate capacity
                // Whole-number values (exact sums), a third of them 0, each set twice.
                for _ in 1..2 do
                    for i in 0 .. capacity - 1 do
                        values[i] <- if random.NextInt 3 = 0 then 0.0 else float (1 + random.NextInt 20)
                        tree.Set(i, values[i])
                let total = Array.sum values
                Expect.equal tree.Total total "total"
                if total > 0.0 then
                    for _ in 1..20 do
                        let prefix = random.Uniform(0.0, total)
                        Expect.equal (tree.Find prefix) (linearFind values prefix) (sprintf "prefix %f of %A" prefix values)
                    let last = values |> Array.findIndexBack (fun v -> v > 0.0)
                    Expect.equal (tree.Find total) last "at the total: the last non-zero value"
            let tree = SumTree 3
            throwsWith<InvalidOperationException> "empty" (fun () -> tree.Find 0.0 |> ignore)
            throwsWith<ArgumentOutOfRangeException> "finite and >= 0, got -1" (fun () -> tree.Set(0, -1.0))
            throwsWith<ArgumentOutOfRangeException> "finite and >= 0, got NaN" (fun () -> tree.Set(0, nan))
            throwsWith<ArgumentOutOfRangeException> "index 3 is outside [0, 3)" (fun () -> tree.Set(3, 1.0))
            throwsWith<ArgumentOutOfRangeException> "at least one leaf" (fun () -> SumTree 0 |> ignore)
        }

        test "prioritized: stratified draws and weights on a hand-built case; new transitions get the largest priority" {
            let memory = PrioritizedReplayBuffer(options 10 1 1 0.9, alpha = 1.0, beta = 0.5, stratified = true)
            addOne memory [ 0f, 0f, Continues; 1f, 0f, Continues; 2f, 0f, Continues ]
            // Priority 1 each: the two segments [0, 1) and [1, 2) land on 0 and 1.
            let batch = draw memory 2 1UL
            Expect.equal (batch.Indices, batch.Weights) ([| 0; 1 |], [| 1f; 1f |]) "equal priorities"
            memory.UpdatePriorities(ReadOnlySpan [| 0; 1 |], ReadOnlySpan [| 3f; 1f |])
            // P = 3/4, 1/4; four segments of width 1: three land on 0. w = (2P)^-0.5 / max: sqrt(1/3) and 1.
            let batch = draw memory 4 1UL
            let third = float32 (sqrt (1.0 / 3.0))
            Expect.equal batch.Indices [| 0; 0; 0; 1 |] "indices"
            Expect.sequenceEqual batch.Weights [| third; third; third; 1f |] "weights"
            Expect.equal batch.Observations[6] 1f "index 1 holds observation 1"
            addOne memory [ 3f, 0f, Continues ]
            // 2 arrives with the largest priority, 3: masses 3, 1, 3; P = 3/7, 1/7, 3/7; w = (3P)^-0.5 / max.
            Expect.equal memory.MaxPriority 3.0 "max priority"
            let batch = draw memory 7 1UL
            Expect.equal batch.Indices [| 0; 0; 0; 1; 2; 2; 2 |] "indices"
            Expect.sequenceEqual batch.Weights [| third; third; third; 1f; third; third; third |] "weights"
        }

        test "prioritized: draw frequencies follow p^alpha; unsampleable transitions never come" {
            let memory = PrioritizedReplayBuffer(options 6 1 1 0.9, alpha = 0.7)
            addOne memory [ for t in 0..7 -> float32 t, 0f, Continues ]
            // Slots hold 6, 7, 2, 3, 4, 5: 2..6 sampleable, 7 waits.
            let slotOf o = int o % 6
            let priorities = [| 2f; 3f; 4f; 5f; 6f |]
            memory.UpdatePriorities(ReadOnlySpan [| for o in 2..6 -> slotOf o |], ReadOnlySpan priorities)
            let counts = Array.zeroCreate 8
            for seed in 1UL .. 400UL do
                for o in (draw memory 50 seed).Observations |> Array.chunkBySize size |> Array.map Array.head do
                    counts[int o] <- counts[int o] + 1
            Expect.equal counts[0..1] [| 0; 0 |] "evicted"
            Expect.equal counts[7] 0 "not sampleable yet"
            let masses = priorities |> Array.map (fun p -> float p ** 0.7)
            for i in 0..4 do
                let p = masses[i] / Array.sum masses
                let expectedCount = 20000.0 * p
                Expect.isLessThan (abs (float counts[i + 2] - expectedCount)) (5.0 * sqrt (expectedCount * (1.0 - p))) (sprintf "counts %A" counts)
            throwsWith<ArgumentOutOfRangeException> "finite and > 0, got 0 at position 1" (fun () -> memory.UpdatePriorities(ReadOnlySpan [| 2; 3 |], ReadOnlySpan [| 1f; 0f |]))
            throwsWith<ArgumentOutOfRangeException> "finite and > 0, got NaN" (fun () -> memory.UpdatePriorities(ReadOnlySpan [| 2 |], ReadOnlySpan [| nanf |]))
            throwsWith<ArgumentOutOfRangeException> "finite and > 0, got -1" (fun () -> memory.UpdatePriorities(ReadOnlySpan [| 2 |], ReadOnlySpan [| -1f |]))
            throwsWith<ArgumentOutOfRangeException> "finite and > 0, got Infinity" (fun () -> memory.UpdatePriorities(ReadOnlySpan [| 2 |], ReadOnlySpan [| infinityf |]))
            throwsWith<ArgumentOutOfRangeException> "index 6 is outside [0, 6)" (fun () -> memory.UpdatePriorities(ReadOnlySpan [| 6 |], ReadOnlySpan [| 1f |]))
            throwsWith<ArgumentException> "one priority per index" (fun () -> memory.UpdatePriorities(ReadOnlySpan [| 2 |], ReadOnlySpan [| 1f; 1f |]))
            throwsWith<ArgumentOutOfRangeException> "beta must be in [0, 1], got 2" (fun () -> memory.Beta <- 2.0)
            // An update for a slot that is not sampleable (7 waits) changes nothing.
            memory.UpdatePriorities(ReadOnlySpan [| slotOf 7 |], ReadOnlySpan [| 100f |])
            Expect.equal memory.MaxPriority 6.0 "ignored"
        }
    ]
