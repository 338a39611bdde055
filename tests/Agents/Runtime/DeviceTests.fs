/// Training on a device, checked on the CPU (no GPU here or in CI): the device plumbing on the CPU is
/// today's run bit for bit; the torch-op optimizer path a GPU takes matches the fused CPU loop over whole
/// pruned runs; `--device cuda` without CUDA is refused before anything is written, and `auto` records cpu.
module Prunerl.Tests.DeviceTests

open System
open System.IO
open System.Text.Json
open Expecto
open TorchSharp
open Prunerl.Core
open Prunerl.Experiments
open Prunerl.Agents.Agents
open Prunerl.Agents.Checkpoints
open Prunerl.Agents.Networks
open Prunerl.Agents.Runtime
open Prunerl.Agents.Training
open Prunerl.Tests.Processes
open Prunerl.Tests.CliTests

let private scratch () = Fixtures.scratchPath "device"

let private cleanUp = Fixtures.cleanUp

let private network = NetworkSpec(NetworkKind.Mlp, MlpHidden = [| 64; 64 |])

/// A short CartPole DQN pruned to 90% (ERK) between 10% and 60% of its updates, masks every 50 updates.
let private prunedCartpole (optimizer: OptimizerConfig) =
    let pruning =
        PruningRequest(
            { Schedule.paperSpec 0.9 with PruneStart = StepPoint.Fraction 0.1; PruneEnd = StepPoint.Fraction 0.6; PruneEvery = 50L },
            LayerWise(Erk 1.0), Sparsity.paperScope)
    RunSpec("cartpole", DqnFamily({ AgentConfig.cartpoleDqn with MinReplay = 300L; Optimizer = optimizer }, 1000L), network,
            2500L, 3L, pruning, 1, 1000L, 2)

/// Runs the spec on the device (null: none given) with a checkpoint at its end in `directory`, its
/// optimizer steps in torch ops or not, and returns the result.
let private runTo (spec: RunSpec) (directory: string) (device: torch.Device) (torchOps: bool) =
    TrainingRun.Run(spec, RunHooks(Checkpoints = CheckpointPolicy(directory, Int64.MaxValue), Device = device, TorchOpsOnly = torchOps))

/// The agent a run's last checkpoint in `directory` holds, loaded into a fresh one of the spec.
let private agentOf (spec: RunSpec) (directory: string) =
    let agent = new DqnAgent((spec.Family :?> DqnFamily).Agent, spec.Network, [| 4 |], 2, RunPruning.Setup(spec.Pruning, spec.TotalUpdates, spec.Seed), spec.Seed)
    use file = CheckpointFile.Open(Path.Combine(directory, CheckpointFile.LatestName))
    file.Read("agent", fun reader -> agent.Load reader)
    agent

/// max |a - b| / max(max |b|, 1e-12) over two tensors of one shape.
let private relativeError (a: torch.Tensor) (b: torch.Tensor) =
    use scope = torch.NewDisposeScope()
    (a - b).abs().max().item<float32> () / max (b.abs().max().item<float32> ()) 1e-12f |> float

let private cudaHere () = torch.cuda.is_available ()

