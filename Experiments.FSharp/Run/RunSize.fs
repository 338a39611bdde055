namespace Prunerl.Experiments

open System
open Prunerl.Core
open Prunerl.Core.Validate

/// What a run allocates, as arithmetic on its config and its environment's observation shape, so that a
/// run that cannot exist (a layer of no units, a network or replay memory larger than the machine's
/// memory) is refused at validation, `--dry-run` included, instead of failing once its folder exists.
/// The figures are lower bounds (biases, heads and per-slot bookkeeping left out): a refusal is certain.
[<RequireQualifiedAccess>]
module RunSize =

    /// A layer's units at a width: max(1, round(units * width)), as Agents.CSharp/Networks/Torsos.cs
    /// `Scaled` computes it (.NET's Math.Round, to even); in floating point, so a huge width does not overflow.
    let scaled (units: int) (width: float) : float = max 1.0 (Math.Round(float units * width))

    /// The layers the width scales, by their unscaled units: an MLP's hidden layers; the MinAtar network's
    /// 16 filters, the Nature network's 32, 64, 64 and the Impala stacks' 16, 32, 32 (Torsos.cs); the dense
    /// layer after them too (128 or 512) when width_scope is all.
    let scaledLayers (c: RunConfig) : int list =
        let dense units = if c.WidthScope = WidthScope.All then [ units ] else []
        match c.Network with
        | NetworkKind.Mlp -> c.MlpHidden
        | NetworkKind.MinAtar -> 16 :: dense 128
        | NetworkKind.Nature -> [ 32; 64; 64 ] @ dense 512
        | NetworkKind.Impala -> [ 16; 32; 32 ] @ dense 512

    /// The width a run's must exceed for every scaled layer to keep a unit of its own: round(units * width) >= 1 (0.5
    /// rounds to even, 0), i.e. width > 0.5 / (the smallest scaled layer's units). At or below it the
    /// network's shape no longer follows the width (its layers are clamped to one unit).
    let smallestWidth (c: RunConfig) : float = 0.5 / float (List.min (scaledLayers c))

    /// A lower bound on one network's weights: the products of consecutive layers' sizes. MLP: inputs x h1 +
    /// h1 x h2 + ...; MinAtar: channels x 9 x filters + filters x (h - 2)(w - 2) x dense; Nature: the three
    /// convolutions (8x8, 4x4, 3x3) and the flattened frame into the dense layer; Impala: each stack's first
    /// 3x3 convolution and its two residual blocks' four. SAC trains an actor and two critics of the MLP.
    let parameters (c: RunConfig) (observation: int list) : float =
        let w = c.Width
        let dense units = if c.WidthScope = WidthScope.All then scaled units w else float units
        let inputs = observation |> List.fold (fun n d -> n * float d) 1.0
        match c.Network, observation with
        | NetworkKind.Mlp, _ ->
            let sizes = inputs :: (c.MlpHidden |> List.map (fun h -> scaled h w))
            let one = sizes |> List.pairwise |> List.sumBy (fun (a, b) -> a * b)
            if RunConfig.isSac c then 3.0 * one else one
        | NetworkKind.MinAtar, [ channels; h; wd ] ->
            let f = scaled 16 w
            float channels * 9.0 * f + f * float (max 1 (h - 2)) * float (max 1 (wd - 2)) * dense 128
        | NetworkKind.Nature, [ channels; h; wd ] ->
            let f1, f2, f3 = scaled 32 w, scaled 64 w, scaled 64 w
            let side (n: int) = max 1 ((((n - 8) / 4 + 1) - 4) / 2 + 1 - 2)
            float channels * 64.0 * f1 + f1 * 16.0 * f2 + f2 * 9.0 * f3 + f3 * float (side h) * float (side wd) * dense 512
        | NetworkKind.Impala, [ channels; _; _ ] ->
            [ 16; 32; 32 ]
            |> List.fold (fun (into, total) units -> let out = scaled units w in out, total + into * 9.0 * out + 4.0 * out * 9.0 * out) (float channels, 0.0)
            |> snd
        | _ -> inputs

    /// Copies of the weights a run holds at once, at least: the online network, its target (SAC: the critics'
    /// targets), the gradients and one optimizer moment (RMSProp's; Adam keeps two).
    [<Literal>]
    let WeightCopies = 4.0

    /// Bytes of a float32 weight.
    [<Literal>]
    let WeightBytes = 4.0

    /// The replay memory's observation storage in bytes: capacity x observation values x 1 byte for MinAtar's
    /// 0/1 frames, 4 (float32) otherwise (Agents.CSharp/Replay/ObservationSlots.cs allocates it whole at the
    /// start); 0 for an offline run, which reads its dataset instead.
    let replayBytes (c: RunConfig) (observation: int list) : float =
        if RunConfig.isOffline c.Agent then 0.0
        else
            let capacity = if RunConfig.isSac c then c.Sac.ReplayCapacity else c.Hyperparameters.ReplayCapacity
            let values = observation |> List.fold (fun n d -> n * float d) 1.0
            let bytes = if c.Env.StartsWith("minatar/", StringComparison.Ordinal) then 1.0 else 4.0
            float capacity * values * bytes

    /// The most values one .NET array holds (Array.MaxLength), which bounds the replay's observation array.
    [<Literal>]
    let ArrayMaxLength = 2147483591.0

    let private gigabytes (bytes: float) = sprintf "%.1f GB" (bytes / 1e9)

    /// Checks that the run can be allocated: every scaled layer has fewer than 2^31 units, the replay's
    /// observations fit one array, and, when the memory available to the process is known (the caller reads
    /// it: /proc/meminfo's MemAvailable), the network's weights (times WeightCopies) and the replay memory fit
    /// in it. The error names the field to change and the sizes.
    let check (available: int64 option) (c: RunConfig) (observation: int list) : Result<unit, string> =
        result {
            let widest = scaledLayers c |> List.map (fun u -> scaled u c.Width) |> List.max
            do!
                if widest < float Int32.MaxValue then Ok()
                else Error(sprintf "width %s makes a layer of %.3g units; a layer holds fewer than 2^31" (show c.Width) widest)
            let slots = if RunConfig.isSac c then c.Sac.ReplayCapacity else c.Hyperparameters.ReplayCapacity
            let values = observation |> List.fold (fun n d -> n * float d) 1.0
            do!
                if RunConfig.isOffline c.Agent || float slots * values <= ArrayMaxLength then Ok()
                else Error(sprintf "replay_capacity %d x %s observation values do not fit in one array (at most %.0f values); lower replay_capacity" slots (show values) ArrayMaxLength)
            let network = parameters c observation * WeightCopies * WeightBytes
            let replay = replayBytes c observation
            return!
                match available with
                | Some memory when network + replay > float memory ->
                    let culprit = if network >= replay then sprintf "width %s" (show c.Width) else sprintf "replay_capacity %d" slots
                    Error(sprintf "%s does not fit in memory: the run needs at least %s (network %s, replay %s), %s is available; lower it"
                              culprit (gigabytes (network + replay)) (gigabytes network) (gigabytes replay) (gigabytes (float memory)))
                | _ -> Ok()
        }
