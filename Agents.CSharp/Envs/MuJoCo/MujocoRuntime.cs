using System.Runtime.InteropServices;

namespace Prunerl.Agents.Envs.MuJoCo;

/// <summary>
/// Whether the MuJoCo engine can be used here, and its process-wide error handling. The engine must be
/// Debian 12's MuJoCo 2.2.2 (<c>libmujoco.so.2.2.2</c>, checked through <c>mj_version() == 222</c>),
/// because the binding reads its structs at offsets generated from that version's headers.
/// </summary>
public static unsafe class MujocoRuntime
{
    /// <summary>The command that installs the engine, for error messages.</summary>
    public const string InstallHint = "run build/install-mujoco.sh (or: sudo apt-get install libmujoco-dev)";

    /// <summary>Null when MuJoCo 2.2.2 is usable here; otherwise one line saying why not and how to install it.</summary>
    public static string? Unavailable() => Unavailable(MujocoNative.Library);

    /// <summary>As <see cref="Unavailable()"/>, looking for the library under another name (tests use a
    /// name that is not installed). The version is asked of the bound library.</summary>
    internal static string? Unavailable(string library)
    {
        if (!NativeLibrary.TryLoad(library, typeof(MujocoRuntime).Assembly, null, out var handle))
            return $"MuJoCo 2.2.2 is not installed ({library} not found): {InstallHint}";
        if (VersionMismatch(MujocoNative.mj_version()) is { } mismatch) return mismatch;
        InstallHandlers(handle);
        return null;
    }

    /// <summary>Null for the version the struct offsets were generated from (mj_version() = 222), else why it cannot be used.</summary>
    internal static string? VersionMismatch(int version) =>
        version == MujocoLayout.Version ? null
            : $"{MujocoNative.Library} reports MuJoCo version {version}, but this build reads the structs of version {MujocoLayout.Version}";

    /// <summary>Throws <see cref="EnvironmentUnavailableException"/> unless MuJoCo 2.2.2 is usable here.</summary>
    public static void EnsureAvailable()
    {
        if (Unavailable() is { } reason) throw new EnvironmentUnavailableException(reason);
    }

    /// <summary>
    /// MuJoCo's default error handler prints, waits for Enter and exits; its default warning handler
    /// prints to stdout and appends to MUJOCO_LOG.TXT in the working directory. Errors inside the engine
    /// (out of memory, a corrupt model) cannot be thrown back through its C frames, so the handler
    /// reports one line on stderr and ends the process with exit code 70; XML and compile errors never
    /// reach it (mj_loadXML returns them in its buffer). Warnings are silenced: each simulation keeps
    /// their counts (<see cref="MujocoSimulation.WarningCount"/>).
    /// </summary>
    private static void InstallHandlers(IntPtr library)
    {
        *(IntPtr*)NativeLibrary.GetExport(library, "mju_user_error") = (IntPtr)(delegate* unmanaged<byte*, void>)&OnError;
        *(IntPtr*)NativeLibrary.GetExport(library, "mju_user_warning") = (IntPtr)(delegate* unmanaged<byte*, void>)&OnWarning;
    }

    [UnmanagedCallersOnly]
    private static void OnError(byte* message)
    {
        Console.Error.WriteLine($"prunerl: MuJoCo error: {Marshal.PtrToStringUTF8((IntPtr)message)}");
        System.Environment.Exit(70);
    }

    [UnmanagedCallersOnly]
    private static void OnWarning(byte* message) { }
}
