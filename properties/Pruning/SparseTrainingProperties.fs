/// Properties of the sparse-training methods' pure core (static masks, SET and RigL rewiring, the drop
/// schedule, lottery tickets): exact kept counts, drop and grow disjoint, the dropped the smallest, the grown
/// pruned before, restarts at zero, static masks never changing, tickets starting from exactly the recorded
/// weights. The inputs are small structured cases that shrink (entries removed, shapes and fractions made
/// smaller), so a failure reports a minimal case besides its replayable seed.
module Prunerl.Properties.SparseTrainingProperties

open System
open Expecto
open FsCheck
open FsCheck.FSharp
open Prunerl.Core
open Prunerl.Properties.Generators

let private config = { FsCheckConfig.defaultConfig with maxTest = 300 }

/// |x| with NaN above everything, as the importance order ranks it.
let private magnitude (x: float32) = if Single.IsNaN x then infinity else abs (float x)

let private count (mask: bool[]) = mask |> Array.sumBy (fun k -> if k then 1 else 0)

let private positions (predicate: int -> bool) (n: int) = [| for i in 0 .. n - 1 do if predicate i then i |]

/// Same values bit for bit (NaN included).
let private sameBits (a: float32[]) (b: float32[]) =
    a.Length = b.Length && Array.forall2 (fun (x: float32) (y: float32) -> BitConverter.SingleToInt32Bits x = BitConverter.SingleToInt32Bits y) a b

// ---- one layer ---------------------------------------------------------------------------------------------

/// One layer as the rewiring sees it: per entry its weight, whether it is kept, and its dense gradient.
type LayerCase =
    { Entries: (float32 * bool * float32)[]
      /// The drop fraction in per mille.
      FractionPerMille: int
      Seed: uint64 }

    member c.Weights = c.Entries |> Array.map (fun (w, _, _) -> w)
    member c.Mask = c.Entries |> Array.map (fun (_, k, _) -> k)
    member c.Gradient = c.Entries |> Array.map (fun (_, _, g) -> g)
    member c.Fraction = float c.FractionPerMille / 1000.0

let private entryValue: Gen<float32> =
    let arbitrary = Gen.choose (-100_000, 100_000) |> Gen.map (fun k -> float32 k / 1000.0f)
    let tied = Gen.elements [ 0.0f; -0.0f; 0.5f; -0.5f; 1.0f; -1.0f; 2.0f ]
    let special = Gen.elements [ nanf; infinityf; -infinityf ]
    Gen.frequency [ 70, arbitrary; 25, tied; 5, special ]

/// One layer with a drop fraction and a seed, shrinking by entries removed or made simpler and by rounder fractions.
let layerCase: Arbitrary<LayerCase> =
    let entry = Gen.zip3 entryValue (Gen.elements [ true; true; false ]) entryValue
    let gen =
        gen {
            let! n = Gen.oneof [ Gen.choose (0, 8); Gen.choose (0, 300) ]
            let! entries = Gen.arrayOfLength n entry
            let! fraction = Gen.oneof [ Gen.elements [ 0; 100; 300; 500; 1000 ]; Gen.choose (0, 1000) ]
            let! seed = Gen.choose (0, Int32.MaxValue)
            return { Entries = entries; FractionPerMille = fraction; Seed = uint64 seed }
        }
    let shrink (c: LayerCase) =
        seq {
            for e in Shrink.structural c.Entries do
                yield { c with Entries = e }
            for f in [ 0; 300; 1000 ] do
                if f <> c.FractionPerMille then yield { c with FractionPerMille = f }
        }
    Arb.fromGenShrink (gen, shrink)

let private rewire (c: LayerCase) (random: bool) =
    let growth = if random then RandomGrowth(Rng.create c.Seed) else GradientGrowth c.Gradient
    Rewiring.layer c.Fraction growth c.Mask c.Weights |> ok

let private bothGrowths (check: LayerCase -> Rewiring -> unit) =
    Prop.forAll layerCase (fun c ->
        check c (rewire c true)
        check c (rewire c false))

// ---- a network ---------------------------------------------------------------------------------------------

/// A small network: parameters (role and shape), a target sparsity, a distribution, and the seeds of its
/// weights and of the method; the weights follow from the shapes and their seed, so shrinking keeps them.
type NetworkCase =
    { Shapes: (ParameterRole * int[])[]
      SparsityPerMille: int
      Allocation: Allocation
      WeightSeed: uint64
      Seed: uint64 }

    member c.Parameters =
        c.Shapes |> Array.mapi (fun i (role, shape) -> { Name = sprintf "p%d" i; Shape = shape; Role = role })

    member c.Sparsity = float c.SparsityPerMille / 1000.0

