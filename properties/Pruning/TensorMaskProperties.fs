/// Differential properties: magnitude masks computed on tensors equal the pure core's masks exactly,
/// ties and NaN included, for single layers, updates that never revive, and global pooling.
module Prunerl.Properties.TensorMaskProperties

open Expecto
open FsCheck
open FsCheck.FSharp
open TorchSharp
open Prunerl.Core
open Prunerl.Experiments
open Prunerl.Agents.Pruning
open Prunerl.Properties.Generators

let private config = { FsCheckConfig.defaultConfig with maxTest = 200 }

/// The tensor mask as a bool array.
let private maskOf (weights: float32[]) (count: int64) (eligible: bool[] option) =
    use w = torch.tensor weights
    use e = eligible |> Option.map (fun (m: bool[]) -> torch.tensor m) |> Option.toObj
    use mask = MagnitudeMask.KeepLargest(w, count, e)
    mask.data<bool>().ToArray()

[<Tests>]
let tests =
    testSequenced <| testList "Tensor mask properties" [
        testPropertyWithConfig config "a layer's tensor mask equals the core's, ties and NaN included" <|
            Prop.forAll (Arbs.zip (Arbs.sparsity, Arbs.weights)) (fun (s, w) ->
                Expect.equal (maskOf w (Sparsity.keptCount s w.LongLength) None) (Mask.layerwise s w |> ok) "mask")

        testPropertyWithConfig config "a tensor mask update equals the core's and never revives" <|
            Prop.forAll (Arbs.zip (Arbs.sparsity, Arbs.weightsWithMask)) (fun (s, (w, previous)) ->
                Expect.equal (maskOf w (Sparsity.keptCount s w.LongLength) (Some previous)) (Mask.updateLayerwise previous s w |> ok) "update")

        testPropertyWithConfig config "global pooling on tensors equals the core's global mask" <|
            Prop.forAll (Arbs.zip (Arbs.sparsity, Arbs.layers)) (fun (s, ls) ->
                let all = Array.concat ls
                let pooled = maskOf all (Sparsity.keptCount s all.LongLength) None
                Expect.equal pooled (Mask.globalMagnitude s ls |> ok |> Array.concat) "global")
    ]
