using Prunerl.Agents.Checkpoints;
using System.Runtime.InteropServices;
using System.Text;
using static Prunerl.Agents.Envs.MuJoCo.MujocoNative;

namespace Prunerl.Agents.Envs.MuJoCo;

/// <summary>
/// One MuJoCo model and its simulation (mjModel and mjData), compiled from MJCF text. The state
/// (positions, velocities, controls) is read and written in place through spans over the engine's own
/// arrays; <see cref="Step"/> advances it by whole timesteps. Field offsets come from
/// <see cref="MujocoLayout"/>, generated from MuJoCo 2.2.2's headers, and are only used after
/// <see cref="MujocoRuntime"/> has checked that the loaded library is that version. The native memory
/// is freed by <see cref="Dispose"/> or, failing that, by the finalizer.
/// </summary>
public sealed unsafe class MujocoSimulation : IDisposable, ICheckpointable
{
    private const int ErrorBufferSize = 1000;

    private byte* model;
    private byte* data;
    private readonly double* qpos, qvel, act, qaccWarmstart, ctrl, qfrcApplied, xfrcApplied;

    private MujocoSimulation(byte* model)
    {
        this.model = model;
        data = (byte*)mj_makeData(model);
        Nq = ModelInt(MujocoLayout.Model.Nq);
        Nv = ModelInt(MujocoLayout.Model.Nv);
        Nu = ModelInt(MujocoLayout.Model.Nu);
        Na = ModelInt(MujocoLayout.Model.Na);
        Nbody = ModelInt(MujocoLayout.Model.Nbody);
        Njnt = ModelInt(MujocoLayout.Model.Njnt);
        Ngeom = ModelInt(MujocoLayout.Model.Ngeom);
        Timestep = *(double*)(model + MujocoLayout.Model.Timestep);
        // mjData's arrays are carved out of one buffer when it is made and never move.
        qpos = DataArray(MujocoLayout.Data.Qpos);
        qvel = DataArray(MujocoLayout.Data.Qvel);
        act = DataArray(MujocoLayout.Data.Act);
        qaccWarmstart = DataArray(MujocoLayout.Data.QaccWarmstart);
        ctrl = DataArray(MujocoLayout.Data.Ctrl);
        qfrcApplied = DataArray(MujocoLayout.Data.QfrcApplied);
        xfrcApplied = DataArray(MujocoLayout.Data.XfrcApplied);
    }

    /// <summary>
    /// Compiles a model from MJCF text (through MuJoCo's in-memory file system, so nothing is written
    /// to disk). An XML or compile error is an ArgumentException carrying MuJoCo's message on one line;
    /// a missing or wrong engine is an <see cref="EnvironmentUnavailableException"/>.
    /// </summary>
    /// <param name="xml">The model's MJCF text.</param>
    /// <param name="name">The file name MuJoCo reports in errors.</param>
    public static MujocoSimulation FromXml(string xml, string name = "model.xml")
    {
        MujocoRuntime.EnsureAvailable();
        var text = Encoding.UTF8.GetBytes(xml);
        var fileName = Encoding.UTF8.GetBytes(name + "\0");
        var error = stackalloc byte[ErrorBufferSize];
        error[0] = 0;
        var vfs = NativeMemory.AllocZeroed((nuint)MujocoLayout.Vfs.Size);
        void* loaded;
        try
        {
            mj_defaultVFS(vfs);
            fixed (byte* file = fileName)
            {
                if (mj_makeEmptyFileVFS(vfs, file, text.Length) != 0)
                    throw new ArgumentException($"MuJoCo cannot hold {name} in its file system", nameof(xml));
                // The only file: its buffer is filedata[0].
                var buffer = *(byte**)((byte*)vfs + MujocoLayout.Vfs.FileData);
                text.CopyTo(new Span<byte>(buffer, text.Length));
                loaded = mj_loadXML(file, vfs, error, ErrorBufferSize);
            }
            mj_deleteVFS(vfs);
        }
        finally
        {
            NativeMemory.Free(vfs);
        }
        if (loaded == null)
        {
            var lines = (Marshal.PtrToStringUTF8((IntPtr)error) ?? "")
                .Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            var message = lines.Length == 0 ? "no reason given" : string.Join("; ", lines);
            throw new ArgumentException($"MuJoCo cannot load {name}: {message}", nameof(xml));
        }
        return new MujocoSimulation((byte*)loaded);
    }

