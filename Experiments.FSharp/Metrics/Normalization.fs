namespace Prunerl.Experiments.Metrics

open System
open System.Globalization
open Prunerl.Core.Validate

/// The scale a task's returns are normalised on before aggregating across tasks.
type ScoreScale =
    { /// The environment id, as runs name it (cartpole, minatar/breakout, ...).
      Env: string
      /// The mean episode return of a uniformly random policy: normalised to 0.
      RandomScore: float
      /// The reference return normalised to 1; None for a random-only scale (the score minus the random
      /// score, in the task's own units) where no published reference exists.
      ReferenceScore: float option
      /// Where the two numbers come from.
      Source: string }

/// Per-environment normalisation: (score - random) / (reference - random) as rliable and the paper
/// use it (human-normalised on Atari), with the random and reference scores of prunerl's environments.
[<RequireQualifiedAccess>]
module Normalization =

    let private classic env randomScore episodes reference referenceSource =
        { Env = env
          RandomScore = randomScore
          ReferenceScore = Some reference
          Source = sprintf "random: mean return of %s uniformly random episodes on prunerl's %s; reference: %s" episodes env referenceSource }

    let private minatar game randomScore reference =
        { Env = "minatar/" + game
          RandomScore = randomScore
          ReferenceScore = Some reference
          Source =
            sprintf "random: mean return of a uniformly random policy over all 6 actions (sticky actions 0.1, ramping), Young and Tian's MinAtar and prunerl's alike (the MinAtar tests re-measure it); reference: %s, the MinAtar DQN's training return after 5M frames as read from the learning curves in github.com/kenjyoung/MinAtar (README, img/learning_curves.gif; read off the figure, about +-0.5)" (show reference) }

    /// The built-in scales. Classic control: the random score is the mean return of a uniformly random
    /// policy measured on prunerl's own environments (seeded; a test re-measures it), the reference is
    /// Gymnasium's reward_threshold ("solved": CartPole-v1 475, Acrobot-v1 -100, MountainCar-v0 -110;
    /// Pendulum-v1 registers none, -150 is the usual "good"). MinAtar: the random scores of a uniformly random
    /// policy (the tests re-measure them on prunerl's games); the reference is the MinAtar DQN's training
    /// return after 5M frames read off the learning curves the MinAtar authors publish (github.com/kenjyoung/MinAtar,
    /// README, img/learning_curves.gif): Asterix 17, Breakout 10, Freeway 50, Seaquest 20.5, Space Invaders 43,
    /// each about +-0.5 as read from a figure. MuJoCo (SAC's
    /// tasks): the random score measured the same way on prunerl's tasks (uniform actions in the box), the
    /// reference SAC's return after 1M steps (Haarnoja et al. 2018b, "Soft Actor-Critic Algorithms and
    /// Applications", Figure 1, about: HalfCheetah 10,000, Hopper 3,000, Walker2d 4,000).
    let builtIn: ScoreScale list =
        [ classic "cartpole" 22.19 "100,000" 475.0 "Gymnasium's reward_threshold for CartPole-v1"
          classic "acrobot" -498.76 "10,000" -100.0 "Gymnasium's reward_threshold for Acrobot-v1"
          classic "mountaincar" -200.0 "10,000" -110.0 "Gymnasium's reward_threshold for MountainCar-v0"
          classic "pendulum" -1231.2 "10,000" -150.0 "the usual 'good' return for Pendulum-v1 (Gymnasium registers no threshold)"
          classic "mujoco/halfcheetah" -281.42 "1,000" 10_000.0 "SAC's return after 1M steps in public benchmark reports"
          classic "mujoco/hopper" 18.82 "10,000" 3000.0 "SAC's return after 1M steps in public benchmark reports"
          classic "mujoco/walker2d" 2.70 "10,000" 4000.0 "SAC's return after 1M steps in public benchmark reports"
          minatar "asterix" 0.52 17.0
          minatar "breakout" 0.52 10.0
          minatar "freeway" 0.11 50.0
          minatar "seaquest" 0.10 20.5
          minatar "space_invaders" 2.86 43.0 ]

    /// The normalised score: (score - random) / (reference - random), or score - random on a
    /// random-only scale.
    let normalise (scale: ScoreScale) (score: float) : float =
        match scale.ReferenceScore with
        | Some reference -> Aggregate.normalise scale.RandomScore reference score
        | None -> score - scale.RandomScore

    /// The scale's formula as people read it: "(score - 22.19) / (475 - 22.19)" or "score - 0.52 (random-only)".
    let describe (scale: ScoreScale) : string =
        match scale.ReferenceScore with
        | Some reference -> sprintf "(score - %s) / (%s - %s)" (show scale.RandomScore) (show reference) (show scale.RandomScore)
        | None -> sprintf "score - %s (random-only)" (show scale.RandomScore)

    /// Checks a scale: finite scores and a reference that differs from the random score.
    let validate (scale: ScoreScale) : Result<ScoreScale, string> =
        if String.IsNullOrWhiteSpace scale.Env then Error "scores: an entry has no env"
        elif not (Double.IsFinite scale.RandomScore) then Error(sprintf "scores: %s: the random score must be a finite number" scale.Env)
        else
            match scale.ReferenceScore with
            | Some reference when not (Double.IsFinite reference) -> Error(sprintf "scores: %s: the reference score must be a finite number" scale.Env)
            | Some reference when reference = scale.RandomScore ->
                Error(sprintf "scores: %s: the reference score must differ from the random score (%s)" scale.Env (show reference))
            | _ -> Ok scale

    /// Scales from CSV text: one "env,random,reference" line per environment (reference may be empty:
    /// random-only); an optional header line "env,random,reference"; blank lines and lines starting
    /// with '#' are skipped. Errors name the line.
    let parse (source: string) (text: string) : Result<ScoreScale list, string> =
        let number (cell: string) =
            match Double.TryParse(cell.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture) with
            | true, x when Double.IsFinite x -> Some x
            | _ -> None
        let entry (lineNumber: int, line: string) =
            let fail () = Error(sprintf "%s: line %d must be env,random,reference (numbers; reference may be empty), got '%s'" source lineNumber line)
            match line.Split(',') |> Array.map (fun c -> c.Trim()) with
            | [| env; randomScore; reference |] when env <> "" ->
                match number randomScore, reference with
                | Some r, "" -> Ok { Env = env; RandomScore = r; ReferenceScore = None; Source = source }
                | Some r, text ->
                    match number text with
                    | Some reference -> Ok { Env = env; RandomScore = r; ReferenceScore = Some reference; Source = source }
                    | None -> fail ()
                | None, _ -> fail ()
            | _ -> fail ()
        let lines =
            text.Split('\n')
            |> Array.mapi (fun i line -> i + 1, line.TrimEnd('\r'))
            |> Array.filter (fun (_, line) -> line.Trim() <> "" && not (line.TrimStart().StartsWith "#"))
        let body =
            match Array.tryHead lines with
            | Some(_, header) when header.Replace(" ", "").Equals("env,random,reference", StringComparison.OrdinalIgnoreCase) -> lines[1..]
            | _ -> lines
        result {
            let! scales = traverse entry body
            let! scales = traverse (fun s -> validate s |> Result.mapError (fun e -> source + ": " + e)) scales
            match scales |> List.countBy (fun s -> s.Env) |> List.tryFind (fun (_, n) -> n > 1) with
            | Some(env, _) -> return! Error(sprintf "%s: %s is listed twice" source env)
            | None -> return scales
        }

    /// The table with the overrides in place of the entries for the same environments.
    let overlay (overrides: ScoreScale list) (table: ScoreScale list) : ScoreScale list =
        let replaced = overrides |> List.map (fun s -> s.Env) |> Set.ofList
        (table |> List.filter (fun s -> not (replaced.Contains s.Env))) @ overrides

    /// The scale for an environment, or an error naming it and how to supply one.
    let find (table: ScoreScale list) (env: string) : Result<ScoreScale, string> =
        match table |> List.tryFind (fun s -> s.Env = env) with
        | Some scale -> Ok scale
        | None ->
            Error(sprintf "scores: no random and reference score for env '%s'; known: %s (pass --scores FILE with lines env,random,reference)"
                    env (table |> List.map (fun s -> s.Env) |> String.concat ", "))
