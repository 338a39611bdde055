using System.Runtime.InteropServices;

namespace Prunerl.Agents.Envs.MuJoCo;

/// <summary>
/// The C functions of MuJoCo 2.2.2 that the binding calls. They are bound by the library's exact file
/// name: Debian's runtime package (libmujoco2.2.2) ships only <c>libmujoco.so.2.2.2</c>; the plain
/// <c>libmujoco.so</c> that <c>DllImport("mujoco")</c> would look for comes with the -dev package.
/// Every argument is a pointer or a number, so nothing is marshalled.
/// </summary>
internal static unsafe partial class MujocoNative
{
    public const string Library = "libmujoco.so.2.2.2";

    [LibraryImport(Library)] public static partial int mj_version();
    [LibraryImport(Library)] public static partial void mj_defaultVFS(void* vfs);
    [LibraryImport(Library)] public static partial int mj_makeEmptyFileVFS(void* vfs, byte* filename, int filesize);
    [LibraryImport(Library)] public static partial void mj_deleteVFS(void* vfs);
    [LibraryImport(Library)] public static partial void* mj_loadXML(byte* filename, void* vfs, byte* error, int errorSize);
    [LibraryImport(Library)] public static partial void mj_deleteModel(void* model);
    [LibraryImport(Library)] public static partial void* mj_makeData(void* model);
    [LibraryImport(Library)] public static partial void mj_deleteData(void* data);
    [LibraryImport(Library)] public static partial void mj_resetData(void* model, void* data);
    [LibraryImport(Library)] public static partial void mj_step(void* model, void* data);
    [LibraryImport(Library)] public static partial void mj_forward(void* model, void* data);
    [LibraryImport(Library)] public static partial void mj_kinematics(void* model, void* data);
}