    /// <summary>Number of generalized coordinates (length of <see cref="Qpos"/>).</summary>
    public int Nq { get; }
    /// <summary>Number of degrees of freedom (length of <see cref="Qvel"/>).</summary>
    public int Nv { get; }
    /// <summary>Number of actuators (length of <see cref="Ctrl"/>).</summary>
    public int Nu { get; }
    /// <summary>Number of actuator activations (length of <see cref="Act"/>).</summary>
    public int Na { get; }
    /// <summary>Number of bodies, the world (body 0) included.</summary>
    public int Nbody { get; }
    /// <summary>Number of joints.</summary>
    public int Njnt { get; }
    /// <summary>Number of geoms.</summary>
    public int Ngeom { get; }
    /// <summary>The integration timestep in seconds (option timestep).</summary>
    public double Timestep { get; }

    /// <summary>Whether the model integrates with 4th-order Runge-Kutta (option integrator="RK4") rather than semi-implicit Euler.</summary>
    public bool UsesRungeKutta => ModelInt(MujocoLayout.Model.Integrator) == MujocoLayout.Enums.IntegratorRk4;

    /// <summary>Simulation time in seconds.</summary>
    public double Time
    {
        get { ThrowIfDisposed(); return *(double*)(data + MujocoLayout.Data.Time); }
        set { ThrowIfDisposed(); *(double*)(data + MujocoLayout.Data.Time) = value; }
    }

    /// <summary>Positions (qpos), written in place.</summary>
    public Span<double> Qpos => DataSpan(qpos, Nq);
    /// <summary>Velocities (qvel), written in place.</summary>
    public Span<double> Qvel => DataSpan(qvel, Nv);
    /// <summary>Actuator activations (act).</summary>
    public Span<double> Act => DataSpan(act, Na);
    /// <summary>Controls (ctrl), applied at the next step; MuJoCo clamps them to each actuator's ctrlrange.</summary>
    public Span<double> Ctrl => DataSpan(ctrl, Nu);
    /// <summary>Accelerations of the last step, the constraint solver's warm start for the next.</summary>
    public Span<double> QaccWarmstart => DataSpan(qaccWarmstart, Nv);