/// Weights for the parameters, drawn from a seed: a few tied values, zeros and spread-out ones.
let private weightsFor (seed: uint64) (ps: Parameter[]) : float32[][] =
    ps
    |> Array.mapi (fun i p ->
        let values = Array.zeroCreate (int p.Size)
        let mutable rng = Rng.create (Rng.deriveSeed seed (int64 i))
        for j in 0 .. values.Length - 1 do
            let k, next = Rng.nextBelow 2001 rng
            rng <- next
            values[j] <- if k % 7 = 0 then float32 (k % 3) / 2.0f else float32 (k - 1000) / 100.0f
        values)

let private networkCase (allocations: Gen<Allocation>) : Arbitrary<NetworkCase> =
    let shape = Gen.choose (1, 3) |> Gen.bind (fun d -> Gen.arrayOfLength d (Gen.choose (1, 9)))
    let parameter =
        Gen.frequency
            [ 6, shape |> Gen.map (fun s -> Weight, (if s.Length = 1 then Array.append s [| 2 |] else s))
              2, Gen.choose (1, 9) |> Gen.map (fun n -> Bias, [| n |]) ]
    let gen =
        gen {
            let! k = Gen.choose (1, 5)
            let! shapes = Gen.arrayOfLength k parameter
            let! s = Gen.oneof [ Gen.elements [ 0; 500; 900; 950; 990 ]; Gen.choose (0, 999) ]
            let! allocation = allocations
            let! weightSeed = Gen.choose (0, Int32.MaxValue)
            let! seed = Gen.choose (0, Int32.MaxValue)
            return { Shapes = shapes; SparsityPerMille = s; Allocation = allocation; WeightSeed = uint64 weightSeed; Seed = uint64 seed }
        }
    let shrink (c: NetworkCase) =
        seq {
            // Fewer parameters (at least one), fewer dimensions, dimensions nearer 1; every dimension stays >= 1.
            for shapes in Shrink.structural c.Shapes do
                if shapes.Length >= 1 && shapes |> Array.forall (fun (_, dims) -> dims.Length >= 1 && Array.forall (fun d -> d >= 1) dims) then
                    yield { c with Shapes = shapes }
            for s in [ 0; 500 ] do
                if s < c.SparsityPerMille then yield { c with SparsityPerMille = s }
        }
    Arb.fromGenShrink (gen, shrink)

let private layerWise = distribution |> Gen.map LayerWise

/// The targets of a constant schedule at the case's sparsity, with the paper's scope.
let private targets (c: NetworkCase) : PlanStep =
    let plan = Plan.create (Schedule.constant c.Sparsity |> ok) c.Allocation Sparsity.paperScope c.Parameters |> ok
    Plan.at plan 0L

let private expectOnTarget (step: PlanStep) (masks: bool[][]) =
    Array.iter2
        (fun (b: LayerBudget) (m: bool[]) ->
            match b.Target with
            | Keep k -> Expect.equal (int64 (count m)) k (sprintf "%s keeps its target" b.Parameter.Name)
            | Dense -> Expect.isTrue (Array.forall id m) (sprintf "%s stays dense" b.Parameter.Name)
            | Pooled -> ())
        step.Layers
        masks

/// A drop schedule rewiring often over short runs.
let private dropSchedule: Gen<DropSchedule> =
    gen {
        let! f = Gen.choose (0, 1000)
        let! anneal = Gen.elements [ CosineDrop; ConstantDrop ]
        let! start = Gen.choose (0, 50)
        let! length = Gen.choose (0, 400)
        let! period = Gen.choose (1, 60)
        return
            { Initial = float f / 1000.0
              Anneal = anneal
              Start = int64 start
              End = int64 (max 1 (start + length))
              Period = int64 period }
    }

/// The masks of a whole run of a fixed-count method: a random static start, then each step's rewiring with
/// weights and gradients drawn afresh; the masks after every step, with each step's rewirings.
let private walk (method: SparseMethod) (drop: DropSchedule) (c: NetworkCase) (steps: int64) =
    let step0 = targets c
    let ws = weightsFor c.WeightSeed c.Parameters
    let start = StaticMask.create RandomInit c.Seed step0 ws |> ok
    let history =
        [ 0L .. steps - 1L ]
        |> List.scan
            (fun (masks, _) t ->
                let weights = weightsFor (Rng.deriveSeed c.WeightSeed t) c.Parameters
                let gradients = weightsFor (Rng.deriveSeed c.WeightSeed (-t - 1L)) c.Parameters
                let r = SparseMethod.rewire method drop c.Seed t masks weights (Some gradients) |> ok
                r |> Array.map (fun x -> x.Mask), Some(t, masks, weights, r))
            (start, None)
    step0, start, history

