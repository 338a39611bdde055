namespace Prunerl.Core

open System
open System.Globalization

/// Parameter checks shared by the whole core. Every failure is a one-line message that names the
/// field (as the command line and config files spell it) and the allowed range, so a caller can
/// print it as it is.
module Validate =

    /// A number as people read it in a message (invariant culture, shortest round-trip form).
    let show (x: float) = x.ToString("R", CultureInfo.InvariantCulture)

    /// lo <= x <= hi, and x finite.
    let inClosed (field: string) (lo: float) (hi: float) (x: float) : Result<float, string> =
        if Double.IsFinite x && lo <= x && x <= hi then Ok x
        else Error(sprintf "%s must be in [%s, %s], got %s" field (show lo) (show hi) (show x))

    /// lo <= x < hi, and x finite.
    let inHalfOpen (field: string) (lo: float) (hi: float) (x: float) : Result<float, string> =
        if Double.IsFinite x && lo <= x && x < hi then Ok x
        else Error(sprintf "%s must be in [%s, %s), got %s" field (show lo) (show hi) (show x))

    /// 0 < x, and x finite.
    let positive (field: string) (x: float) : Result<float, string> =
        if Double.IsFinite x && x > 0.0 then Ok x
        else Error(sprintf "%s must be a finite number > 0, got %s" field (show x))

    /// lo <= n.
    let atLeast (field: string) (lo: int64) (n: int64) : Result<int64, string> =
        if n >= lo then Ok n else Error(sprintf "%s must be >= %d, got %d" field lo n)

    /// Sequencing of checks: the first failure wins.
    type ResultBuilder() =
        /// `let!`: continues with the value, or stops at the error.
        member _.Bind(r: Result<'a, 'e>, f: 'a -> Result<'b, 'e>) = Result.bind f r
        /// `return`: a success.
        member _.Return(x: 'a) : Result<'a, 'e> = Ok x
        /// `return!`: the result as it is.
        member _.ReturnFrom(r: Result<'a, 'e>) = r
        /// An `if` without `else`: success with nothing.
        member _.Zero() : Result<unit, 'e> = Ok()

    /// `result { let! x = check ... }`: validation that stops at the first error.
    let result = ResultBuilder()

    /// Runs f over the items in order and collects the results, stopping at the first error.
    let traverse (f: 'a -> Result<'b, 'e>) (items: 'a seq) : Result<'b list, 'e> =
        let folder acc item =
            match acc with
            | Error _ -> acc
            | Ok xs -> f item |> Result.map (fun x -> x :: xs)
        items |> Seq.fold folder (Ok []) |> Result.map List.rev
