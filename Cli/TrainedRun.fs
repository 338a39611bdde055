/// A finished run's trained network, as `evaluate` and `export` take it: its folder checked (a run, finished,
/// with its final network), the network built with the run's shape from config.json, its weights loaded.
module Prunerl.Cli.TrainedRun

open System.IO
open Prunerl.Core
open Prunerl.Experiments
open Prunerl.Agents.Envs
open Prunerl.Agents.Inference
open Prunerl.Cli.UserError

/// A finished run opened for use: its config, an environment of its task (its spaces), and its policy with the run's weights.
type TrainedRun =
    { Folder: string
      Config: RunConfig
      Environment: Environment
      Policy: TrainedPolicy }

/// The policy of a run's family with the run's shape: the DQN family's epsilon-greedy value network (epsilon the
/// run's epsilon_eval unless given), SAC's deterministic actor; one-line errors for what does not apply.
let policyFor (command: string) (c: RunConfig) (environment: Environment) (epsilon: float option) : TrainedPolicy =
    match c.Agent, environment.ActionSpace with
    | AgentKind.Sac, (:? BoxSpace as box) ->
        if epsilon.IsSome then raise (UserError(sprintf "%s: --epsilon applies to the DQN family; a SAC run is evaluated with its deterministic policy, tanh of the actor's mean" command))
        new ActorPolicy(Prunerl.Agents.Training.TrainingRun.Network c, environment.ObservationSpace.Size, box)
    | _, (:? DiscreteSpace as discrete) ->
        let epsilon = epsilon |> Option.defaultValue c.Hyperparameters.EpsilonEval
        if not (epsilon >= 0.0 && epsilon <= 1.0) then raise (UserError(sprintf "%s: epsilon must be in [0, 1], got %s" command (Validate.show epsilon)))
        new QPolicy(c.Hyperparameters, Prunerl.Agents.Training.TrainingRun.Network c, environment.ObservationSpace.Shape, discrete.Count, epsilon)
    | agent, space -> raise (UserError(sprintf "%s: agent %s cannot act in %s's %O actions" command (Choices.nameIn Choices.agents agent) c.Env space))

/// Opens the finished run in `run` for `command`, or fails with one line: a folder that is missing, holds no run,
/// holds a run that has not finished, or lacks its final network (or holds another network's).
let openRun (command: string) (run: string) (epsilon: float option) : TrainedRun =
    if File.Exists run then raise (UserError(sprintf "%s: %s is a file; give a run's folder (train --out DIR)" command run))
    if not (Directory.Exists run) then raise (UserError(sprintf "%s: %s does not exist; give a finished run's folder (train --out DIR)" command run))
    let config =
        match RunFolder.tryReadConfig run with
        | Some c -> c
        | None -> raise (UserError(sprintf "%s: %s holds no config.json, so it is not a run's folder (train --out DIR makes one)" command run))
    match RunFolder.tryReadStatus run with
    | Some s when s.State = RunState.Finished -> ()
    | Some s ->
        raise (UserError(sprintf "%s: the run in %s has not finished (%s at step %d of %d); finish it first (train --out %s --resume)"
                             command run (RunFormat.stateName s.State) s.Step s.TotalSteps run))
    | None -> raise (UserError(sprintf "%s: the run in %s has not started (no status.json)" command run))
    let path = RunFolder.networkPath run
    if not (File.Exists path) then
        raise (UserError(sprintf "%s: %s holds no %s: the run finished before runs kept their final network; train it again to use it" command run NetworkFile.RunFileName))
    match Prunerl.Agents.Runtime.TorchRuntime.TryLoad() with
    | false, error -> raise (UserError error)
    | true, _ -> ()
    let environment = createEnvironment config.Env
    let policy = policyFor command config environment epsilon
    try policy.Load path
    with :? InvalidDataException as e ->
        policy.Dispose()
        raise (UserError(sprintf "%s: %s" command (e.Message.Split('\n').[0])))
    { Folder = run; Config = config; Environment = environment; Policy = policy }
