namespace Prunerl.Core

open System
open Prunerl.Core.Validate

/// How the fraction of kept weights a dynamic sparse method drops at a mask update changes over training.
type DropAnneal =
    /// The same fraction f_0 at every update.
    | ConstantDrop
    /// f(t) = f_0 * (1 + cos(pi * min(t, T_end) / T_end)) / 2: from f_0 at step 0 to 0 at T_end (Evci et al.
    /// 2020, "Rigging the lottery", sec. 3, f_decay; JaxPruner api.py lines 168-171:
    /// `optax.cosine_decay_schedule(config.get('drop_fraction', 0.1), config.update_end_step)`, alpha 0).
    | CosineDrop

/// When a dynamic sparse method (SET, RigL) rewires its masks, and what fraction it drops. Build it with
/// DropFraction.create, which validates it.
type DropSchedule =
    { /// The drop fraction f_0 at step 0, in [0, 1].
      Initial: float
      /// How the fraction decays.
      Anneal: DropAnneal
      /// The first step that may rewire (JaxPruner's update_start_step).
      Start: int64
      /// The last step that may rewire (update_end_step), >= Start and >= 1; the cosine reaches 0 there.
      End: int64
      /// Steps between rewirings (update_freq), >= 1.
      Period: int64 }

/// A drop schedule as a user writes it: steps may be fractions of the training length.
type DropSpec =
    { /// The drop fraction at step 0.
      DropFraction: float
      /// How the fraction decays.
      DropAnneal: DropAnneal
      /// The first step that may rewire.
      RewireStart: StepPoint
      /// The last step that may rewire.
      RewireEnd: StepPoint
      /// Steps between rewirings.
      RewireEvery: int64 }

/// The drop schedule of dynamic sparse training (SET, RigL): its update steps and the cosine-decayed
/// drop fraction, counted in gradient updates from 0 as the pruning schedule counts them.
[<RequireQualifiedAccess>]
module DropFraction =

    /// The defaults of JaxPruner's Dopamine DQN config for dynamic sparse training
    /// (jaxpruner/baselines/dopamine/configs/dqn.gin, commit f133ee5): drop fraction 0.3 (line 49, spelt
    /// `drop_fracion` there), cosine decay (api.py lines 168-171), the first rewiring step 1 (line 47), one every 5000
    /// gradient updates (line 48), the last at update_end_step 2,000,000 (line 44), which is 80% of that run's
    /// 2.5M gradient updates (40 iterations of 250,000 agent steps, lines 37-38, one update every 4, line 16).
    /// Graesser et al. (2022)'s RigL and SET configs say the same (google-research/rigl, commit d39fc7d,
    /// rigl/rl/sparsetrain_configs/dqn_atari_rigl.gin lines 15-22: begin 0, end 2M "= 80% optimizer steps",
    /// frequency 5000, cosine, drop fraction 0.3), so the end is given as the fraction 0.8 of training.
    let jaxPrunerSpec: DropSpec =
        { DropFraction = 0.3
          DropAnneal = CosineDrop
          RewireStart = StepPoint.Absolute 1L
          RewireEnd = StepPoint.Fraction 0.8
          RewireEvery = 5000L }

    /// Checks a drop schedule: fraction in [0, 1], start >= 0, end >= max(start, 1), period >= 1.
    let validate (schedule: DropSchedule) : Result<DropSchedule, string> =
        result {
            let! _ = inClosed "drop_fraction" 0.0 1.0 schedule.Initial
            let! _ = atLeast "rewire_start" 0L schedule.Start
            let! _ = atLeast "rewire_end" (max 1L schedule.Start) schedule.End
            let! _ = atLeast "rewire_every" 1L schedule.Period
            return schedule
        }

    /// Validates a drop spec and resolves its steps against the training length (in gradient updates).
    let create (totalSteps: int64) (spec: DropSpec) : Result<DropSchedule, string> =
        result {
            let! start = Schedule.resolvePoint "rewire_start" totalSteps spec.RewireStart
            let! finish = Schedule.resolvePoint "rewire_end" totalSteps spec.RewireEnd
            return!
                validate
                    { Initial = spec.DropFraction
                      Anneal = spec.DropAnneal
                      Start = start
                      End = finish
                      Period = spec.RewireEvery }
        }

    /// Whether masks are rewired at step t: t mod period = 0 and start &lt;= t &lt;= end (JaxPruner's
    /// PeriodicSchedule.is_mask_update_iter, sparsity_schedules.py lines 60-70).
    let isUpdateStep (schedule: DropSchedule) (t: int64) : bool =
        t % schedule.Period = 0L && schedule.Start <= t && t <= schedule.End

    /// Every rewiring step, in order.
    let updateSteps (schedule: DropSchedule) : int64 seq =
        let first = (schedule.Start + schedule.Period - 1L) / schedule.Period * schedule.Period
        seq { first .. schedule.Period .. schedule.End }

    /// The drop fraction at step t (the formula, whether or not t rewires); held within [0, f_0].
    let at (schedule: DropSchedule) (t: int64) : float =
        match schedule.Anneal with
        | ConstantDrop -> schedule.Initial
        | CosineDrop ->
            let progress = Math.Clamp(float t / float schedule.End, 0.0, 1.0)
            Math.Clamp(schedule.Initial * (1.0 + cos (Math.PI * progress)) / 2.0, 0.0, schedule.Initial)
