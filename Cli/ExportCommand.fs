/// `prunerl export RUN`: a finished run's final network in formats other tools load: PyTorch's state_dict
/// (network.pt, `torch.load`), safetensors (network.safetensors) and network.json, which describes the
/// architecture, width and sparsity so that a Python user builds the equivalent torch module and loads it.
module Prunerl.Cli.ExportCommand

open System
open System.IO
open System.Text.Json
open Argu
open TorchSharp
open Prunerl.Core
open Prunerl.Experiments
open Prunerl.Agents.Envs
open Prunerl.Agents.Inference
open Prunerl.Cli.UserError

/// The flags of `prunerl export`.
[<RequireQualifiedAccess>]
type ExportArgs =
    | [<MainCommand; ExactlyOnce>] Run of folder: string
    | Out of folder: string
    | Format of names: string

    interface IArgParserTemplate with
        member this.Usage =
            match this with
            | Run _ -> "the folder of a finished run (train --out DIR)."
            | Out _ -> "the folder the files go to (default RUN/export)."
            | Format _ -> "formats, comma-separated: pt (PyTorch's state_dict), safetensors (default both); network.json is always written."

/// The formats by name, and the file each writes.
let formats = [ "pt", (WeightFormat.PyTorch, "network.pt"); "safetensors", (WeightFormat.Safetensors, "network.safetensors") ]

/// The format names of a --format value, each once, in order; a one-line error for an unknown one.
let parseFormats (value: string) : string list =
    let names = value.Split(',', StringSplitOptions.TrimEntries ||| StringSplitOptions.RemoveEmptyEntries) |> List.ofArray |> List.distinct
    if names.IsEmpty then raise (UserError "export: --format names no format; give pt, safetensors or both")
    for name in names do
        if not (formats |> List.exists (fst >> (=) name)) then
            raise (UserError(sprintf "export: unknown format '%s'; the formats are %s" name (formats |> List.map fst |> String.concat ", ")))
    names

/// How the network's forward pass goes, in PyTorch's terms, for the description.
let forwardText (c: RunConfig) (policy: TrainedPolicy) : string =
    match policy with
    | :? ActorPolicy ->
        "features = relu(torso.layers[i](x)) for each i over x.flatten(1); mean = mean(features); log_std = log_std(features).clamp(-20, 2); "
        + "the evaluation action is tanh(mean) scaled affinely from [-1, 1] to [action_low, action_high]"
    | _ ->
        let torso =
            match c.Network with
            | NetworkKind.Mlp -> "x = x.flatten(1); x = relu(torso.layers[i](x)) for each i"
            | NetworkKind.MinAtar -> "x = relu(torso.conv(x)); x = relu(torso.dense(x.flatten(1)))"
            | NetworkKind.Nature -> "x = relu(torso.convs[i](x)) for i in 0..2; x = relu(torso.dense(x.flatten(1)))"
            | NetworkKind.Impala ->
                "for each torso.stacks[s]: x = max_pool2d(conv(x), 3, 2, 1); then twice (block b): x = x + blockConvs[2b+1](relu(blockConvs[2b](relu(x)))); "
                + "x = relu(torso.dense(relu(x).flatten(1)))"
        let h = c.Hyperparameters
        let head =
            match h.Atoms, h.Dueling with
            | 1, false -> "q = head(x)"
            | 1, true -> "a = head(x); q = value(x) + a - a.mean(1, keepdim=True)"
            | _, dueling ->
                let logits =
                    if dueling then "a = head(x).view(-1, actions, atoms); logits = value(x).view(-1, 1, atoms) + a - a.mean(1, keepdim=True)"
                    else "logits = head(x).view(-1, actions, atoms)"
                logits + "; q = (softmax(logits, -1) * support).sum(-1)"
        let noisy = if h.Noisy then " (noisy layers, NoisyLinear: evaluated on their means, weight_mu and bias_mu)" else ""
        sprintf "%s; %s%s; the greedy action is q.argmax(1)" torso head noisy

