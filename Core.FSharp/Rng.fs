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
