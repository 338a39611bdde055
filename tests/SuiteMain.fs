/// Runs one Expecto suite and ends with its counts on a line of their own, which test.sh adds up:
/// `<suite>: N passed, N failed` (errored tests count as failed).
module Prunerl.Testing.SuiteMain

open Expecto
open Expecto.Impl

let run (suite: string) (argv: string[]) (tests: Test) : int =
    let report (summary: TestRunSummary) =
        let failed = summary.failed.Length + summary.errored.Length
        // On a line of its own: Expecto's logger may leave the cursor mid-line.
        printfn "\n%s: %d passed, %d failed" suite summary.passed.Length failed
    runTestsWithCLIArgs [ CLIArguments.Append_Summary_Handler(SummaryHandler report) ] argv tests