/// network.json: what the network is, layer by layer, with its sparsity, and how its files were written.
let describe (c: RunConfig) (environment: Environment) (policy: TrainedPolicy) (files: string list) : byte[] =
    use buffer = new MemoryStream()
    do
        use w = new Utf8JsonWriter(buffer, JsonWriterOptions(Indented = true))
        let longs (name: string) (xs: int64 seq) =
            w.WriteStartArray name
            for x in xs do w.WriteNumberValue x
            w.WriteEndArray()
        w.WriteStartObject()
        w.WriteString("format", "prunerl-network/1")
        w.WriteString("agent", Choices.nameIn Choices.agents c.Agent)
        w.WriteString("env", c.Env)
        w.WriteString("network", Choices.nameIn Choices.networks c.Network)
        w.WriteString("module", (if policy :? ActorPolicy then "SquashedGaussianActor" else "QNetwork"))
        w.WriteNumber("width", c.Width)
        w.WriteString("width_scope", (if c.WidthScope.IsConv then "conv" else "all"))
        longs "observation_shape" (environment.ObservationSpace.Shape |> Seq.map int64)
        match environment.ActionSpace with
        | :? DiscreteSpace as d -> w.WriteNumber("actions", d.Count)
        | :? BoxSpace as b ->
            w.WriteNumber("action_size", b.Size)
            w.WriteStartArray "action_low"
            for x in b.Low do w.WriteNumberValue x
            w.WriteEndArray()
            w.WriteStartArray "action_high"
            for x in b.High do w.WriteNumberValue x
            w.WriteEndArray()
        | _ -> ()
        if not (policy :? ActorPolicy) then
            let h = c.Hyperparameters
            w.WriteStartObject "head"
            w.WriteNumber("atoms", h.Atoms)
            w.WriteNumber("v_min", h.VMin)
            w.WriteNumber("v_max", h.VMax)
            w.WriteBoolean("dueling", h.Dueling)
            w.WriteBoolean("noisy", h.Noisy)
            w.WriteEndObject()
            w.WriteNumber("epsilon_eval", h.EpsilonEval)
        w.WriteString("forward", forwardText c policy)
        w.WriteStartArray "layers"
        for struct (name, m) in policy.Network.named_modules() do
            match m with
            | :? Modules.Linear as l ->
                w.WriteStartObject()
                w.WriteString("name", name)
                w.WriteString("type", "Linear")
                w.WriteNumber("in_features", l.in_features)
                w.WriteNumber("out_features", l.out_features)
                w.WriteEndObject()
            | :? Modules.Conv2d as conv ->
                w.WriteStartObject()
                w.WriteString("name", name)
                w.WriteString("type", "Conv2d")
                w.WriteNumber("in_channels", conv.in_channels)
                w.WriteNumber("out_channels", conv.out_channels)
                longs "kernel_size" conv.kernel_size
                longs "stride" conv.stride
                longs "padding" conv.padding
                w.WriteEndObject()
            | :? Prunerl.Agents.Networks.NoisyLinear ->
                let shape = policy.Network.named_parameters() |> Seq.find (fun struct (n, _) -> n = name + ".weight_mu") |> fun struct (_, p) -> p.shape
                w.WriteStartObject()
                w.WriteString("name", name)
                w.WriteString("type", "NoisyLinear")
                w.WriteNumber("in_features", shape[1])
                w.WriteNumber("out_features", shape[0])
                w.WriteEndObject()
            | _ -> ()
        w.WriteEndArray()
        let parameters = Prunerl.Agents.Pruning.ParameterSparsity.Of(policy.Network, null)
        w.WriteStartArray "parameters"
        for p in parameters do
            w.WriteStartObject()
            w.WriteString("name", p.Name)
            longs "shape" p.Shape
            w.WriteNumber("size", p.Size)
            w.WriteNumber("nonzero", p.NonZero)
            w.WriteEndObject()
        w.WriteEndArray()
        // The paper's scope: weight matrices and kernels are pruned, biases are not.
        let weights = parameters |> Seq.filter (fun p -> p.Shape.Length >= 2) |> Array.ofSeq
        w.WriteStartObject "sparsity"
        w.WriteNumber("target", c.Sparsity)
        w.WriteNumber("weights", 1.0 - float (weights |> Array.sumBy _.NonZero) / float (max 1L (weights |> Array.sumBy _.Size)))
        w.WriteNumber("all", 1.0 - float (parameters |> Seq.sumBy _.NonZero) / float (max 1L (parameters |> Seq.sumBy _.Size)))
        w.WriteString("distribution", Choices.nameIn Choices.distributions c.Distribution)
        w.WriteEndObject()
        w.WriteStartArray "files"
        for f in files do w.WriteStringValue f
        w.WriteEndArray()
        w.WriteEndObject()
    Array.append (buffer.ToArray()) "\n"B

/// Runs `prunerl export`.
let run (args: ParseResults<ExportArgs>) : int =
    let folder = args.GetResult ExportArgs.Run
    let names = args.TryGetResult ExportArgs.Format |> Option.map parseFormats |> Option.defaultValue (formats |> List.map fst)
    let out = args.GetResult(ExportArgs.Out, Path.Combine(folder, "export"))
    RunFolder.checkWritable "out" out
    let trained = TrainedRun.openRun "export" folder None
    use policy = trained.Policy
    let weights =
        [ for name in names ->
              let format, file = formats |> List.find (fst >> (=) name) |> snd
              use stream = new MemoryStream()
              NetworkFile.Write(policy.Network, stream, format)
              file, stream.ToArray() ]
    let description = describe trained.Config trained.Environment policy (weights |> List.map fst)
    Files.writeFolder out (weights @ [ "network.json", description ])
    printfn "Exported the final network of %s (%s on %s) to %s:" folder (Choices.nameIn Choices.agents trained.Config.Agent) trained.Config.Env out
    for file, bytes in weights @ [ "network.json", description ] do
        printfn "  %-20s %8d bytes" file bytes.Length
    0
