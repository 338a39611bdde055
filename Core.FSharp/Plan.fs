namespace Prunerl.Core

open Prunerl.Core.Validate

/// What a network's pruning targets are at one step.
type PlanStep =
    { /// The training step.
      Step: int64
      /// The schedule's sparsity, over the pruned parameters.
      Sparsity: float
      /// Every parameter with its target, in network order.
      Layers: LayerBudget[]
      /// Entries the pruned parameters keep, together.
      PrunableKept: int64
      /// Total size of the pruned parameters.
      PrunableSize: int64
      /// Non-zero parameters of the whole network: all dense parameters plus what the pruned keep.
      NonZero: int64
      /// Total size of the network.
      TotalSize: int64 }

/// How a layer-wise allocation's per-layer targets follow the schedule between its start and its end.
type LayerTiming =
    /// JaxPruner's way: every layer's target is decided once, at the final sparsity (jaxpruner
    /// base_updater.py, BaseUpdater.init_state: `target_sparsities = self.sparsity_distribution_fn(params)`),
    /// and the schedule scales it (sparsity_schedules.py, PolynomialSchedule.get_sparsity_at_step:
    /// `target_sparsity * (1 - (1 - p)^3)`): layer l's sparsity at step t is s_l * s(t) / s_f, where s_l is
    /// its final target, s(t) the schedule's sparsity and s_f its final sparsity. Every layer is pruned
    /// steadily from the start. The default.
    | Scaled
    /// The distribution solved again at each step's overall sparsity s(t). With ERK this keeps the layers
    /// ERK would fill (a small convolution) dense until late in the ramp, then prunes them quickly.
    | Resolved

/// A network's pruning plan: when (a schedule), where (the pruned parameters), and how the target is
/// spread over them (an allocation). Made by Plan.create, which validates all three.
type Plan =
    { /// When: the target sparsity at each step.
      Schedule: Schedule
      /// How the target is spread over the pruned parameters.
      Allocation: Allocation
      /// Where: the network's parameters and which of them are pruned.
      Prunable: PrunableSet
      /// How per-layer targets follow the schedule (layer-wise allocations only).
      Timing: LayerTiming }

/// Per-layer targets over training: the schedule composed with the sparsity distribution.
[<RequireQualifiedAccess>]
module Plan =

    /// A plan for a network with these parameters, its per-layer targets timed as given.
    let createTimed (timing: LayerTiming) (schedule: Schedule) (allocation: Allocation) (scope: Scope) (parameters: Parameter seq) : Result<Plan, string> =
        result {
            let! schedule = Schedule.validate schedule
            let! allocation = Sparsity.validateAllocation allocation
            let! prunable = Sparsity.select scope parameters
            return { Schedule = schedule; Allocation = allocation; Prunable = prunable; Timing = timing }
        }

    /// A plan for a network with these parameters, per-layer targets timed as JaxPruner's (Scaled).
    let create (schedule: Schedule) (allocation: Allocation) (scope: Scope) (parameters: Parameter seq) : Result<Plan, string> =
        createTimed Scaled schedule allocation scope parameters

    /// Per-layer targets at a step's sparsity: with Scaled, each layer's final target scaled by
    /// s(t) / s_f (kept count round((1 - s_l s(t) / s_f) n_l)); with Resolved (or a uniform distribution,
    /// where the two agree) the distribution at s(t).
    let private layersAt (plan: Plan) (sparsity: float) : LayerBudget[] =
        let final = Schedule.finalSparsity plan.Schedule
        match plan.Timing, plan.Allocation with
        | Scaled, LayerWise(Erk _) when final > 0.0 ->
            let fraction = sparsity / final
            Sparsity.distribute plan.Allocation plan.Prunable final
            |> Array.map (fun b ->
                match b.Target with
                | Keep k ->
                    let n = b.Parameter.Size
                    let layerFinal = 1.0 - float k / float n
                    { b with Target = Keep(if fraction >= 1.0 then k else Sparsity.keptCount (layerFinal * fraction) n) }
                | Dense
                | Pooled -> b)
        | _ -> Sparsity.distribute plan.Allocation plan.Prunable sparsity

    /// The targets in effect at a step (the schedule's sparsity held between mask updates).
    let at (plan: Plan) (step: int64) : PlanStep =
        let sparsity = Schedule.sparsityAt plan.Schedule step
        let layers = layersAt plan sparsity
        let prunableSize = plan.Prunable.PrunableSize
        let prunableKept =
            match plan.Allocation with
            | Global -> Sparsity.keptCount sparsity prunableSize
            | LayerWise _ -> layers |> Array.sumBy (fun l -> match l.Target with Keep k -> k | Dense | Pooled -> 0L)
        let totalSize = plan.Prunable.TotalSize
        { Step = step
          Sparsity = sparsity
          Layers = layers
          PrunableKept = prunableKept
          PrunableSize = prunableSize
          NonZero = totalSize - prunableSize + prunableKept
          TotalSize = totalSize }

    /// The targets at every mask update, in order.
    let updates (plan: Plan) : PlanStep seq = Schedule.updateSteps plan.Schedule |> Seq.map (at plan)
