/// The lottery ticket end to end (issue 18): a gmp pruned run records its initial weights, the weights at its rewind
/// step and its final masks in its ticket file (SAC's actor and critics each), and a lottery run of that ticket starts
/// from exactly those weights under exactly those masks, which stay fixed while it trains.
module Prunerl.Tests.LotteryTicketTests

open System.IO
open Expecto
open Prunerl.Experiments
open Prunerl.Agents.Agents
open Prunerl.Agents.Pruning
open Prunerl.Agents.Training

/// A small pruned CartPole DQN (90%, ERK, masks every 50 updates between 10% and 50% of its updates), with more fields.
let private cartpole (more: (string * FieldValue) list) =
    Fixtures.runOf (
        [ "env", Text "cartpole"; "mlp_hidden", Text "32,32"; "min_replay", Number 200.0; "sparsity", Number 0.9; "prune_start", Number 0.1
          "prune_end", Number 0.5; "prune_every", Number 50.0; "steps", Number 1000.0; "eval_every", Number 0.0; "analyse_every", Number 0.0
          "checkpoint_every", Number 0.0; "seed", Number 3.0 ]
        @ more)

/// The agent a spec's run starts with (its pruning set up as the run sets it up).
let private agentOf (spec: RunSpec) =
    new DqnAgent((spec.Family :?> DqnFamily).Agent, spec.Network, [| 4 |], 2, RunPruning.Setup(spec.Pruning, spec.TotalUpdates, spec.Seed), spec.Seed)

let private flat (t: TorchSharp.torch.Tensor) = t.detach().flatten().cpu().data<float32>().ToArray()

