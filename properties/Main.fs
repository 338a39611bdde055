module Prunerl.Properties.Main

open System.Reflection

/// The suites are the modules' `[<Tests>]` values, found in this assembly.
[<EntryPoint>]
let main argv =
    Prunerl.Testing.SuiteMain.run "properties" argv (Prunerl.Testing.SuiteMain.discover "properties" (Assembly.GetExecutingAssembly()))
