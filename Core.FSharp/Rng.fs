namespace Prunerl.Core

open System

/// A pure random stream (SplitMix64, Steele, Lea and Flood 2014): each draw returns the value and
/// the next state, so randomness in the core is an ordinary value threaded through, never a global.
[<Struct>]
type Rng = private { State: uint64 }

/// Drawing from a pure random stream.
[<RequireQualifiedAccess>]
module Rng =

    /// The stream for a seed.
    let create (seed: uint64) = { State = seed }

    /// A 64-bit value and the next state.
    let next (rng: Rng) : uint64 * Rng =
        let state = rng.State + 0x9E3779B97F4A7C15UL
        let z = (state ^^^ (state >>> 30)) * 0xBF58476D1CE4E5B9UL
        let z = (z ^^^ (z >>> 27)) * 0x94D049BB133111EBUL
        z ^^^ (z >>> 31), { State = state }

    /// A uniform integer in [0, n) (n >= 1), by rejection so that it has no modulo bias.
    let rec nextBelow (n: int) (rng: Rng) : int * Rng =
        let bound = uint64 (max 1 n)
        let value, rng = next rng
        let limit = UInt64.MaxValue - UInt64.MaxValue % bound
        if value < limit then int (value % bound), rng else nextBelow n rng

    /// The seed of sub-stream `index` of a seed: SplitMix64's output on seed XOR (0xD1B54A32D192ED03 * (index + 1)),
    /// the same derivation as the agents' Runtime.EnvRandom.Derive, so that a seed names a family of unrelated
    /// streams (a layer's, a step's) as jax.random.fold_in folds a step into a key (JaxPruner SET,
    /// sparse_trainers.py line 136: `jax.random.fold_in(self.rng_seed, sparse_state.count)`).
    let deriveSeed (seed: uint64) (index: int64) : uint64 =
        fst (next (create (seed ^^^ (0xD1B54A32D192ED03UL * uint64 (index + 1L)))))

    /// `count` distinct items of `items`, each subset of that size equally likely (a partial Fisher-Yates
    /// shuffle, Knuth vol. 2, 3.4.2, algorithm P stopped after `count` swaps), in ascending order; count is held
    /// within [0, items.Length]. The input is not changed.
    let sample (count: int) (items: int[]) (rng: Rng) : int[] * Rng =
        let pool = Array.copy items
        let count = Math.Clamp(count, 0, pool.Length)
        let mutable rng = rng
        for i in 0 .. count - 1 do
            let j, next = nextBelow (pool.Length - i) rng
            rng <- next
            let chosen = pool[i + j]
            pool[i + j] <- pool[i]
            pool[i] <- chosen
        let picked = Array.sub pool 0 count
        Array.sortInPlace picked
        picked, rng
