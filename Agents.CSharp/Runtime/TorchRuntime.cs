using Prunerl.Experiments;
using TorchSharp;
using static TorchSharp.torch;

namespace Prunerl.Agents.Runtime;

/// <summary>Loads torch with an error people can act on, and turns a device request into a device.</summary>
public static class TorchRuntime
{
    /// <summary>
    /// Loads the native torch libraries. TorchSharp reports a failed load as a missing package even when
    /// the cause is the host's C++ runtime, so the error says where to look.
    /// </summary>
    public static bool TryLoad(out string? error)
    {
        try
        {
            torch.InitializeDeviceType(DeviceType.CPU);
            error = null;
            return true;
        }
        catch (Exception e) when (e is NotSupportedException or DllNotFoundException or TypeInitializationException)
        {
            error = "torch failed to load its native libraries (" + FirstLine(e.Message) + "); build with "
                + "`dotnet build` so the fixed libLibTorchSharp.so is shipped, and see README.md, 'Torch on Debian 12'";
            return false;
        }
    }

    /// <summary>The libtorch this build ships: <c>cpu</c> or <c>cuda</c> (the build switch -p:TorchBackend).</summary>
    public static string Backend { get; } =
        typeof(TorchRuntime).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
            .Cast<System.Reflection.AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "TorchBackend")?.Value ?? "cpu";

    /// <summary>
    /// The device for a run config's choice (<see cref="DeviceKind"/>, named by <c>Choices.devices</c>): <c>auto</c> is
    /// CUDA when torch finds a GPU, else the CPU. Null with a one-line error when CUDA is asked for and absent,
    /// saying why (this build's libtorch, or no GPU).
    /// </summary>
    public static Device? Resolve(DeviceKind kind, out string? error)
    {
        error = null;
        if (kind.IsCpu) return CPU;
        var cuda = torch.cuda.is_available();
        switch (kind.Tag)
        {
            case DeviceKind.Tags.Auto: return cuda ? CUDA : CPU;
            case DeviceKind.Tags.Cuda when cuda: return CUDA;
            default:
                error = "device: cuda is not available here (" + (Backend == "cuda"
                    ? "the CUDA libtorch found no usable NVIDIA GPU or driver; check nvidia-smi"
                    : "this build uses the CPU libtorch; build with -p:TorchBackend=cuda on a machine with an NVIDIA GPU")
                    + "); use --device cpu or auto";
                return null;
        }
    }

    /// <summary>A device as run records name it: <c>cpu</c>, <c>cuda</c>, or <c>cuda:N</c> for a GPU other than the first.</summary>
    public static string Name(Device device) =>
        device.type == DeviceType.CUDA ? (device.index > 0 ? $"cuda:{device.index}" : "cuda") : device.type.ToString().ToLowerInvariant();

    private static string FirstLine(string text) => text.Split('\n', 2)[0].Trim();
}
