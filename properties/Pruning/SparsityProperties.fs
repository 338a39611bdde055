/// Properties of spreading a sparsity over a network's parameters: uniform, ERK and global budgets,
/// the scope's dense parameters, and the plan's totals.
module Prunerl.Properties.SparsityProperties

open System
open Expecto
open FsCheck.FSharp
open Prunerl.Core
open Prunerl.Experiments
open Prunerl.Properties.Generators

let private config = { FsCheckConfig.defaultConfig with maxTest = 300 }

/// A network, a scope over it, a distribution and a target sparsity; shrunk part by part, the network
/// only to candidates that still hold every parameter the scope names.
let private case =
    let generate =
        gen {
            let! ps = parameters
            let! scope = scopeFor ps
            let! distribution = distribution
            let! s = sparsity
            return ps, scope, distribution, s
        }
    let shrink (ps: Parameter list, scope: Scope, distribution, s) =
        let named = scope.KeepDense |> List.choose (function Named name -> Some name | _ -> None)
        seq {
            for ps' in Shrink.parameters ps do
                if named |> List.forall (fun name -> ps' |> List.exists (fun p -> p.Name = name)) then
                    yield ps', scope, distribution, s
            for d in Shrink.distribution distribution -> ps, scope, d, s
            for s' in Shrink.sparsity s -> ps, scope, distribution, s'
        }
    Arb.fromGenShrink (generate, shrink)

let private keptOf (b: LayerBudget) =
    match b.Target with
    | Keep k -> k
    | Dense -> b.Parameter.Size
    | Pooled -> failwith "pooled in a layer-wise allocation"

/// ERK's raw density of a shape: (sum of dims / product of dims)^power.
let private erkRaw power (p: Parameter) = (float (Array.sum p.Shape) / float p.Size) ** power

[<Tests>]
let tests =
    testList "Sparsity properties" [
        testPropertyWithConfig config "only what the scope prunes gets a budget; the rest stays dense" <|
            Prop.forAll (case) (fun (ps, scope, distribution, s) ->
                let set = Sparsity.select scope ps |> ok
                let budgets = Sparsity.allocate (LayerWise distribution) set s |> ok
                let weights = ps |> List.filter (fun p -> p.Role = Weight)
                for i, b in Array.indexed budgets do
                    let p = b.Parameter
                    let keptByRule =
                        scope.KeepDense |> List.exists (fun rule ->
                            match rule with
                            | Named n -> n = p.Name
                            | FirstWeight -> Some p = List.tryHead weights
                            | LastWeight -> Some p = List.tryLast weights)
                    let roleIsPruned =
                        match p.Role with
                        | Weight -> true
                        | Bias -> scope.PruneBiases
                        | Normalization -> scope.PruneNormalization
                    Expect.equal (set.IsPrunable i) (roleIsPruned && not keptByRule) (sprintf "%s prunable" p.Name)
                    if not (set.IsPrunable i) then Expect.equal b.Target Dense (sprintf "%s dense" p.Name))

        testPropertyWithConfig config "uniform gives every pruned parameter round((1 - s) * n)" <|
            Prop.forAll (case) (fun (ps, scope, _, s) ->
                let set = Sparsity.select scope ps |> ok
                for i, b in Sparsity.allocate (LayerWise Uniform) set s |> ok |> Array.indexed do
                    if set.IsPrunable i then
                        Expect.equal b.Target (Keep(Sparsity.keptCount s b.Parameter.Size)) b.Parameter.Name)

        testPropertyWithConfig config "ERK meets the overall target exactly, never above density 1" <|
            Prop.forAll (case) (fun (ps, scope, _, s) ->
                for power in [ 1.0; 0.5 ] do
                    let set = Sparsity.select scope ps |> ok
                    let budgets = Sparsity.allocate (LayerWise(Erk power)) set s |> ok
                    let prunedKept = budgets |> Array.indexed |> Array.sumBy (fun (i, b) -> if set.IsPrunable i then keptOf b else 0L)
                    Expect.equal prunedKept (Sparsity.keptCount s set.PrunableSize) "kept in total"
                    for b in budgets do
                        let k = keptOf b
                        Expect.isTrue (0L <= k && k <= b.Parameter.Size) (sprintf "%s keeps %d of %d" b.Parameter.Name k b.Parameter.Size))

        testPropertyWithConfig config "ERK: denser where (sum of dims / size) is larger; saturated layers have the largest" <|
            Prop.forAll (case) (fun (ps, scope, _, s) ->
                let set = Sparsity.select scope ps |> ok
                let budgets = Sparsity.allocate (LayerWise(Erk 1.0)) set s |> ok
                let pruned = budgets |> Array.indexed |> Array.filter (fun (i, _) -> set.IsPrunable i) |> Array.map snd
                let density (b: LayerBudget) = float (keptOf b) / float b.Parameter.Size
                for a in pruned do
                    for b in pruned do
                        if erkRaw 1.0 a.Parameter > erkRaw 1.0 b.Parameter then
                            // Integer rounding moves each density by at most one entry.
                            let slack = 1.0 / float a.Parameter.Size + 1.0 / float b.Parameter.Size + 1e-9
                            Expect.isTrue (density a >= density b - slack)
                                (sprintf "%s (%g) is sparser than %s (%g)" a.Parameter.Name (density a) b.Parameter.Name (density b)))

        testPropertyWithConfig config "global: every pruned parameter is pooled" <|
            Prop.forAll (case) (fun (ps, scope, _, s) ->
                let set = Sparsity.select scope ps |> ok
                for i, b in Sparsity.allocate Global set s |> ok |> Array.indexed do
                    Expect.equal b.Target (if set.IsPrunable i then Pooled else Dense) b.Parameter.Name)

        testPropertyWithConfig config "plan: non-zeros = dense parameters + what the pruned keep, falling over training" <|
            Prop.forAll (Arbs.zip (case, Arbs.gradual)) (fun ((ps, scope, distribution, _), g) ->
                for allocation in [ LayerWise distribution; Global ] do
                    let plan = Plan.create (Gradual g) allocation scope ps |> ok
                    let steps = Plan.updates plan |> Array.ofSeq
                    for step in steps do
                        Expect.equal step.NonZero (step.TotalSize - step.PrunableSize + step.PrunableKept) "non-zero total"
                        let target = Sparsity.keptCount step.Sparsity step.PrunableSize
                        match allocation with
                        | LayerWise _ ->
                            // Each layer rounds on its own (uniform, and ERK's final targets scaled by the schedule):
                            // at most half an entry off per layer, plus the final apportioning's unit per layer.
                            let layers = step.Layers |> Array.filter (fun l -> l.Target <> Dense) |> Array.length
                            Expect.isTrue (abs (step.PrunableKept - target) <= int64 layers) "layer-wise total near the target"
                        | Global -> Expect.equal step.PrunableKept target "kept at the schedule's sparsity"
                    for a, b in Array.pairwise steps do
                        Expect.isTrue (b.NonZero <= a.NonZero) (sprintf "non-zeros grew from step %d to %d" a.Step b.Step))

        testPropertyWithConfig config "plan (JaxPruner's timing): every layer's target at step t is its final target times s(t) / s_f" <|
            Prop.forAll (Arbs.zip (case, Arbs.gradual)) (fun ((ps, scope, distribution, _), g) ->
                let plan = Plan.create (Gradual g) (LayerWise distribution) scope ps |> ok
                let final = Schedule.finalSparsity plan.Schedule
                let finalLayers = (Plan.at plan Int64.MaxValue).Layers
                for step in Plan.updates plan do
                    for layer, last in Array.zip step.Layers finalLayers do
                        match layer.Target, last.Target with
                        | Keep k, Keep kf ->
                            let n = layer.Parameter.Size
                            let fraction = if final = 0.0 then 0.0 else step.Sparsity / final
                            // Uniform's final target is s_f itself, so s_f * s(t) / s_f = s(t); ERK's is the final count's sparsity.
                            let layerFinal = match distribution with Uniform -> final | Erk _ -> 1.0 - float kf / float n
                            let expected = if fraction >= 1.0 then kf else Sparsity.keptCount (layerFinal * fraction) n
                            Expect.equal k expected (sprintf "%s at step %d" layer.Parameter.Name step.Step)
                        | now, last -> Expect.equal now last (sprintf "%s keeps its kind of target" layer.Parameter.Name))

        testPropertyWithConfig config "plan (re-solved timing): ERK keeps exactly the schedule's count at every step" <|
            Prop.forAll (Arbs.zip (case, Arbs.gradual)) (fun ((ps, scope, distribution, _), g) ->
                let plan = Plan.createTimed Resolved (Gradual g) (LayerWise distribution) scope ps |> ok
                for step in Plan.updates plan do
                    match distribution with
                    | Erk _ -> Expect.equal step.PrunableKept (Sparsity.keptCount step.Sparsity step.PrunableSize) "kept at the schedule's sparsity"
                    | Uniform -> ())
    ]
