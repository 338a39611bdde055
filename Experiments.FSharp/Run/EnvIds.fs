namespace Prunerl.Experiments

open System

/// Gymnasium-style environment ids accepted for prunerl's own (CartPole-v1 for cartpole,
/// MinAtar/Breakout-v0 for minatar/breakout), so a command copied from a CleanRL or Stable-Baselines3
/// script works. Only ids registered for the same task as prunerl's are aliases.
[<RequireQualifiedAccess>]
module EnvIds =

    /// Each alias with prunerl's id. Sources: Gymnasium's registry (gymnasium/envs/__init__.py: CartPole-v1,
    /// Acrobot-v1, MountainCar-v0, Pendulum-v1, and the MuJoCo v4 tasks, which MujocoSuite implements);
    /// MinAtar's (minatar/gym.py, register_envs: "MinAtar/<Game>-v0" plays all six actions, as prunerl
    /// does by default).
    let aliases : (string * string) list =
        [ "CartPole-v1", "cartpole"
          "Acrobot-v1", "acrobot"
          "MountainCar-v0", "mountaincar"
          "Pendulum-v1", "pendulum"
          "MinAtar/Asterix-v0", "minatar/asterix"
          "MinAtar/Breakout-v0", "minatar/breakout"
          "MinAtar/Freeway-v0", "minatar/freeway"
          "MinAtar/Seaquest-v0", "minatar/seaquest"
          "MinAtar/SpaceInvaders-v0", "minatar/space_invaders"
          "HalfCheetah-v4", "mujoco/halfcheetah"
          "Hopper-v4", "mujoco/hopper"
          "Walker2d-v4", "mujoco/walker2d" ]

    /// MinAtar's "-v1" registrations play the game's minimal action set (minatar/gym.py,
    /// use_minimal_action_set=True), which prunerl's MinAtar games do not: refused with the id to use.
    let private minimalActionSet (id: string) =
        aliases
        |> List.tryFind (fun (alias, _) -> alias.EndsWith "-v0" && alias.StartsWith "MinAtar/" && String.Equals(alias.Substring(0, alias.Length - 3) + "-v1", id, StringComparison.OrdinalIgnoreCase))
        |> Option.map snd

    /// prunerl's id for an environment id: an alias's target (case ignored), any other id unchanged (the
    /// registry checks it); an error for MinAtar's minimal-action-set ids.
    let canonical (id: string) : Result<string, string> =
        match aliases |> List.tryFind (fun (alias, _) -> String.Equals(alias, id.Trim(), StringComparison.OrdinalIgnoreCase)) with
        | Some(_, target) -> Ok target
        | None ->
            match minimalActionSet (id.Trim()) with
            | Some target ->
                Error(sprintf "env: %s is MinAtar's registration with the minimal action set, which prunerl does not play; %s (or %s-v0) plays all six actions" id target (id.Trim().Substring(0, id.Trim().Length - 3)))
            | None -> Ok id
