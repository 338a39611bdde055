/// What a run takes from outside its config, checked before anything is written: the device it trains on
/// and the dataset an offline run learns from. `train`, `sweep` and `bench` share these.
module Prunerl.Cli.RunInputs

open System.IO
open Prunerl.Experiments
open Prunerl.Agents.Checkpoints
open Prunerl.Agents.Runtime
open Prunerl.Agents.Training
open Prunerl.Cli.UserError

/// The device for a run config's choice, loading torch to look for CUDA (the CPU needs no look); a one-line
/// error when CUDA is asked for and this build or machine has none.
let resolveDevice (request: DeviceKind) : TorchSharp.torch.Device =
    if request <> DeviceKind.Cpu then
        match TorchRuntime.TryLoad() with
        | false, error -> raise (UserError error)
        | true, _ -> ()
    match TorchRuntime.Resolve request with
    | null, error -> raise (UserError error)
    | device, _ -> device

/// The field values with a dataset path made absolute, so that a run's config names its dataset
/// wherever it is resumed from (a sweep's runs start in other folders).
let absoluteDataset (values: (string * FieldValue) list) : (string * FieldValue) list =
    values
    |> List.map (fun (name, value) ->
        match name, value with
        | "dataset", Text path when path.Trim() <> "" -> name, Text(Path.GetFullPath path)
        | _ -> name, value)

/// Checks an offline run's dataset before any work: it must be a dataset file, whole (every checksum
/// right), recorded on the run's environment with its observations and actions. A one-line error otherwise.
let checkDataset (c: RunConfig) =
    match c.Dataset with
    | Some path when RunConfig.isOffline c.Agent ->
        if not (File.Exists path) then raise (UserError(sprintf "dataset: %s does not exist (train a DQN-family run with --record-dataset true to record one)" path))
        let environment = Prunerl.Agents.Envs.EnvironmentRegistry.Create c.Env
        let actions =
            match environment.ActionSpace with
            | :? Prunerl.Agents.Envs.DiscreteSpace as discrete -> discrete.Count
            | space -> raise (UserError(sprintf "dataset: env %s has %O actions; datasets hold discrete ones" c.Env space))
        try (Dataset.Read path).CheckRecordedOn(c.Env, environment.ObservationSpace.Shape, actions)
        with :? CheckpointException as e -> raise (UserError("dataset: " + e.Message))
    | _ -> ()
