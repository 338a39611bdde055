/// Agent presets and exploration schedules, pinned by hand.
module Prunerl.Tests.AgentConfigTests

open Expecto
open Prunerl.Core

let tests =
    testList "agent configuration" [
        test "Dopamine's epsilon: 1 through the warm-up, linear to 0.01 over 250k steps, then 0.01" {
            let epsilon = Exploration.epsilon 250_000L 20_000L 0.01
            Expect.equal (epsilon 0L) 1.0 "during the warm-up"
            Expect.equal (epsilon 20_000L) 1.0 "at the end of the warm-up"
            // Half way through the decay: 0.01 + 0.99 * 125k / 250k.
            Expect.floatClose Accuracy.veryHigh (epsilon 145_000L) 0.505 "half way"
            Expect.floatClose Accuracy.veryHigh (epsilon 270_000L) 0.01 "at the end of the decay"
            Expect.floatClose Accuracy.veryHigh (epsilon 10_000_000L) 0.01 "afterwards"
        }

        test "prioritized replay's beta rises to 1, or holds when there is no annealing" {
            Expect.equal (Exploration.beta 0.4 1000L 0L) 0.4 "start"
            Expect.floatClose Accuracy.veryHigh (Exploration.beta 0.4 1000L 500L) 0.7 "half way"
            Expect.equal (Exploration.beta 0.4 1000L 5000L) 1.0 "end"
            Expect.equal (Exploration.beta 0.5 0L 5000L) 0.5 "Dopamine's constant 0.5"
        }

        test "the presets are valid and say what Dopamine and MinAtar say" {
            for preset in [ AgentConfig.dopamineDqn; AgentConfig.dopamineRainbow; AgentConfig.minatarDqn; AgentConfig.cartpoleDqn ] do
                Expect.equal (AgentConfig.validate preset) (Ok preset) "valid"
            Expect.equal (AgentConfig.dopamineRainbow.Atoms, AgentConfig.dopamineRainbow.NStep) (51, 3) "Rainbow: C51, 3-step"
            Expect.equal AgentConfig.minatarDqn.Optimizer (RmsProp(2.5e-4, 0.95, 0.01, true)) "MinAtar's RMSProp"
            Expect.equal
                (AgentConfig.validate { AgentConfig.dopamineDqn with ReplayCapacity = 16 })
                (Error "replay_capacity must be >= batch_size (32), got 16")
                "capacity below the batch"
        }
    ]