    /// <summary>The reference positions (qpos0) that a reset restores.</summary>
    public ReadOnlySpan<double> Qpos0 => ModelSpan<double>(MujocoLayout.Model.Qpos0, Nq);
    /// <summary>Mass of each body (kg), body 0 being the world.</summary>
    public ReadOnlySpan<double> BodyMass => ModelSpan<double>(MujocoLayout.Model.BodyMass, Nbody);
    /// <summary>Each joint's type (mjtJoint: 0 free, 1 ball, 2 slide, 3 hinge).</summary>
    public ReadOnlySpan<int> JointType => ModelSpan<int>(MujocoLayout.Model.JntType, Njnt);
    /// <summary>Whether each joint is limited.</summary>
    public ReadOnlySpan<byte> JointLimited => ModelSpan<byte>(MujocoLayout.Model.JntLimited, Njnt);
    /// <summary>Each joint's range, low and high (radians for hinges), Njnt x 2.</summary>
    public ReadOnlySpan<double> JointRange => ModelSpan<double>(MujocoLayout.Model.JntRange, Njnt * 2);
    /// <summary>Each geom's type (mjtGeom: 0 plane, 2 sphere, 3 capsule, ...).</summary>
    public ReadOnlySpan<int> GeomType => ModelSpan<int>(MujocoLayout.Model.GeomType, Ngeom);
    /// <summary>The body each geom belongs to.</summary>
    public ReadOnlySpan<int> GeomBodyId => ModelSpan<int>(MujocoLayout.Model.GeomBodyId, Ngeom);
    /// <summary>Each geom's size parameters (capsule: radius, half-length), Ngeom x 3.</summary>
    public ReadOnlySpan<double> GeomSize => ModelSpan<double>(MujocoLayout.Model.GeomSize, Ngeom * 3);
    /// <summary>Each geom's colour, red, green, blue, alpha in [0, 1], Ngeom x 4.</summary>
    public ReadOnlySpan<float> GeomRgba => ModelSpan<float>(MujocoLayout.Model.GeomRgba, Ngeom * 4);
    /// <summary>Whether each actuator's control is clamped to its range.</summary>
    public ReadOnlySpan<byte> ActuatorCtrlLimited => ModelSpan<byte>(MujocoLayout.Model.ActuatorCtrlLimited, Nu);
    /// <summary>Each actuator's control range, low and high, Nu x 2.</summary>
    public ReadOnlySpan<double> ActuatorCtrlRange => ModelSpan<double>(MujocoLayout.Model.ActuatorCtrlRange, Nu * 2);
    /// <summary>Each actuator's gear (the first entry scales a joint motor's torque), Nu x 6.</summary>
    public ReadOnlySpan<double> ActuatorGear => ModelSpan<double>(MujocoLayout.Model.ActuatorGear, Nu * 6);
    /// <summary>Gravity (m/s^2), x, y, z.</summary>
    public ReadOnlySpan<double> Gravity => ModelSpan<double>(MujocoLayout.Model.Gravity, 3);

    /// <summary>Each body frame's position in the world, Nbody x 3 (as of the last kinematics pass).</summary>
    public ReadOnlySpan<double> BodyPositions => DerivedSpan(MujocoLayout.Data.Xpos, Nbody * 3);
    /// <summary>Each geom's centre in the world, Ngeom x 3 (as of the last kinematics pass).</summary>
    public ReadOnlySpan<double> GeomPositions => DerivedSpan(MujocoLayout.Data.GeomXpos, Ngeom * 3);
    /// <summary>Each geom's orientation, a row-major 3x3 rotation per geom, Ngeom x 9 (as of the last kinematics pass).</summary>
    public ReadOnlySpan<double> GeomOrientations => DerivedSpan(MujocoLayout.Data.GeomXmat, Ngeom * 9);

    /// <summary>How many times MuJoCo found the accelerations unstable (NaN, infinite or huge) and reset the
    /// simulation to qpos0 (its mjWARN_BADQACC count).</summary>
    public int InstabilityResets => WarningCount(MujocoLayout.Enums.WarnBadQacc);

    /// <summary>Advances by <paramref name="steps"/> timesteps (mj_step) with the current controls.</summary>
    public void Step(int steps = 1)
    {
        ThrowIfDisposed();
        for (var i = 0; i < steps; i++) mj_step(model, data);
    }

    /// <summary>Recomputes everything derived from the state (mj_forward) without advancing time.</summary>
    public void Forward()
    {
        ThrowIfDisposed();
        mj_forward(model, data);
    }

    /// <summary>Recomputes body and geom placements from the positions alone (mj_kinematics): for drawing.</summary>
    public void Kinematics()
    {
        ThrowIfDisposed();
        mj_kinematics(model, data);
    }

    /// <summary>Back to the model's reference state (mj_resetData): qpos0, zero velocities, controls and time.</summary>
    public void Reset()
    {
        ThrowIfDisposed();
        mj_resetData(model, data);
    }

    /// <summary>Sets positions and velocities and recomputes the derived quantities, as Gymnasium's <c>set_state</c>.</summary>
    public void SetState(ReadOnlySpan<double> positions, ReadOnlySpan<double> velocities)
    {
        if (positions.Length != Nq) throw new ArgumentException($"expected {Nq} positions, got {positions.Length}", nameof(positions));
        if (velocities.Length != Nv) throw new ArgumentException($"expected {Nv} velocities, got {velocities.Length}", nameof(velocities));
        positions.CopyTo(Qpos);
        velocities.CopyTo(Qvel);
        Forward();
    }

