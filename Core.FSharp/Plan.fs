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

/// A network's pruning plan: when (a schedule), where (the pruned parameters), and how the target is
/// spread over them (an allocation). Made by Plan.create, which validates all three.
type Plan =
    { /// When: the target sparsity at each step.
      Schedule: Schedule
      /// How the target is spread over the pruned parameters.
      Allocation: Allocation
      /// Where: the network's parameters and which of them are pruned.
      Prunable: PrunableSet }

/// Per-layer targets over training: the schedule composed with the sparsity distribution.
[<RequireQualifiedAccess>]
module Plan =

    /// A plan for a network with these parameters.
    let create (schedule: Schedule) (allocation: Allocation) (scope: Scope) (parameters: Parameter seq) : Result<Plan, string> =
        result {
            let! schedule = Schedule.validate schedule
            let! allocation = Sparsity.validateAllocation allocation
            let! prunable = Sparsity.select scope parameters
            return { Schedule = schedule; Allocation = allocation; Prunable = prunable }
        }

    /// The targets in effect at a step (the schedule's sparsity held between mask updates).
    let at (plan: Plan) (step: int64) : PlanStep =
        let sparsity = Schedule.sparsityAt plan.Schedule step
        let layers = Sparsity.distribute plan.Allocation plan.Prunable sparsity
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
