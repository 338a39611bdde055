/// The core for C# callers: the same functions behind .NET-shaped signatures (arrays, enums,
/// optional arguments, exceptions). Every member delegates to the F# modules; nothing is computed here.
namespace Prunerl.Core.CSharp

open System
open System.Runtime.InteropServices
open Prunerl.Core

/// Turns the core's one-line errors into the exceptions .NET callers expect.
module internal Errors =

    /// The core names the field first ("prune_start must be ..."); the facade's parameters carry the
    /// same names in camelCase, so the field gives the parameter name.
    let private parameterName (message: string) =
        let field = message.Split([| ' '; ':' |], 2)[0]
        let parts = field.Split('_')
        parts[0] + String.Join("", parts[1..] |> Array.map (fun p -> string (Char.ToUpperInvariant p[0]) + p[1..]))

    /// The value, or the error as an exception carrying the core's message: a value out of its range
    /// ("<field> must be ...") is an ArgumentOutOfRangeException for the field's parameter, anything
    /// else (mismatched lengths, bad names) an ArgumentException for `parameter`.
    let orThrow (parameter: string) (result: Result<'a, string>) : 'a =
        match result with
        | Ok x -> x
        | Error message when message.Contains " must be " ->
            raise (ArgumentOutOfRangeException(parameterName message, message))
        | Error message -> raise (ArgumentException(message, parameter))

    /// Refuses a null argument as .NET does.
    let notNull (name: string) (value: 'a) : 'a =
        ArgumentNullException.ThrowIfNull(box value, name)
        value

/// How sparsity rises during gradual pruning.
type RampShape =
    /// (1 - progress)^power: Zhu and Gupta's polynomial ramp; the paper uses power 3, power 1 is linear.
    | Polynomial = 0
    /// (1 + cos(pi * progress)) / 2.
    | Cosine = 1

/// Whose counting of steps and mask updates a gradual schedule follows.
type StepConvention =
    /// Zhu and Gupta (2017): updates at the start, every period after it, and at the end.
    | ZhuGupta = 0
    /// JaxPruner's PolynomialSchedule: a +1 step offset, updates at multiples of the period.
    | JaxPruner = 1

/// A validated pruning schedule: the target sparsity at every gradient-update step.
[<Sealed>]
type PruningSchedule private (schedule: Schedule) =

    /// The F# schedule underneath, for APIs that take one (such as Prunerl.Agents' pruner).
    member _.Schedule = schedule

    /// The sparsity in effect at a step: held constant between mask updates, 0 before the first.
    member _.SparsityAt(step: int64) = Schedule.sparsityAt schedule step

    /// The continuous curve at a step, before masks are held between updates (for plots).
    member _.CurveAt(step: int64) = Schedule.curve schedule step

    /// Whether masks are recomputed at the step.
    member _.IsUpdateStep(step: int64) = Schedule.isUpdateStep schedule step

    /// Every step at which masks are recomputed, in order (computed lazily).
    member _.UpdateSteps: Collections.Generic.IEnumerable<int64> = Schedule.updateSteps schedule

    /// The sparsity the schedule ends at.
    member _.FinalSparsity = Schedule.finalSparsity schedule

    /// Up to count update steps, evenly spread, the first and last included.
    member _.Milestones(count: int) : int64[] = Schedule.milestones count schedule |> Array.ofList

    /// The schedule as F# prints it.
    override _.ToString() = sprintf "%A" schedule

    /// Wraps an F# schedule after validating it.
    static member Of(schedule: Schedule) =
        match Schedule.validate (Errors.notNull "schedule" schedule) with
        | Ok valid -> PruningSchedule valid
        | Error message -> raise (ArgumentException(message, "schedule"))

    /// A dense network: sparsity 0 at every step.
    static member Dense = PruningSchedule Schedule.dense

    /// Static sparsity from step 0 on; sparsity in [0, 1).
    static member Constant(sparsity: float) = PruningSchedule(Schedule.constant sparsity |> Errors.orThrow "sparsity")

    /// Dense until atStep, then pruned once to the sparsity.
    static member OneShot(sparsity: float, atStep: int64) =
        PruningSchedule(Schedule.oneShot sparsity atStep |> Errors.orThrow "sparsity")

    static member private Build(totalSteps, sparsity, pruneStart, pruneEnd, pruneEvery, initialSparsity, ramp, power, convention) =
        let spec =
            { InitialSparsity = initialSparsity
              FinalSparsity = sparsity
              Shape =
                match ramp with
                | RampShape.Cosine -> Cosine
                | _ -> Polynomial power
              PruneStart = pruneStart
              PruneEnd = pruneEnd
              PruneEvery = pruneEvery
              Counting =
                match convention with
                | StepConvention.JaxPruner -> JaxPruner
                | _ -> ZhuGupta }
        PruningSchedule(Schedule.gradual totalSteps spec |> Errors.orThrow "sparsity")

    /// The paper's schedule (Obando-Ceron et al. 2024): 0 to the sparsity, cubic, between 20% and 80%
    /// of totalSteps, masks every 1000 steps.
    static member Paper(sparsity: float, totalSteps: int64) =
        PruningSchedule(Schedule.gradual totalSteps (Schedule.paperSpec sparsity) |> Errors.orThrow "sparsity")

    /// Gradual pruning between two fractions of training (pruneStart and pruneEnd in [0, 1], rounded
    /// to steps of totalSteps). The defaults are the paper's.
    static member Gradual
        (
            sparsity: float,
            totalSteps: int64,
            [<Optional; DefaultParameterValue(0.2)>] pruneStart: float,
            [<Optional; DefaultParameterValue(0.8)>] pruneEnd: float,
            [<Optional; DefaultParameterValue(1000L)>] pruneEvery: int64,
            [<Optional; DefaultParameterValue(0.0)>] initialSparsity: float,
            [<Optional; DefaultParameterValue(RampShape.Polynomial)>] ramp: RampShape,
            [<Optional; DefaultParameterValue(3.0)>] power: float,
            [<Optional; DefaultParameterValue(StepConvention.ZhuGupta)>] convention: StepConvention
        ) =
        PruningSchedule.Build(
            totalSteps, sparsity, StepPoint.Fraction pruneStart, StepPoint.Fraction pruneEnd, pruneEvery,
            initialSparsity, ramp, power, convention)

    /// Gradual pruning between two absolute steps, otherwise as Gradual.
    static member GradualBetweenSteps
        (
            sparsity: float,
            pruneStart: int64,
            pruneEnd: int64,
            [<Optional; DefaultParameterValue(1000L)>] pruneEvery: int64,
            [<Optional; DefaultParameterValue(0.0)>] initialSparsity: float,
            [<Optional; DefaultParameterValue(RampShape.Polynomial)>] ramp: RampShape,
            [<Optional; DefaultParameterValue(3.0)>] power: float,
            [<Optional; DefaultParameterValue(StepConvention.ZhuGupta)>] convention: StepConvention
        ) =
        // Absolute steps do not depend on the training length: any valid one resolves them.
        PruningSchedule.Build(
            1L, sparsity, StepPoint.Absolute pruneStart, StepPoint.Absolute pruneEnd, pruneEvery,
            initialSparsity, ramp, power, convention)

/// A layer's weight tensor to prune: a name and its shape in the framework's layout
/// (torch: [out, in, kh, kw]).
[<Sealed>]
type LayerShape(name: string, [<ParamArray>] shape: int[]) =
    let shape = Array.copy (Errors.notNull "shape" shape)

    /// The layer's name, unique within a network.
    member _.Name = name

    /// The tensor's dimensions.
    member _.Shape = Array.copy shape

    /// The core's description of the tensor: a weight, pruned by default.
    member internal _.Parameter = { Name = name; Shape = shape; Role = Weight }

/// A layer's target under a sparsity distribution.
[<Sealed>]
type LayerSparsity internal (budget: LayerBudget) =

    /// The layer's name.
    member _.Name = budget.Parameter.Name

    /// The tensor's dimensions.
    member _.Shape = Array.copy budget.Parameter.Shape

    /// Number of entries.
    member _.Size = budget.Parameter.Size

    /// Entries the layer keeps.
    member _.Kept =
        match budget.Target with
        | Keep k -> k
        | Dense | Pooled -> budget.Parameter.Size

    /// The layer's sparsity, 1 - Kept / Size.
    member this.Sparsity = 1.0 - float this.Kept / float this.Size

    /// "name: kept/size (sparsity)".
    override this.ToString() = sprintf "%s: %d/%d (%.4f)" this.Name this.Kept this.Size this.Sparsity

/// Spreading an overall target sparsity over layers: per-layer kept counts.
[<AbstractClass; Sealed>]
type SparsityDistribution =

    static member private Distribute(distribution, sparsity, layers: LayerShape seq) =
        let parameters = Errors.notNull "layers" layers |> Seq.map (fun l -> (Errors.notNull "layers" l).Parameter)
        Sparsity.select Sparsity.paperScope parameters
        |> Result.bind (fun prunable -> Sparsity.allocate (LayerWise distribution) prunable sparsity)
        |> Errors.orThrow "layers"
        |> Array.map LayerSparsity

    static member private Named(shapes: int[][]) =
        Errors.notNull "shapes" shapes |> Array.mapi (fun i shape -> LayerShape(sprintf "layer%d" i, shape))

    /// ERK (Evci et al. 2020): denser small layers, exactly round((1 - sparsity) * N) kept over all
    /// N entries; erkPower in (0, 2] scales the layer factor (1 is ERK itself).
    static member Erk(sparsity: float, layers: LayerShape seq, [<Optional; DefaultParameterValue(1.0)>] erkPower: float) =
        SparsityDistribution.Distribute(Erk erkPower, sparsity, layers)

    /// ERK over unnamed layers, named layer0, layer1, ... in order.
    static member Erk(sparsity: float, shapes: int[][], [<Optional; DefaultParameterValue(1.0)>] erkPower: float) =
        SparsityDistribution.Erk(sparsity, SparsityDistribution.Named shapes, erkPower)

    /// Every layer keeps round((1 - sparsity) * n) of its n entries.
    static member Uniform(sparsity: float, layers: LayerShape seq) =
        SparsityDistribution.Distribute(Uniform, sparsity, layers)

    /// Uniform over unnamed layers, named layer0, layer1, ... in order.
    static member Uniform(sparsity: float, shapes: int[][]) =
        SparsityDistribution.Uniform(sparsity, SparsityDistribution.Named shapes)

/// Magnitude masks over float weights (flattened in the framework's order): true keeps the entry.
/// Larger |w| first, NaN first, ties to the lower index; exactly round((1 - sparsity) * n) kept.
[<AbstractClass; Sealed>]
type MagnitudeMask =

    /// Keeps the entries of largest magnitude at the sparsity, layer by layer.
    static member Layerwise(weights: float32[], sparsity: float) : bool[] =
        Mask.layerwise sparsity (Errors.notNull "weights" weights) |> Errors.orThrow "weights"

    /// A mask update that never revives: the largest entries among those the previous mask kept.
    static member Update(previous: bool[], weights: float32[], sparsity: float) : bool[] =
        Mask.updateLayerwise (Errors.notNull "previous" previous) sparsity (Errors.notNull "weights" weights)
        |> Errors.orThrow "previous"

    /// One ranking across all layers (one threshold for the network); a mask per layer.
    static member Global(layers: float32[][], sparsity: float) : bool[][] =
        Mask.globalMagnitude sparsity (Errors.notNull "layers" layers) |> Errors.orThrow "layers"

    /// A global mask update that never revives.
    static member UpdateGlobal(previous: bool[][], layers: float32[][], sparsity: float) : bool[][] =
        Mask.updateGlobal (Errors.notNull "previous" previous) sparsity (Errors.notNull "layers" layers)
        |> Errors.orThrow "previous"

    /// Keeps the count entries of largest magnitude (count held within [0, n]).
    static member KeepLargest(weights: float32[], count: int64) : bool[] =
        Mask.keepLargest count (Errors.notNull "weights" weights)

    /// The weights with pruned entries set to zero.
    static member Apply(mask: bool[], weights: float32[]) : float32[] =
        Mask.apply (Errors.notNull "mask" mask) (Errors.notNull "weights" weights) |> Errors.orThrow "mask"

    /// Number of kept entries.
    static member Kept(mask: bool[]) : int64 = Mask.kept (Errors.notNull "mask" mask)

    /// Fraction of entries pruned (0 for an empty mask).
    static member Sparsity(mask: bool[]) : float = Mask.sparsity (Errors.notNull "mask" mask)
