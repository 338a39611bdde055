/// What a run takes from outside its config, checked before anything is written: the device it trains on
/// and the dataset an offline run learns from. `train`, `sweep` and `bench` share these.
module Prunerl.Cli.RunInputs

open System.IO
open Prunerl.Experiments
open Prunerl.Agents.Checkpoints
open Prunerl.Agents.Runtime
open Prunerl.Agents.Training
open Prunerl.Agents.Pruning
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

/// The field values with a dataset path and a ticket folder made absolute, so that a run's config names
/// them wherever it is resumed from (a sweep's runs start in other folders).
let absolutePaths (values: (string * FieldValue) list) : (string * FieldValue) list =
    values
    |> List.map (fun (name, value) ->
        match name, value with
        | ("dataset" | "ticket"), Text path when path.Trim() <> "" -> name, Text(Path.GetFullPath path)
        | _ -> name, value)

/// The fields a lottery ticket must share with the run that retrains it: they decide the network's parameters
/// and the masks' targets.
let private ticketFields = [ "agent"; "env"; "network"; "mlp_hidden"; "width"; "width_scope"; "sparsity"; "distribution" ]

/// Checks a lottery run's ticket before any work: its folder must hold a finished gmp pruned run (its config.json)
/// of the same network and sparsity (ticketFields) and its ticket file, readable and holding the rewind step asked
/// for. A one-line error otherwise.
let checkTicket (c: RunConfig) =
    match c.Ticket with
    | Some folder when c.Method = Prunerl.Core.Lottery ->
        let file = Path.Combine(folder, RunFormat.TicketFile)
        let refuse (problem: string) = raise (UserError(sprintf "ticket: %s %s" folder problem))
        if not (Directory.Exists folder) then refuse "does not exist (give the folder of a finished gmp run: train --sparsity 0.95 --out DIR writes one)"
        let source =
            try RunFolder.tryReadConfig folder
            with UserError e -> refuse (sprintf "holds a config.json that cannot be read (%s)" e)
        match source with
        | None -> refuse "holds no config.json, so it is not a run's folder"
        | Some source ->
            if source.Method <> Prunerl.Core.GMP || source.Sparsity = 0.0 then
                refuse (sprintf "is a %s run; a ticket comes from a gmp pruned run (method gmp, sparsity > 0)" (if source.Sparsity = 0.0 then "dense" else "method " + Prunerl.Core.SparseMethod.name source.Method))
            let fields = RunFields.toFields source |> Map.ofList
            let own = RunFields.toFields c |> Map.ofList
            match ticketFields |> List.tryFind (fun name -> fields.TryFind name <> own.TryFind name) with
            | Some name ->
                let show (m: Map<string, FieldValue>) = m.TryFind name |> Option.map RunFields.describe |> Option.defaultValue "(none)"
                refuse (sprintf "was trained with %s %s, this run asks for %s; a ticket fits only the network and sparsity it was found with" name (show fields) (show own))
            | None -> ()
        if not (File.Exists file) then refuse (sprintf "holds no %s (a gmp pruned run writes it when it finishes)" RunFormat.TicketFile)
        let tickets, error = TicketFile.TryTickets(file, c.RewindStep)
        if isNull tickets then raise (UserError("ticket: " + string error))
    | _ -> ()

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
