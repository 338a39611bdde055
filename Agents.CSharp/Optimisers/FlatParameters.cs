using static TorchSharp.torch;

namespace Prunerl.Agents.Optimisers;

/// <summary>Where one parameter lives in a <see cref="FlatParameters"/> buffer.</summary>
public sealed record FlatSlice(string Name, long Offset, long Length, long[] Shape);

/// <summary>
/// Every parameter of a network, and every gradient, as views of one contiguous tensor each, so that an
/// optimizer step, a mask multiply or a gradient reset is a handful of ops on one tensor instead of a
/// managed loop over parameters (on CPU each TorchSharp op costs ~2 us; see the notes on CPU speed).
/// Binding copies the parameters' current values in, in the network's parameter order, and rebinds each
/// parameter to its view (<c>param.set_</c>) and its gradient to a view of <see cref="Gradients"/>, so
/// backward accumulates there in place. Reset gradients with <see cref="ZeroGrad"/>; never set a
/// parameter's gradient to null or move the network to another device afterwards (either unbinds it).
/// </summary>
public sealed class FlatParameters : IDisposable
{
    /// <summary>Binds the module's parameters (all of one dtype and device) to two new flat buffers.</summary>
    public FlatParameters(nn.Module module)
    {
        var parameters = module.named_parameters().ToList();
        if (parameters.Count == 0) throw new ArgumentException("the module has no parameters", nameof(module));
        var first = parameters[0].parameter;
        if (parameters.Any(p => p.parameter.dtype != first.dtype || p.parameter.device_type != first.device_type || p.parameter.device_index != first.device_index))
            throw new ArgumentException("the module's parameters must share one dtype and device", nameof(module));
        var slices = new List<FlatSlice>(parameters.Count);
        var offset = 0L;
        foreach (var (name, parameter) in parameters)
        {
            slices.Add(new FlatSlice(name, offset, parameter.numel(), parameter.shape));
            offset += parameter.numel();
        }
        Slices = slices;
        Values = empty(offset, first.dtype, first.device);
        Gradients = zeros(offset, first.dtype, first.device);
        using var scope = NewDisposeScope();
        using (no_grad())
            for (var i = 0; i < parameters.Count; i++)
            {
                var parameter = parameters[i].parameter;
                var values = View(Values, i);
                values.copy_(parameter);
                parameter.set_(values);
                parameter.grad = View(Gradients, i);
            }
    }

    /// <summary>All parameter values, in the network's parameter order.</summary>
    public Tensor Values { get; }

    /// <summary>All gradients, aligned with <see cref="Values"/>; backward accumulates here.</summary>
    public Tensor Gradients { get; }

    /// <summary>Each parameter's name, offset, length and shape in the flat buffers.</summary>
    public IReadOnlyList<FlatSlice> Slices { get; }

    /// <summary>The number of parameter entries (the flat buffers' length).</summary>
    public long Count => Values.shape[0];

    /// <summary>
    /// The part of a tensor aligned with the flat buffers (values, gradients, a mask, optimizer state)
    /// that belongs to parameter <paramref name="index"/>, as a view of that parameter's shape.
    /// </summary>
    public Tensor View(Tensor aligned, int index)
    {
        var slice = Slices[index];
        return aligned.narrow(0, slice.Offset, slice.Length).view(slice.Shape);
    }

    /// <summary>Throws unless <paramref name="aligned"/> has one entry per parameter entry (a mask, a state tensor).</summary>
    public void CheckAligned(Tensor aligned, string name)
    {
        if (aligned.numel() != Count)
            throw new ArgumentException($"{name} has {aligned.numel()} entries where the parameters have {Count}", name);
    }

    /// <summary>Sets every gradient to zero in place (one op).</summary>
    public void ZeroGrad() => Gradients.zero_();

    public void Dispose()
    {
        Values.Dispose();
        Gradients.Dispose();
    }
}
