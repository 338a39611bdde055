/// Differential properties: SET's and RigL's mask updates on tensors equal the pure core's Rewiring.layer entry for
/// entry (ties and NaN included), and a restart zeroes exactly the regrown entries of every aligned tensor.
module Prunerl.Properties.TensorRewiringProperties

open Expecto
open FsCheck.FSharp
open TorchSharp
open Prunerl.Core
open Prunerl.Agents.Pruning
open Prunerl.Properties.Generators
open Prunerl.Properties.SparseTrainingProperties

let private config = { FsCheckConfig.defaultConfig with maxTest = 200 }

let private bools (t: torch.Tensor) = t.data<bool>().ToArray()

/// The tensor update of a case as (mask, grown, dropped count).
let private onTensors (c: LayerCase) (random: bool) =
    use mask = torch.tensor c.Mask
    use weights = torch.tensor c.Weights
    use gradient = torch.tensor c.Gradient
    use r =
        if random then TensorRewiring.Set(mask, weights, c.Fraction, Rng.create c.Seed)
        else TensorRewiring.RigL(mask, weights, gradient, c.Fraction)
    bools r.Mask, bools r.Grown, r.Dropped

let private positions (flags: bool[]) = [| for i in 0 .. flags.Length - 1 do if flags[i] then i |]

[<Tests>]
let tests =
    testSequenced <| testList "Tensor rewiring properties" [
        testPropertyWithConfig config "SET and RigL on tensors equal the core's update" <|
            Prop.forAll layerCase (fun c ->
                for random in [ true; false ] do
                    let growth = if random then RandomGrowth(Rng.create c.Seed) else GradientGrowth c.Gradient
                    let core = Rewiring.layer c.Fraction growth c.Mask c.Weights |> ok
                    let mask, grown, dropped = onTensors c random
                    Expect.equal mask core.Mask "mask"
                    Expect.equal (positions grown) core.Grown "grown"
                    Expect.equal dropped (int64 core.Dropped.Length) "dropped count")

        testPropertyWithConfig config "a restart zeroes exactly the regrown entries of each aligned tensor" <|
            Prop.forAll layerCase (fun c ->
                let core = Rewiring.layer c.Fraction (GradientGrowth c.Gradient) c.Mask c.Weights |> ok
                use grown = torch.tensor (Array.init c.Entries.Length (fun i -> Array.contains i core.Grown))
                use a = torch.tensor c.Weights
                use b = torch.tensor c.Gradient
                TensorRewiring.Restart(grown, [ a; b ])
                Expect.equal (a.data<float32>().ToArray() |> Array.map System.BitConverter.SingleToInt32Bits)
                    (Rewiring.restart core c.Weights |> ok |> Array.map System.BitConverter.SingleToInt32Bits) "weights"
                Expect.equal (b.data<float32>().ToArray() |> Array.map System.BitConverter.SingleToInt32Bits)
                    (Rewiring.restart core c.Gradient |> ok |> Array.map System.BitConverter.SingleToInt32Bits) "state")
    ]
