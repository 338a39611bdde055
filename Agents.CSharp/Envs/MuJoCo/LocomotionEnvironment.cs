using Prunerl.Agents.Checkpoints;
namespace Prunerl.Agents.Envs.MuJoCo;

/// <summary>
/// A Gymnasium v4 locomotion task (HalfCheetah, Hopper, Walker2d) on the MuJoCo engine, with the
/// project's own model of the standard body. An action (one value in [-1, 1] per motor) is held for
/// <see cref="LocomotionTask.FrameSkip"/> timesteps; the reward is the torso's forward velocity over
/// the step, plus the healthy reward, minus the control cost; the episode terminates when the body
/// leaves its healthy region and is truncated after 1000 steps. The observation is qpos without the
/// torso's x, then qvel (clipped to +-10 for Hopper and Walker2d). Reset: mj_resetData, then noise on
/// qpos0 and the zero velocities, drawn in that order (positions first) from the seeded stream.
/// </summary>
public sealed class LocomotionEnvironment : Environment, IDisposable
{
    private readonly MujocoSimulation simulation;

    /// <summary>Builds the task on its shipped model; an <see cref="EnvironmentUnavailableException"/> when MuJoCo 2.2.2 is missing.</summary>
    public LocomotionEnvironment(LocomotionTask task) : this(task, MujocoSimulation.FromXml(ModelXml(task), task.ModelFile)) { }

    private LocomotionEnvironment(LocomotionTask task, MujocoSimulation simulation)
        : base(task.Id, BoxSpace.Uniform(float.NegativeInfinity, float.PositiveInfinity, simulation.Nq - 1 + simulation.Nv),
               ActionBox(simulation), LocomotionTask.TimeLimit)
    {
        Task = task;
        this.simulation = simulation;
    }

    public LocomotionTask Task { get; }

    /// <summary>The simulation, for inspection and hand-built states (<see cref="MujocoSimulation.SetState"/>).</summary>
    public MujocoSimulation Simulation => simulation;

    /// <summary>Seconds per step: frame skip x timestep (HalfCheetah 0.05, Hopper and Walker2d 0.008).</summary>
    public double Dt => Task.FrameSkip * simulation.Timestep;

    /// <summary>Whether the current state is in the task's healthy region (always, for HalfCheetah).</summary>
    public bool IsHealthy => Task.Health?.Contains(simulation.Qpos, simulation.Qvel) ?? true;

    /// <summary>The MJCF text of a task's model, shipped inside this assembly.</summary>
    public static string ModelXml(LocomotionTask task)
    {
        var name = $"Prunerl.Agents.Envs.MuJoCo.Models.{task.ModelFile}";
        using var stream = typeof(LocomotionEnvironment).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"{task.Id}: the model {task.ModelFile} is not in {typeof(LocomotionEnvironment).Assembly.GetName().Name}");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>Gymnasium's action space: each actuator's control range.</summary>
    private static BoxSpace ActionBox(MujocoSimulation simulation)
    {
        var range = simulation.ActuatorCtrlRange;
        var low = new float[simulation.Nu];
        var high = new float[simulation.Nu];
        for (var i = 0; i < simulation.Nu; i++) (low[i], high[i]) = ((float)range[2 * i], (float)range[2 * i + 1]);
        return new BoxSpace(low, high, [simulation.Nu]);
    }

    protected override void ResetCore(Span<float> observation)
    {
        simulation.Reset();
        var scale = Task.ResetNoiseScale;
        var qpos = simulation.Qpos;
        for (var i = 0; i < qpos.Length; i++) qpos[i] += Random.Uniform(-scale, scale);
        var qvel = simulation.Qvel;
        for (var i = 0; i < qvel.Length; i++)
            qvel[i] += Task.NormalVelocityNoise ? scale * Random.StandardNormal() : Random.Uniform(-scale, scale);
        simulation.Forward();
        Observe(observation);
    }

