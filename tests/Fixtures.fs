/// Inputs several test lists build the same way.
module Prunerl.Tests.Fixtures

open System
open System.IO
open Prunerl.Agents.Envs
open Prunerl.Agents.Replay
open Prunerl.Agents.Runtime

/// Eight terminal transitions with return 1 between random CartPole-sized observations (actions
/// alternating 0 and 1): a batch whose targets an agent should fit quickly.
let terminalBatch (seed: uint64) =
    let batch = ReplayBatch(8, 4)
    let mutable random = EnvRandom seed
    for i in 0 .. 31 do
        batch.Observations[i] <- float32 (random.Uniform(-1.0, 1.0))
        batch.NextObservations[i] <- float32 (random.Uniform(-1.0, 1.0))
    for i in 0 .. 7 do
        batch.Actions[i] <- int64 (i % 2)
        batch.Returns[i] <- 1.0f
        batch.Discounts[i] <- 0.0f
        batch.Weights[i] <- 1.0f
    batch

/// A fresh temporary path for one test, `prunerl-<what>-<guid>` (not created).
let scratchPath (what: string) = Path.Combine(Path.GetTempPath(), sprintf "prunerl-%s-%s" what (Guid.NewGuid().ToString("N")))

/// Deletes a test's directories whatever happened.
let cleanUp (directories: string list) =
    for d in directories do
        if Directory.Exists d then Directory.Delete(d, true)

/// The run `prunerl train` resolves from these field values (the environment family's defaults under them),
/// made a training run by the factory: its fingerprint is its config's, as a run of the command line's.
let runOf (values: (string * Prunerl.Experiments.FieldValue) list) : Prunerl.Agents.Training.RunSpec =
    match Prunerl.Experiments.Resolution.resolve Prunerl.Agents.Training.TrainingRun.Environments values with
    | Ok config -> Prunerl.Agents.Training.TrainingRun.For config
    | Error e -> failwithf "resolve: %s" e
