using TorchSharp;
using static TorchSharp.torch;

namespace Prunerl.Agents.Runtime;

/// <summary>
/// Moving a step's tensors between managed memory and the device a run trains on. Environments, replay
/// and random streams stay in managed (CPU) memory: a batch is made into tensors there and each tensor
/// is copied to the device once, and what comes back (actions, losses) comes in one copy, each copy from
/// a GPU being a synchronisation. On the CPU (a null device too) nothing here copies anything: each call
/// gives the tensor itself, so a CPU run takes exactly the ops it took before devices existed.
/// </summary>
public static class Devices
{
    /// <summary>Whether <paramref name="device"/> is the CPU (null stands for it).</summary>
    public static bool IsCpu(Device? device) => device is null || device.type == DeviceType.CPU;

    /// <summary>The tensor itself on the CPU; elsewhere one copy of it on <paramref name="device"/>.</summary>
    public static Tensor ToDevice(this Tensor host, Device? device) => IsCpu(device) ? host : host.to(device!);

    /// <summary>The tensor itself when it is on the CPU; otherwise one copy of it there (a synchronisation).</summary>
    public static Tensor ToHost(this Tensor tensor) => tensor.device_type == DeviceType.CPU ? tensor : tensor.cpu();

    /// <summary>
    /// Copies the values of float32 tensors, in order and flattened, into <paramref name="into"/>: from
    /// the CPU each is read where it lies; from another device all of them come back in one copy, so one
    /// synchronisation instead of one per tensor (or per <c>item()</c>).
    /// </summary>
    public static void ReadFloats(Span<float> into, params ReadOnlySpan<Tensor> tensors)
    {
        var count = 0L;
        var onCpu = true;
        foreach (var t in tensors)
        {
            count += t.numel();
            onCpu &= t.device_type == DeviceType.CPU;
        }
        if (count != into.Length) throw new ArgumentException($"the tensors hold {count} values where {into.Length} are expected", nameof(into));
        using var scope = NewDisposeScope();
        if (!onCpu)
        {
            var parts = new Tensor[tensors.Length];
            for (var i = 0; i < tensors.Length; i++) parts[i] = tensors[i].detach().reshape(-1);
            cat(parts, 0).cpu().data<float>().CopyTo(into);
            return;
        }
        var at = 0;
        foreach (var t in tensors)
        {
            t.data<float>().CopyTo(into[at..]);
            at += (int)t.numel();
        }
    }

    /// <summary>
    /// Waits for the work queued on <paramref name="device"/> (a GPU runs ops asynchronously: a timer
    /// reads their time only after this); nothing on the CPU, whose ops have finished when they return.
    /// </summary>
    public static void Synchronize(Device? device)
    {
        if (device is { type: DeviceType.CUDA }) cuda.synchronize(device);
    }
}