[<Tests>]
let tests =
    testList "Sparse training properties" [
        testPropertyWithConfig config "Rng.sample: the count asked (at most all), distinct, ascending, from the items" <|
            Prop.forAll
                (Arb.fromGenShrink (
                    Gen.zip3 (Gen.choose (0, 60)) (Gen.choose (0, 80)) (Gen.choose (0, Int32.MaxValue)),
                    fun (k, n, s) -> seq { if k > 0 then yield (k / 2, n, s)
                                           if n > 0 then yield (k, n / 2, s) }))
                (fun (k, n, s) ->
                    let items = Array.init n (fun i -> 3 * i + 1)
                    let picked, _ = Rng.sample k items (Rng.create (uint64 s))
                    Expect.equal picked.Length (min k n) "count"
                    Expect.equal picked (Array.sort (Array.distinct picked)) "distinct and ascending"
                    Expect.isTrue (picked |> Array.forall (fun x -> Array.contains x items)) "from the items")

        testPropertyWithConfig config "rewiring keeps the kept count exactly, dropping and growing dropCount each" <|
            bothGrowths (fun c r ->
                let k = count c.Mask
                let d = int (Rewiring.dropCount c.Fraction (int64 k) c.Entries.LongLength)
                Expect.equal (count r.Mask) k "kept count"
                Expect.equal r.Dropped.Length d "dropped"
                Expect.equal r.Grown.Length d "grown")

        testPropertyWithConfig config "drop and grow are disjoint; the dropped were kept, the grown were pruned" <|
            bothGrowths (fun c r ->
                Expect.isEmpty (Set.intersect (set r.Dropped) (set r.Grown)) "disjoint"
                Expect.isTrue (r.Dropped |> Array.forall (fun i -> c.Mask[i] && not r.Mask[i])) "dropped were kept"
                Expect.isTrue (r.Grown |> Array.forall (fun i -> not c.Mask[i] && r.Mask[i])) "grown were pruned"
                let changed = positions (fun i -> c.Mask[i] <> r.Mask[i]) c.Entries.Length
                Expect.equal changed (Array.sort (Array.append r.Dropped r.Grown)) "nothing else changes")

        testPropertyWithConfig config "the dropped are the smallest kept weights" <|
            bothGrowths (fun c r ->
                let survivors = positions (fun i -> c.Mask[i] && r.Mask[i]) c.Entries.Length
                for i in r.Dropped do
                    for j in survivors do
                        Expect.isTrue (magnitude c.Weights[i] <= magnitude c.Weights[j]) (sprintf "dropped %d is no larger than kept %d" i j))

        testPropertyWithConfig config "RigL grows where the gradient is largest among the pruned" <|
            Prop.forAll layerCase (fun c ->
                let r = rewire c false
                let passedOver = positions (fun i -> not c.Mask[i] && not r.Mask[i]) c.Entries.Length
                for i in r.Grown do
                    for j in passedOver do
                        Expect.isTrue (magnitude c.Gradient[i] >= magnitude c.Gradient[j]) (sprintf "grown %d is no smaller than %d" i j))

        testPropertyWithConfig config "SET's regrowth is a function of its stream, and drops what RigL drops" <|
            Prop.forAll layerCase (fun c ->
                let set = rewire c true
                Expect.equal (rewire c true) set "same stream, same rewiring"
                Expect.equal set.Dropped (rewire c false).Dropped "the drop does not depend on the growth")

        testPropertyWithConfig config "a restart zeroes exactly the regrown entries" <|
            bothGrowths (fun c r ->
                let restarted = Rewiring.restart r c.Weights |> ok
                let grown = set r.Grown
                for i in 0 .. c.Entries.Length - 1 do
                    if grown.Contains i then Expect.equal restarted[i] 0.0f "regrown starts at zero"
                    else Expect.isTrue (sameBits [| restarted[i] |] [| c.Weights[i] |]) "others unchanged")

        testPropertyWithConfig config "static masks keep every layer's target exactly, deterministically" <|
            Prop.forAll (networkCase layerWise) (fun c ->
                let step = targets c
                let ws = weightsFor c.WeightSeed c.Parameters
                for init in [ RandomInit; MagnitudeInit ] do
                    let masks = StaticMask.create init c.Seed step ws |> ok
                    expectOnTarget step masks
                    Expect.equal (StaticMask.create init c.Seed step ws |> ok) masks "same seed, same mask"
                let byMagnitude = StaticMask.create MagnitudeInit c.Seed step ws |> ok
                Array.iteri2
                    (fun i (b: LayerBudget) (m: bool[]) ->
                        match b.Target with
                        | Keep k -> Expect.equal m (Mask.keepLargest k ws[i]) "the k largest"
                        | Dense | Pooled -> ())
                    step.Layers
                    byMagnitude)

        testPropertyWithConfig config "a global static mask keeps the plan's count over the pooled parameters" <|
            Prop.forAll (networkCase (Gen.constant Global)) (fun c ->
                let step = targets c
                let ws = weightsFor c.WeightSeed c.Parameters
                let masks = StaticMask.create MagnitudeInit c.Seed step ws |> ok
                let pooledKept =
                    Array.map2 (fun (b: LayerBudget) m -> if b.Target = Pooled then count m else 0) step.Layers masks |> Array.sum
                Expect.equal (int64 pooledKept) step.PrunableKept "pooled count"
                expectOnTarget step masks
                if step.Layers |> Array.exists (fun b -> b.Target = Pooled) then
                    Expect.isError (StaticMask.create RandomInit c.Seed step ws) "random needs per-layer targets")

        testPropertyWithConfig config "static and lottery-ticket masks never change; SET and RigL keep every count on target" <|
            Prop.forAll (Arbs.zip (networkCase layerWise, Arb.fromGen dropSchedule)) (fun (c, drop) ->
                for method in [ Static; Lottery ] do
                    let _, start, history = walk method drop c 40L
                    for masks, _ in history do
                        Expect.equal masks start (sprintf "%s mask unchanged" (SparseMethod.name method))
                for method in [ SET; RigL ] do
                    let step0, _, history = walk method drop c 40L
                    for masks, last in history do
                        expectOnTarget step0 masks
                        match last with
                        | Some(t, _, _, rewirings) when not (SparseMethod.rewiresAt method drop t) ->
                            Expect.isTrue (rewirings |> Array.forall (fun r -> r.Dropped.Length = 0 && r.Grown.Length = 0)) "no change between rewirings"
                        | _ -> ())

        testPropertyWithConfig config "the drop fraction falls from f_0 to 0 at the end (cosine) and rewires on its period" <|
            Prop.forAll (Arb.fromGen dropSchedule) (fun drop ->
                let fractions = [ 0L .. drop.End + 20L ] |> List.map (DropFraction.at drop)
                Expect.isTrue (fractions |> List.forall (fun f -> 0.0 <= f && f <= drop.Initial)) "within [0, f_0]"
                Expect.equal (DropFraction.at drop 0L) drop.Initial "f_0 at step 0"
                match drop.Anneal with
                | CosineDrop ->
                    Expect.equal (DropFraction.at drop drop.End) 0.0 "0 at the end"
                    Expect.isTrue (fractions |> List.pairwise |> List.forall (fun (a, b) -> b <= a)) "never rises"
                | ConstantDrop -> Expect.isTrue (fractions |> List.forall ((=) drop.Initial)) "constant"
                let expected = [ 0L .. drop.End + 100L ] |> List.filter (DropFraction.isUpdateStep drop)
                Expect.equal (DropFraction.updateSteps drop |> List.ofSeq) expected "update steps")

        testPropertyWithConfig config "a lottery ticket starts from exactly the recorded weights under exactly the final mask" <|
            Prop.forAll (Arbs.zip (networkCase layerWise, Arb.fromGenShrink (Gen.choose (0, 3000), fun r -> seq { if r > 0 then yield 0 }))) (fun (c, rewindAt) ->
                let ws = weightsFor c.WeightSeed c.Parameters
                let masks = StaticMask.create MagnitudeInit c.Seed (targets c) ws |> ok
                let initial = { Step = 0L; Weights = ws }
                let rewound = { Step = int64 rewindAt; Weights = weightsFor (c.WeightSeed + 1UL) c.Parameters }
                for rewind, expected in [ ToInitial, initial; ToStep(int64 rewindAt), (if rewindAt = 0 then initial else rewound) ] do
                    let ticket = LotteryTicket.create rewind masks [ initial; rewound ] |> ok
                    Expect.equal ticket.Masks masks "the final mask"
                    let start = LotteryTicket.startingWeights ticket
                    Array.iteri
                        (fun i (m: bool[]) ->
                            let want = Array.map2 (fun k w -> if k then w else 0.0f) m expected.Weights[i]
                            Expect.isTrue (sameBits start[i] want) "the recorded weights, pruned entries zero")
                        masks
                Expect.isError (LotteryTicket.create (ToStep(int64 rewindAt + 1L)) masks [ initial; rewound ]) "no weights recorded at that step")
    ]
