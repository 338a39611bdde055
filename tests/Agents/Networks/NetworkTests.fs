/// Value networks: shapes, parameter counts at width 1 and 4 worked out by hand, seeding, heads.
module Prunerl.Tests.NetworkTests

open System
open Expecto
open TorchSharp
open Prunerl.Agents.Networks
open Prunerl.Experiments

let private parameterCount (m: torch.nn.Module) = m.parameters () |> Seq.sumBy (fun p -> p.numel ())

let private minatar = [| 4; 10; 10 |]

/// Every value of a module's parameters, in order.
let private values (m: torch.nn.Module) =
    m.parameters () |> Seq.collect (fun p -> p.detach().cpu().data<float32>().ToArray()) |> Array.ofSeq

[<Tests>]
let tests =
    testSequenced <| testList "networks" [
        test "a layer drawn from an explicit generator holds bit for bit what torch's global generator seeded alike gave" {
            // The constructors' draws (kaiming_uniform_ with a = sqrt 5, then the bias), made again from new Generator(seed).
            let seed = 12345L
            let pairs : (string * (unit -> torch.nn.Module) * (torch.Generator -> torch.nn.Module)) list =
                [ "linear", (fun () -> torch.nn.Linear(7L, 5L) :> _), (fun g -> Initialise.NewLinear(7L, 5L, g) :> _)
                  "convolution", (fun () -> torch.nn.Conv2d(3L, 4L, 3L, stride = 2L, padding = 1L) :> _),
                  (fun g -> Initialise.NewConv2d(3L, 4L, 3L, 2L, 1L, g) :> _)
                  "noisy linear", (fun () -> new NoisyLinear(6, 2, 0.5) :> _), (fun g -> new NoisyLinear(6, 2, 0.5, g) :> _) ]
            for name, viaGlobal, viaGenerator in pairs do
                torch.random.manual_seed seed |> ignore
                use expected = viaGlobal ()
                torch.random.manual_seed 999L |> ignore
                use generator = new torch.Generator(uint64 seed)
                use actual = viaGenerator generator
                Expect.sequenceEqual (values actual) (values expected) name
        }

        test "a network built twice from one seed is the same whatever torch's global generator holds, Xavier-uniform too" {
            let spec = NetworkSpec(NetworkKind.MinAtar, Init = Prunerl.Experiments.Initialization.Xavier_Uniform)
            torch.random.manual_seed 1L |> ignore
            use first = new QNetwork(spec, minatar, 3, 7L)
            torch.random.manual_seed 2L |> ignore
            use second = new QNetwork(spec, minatar, 3, 7L)
            Expect.sequenceEqual (values second) (values first) "same values"
        }

        test "MinAtar network: 132,179 parameters at width 1 and 2,101,571 at width 4 (4 channels, 3 actions)" {
            // conv 4*16*9 + 16 = 592; dense 1024*128 + 128 = 131,200; head 128*3 + 3 = 387.
            use narrow = new QNetwork(NetworkSpec(NetworkKind.MinAtar), minatar, 3, 0L)
            Expect.equal (parameterCount narrow) 132_179L "width 1"
            // conv 4*64*9 + 64 = 2,368; dense 4096*512 + 512 = 2,097,664; head 512*3 + 3 = 1,539.
            use wide = new QNetwork(NetworkSpec(NetworkKind.MinAtar, Width = 4.0), minatar, 3, 0L)
            Expect.equal (parameterCount wide) 2_101_571L "width 4"
            use q = narrow.forward (torch.zeros (5L, 4L, 10L, 10L))
            Expect.equal q.shape [| 5L; 3L |] "Q-values per action"
        }

        test "Impala and MLP torsos give Q-values; Nature refuses MinAtar-sized frames and takes 84x84" {
            use impala = new QNetwork(NetworkSpec(NetworkKind.Impala, Width = 2.0), minatar, 6, 0L)
            use q = impala.forward (torch.rand (2L, 4L, 10L, 10L))
            Expect.equal q.shape [| 2L; 6L |] "Impala"
            use features = impala.Features(torch.rand (2L, 4L, 10L, 10L))
            Expect.equal features.shape [| 2L; 1024L |] "512 x width features"
            use mlp = new QNetwork(NetworkSpec(NetworkKind.Mlp, MlpHidden = [| 64; 64 |]), [| 4 |], 2, 0L)
            // 4*64 + 64 + 64*64 + 64 + 64*2 + 2 = 4,610.
            Expect.equal (parameterCount mlp) 4_610L "MLP parameters"
            Expect.throws (fun () -> new QNetwork(NetworkSpec(NetworkKind.Nature), minatar, 6, 0L) |> ignore) "10x10 is too small"
            use nature = new QNetwork(NetworkSpec(NetworkKind.Nature), [| 4; 84; 84 |], 6, 0L)
            // 84 -> 20 -> 9 -> 7: 64 * 49 = 3136 features into the dense layer.
            let dense = nature.named_parameters () |> Seq.pick (fun struct (name, p) -> if name = "torso.dense.weight" then Some p.shape else None)
            Expect.equal dense [| 512L; 3136L |] "Nature dense layer"
        }

        test "the same seed gives the same weights; another seed others" {
            let weights seed =
                use n = new QNetwork(NetworkSpec(NetworkKind.MinAtar), minatar, 3, seed)
                n.parameters () |> Seq.map (fun p -> p.sum().item<float32> ()) |> Array.ofSeq
            Expect.equal (weights 3L) (weights 3L) "same seed"
            Expect.notEqual (weights 3L) (weights 4L) "other seed"
        }

        test "C51 with dueling: logits per atom, Q within [v_min, v_max]" {
            use n = new QNetwork(NetworkSpec(NetworkKind.MinAtar, Atoms = 51, VMin = -10.0, VMax = 10.0, Dueling = true), minatar, 3, 1L)
            use x = torch.rand (7L, 4L, 10L, 10L)
            use logits = n.Logits x
            Expect.equal logits.shape [| 7L; 3L; 51L |] "logits"
            use q = n.forward x
            Expect.equal q.shape [| 7L; 3L |] "Q"
            Expect.isTrue (q.abs().max().item<float32> () <= 10.0f) "an expectation over the support"
            Expect.equal (n.Support.shape) [| 51L |] "support"
        }

        test "noisy heads: noise changes training outputs; evaluation uses the means" {
            use n = new QNetwork(NetworkSpec(NetworkKind.MinAtar, Noisy = true), minatar, 3, 1L)
            use x = torch.rand (2L, 4L, 10L, 10L)
            let generator = new torch.Generator(9UL)
            n.train ()
            n.ResampleNoise generator
            use a = n.forward x
            n.ResampleNoise generator
            use b = n.forward x
            Expect.isFalse (a.allclose b) "fresh noise, other outputs"
            n.eval ()
            use c = n.forward x
            n.ResampleNoise generator
            use d = n.forward x
            Expect.isTrue (c.allclose d) "evaluation ignores the noise"
        }

        test "noisy nets: the torso's dense layer and the head are noisy with sigma0 / sqrt(inputs), the convolution plain; the baselines renew means and noise scales" {
            use n = new QNetwork(NetworkSpec(NetworkKind.MinAtar, Noisy = true, Dueling = true, NoisySigma0 = 0.1), minatar, 3, 1L)
            let byName = n.named_parameters () |> Seq.map (fun struct (name, p) -> name, p) |> List.ofSeq
            let names = byName |> List.map fst
            Expect.equal
                (names |> List.filter (fun name -> name.EndsWith "weight_sigma"))
                [ "torso.dense.weight_sigma"; "head.weight_sigma"; "value.weight_sigma" ]
                "Dopamine's FullRainbowNetwork: the hidden dense layer and both streams"
            Expect.containsAll names [ "torso.conv.weight"; "torso.conv.bias" ] "a plain convolution"
            let byName = Map.ofList byName
            let sigmas = byName |> Map.filter (fun name _ -> name.EndsWith "_sigma")
            Expect.equal sigmas.Count 6 "weight and bias sigmas of three layers"
            sigmas |> Map.iter (fun name sigma ->
                // A layer's inputs: its weight matrix's columns.
                let inputs = byName[name.Replace("bias_", "weight_")].shape[1]
                let expected = 0.1 / sqrt (float inputs)
                Expect.floatClose Accuracy.high (float (sigma.min().item<float32> ())) expected (sprintf "%s at its low end" name)
                Expect.floatClose Accuracy.high (float (sigma.max().item<float32> ())) expected (sprintf "%s at its high end" name))
            let roles = Prunerl.Agents.Pruning.NetworkParameters.Describe n |> Seq.map (fun struct (d, _) -> d.Name, d.Role) |> Map.ofSeq
            Expect.equal (roles["torso.dense.weight_mu"], roles["torso.dense.weight_sigma"]) (Prunerl.Core.Weight, Prunerl.Core.Weight) "means and scales: weights to prune"
            Expect.equal (roles["head.bias_mu"], roles["head.bias_sigma"]) (Prunerl.Core.Bias, Prunerl.Core.Bias) "noisy biases: biases"
            // The baselines see a noisy layer's means and noise scales, and read its neurons through both.
            let parameterNames (layer: RenewableLayer) = [ for p in layer.Parameters -> (byName |> Map.findKey (fun _ q -> obj.ReferenceEquals(q, p.Parameter))), p.Fresh ]
            let dense = n.RecyclableLayers() |> Seq.last
            let inputs = float byName["torso.dense.weight_mu"].shape[1]
            Expect.equal (parameterNames dense.Layer)
                [ "torso.dense.weight_mu", FreshValues.Uniform(1.0 / sqrt inputs)
                  "torso.dense.bias_mu", FreshValues.Uniform(1.0 / sqrt inputs)
                  "torso.dense.weight_sigma", FreshValues.Constant(0.1 / sqrt inputs)
                  "torso.dense.bias_sigma", FreshValues.Constant(0.1 / sqrt inputs) ]
                "the dense layer: fresh means, noise scales back to sigma0 / sqrt(inputs)"
            Expect.equal
                [ for r in dense.Readers -> byName |> Map.findKey (fun _ q -> obj.ReferenceEquals(q, r.Weight)) ]
                [ "head.weight_mu"; "head.weight_sigma"; "value.weight_mu"; "value.weight_sigma" ]
                "both streams read the dense layer with their means and noise scales"
            Expect.equal [ for layer in n.HeadLayers() -> layer.Name, layer.Parameters.Count ] [ "head", 4; "value", 4 ] "the head's layers"
            use plain = new QNetwork(NetworkSpec(NetworkKind.MinAtar, Dueling = true), minatar, 3, 1L)
            Expect.equal (plain.RecyclableLayers() |> Seq.map _.Name |> List.ofSeq) [ "conv"; "dense" ] "a plain network's recyclable layers"
        }

        test "hidden activations are recorded by layer for the dormant-neuron analysis" {
            use n = new QNetwork(NetworkSpec(NetworkKind.MinAtar), minatar, 3, 0L)
            let activations = Collections.Generic.List<ValueTuple<string, torch.Tensor>>()
            use _ = n.Logits(torch.rand (3L, 4L, 10L, 10L), activations)
            Expect.equal [ for struct (name, t) in activations -> name, t.shape ] [ "conv", [| 3L; 16L; 8L; 8L |]; "dense", [| 3L; 128L |] ] "layers"
        }
    ]
