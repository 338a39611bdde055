using Prunerl.Agents.Runtime;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Prunerl.Agents.Inference;

/// <summary>The formats a network's weights (its state_dict: parameters and buffers by name) are written in.</summary>
public enum WeightFormat
{
    /// <summary>Hugging Face's safetensors: an 8-byte little-endian header length, a JSON header of each tensor's
    /// dtype, shape and byte offsets, then the raw bytes (github.com/huggingface/safetensors, "Format").</summary>
    Safetensors,

    /// <summary>PyTorch's <c>torch.save(module.state_dict())</c> zip archive, read with <c>torch.load</c>.</summary>
    PyTorch,
}

/// <summary>
/// A trained network's weights on disk, written and read by TorchSharp.PyBridge (safetensors and PyTorch's
/// state_dict), so that PyTorch (<c>torch.load</c>, <c>safetensors.torch.load_file</c>) reads what a run keeps.
/// Files are written whole or not at all (<see cref="AtomicFile"/>); loading is strict: the file must hold
/// exactly the network's tensors, each of its shape.
/// </summary>
public static class NetworkFile
{
    /// <summary>The file a finished run keeps its final network in, in its folder.</summary>
    public const string RunFileName = "network.safetensors";

    /// <summary>The format a file's extension names: .safetensors, or .pt / .pth for PyTorch's; null for another.</summary>
    public static WeightFormat? FormatOf(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".safetensors" => WeightFormat.Safetensors,
        ".pt" or ".pth" => WeightFormat.PyTorch,
        _ => null,
    };

    /// <summary>Writes the network's state_dict to <paramref name="path"/> in <paramref name="format"/>, whole or not at all.</summary>
    public static void Save(nn.Module network, string path, WeightFormat format) => AtomicFile.Write(path, stream => Write(network, stream, format));

    /// <summary>Writes the network's state_dict to a stream in <paramref name="format"/> (the stream is left open).</summary>
    public static void Write(nn.Module network, Stream stream, WeightFormat format)
    {
        if (format == WeightFormat.Safetensors) network.save_safetensors(stream, leaveOpen: true);
        else network.save_py(stream, leaveOpen: true);
    }

    /// <summary>
    /// Reads the weights at <paramref name="path"/> (its format by its extension) into the network, all or nothing: a
    /// file that is missing, unreadable, of another format, or whose tensors are not exactly the network's (names,
    /// shapes, dtypes) is an <see cref="InvalidDataException"/> saying so in one line, and the network is unchanged.
    /// </summary>
    public static void Load(nn.Module network, string path)
    {
        var format = FormatOf(path) ?? throw new InvalidDataException($"{path}: not a weights file (.safetensors, .pt or .pth)");
        if (!File.Exists(path)) throw new InvalidDataException($"{path} does not exist");
        using var scope = NewDisposeScope();
        var stored = Read(path, format);
        var own = network.state_dict();
        if (stored.Keys.Except(own.Keys).Order(StringComparer.Ordinal).FirstOrDefault() is { } unexpected)
            throw new InvalidDataException($"{path} holds {unexpected}, which this network does not have (it has {string.Join(", ", own.Keys)})");
        if (own.Keys.Except(stored.Keys).Order(StringComparer.Ordinal).FirstOrDefault() is { } missing)
            throw new InvalidDataException($"{path} lacks {missing} of this network");
        foreach (var (name, tensor) in own)
            if (!stored[name].shape.SequenceEqual(tensor.shape) || stored[name].dtype != tensor.dtype)
                throw new InvalidDataException($"{path}: {name} is {stored[name].dtype} [{string.Join(", ", stored[name].shape)}] where {tensor.dtype} [{string.Join(", ", tensor.shape)}] is expected");
        using var _ = no_grad();
        foreach (var (name, tensor) in own) tensor.copy_(stored[name]);
    }

    /// <summary>Every tensor of a weights file by name, on the CPU (in the caller's dispose scope).</summary>
    private static Dictionary<string, Tensor> Read(string path, WeightFormat format)
    {
        try
        {
            if (format == WeightFormat.Safetensors) return Safetensors.LoadStateDict(path);
            using var stream = File.OpenRead(path);
            var table = PyTorchUnpickler.UnpickleStateDict(stream);
            return table.Keys.Cast<object>().ToDictionary(key => (string)key, key => table[key] as Tensor
                ?? throw new InvalidDataException($"{path}: {key} is not a tensor"));
        }
        catch (Exception e) when (e is not InvalidDataException and not OutOfMemoryException)
        {
            throw new InvalidDataException($"{path} is not a readable {(format == WeightFormat.Safetensors ? "safetensors" : "PyTorch state_dict")} file: {e.Message.Split('\n')[0]}", e);
        }
    }
}