    /// <summary>
    /// Writes everything the next steps depend on: time, positions, velocities, activations, the
    /// solver's warm start, controls and applied forces (MuJoCo 2.2.2 has no mj_getState, so these are
    /// mjData's arrays). Restoring it with <see cref="Load"/> continues bit for bit.
    /// </summary>
    public void Save(StateWriter writer)
    {
        ThrowIfDisposed();
        writer.Write<int>(Sizes());
        writer.Write(Time);
        for (var k = 0; k < StateArrayCount; k++) writer.Write<double>(StateArray(k));
    }

    /// <summary>Restores a state written by <see cref="Save"/> for a model of the same sizes, then
    /// recomputes the derived quantities. A state of another model is a <see cref="CheckpointException"/>.</summary>
    public void Load(StateReader reader)
    {
        ThrowIfDisposed();
        var expected = Sizes();
        var found = reader.ReadArray<int>();
        if (!found.SequenceEqual(expected))
            throw reader.Problem($"the saved state is of a model with sizes (nq, nv, na, nu, nbody) = ({string.Join(", ", found)}), this one has ({string.Join(", ", expected)})");
        var time = reader.ReadDouble();
        var arrays = Enumerable.Range(0, StateArrayCount).Select(_ => reader.ReadArray<double>()).ToArray();
        for (var k = 0; k < StateArrayCount; k++)
            if (arrays[k].Length != StateArray(k).Length) throw reader.Problem($"the saved state's array {k} holds {arrays[k].Length} values, not {StateArray(k).Length}");
        // Everything is read and checked before anything is written: a bad state leaves this one as it was.
        Time = time;
        for (var k = 0; k < StateArrayCount; k++) arrays[k].CopyTo(StateArray(k));
        Forward();
        // mj_forward's solver rewrites the warm start it read: put the saved one back so the state is exactly as saved.
        arrays[3].CopyTo(StateArray(3));
    }

    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    ~MujocoSimulation() => Free();

    private void Free()
    {
        if (data != null) mj_deleteData(data);
        if (model != null) mj_deleteModel(model);
        data = null;
        model = null;
    }

    private int[] Sizes() => [Nq, Nv, Na, Nu, Nbody];

    private const int StateArrayCount = 7;

    /// <summary>The arrays <see cref="Save"/> writes, in order.</summary>
    private Span<double> StateArray(int index) => index switch
    {
        0 => new Span<double>(qpos, Nq),
        1 => new Span<double>(qvel, Nv),
        2 => new Span<double>(act, Na),
        3 => new Span<double>(qaccWarmstart, Nv),
        4 => new Span<double>(ctrl, Nu),
        5 => new Span<double>(qfrcApplied, Nv),
        _ => new Span<double>(xfrcApplied, Nbody * 6),
    };

    private int WarningCount(int warning)
    {
        ThrowIfDisposed();
        return *(int*)(data + MujocoLayout.Data.Warning + warning * MujocoLayout.Data.WarningStatSize + MujocoLayout.Data.WarningStatNumber);
    }

    private int ModelInt(int offset)
    {
        ThrowIfDisposed();
        return *(int*)(model + offset);
    }

    private double* DataArray(int offset) => *(double**)(data + offset);

    private Span<double> DataSpan(double* array, int length)
    {
        ThrowIfDisposed();
        return new Span<double>(array, length);
    }

    private ReadOnlySpan<double> DerivedSpan(int offset, int length)
    {
        ThrowIfDisposed();
        return new ReadOnlySpan<double>(DataArray(offset), length);
    }

    private ReadOnlySpan<T> ModelSpan<T>(int offset, int length) where T : unmanaged
    {
        ThrowIfDisposed();
        return new ReadOnlySpan<T>(*(T**)(model + offset), length);
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(model == null, this);
}
