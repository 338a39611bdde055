/// Runs one Expecto suite and ends with its counts on a line of their own, which test.sh adds up:
/// `<suite>: N passed, N failed` (errored tests count as failed).
module Prunerl.Testing.SuiteMain

open System.Reflection
open Expecto
open Expecto.Impl

/// Every `[<Tests>]` value of the suite's assembly (Expecto's discovery, so no list is kept by hand),
/// under one list named after the suite: a test's full name reads `<suite>.<list>.<test>`.
let discover (suite: string) (assembly: Assembly) : Test =
    testList suite (testFromAssembly assembly |> Option.toList)

/// Runs the suite with Expecto's command-line arguments and prints its counts last.
let run (suite: string) (argv: string[]) (tests: Test) : int =
    let report (summary: TestRunSummary) =
        let failed = summary.failed.Length + summary.errored.Length
        // On a line of its own: Expecto's logger may leave the cursor mid-line.
        printfn "\n%s: %d passed, %d failed" suite summary.passed.Length failed
    runTestsWithCLIArgs [ CLIArguments.Append_Summary_Handler(SummaryHandler report) ] argv tests
