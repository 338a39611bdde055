module Prunerl.Tests.Main

open System.Reflection

/// The suites are the modules' `[<Tests>]` values, found in this assembly.
[<EntryPoint>]
let main argv =
    Prunerl.Testing.SuiteMain.run "tests" argv (Prunerl.Testing.SuiteMain.discover "tests" (Assembly.GetExecutingAssembly()))
