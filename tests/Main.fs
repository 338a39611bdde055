module Prunerl.Tests.Main

open Expecto

let all =
    testList "tests" [
        ScheduleTests.tests
        SparsityTests.tests
        MetricTests.tests
        AgentConfigTests.tests
        ProtocolTests.tests
        TorchTests.tests
        TrainingTests.tests
        NetworkTests.tests
        ValueTargetTests.tests
        AnalysisTests.tests
        BaselineTests.tests
        LearningTests.tests
        MetricsLogTests.tests
        EnvironmentCoreTests.tests
        MinAtarBreakoutFreewayAsterixTests.tests
        MinAtarSeaquestSpaceInvadersTests.tests
        ClassicControlTests.tests
        MujocoTests.tests
        NativeFixTests.tests
        BuildTests.tests
        CliTests.tests
        RunCommandTests.tests
        FamilyCliTests.tests
        SlurmSweepTests.tests
        ScheduleCommandTests.tests
        ReportTests.tests
        ArchitectureTests.tests
        ApiTests.tests
        CSharpFacadeTests.tests
        SamplesTests.tests
        ReplayTests.tests
        CheckpointTests.tests
        RunRecordsTests.tests
        SacTests.tests
        SlurmTests.tests
        OfflineTests.tests
        SampleEfficientTests.tests
        DeviceTests.tests
        ScalarLifetimeTests.tests
        InferenceTests.tests
        UseTrainedCliTests.tests
    ]

[<EntryPoint>]
let main argv = Prunerl.Testing.SuiteMain.run "tests" argv all
