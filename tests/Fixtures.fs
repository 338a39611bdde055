/// Inputs several test lists build the same way.
module Prunerl.Tests.Fixtures

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