[<Tests>]
let tests =
    testSequenced <| testList "devices" [
        test "on the CPU the device helpers copy nothing, and a run given the CPU device is bit for bit a run given none" {
            torch.set_num_threads 1
            use t = torch.ones(3L)
            Expect.isTrue (obj.ReferenceEquals(t.ToDevice torch.CPU, t)) "to the CPU: the tensor itself"
            Expect.isTrue (obj.ReferenceEquals(t.ToDevice null, t)) "to no device: the tensor itself"
            Expect.isTrue (obj.ReferenceEquals(t.ToHost(), t)) "to the host from the CPU: the tensor itself"
            let spec = prunedCartpole (Adam(2.3e-3, 1e-8))
            let none, cpu = scratch (), scratch ()
            try
                let a = runTo spec none null false
                let b = runTo spec cpu torch.CPU false
                Expect.equal (List.ofSeq b.Episodes) (List.ofSeq a.Episodes) "the same episodes"
                use first = CheckpointFile.Open(Path.Combine(none, CheckpointFile.LatestName))
                use second = CheckpointFile.Open(Path.Combine(cpu, CheckpointFile.LatestName))
                for name in first.Sections do
                    Expect.isTrue (first.ReadRaw name = second.ReadRaw name) (sprintf "section '%s' is bit for bit the same" name)
            finally
                cleanUp [ none; cpu ]
        }

        // The two paths round a few entries per step differently (torch's kernels contract some multiply-adds
        // the fused loop does not; <= 1e-6 per step). Training dynamics amplify that: with CartPole's Adam
        // rate 2.3e-3 the weights ended 3e-3 apart (max, relative) after this run, with the same episodes;
        // with the DQN rates here (Dopamine's Adam, MinAtar's RMSProp) they stay within 1e-5.
        test "a whole pruned run stepping its optimizer with torch ops (as on a GPU) matches the fused CPU run, pruned weights and state exactly zero" {
            torch.set_num_threads 1
            for name, optimizer in [ "adam", Adam(6.25e-5, 1.5e-4); "centered rmsprop", RmsProp(2.5e-4, 0.95, 0.01, true) ] do
                let spec = prunedCartpole optimizer
                let fusedDirectory, opsDirectory = scratch (), scratch ()
                try
                    let fused = runTo spec fusedDirectory null false
                    let ops = runTo spec opsDirectory null true
                    Expect.equal ops.Updates fused.Updates (name + ": the same updates")
                    Expect.equal (List.ofSeq ops.Episodes) (List.ofSeq fused.Episodes) (name + ": the same episodes")
                    Expect.equal [ for p in ops.Parameters -> p.Name, p.NonZero ] [ for p in fused.Parameters -> p.Name, p.NonZero ] (name + ": the same non-zeros")
                    use fusedAgent = agentOf spec fusedDirectory
                    use opsAgent = agentOf spec opsDirectory
                    let values (agent: DqnAgent) = agent.Optimizer.Parameters.Values
                    Expect.isLessThanOrEqual (relativeError (values opsAgent) (values fusedAgent)) 1e-4 (name + ": weights")
                    for o, f in Seq.zip opsAgent.Optimizer.State fusedAgent.Optimizer.State do
                        Expect.isLessThanOrEqual (relativeError o f) 1e-4 (name + ": optimizer state")
                    Expect.isTrue (opsAgent.Pruner.StepMask.eq(fusedAgent.Pruner.StepMask).all().item<bool> ()) (name + ": the same masks")
                    for agent, form in [ fusedAgent, "fused"; opsAgent, "torch ops" ] do
                        use scope = torch.NewDisposeScope()
                        let pruned = agent.Pruner.StepMask.eq(torch.tensor 0uy)
                        let prunedCount = pruned.sum().item<int64> ()
                        let lastMaskUpdate = Schedule.updateSteps agent.Pruner.Plan.Schedule |> Seq.filter (fun s -> s < agent.Updates) |> Seq.last
                        let planned = Plan.at agent.Pruner.Plan lastMaskUpdate
                        Expect.equal prunedCount (planned.PrunableSize - planned.PrunableKept) (sprintf "%s, %s: the plan's pruned count" name form)
                        for tensor in Seq.append [ values agent ] agent.Optimizer.State do
                            Expect.equal (tensor.masked_select(pruned).count_nonzero().item<int64> ()) 0L (sprintf "%s, %s: pruned entries exactly zero" name form)
                finally
                    cleanUp [ fusedDirectory; opsDirectory ]
        }

        test "train --device cuda without CUDA: one line naming the device and why, exit code 2, nothing written" {
            if cudaHere () then skiptest "CUDA is available here"
            let out = scratch ()
            try
                prunerl [ "train"; "--device"; "cuda"; "--steps"; "1500"; "--out"; out ]
                |> expectOneLineError "device: cuda is not available here (this build uses the CPU libtorch; build with -p:TorchBackend=cuda"
                Expect.isFalse (Directory.Exists out || File.Exists out) "nothing written"
                prunerl [ "bench"; "update"; "--device"; "cuda" ] |> expectOneLineError "device: cuda is not available here"
            finally
                cleanUp [ out ]
        }

        test "train --device auto trains on the CPU here, says so, and status.json records cpu" {
            if cudaHere () then skiptest "CUDA is available here"
            let out = scratch ()
            try
                let r = prunerl [ "train"; "--device"; "auto"; "--steps"; "1200"; "--eval-every"; "0"; "--out"; out ]
                Expect.equal r.ExitCode 0 (describe r)
                Expect.stringContains r.Output "on cpu," "the summary names the device"
                use status = JsonDocument.Parse(File.ReadAllText(Path.Combine(out, "status.json")))
                Expect.equal (status.RootElement.GetProperty("device").GetString()) "cpu" "status.json records the device"
                use config = JsonDocument.Parse(File.ReadAllText(Path.Combine(out, "config.json")))
                Expect.equal (config.RootElement.GetProperty("device").GetString()) "auto" "config.json keeps the request"
                let dry = prunerl [ "train"; "--device"; "auto"; "--dry-run" ]
                Expect.stringContains dry.Output "Trains on: cpu (device auto)" "a dry run says where the run would train"
            finally
                cleanUp [ out ]
        }
    ]

