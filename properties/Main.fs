module Prunerl.Properties.Main

open Expecto

let all =
    testList "properties" [
        ScheduleProperties.tests
        SparsityProperties.tests
        MaskProperties.tests
        ValidationProperties.tests
        ValidationProperties.agentTests
        RunConfigProperties.tests
        SlurmProperties.tests
        MetricProperties.tests
        AggregateProperties.tests
        ReportProperties.tests
        TensorMaskProperties.tests
        SparseTrainingProperties.tests
    ]

[<EntryPoint>]
let main argv = Prunerl.Testing.SuiteMain.run "properties" argv all
