namespace Prunerl.Experiments

open System
open Prunerl.Core
open Prunerl.Core.Validate

/// A run from the field values a file and flags give: applied over the presets, then validated.
[<RequireQualifiedAccess>]
module Resolution =

    /// A run from field values as a file and flags give them, applied in order over the defaults of
    /// the environment, agent, preset and baseline they name (dqn when they name none; cartpole when they
    /// name no env, pendulum for sac; the agent's default preset; no baseline), then validated.
    let resolve (environments: EnvironmentInfo list) (values: (string * FieldValue) list) : Result<RunConfig, string> =
        let last name = values |> List.rev |> List.tryFind (fun (n, _) -> n = name) |> Option.map snd
        result {
            let! agent =
                match last "agent" with
                | Some v -> RunFields.choice "agent" Choices.agents v
                | None -> Ok AgentKind.Dqn
            let env =
                match last "env" with
                | Some(Text s) -> EnvIds.canonical s |> Result.defaultValue s
                | _ -> if agent = AgentKind.Sac then "pendulum" else "cartpole"
            let! preset =
                match last "preset" with
                | Some v -> RunFields.choice "preset" Choices.presets v
                | None -> Ok(Presets.defaultPreset env agent)
            let! baseline =
                match last "baseline" with
                | Some v -> RunFields.choice "baseline" Choices.baselines v
                | None -> Ok BaselineKind.None
            do! RunFields.checkApplies agent (values |> List.map fst)
            let! config = RunFields.apply values (Presets.defaultsOf env agent preset baseline)
            return! RunValidation.validate environments config
        }

    /// Whether asked-for values agree with a run's config (device excepted: a resumed run may move);
    /// the first that does not is the error, naming the field, the run's value and the asked-for one.
    let agrees (run: RunConfig) (values: (string * FieldValue) list) : Result<unit, string> =
        values
        |> traverse (fun (name, value) ->
            if name = "device" then Ok()
            else
                result {
                    do! RunFields.checkApplies run.Agent [ name ]
                    let! f = RunFields.field name
                    let! changed = f.Write value run
                    return!
                        if changed = run then Ok()
                        else Error(sprintf "%s: the run holds %s, asked for %s; a resumed run keeps its configuration" name (RunFields.describe (f.Read run)) (RunFields.describe value))
                })
        |> Result.map ignore
