/// Properties of magnitude masks: exact counts, the magnitude threshold, idempotence, nesting,
/// never reviving, global pooling, and agreement with a plain sort-based oracle (ties included).
module Prunerl.Properties.MaskProperties

open System
open Expecto
open FsCheck.FSharp
open Prunerl.Core
open Prunerl.Experiments
open Prunerl.Properties.Generators

let private config = { FsCheckConfig.defaultConfig with maxTest = 300 }

/// The oracle: sort (is-not-NaN, -|w|, index) ascending and keep the first k.
let private oracle (k: int64) (w: float32[]) =
    let keep =
        w
        |> Array.mapi (fun i x -> (not (Single.IsNaN x), -(abs (float x)), i))
        |> Array.sort
        |> Array.truncate (int k)
        |> Array.map (fun (_, _, i) -> i)
        |> Set.ofArray
    Array.init w.Length keep.Contains

/// |w| with NaN above everything, as the importance order ranks it.
let private magnitude (x: float32) = if Single.IsNaN x then infinity else abs (float x)

let private subset (a: bool[]) (b: bool[]) = Array.forall2 (fun x y -> not x || y) a b

[<Tests>]
let tests =
    testList "Mask properties" [
        testPropertyWithConfig config "layer-wise keeps exactly round((1 - s) * n)" <|
            Prop.forAll (Arbs.zip (Arbs.sparsity, Arbs.weights)) (fun (s, w) ->
                let m = Mask.layerwise s w |> ok
                Expect.equal (Mask.kept m) (Sparsity.keptCount s w.LongLength) "kept count")

        testPropertyWithConfig config "layer-wise equals the sort-based oracle, ties to the lower index" <|
            Prop.forAll (Arbs.zip (Arbs.sparsity, Arbs.weights)) (fun (s, w) ->
                Expect.equal (Mask.layerwise s w |> ok) (oracle (Sparsity.keptCount s w.LongLength) w) "mask")

        testPropertyWithConfig config "every kept weight is at least as large as every dropped one" <|
            Prop.forAll (Arbs.zip (Arbs.sparsity, Arbs.weights)) (fun (s, w) ->
                let m = Mask.layerwise s w |> ok
                let kept = Array.zip w m |> Array.filter snd |> Array.map (fst >> magnitude)
                let dropped = Array.zip w m |> Array.filter (snd >> not) |> Array.map (fst >> magnitude)
                if kept.Length > 0 && dropped.Length > 0 then
                    Expect.isTrue (Array.min kept >= Array.max dropped) "threshold")

        testPropertyWithConfig config "idempotent: the mask of the masked weights is the same mask" <|
            Prop.forAll (Arbs.zip (Arbs.sparsity, Arbs.weights)) (fun (s, w) ->
                let m = Mask.layerwise s w |> ok
                Expect.equal (Mask.layerwise s (Mask.apply m w |> ok) |> ok) m "same mask")

        testPropertyWithConfig config "nested: a mask at higher sparsity is a subset of one at lower sparsity" <|
            Prop.forAll (Arbs.zip (Arbs.orderedSparsities, Arbs.weights)) (fun ((lo, hi), w) ->
                Expect.isTrue (subset (Mask.layerwise hi w |> ok) (Mask.layerwise lo w |> ok)) "subset")

        testPropertyWithConfig config "an update never revives and keeps min(target, previously kept)" <|
            Prop.forAll (Arbs.zip (Arbs.sparsity, Arbs.weightsWithMask)) (fun (s, (w, previous)) ->
                let m = Mask.updateLayerwise previous s w |> ok
                Expect.isTrue (subset m previous) "no pruned weight revived"
                Expect.equal (Mask.kept m) (min (Sparsity.keptCount s w.LongLength) (Mask.kept previous)) "kept count")

        testPropertyWithConfig config "gradual pruning's masks only shrink, whatever the weights do between updates" <|
            Prop.forAll (Arbs.zip (Arbs.gradual, Arb.fromGenShrink (Gen.listOfLength 6 weights, Shrink.elementwise Shrink.weights))) (fun (g, draws) ->
                let n = draws |> List.map Array.length |> List.min
                let draws = draws |> List.map (Array.truncate n)
                let schedule = Gradual g
                let steps = Schedule.updateSteps schedule |> Seq.truncate draws.Length |> List.ofSeq
                let masks =
                    List.zip steps (List.truncate steps.Length draws)
                    |> List.scan (fun prev (t, w) -> Mask.updateLayerwise prev (Schedule.sparsityAt schedule t) w |> ok) (Array.create n true)
                for a, b in List.pairwise masks do
                    Expect.isTrue (subset b a) "shrinks")

        testPropertyWithConfig config "global: exact count over all layers, one threshold across them" <|
            Prop.forAll (Arbs.zip (Arbs.sparsity, Arbs.layers)) (fun (s, ls) ->
                let ms = Mask.globalMagnitude s ls |> ok
                let all = Array.zip (Array.concat ls) (Array.concat ms)
                Expect.equal (Array.map Array.length ms) (Array.map Array.length ls) "shapes"
                Expect.equal (Mask.kept (Array.concat ms)) (Sparsity.keptCount s all.LongLength) "kept count"
                let kept = all |> Array.filter snd |> Array.map (fst >> magnitude)
                let dropped = all |> Array.filter (snd >> not) |> Array.map (fst >> magnitude)
                if kept.Length > 0 && dropped.Length > 0 then
                    Expect.isTrue (Array.min kept >= Array.max dropped) "one threshold")

        testPropertyWithConfig config "global over one layer is layer-wise; global updates never revive" <|
            Prop.forAll (Arbs.zip (Arbs.sparsity, Arbs.weightsWithMask)) (fun (s, (w, previous)) ->
                Expect.equal (Mask.globalMagnitude s [| w |] |> ok) [| Mask.layerwise s w |> ok |] "one layer"
                let half = w.Length / 2
                let split (a: 'a[]) = [| a[.. half - 1]; a[half ..] |]
                let m = Mask.updateGlobal (split previous) s (split w) |> ok
                Expect.isTrue (subset (Array.concat m) previous) "no revival")
    ]