[<Tests>]
let tests =
    testSequenced <| testList "lottery ticket" [
        test "a gmp run's ticket holds its initial weights, those at its rewind step and its final masks; a lottery run starts from exactly them" {
            TorchSharp.torch.set_num_threads 1
            let folder = Fixtures.scratchPath "ticket"
            Directory.CreateDirectory folder |> ignore
            try
                let gmp = cartpole [ "rewind_step", Number 100.0 ]
                let result = TrainingRun.Run(gmp, RunHooks(Ticket = Path.Combine(folder, RunFormat.TicketFile)))
                let recorded = TicketFile.Read(Path.Combine(folder, RunFormat.TicketFile)) |> Seq.exactlyOne
                Expect.equal recorded.Name "online" "the online network"
                Expect.equal recorded.RewoundAt 100L "rewound at update 100"
                // The initial weights are those a dense agent of the same seed starts with.
                use dense = new DqnAgent((gmp.Family :?> DqnFamily).Agent, gmp.Network, [| 4 |], 2, null, gmp.Seed)
                Expect.equal recorded.Initial (flat dense.Optimizer.Parameters.Values) "the initial weights"
                Expect.notEqual (Option.ofObj recorded.Rewound) (Some recorded.Initial) "the rewound weights moved"
                // The final masks keep what the run's final network keeps, parameter by parameter.
                let mutable offset = 0
                for (name, length), p in Seq.zip recorded.Parameters result.Parameters do
                    let kept = recorded.Mask[offset .. offset + int length - 1] |> Array.filter id |> Array.length
                    Expect.equal (int64 kept) (if p.Pruned then p.NonZero else p.Size) (sprintf "%s: the mask keeps the final network's weights" name)
                    offset <- offset + int length
                for rewind, start in [ 0L, recorded.Initial; 100L, recorded.Rewound ] do
                    let lottery = cartpole [ "method", Text "lottery"; "ticket", Text folder; "rewind_step", Number(float rewind) ]
                    use agent = agentOf lottery
                    let masks = (agent.Optimizer.Policy :?> SparseMaskPolicy).Masks() |> Array.concat
                    Expect.equal masks recorded.Mask (sprintf "rewind %d: exactly the final masks" rewind)
                    let expected = Array.map2 (fun keep (w: float32) -> if keep then w else 0.0f) recorded.Mask start
                    Expect.equal (flat agent.Optimizer.Parameters.Values) expected (sprintf "rewind %d: exactly the recorded weights under them" rewind)
                    Expect.equal (agent.Target.parameters() |> Seq.collect (fun p -> flat p) |> Array.ofSeq) expected "the target network too"
                // Trained, the lottery run keeps its masks: nothing pruned grows back.
                let trained = TrainingRun.Run(cartpole [ "method", Text "lottery"; "ticket", Text folder ], RunHooks())
                let mutable offset = 0
                for (name, length), p in Seq.zip recorded.Parameters trained.Parameters do
                    let kept = recorded.Mask[offset .. offset + int length - 1] |> Array.filter id |> Array.length
                    Expect.isLessThanOrEqual p.NonZero (int64 kept) (sprintf "%s: within the mask after training" name)
                    offset <- offset + int length
            finally
                Fixtures.cleanUp [ folder ]
        }

        test "SAC's ticket holds its actor and critics; its lottery run starts each from exactly its weights under its masks" {
            TorchSharp.torch.set_num_threads 1
            let folder = Fixtures.scratchPath "ticket-sac"
            Directory.CreateDirectory folder |> ignore
            try
                let sac (more: (string * FieldValue) list) =
                    Fixtures.runOf (
                        [ "agent", Text "sac"; "env", Text "pendulum"; "mlp_hidden", Text "32,32"; "min_replay", Number 200.0; "sparsity", Number 0.9
                          "prune_start", Number 0.1; "prune_end", Number 0.5; "prune_every", Number 50.0; "steps", Number 600.0; "eval_every", Number 0.0
                          "checkpoint_every", Number 0.0; "seed", Number 2.0 ]
                        @ more)
                TrainingRun.Run(sac [], RunHooks(Ticket = Path.Combine(folder, RunFormat.TicketFile))) |> ignore
                let recorded = TicketFile.Read(Path.Combine(folder, RunFormat.TicketFile)) |> List.ofSeq
                Expect.equal (recorded |> List.map (fun n -> n.Name)) [ "actor"; "critics" ] "the actor and the critics"
                let lottery = sac [ "method", Text "lottery"; "ticket", Text folder ]
                let environment = Prunerl.Agents.Envs.EnvironmentRegistry.Create "pendulum"
                use agent =
                    new SacAgent((lottery.Family :?> SacFamily).Agent, lottery.Network, environment.ObservationSpace.Size,
                                 environment.ActionSpace :?> Prunerl.Agents.Envs.BoxSpace, RunPruning.Setup(lottery.Pruning, lottery.TotalUpdates, lottery.Seed), lottery.Seed)
                for network, optimizer in List.zip recorded [ agent.ActorOptimizer; agent.CriticOptimizer ] do
                    let masks = (optimizer.Policy :?> SparseMaskPolicy).Masks() |> Array.concat
                    Expect.equal masks network.Mask (network.Name + ": exactly the final masks")
                    let expected = Array.map2 (fun keep (w: float32) -> if keep then w else 0.0f) network.Mask network.Initial
                    Expect.equal (flat optimizer.Parameters.Values) expected (network.Name + ": exactly the initial weights under them")
            finally
                Fixtures.cleanUp [ folder ]
        }

        test "a rewind step the gmp run did not record, or a file that is no ticket, is a one-line error" {
            let folder = Fixtures.scratchPath "ticket-bad"
            Directory.CreateDirectory folder |> ignore
            try
                let path = Path.Combine(folder, RunFormat.TicketFile)
                TrainingRun.Run(cartpole [ "steps", Number 400.0 ], RunHooks(Ticket = path)) |> ignore
                let tickets, error = TicketFile.TryTickets(path, 50L)
                Expect.isNull tickets "no ticket"
                Expect.stringContains error "the run recorded no weights at step 50 (it recorded steps: 0)" "names the steps recorded"
                File.WriteAllText(path, "not a ticket")
                let tickets, error = TicketFile.TryTickets(path, 0L)
                Expect.isNull tickets "no ticket"
                Expect.isFalse (error.Contains '\n') "one line"
            finally
                Fixtures.cleanUp [ folder ]
        }
    ]