    protected override StepResult StepCore(ReadOnlySpan<float> action, Span<float> observation)
    {
        var xBefore = simulation.Qpos[0];
        var ctrl = simulation.Ctrl;
        var squares = 0.0;
        for (var i = 0; i < action.Length; i++)
        {
            ctrl[i] = action[i];
            squares += (double)action[i] * action[i];
        }
        simulation.Step(Task.FrameSkip);
        var forwardVelocity = (simulation.Qpos[0] - xBefore) / Dt;
        var reward = forwardVelocity + Task.HealthyReward - Task.CtrlCostWeight * squares;
        Observe(observation);
        return new StepResult((float)reward, Terminated: !IsHealthy, Truncated: false);
    }

    private void Observe(Span<float> observation)
    {
        var qpos = simulation.Qpos;
        for (var i = 1; i < qpos.Length; i++) observation[i - 1] = (float)qpos[i];
        var qvel = simulation.Qvel;
        var limit = Task.ObservedVelocityLimit ?? double.PositiveInfinity;
        for (var i = 0; i < qvel.Length; i++) observation[qpos.Length - 1 + i] = (float)Math.Clamp(qvel[i], -limit, limit);
    }

    /// <summary>The simulation's state (see <see cref="MujocoSimulation.Save"/>); the base class writes the task's id.</summary>
    protected override void SaveDynamics(StateWriter writer) => simulation.Save(writer);

    protected override void LoadDynamics(StateReader reader) => simulation.Load(reader);

    /// <summary>
    /// A side view (the x-z plane) that follows the torso: the ground with a mark every half metre, and
    /// each capsule drawn as a thick line of its radius between its two end centres, in its model colour.
    /// </summary>
    public override Frame Render()
    {
        const int width = 480, height = 320, groundRow = 280;
        const double pixelsPerMetre = 160;
        simulation.Kinematics(); // after mj_step the placements lag the positions by a stage
        var frame = new Frame(width, height, Rgb.White);
        var centre = simulation.BodyPositions[3]; // the torso (body 1)'s x
        double Column(double x) => width / 2.0 + (x - centre) * pixelsPerMetre;
        double Row(double z) => groundRow - z * pixelsPerMetre;

        frame.FillRectangle(0, groundRow, width, height - groundRow, new Rgb(204, 230, 204));
        var firstMark = Math.Ceiling((centre - width / 2.0 / pixelsPerMetre) * 2) / 2;
        for (var x = firstMark; Column(x) < width; x += 0.5)
            frame.FillRectangle((int)Column(x), groundRow, 2, 10, new Rgb(90, 110, 90));

        var types = simulation.GeomType;
        var sizes = simulation.GeomSize;
        var positions = simulation.GeomPositions;
        var orientations = simulation.GeomOrientations;
        var colours = simulation.GeomRgba;
        for (var g = 0; g < simulation.Ngeom; g++)
        {
            var colour = new Rgb((byte)(255 * colours[4 * g]), (byte)(255 * colours[4 * g + 1]), (byte)(255 * colours[4 * g + 2]));
            var (x, z, radius) = (positions[3 * g], positions[3 * g + 2], sizes[3 * g]);
            if (types[g] == MujocoLayout.Enums.GeomCapsule)
            {
                // A capsule lies along its local z axis, the third column of its rotation.
                var half = sizes[3 * g + 1];
                var (ax, az) = (orientations[9 * g + 2], orientations[9 * g + 8]);
                frame.DrawLine(Column(x - half * ax), Row(z - half * az), Column(x + half * ax), Row(z + half * az), 2 * radius * pixelsPerMetre, colour);
            }
            else if (types[g] == MujocoLayout.Enums.GeomSphere)
                frame.FillCircle(Column(x), Row(z), radius * pixelsPerMetre, colour);
        }
        return frame;
    }

    public void Dispose() => simulation.Dispose();
}
