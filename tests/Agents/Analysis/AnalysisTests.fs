/// The tensor measurements agree with the pure core's definitions on the same inputs.
module Prunerl.Tests.AnalysisTests

open Expecto
open TorchSharp
open Prunerl.Experiments.Metrics
open Prunerl.Agents.Analysis
open Prunerl.Agents.Networks
open Prunerl.Experiments

let private ok r =
    match r with
    | Ok x -> x
    | Error e -> failtestf "expected Ok, got Error %s" e

/// A [B, ...] tensor as [B][...] float32 rows.
let private rowsOf (t: torch.Tensor) =
    let b = int t.shape[0]
    let flat = t.contiguous().data<float32>().ToArray()
    Array.chunkBySize (flat.Length / b) flat

let private network seed = new QNetwork(NetworkSpec(NetworkKind.MinAtar), [| 4; 10; 10 |], 6, seed)

let private batch seed =
    torch.random.manual_seed seed |> ignore
    (torch.rand (16L, 4L, 10L, 10L)).gt(torch.tensor 0.7f).to_type(torch.ScalarType.Float32)

[<Tests>]
let tests =
    testSequenced <| testList "analysis on tensors" [
        test "dormant neurons per layer equal the core's count (convolution channels over positions)" {
            use n = network 3L
            use x = batch 4L
            for tau in [ 0.0; 0.1; 0.5; 1.0 ] do
                let tensorCounts = NetworkAnalysis.Dormancy(n, x, tau) |> Seq.map (fun l -> l.Layer, l.Neurons, l.Dormant) |> List.ofSeq
                let activations = System.Collections.Generic.List<System.ValueTuple<string, torch.Tensor>>()
                use _ = torch.no_grad ()
                n.Logits(x, activations) |> ignore
                let coreCounts =
                    [ for struct (name, a) in activations ->
                        let perSample =
                            if a.dim () = 4L then
                                rowsOf a |> Array.map (fun row -> Array.chunkBySize (int (a.shape[2] * a.shape[3])) row) |> Dormant.ofConvolution
                            else rowsOf a
                        let dormant = Dormant.dormant tau perSample |> ok
                        name, dormant.Length, dormant |> Array.filter id |> Array.length ]
                Expect.equal tensorCounts coreCounts (sprintf "tau %g" tau)
        }

        test "effective rank of the penultimate features equals the core's srank" {
            use n = network 5L
            use x = batch 6L
            use features = n.Features x
            let core = EffectiveRank.srank 0.01 (rowsOf features) |> ok
            Expect.equal (NetworkAnalysis.EffectiveRank(n, x, 0.01)) core "srank"
            Expect.isTrue (core >= 1 && core <= 16) "at most the batch size"
        }

        test "parameter norm and Q statistics equal their definitions" {
            use n = network 7L
            let arrays = n.parameters () |> Seq.map (fun p -> p.data<float32>().ToArray()) |> List.ofSeq
            Expect.floatClose Accuracy.medium (NetworkAnalysis.ParameterNorm n) (ParameterNorm.l2 arrays) "norm"
            use x = batch 8L
            let q = (n.forward x).data<float32>().ToArray() |> Array.map float
            let struct (mean, variance) = NetworkAnalysis.QStatistics(n, x)
            Expect.floatClose Accuracy.medium mean (Array.average q) "mean"
            Expect.floatClose Accuracy.medium variance (q |> Array.averageBy (fun v -> (v - Array.average q) ** 2.0)) "variance"
        }

        test "per-sample gradients equal separate backward passes; identical samples interfere fully" {
            use n = network 9L
            use x = batch 10L
            let parameters = n.parameters () |> Seq.map (fun p -> p :> torch.Tensor) |> Array.ofSeq
            let losses () = (n.forward x).pow(torch.tensor 2.0f).sum(1L)
            let perSample = NetworkAnalysis.PerSampleGradients(parameters, losses ())
            for i in [ 0; 5; 15 ] do
                n.zero_grad ()
                let lossOfSample = (losses ()).[int64 i]
                lossOfSample.backward ()
                let separate = parameters |> Array.collect (fun p -> p.grad.data<float32>().ToArray())
                Array.iter2 (fun (a: float32) b -> Expect.isTrue (abs (a - b) <= 1e-5f * (1.0f + abs b)) "same gradient") perSample[i] separate
            use same = x[0L].unsqueeze(0L).expand(4L, -1L, -1L, -1L).contiguous()
            let interference = NetworkAnalysis.GradientInterference(parameters, (n.forward same).pow(torch.tensor 2.0f).sum(1L))
            Expect.floatClose Accuracy.medium interference 1.0 "identical samples"
        }
    ]
