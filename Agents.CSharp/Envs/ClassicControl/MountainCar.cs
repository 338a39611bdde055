using Prunerl.Agents.Checkpoints;

namespace Prunerl.Agents.Envs.ClassicControl;

/// <summary>
/// MountainCar-v0 as Gymnasium defines it (Moore 1990): an underpowered car in a valley, actions push
/// left, nothing, right; reach the flag at position 0.5 on the right hill. Observation: position,
/// velocity. Reward -1 every step; terminates at the flag, truncated after 200 steps.
/// </summary>
public sealed class MountainCar : Environment
{
    /// <summary>Left end of the track (an inelastic wall).</summary>
    public const double MinPosition = -1.2;
    public const double MaxPosition = 0.6;
    public const double MaxSpeed = 0.07;

    /// <summary>Reaching this position (with velocity >= 0) terminates the episode.</summary>
    public const double GoalPosition = 0.5;
    private const double GoalVelocity = 0;
    private const double Force = 0.001;
    private const double Gravity = 0.0025;

    private double position, velocity;

    public MountainCar() : base("mountaincar", new BoxSpace([(float)MinPosition, (float)-MaxSpeed], [(float)MaxPosition, (float)MaxSpeed], [2]),
        new DiscreteSpace(3), maxEpisodeSteps: 200) { }

    /// <summary>The state in double precision.</summary>
    public MountainCarState State => new(position, velocity);

    /// <summary>Puts the car in a given state (for tests and analysis); the observation follows at the next step.</summary>
    public void SetState(MountainCarState state) => (position, velocity) = (state.Position, state.Velocity);

    protected override void SaveDynamics(StateWriter writer)
    {
        writer.Write(position);
        writer.Write(velocity);
    }

    protected override void LoadDynamics(StateReader reader) => (position, velocity) = (reader.ReadDouble(), reader.ReadDouble());

    protected override void ResetCore(Span<float> observation)
    {
        position = Random.Uniform(-0.6, -0.4);
        velocity = 0;
        Observe(observation);
    }

    protected override StepResult StepCore(int action, Span<float> observation)
    {
        velocity += (action - 1) * Force + Math.Cos(3 * position) * -Gravity;
        velocity = Math.Clamp(velocity, -MaxSpeed, MaxSpeed);
        position += velocity;
        position = Math.Clamp(position, MinPosition, MaxPosition);
        // The wall on the left is inelastic: the car stops there.
        if (position == MinPosition && velocity < 0) velocity = 0;

        var terminated = position >= GoalPosition && velocity >= GoalVelocity;
        Observe(observation);
        return new StepResult(-1f, terminated, false);
    }

    private void Observe(Span<float> observation)
    {
        observation[1] = (float)velocity;
        observation[0] = (float)position;
    }

    private static double Height(double x) => Math.Sin(3 * x) * 0.45 + 0.55;

    /// <summary>Gymnasium's picture (600x400): the valley's curve, the black car with grey wheels, the flag.</summary>
    public override Frame Render()
    {
        const int width = 600, height = 400;
        const double scale = width / (MaxPosition - MinPosition);
        const double carWidth = 40, carHeight = 20, clearance = 10;
        var canvas = new ClassicCanvas(new Frame(width, height, Rgb.White));

        const int points = 100;
        for (var i = 0; i + 1 < points; i++)
        {
            double x0 = MinPosition + (MaxPosition - MinPosition) * i / (points - 1);
            double x1 = MinPosition + (MaxPosition - MinPosition) * (i + 1) / (points - 1);
            canvas.DrawLine((x0 - MinPosition) * scale, Height(x0) * scale, (x1 - MinPosition) * scale, Height(x1) * scale, 1.5, Rgb.Black);
        }

        // The car leans by cos(3 x) radians, as Gymnasium draws it.
        var angle = Math.Cos(3 * position);
        var carX = (position - MinPosition) * scale;
        var carY = clearance + Height(position) * scale;
        canvas.FillRotatedRectangle(-carWidth / 2, carWidth / 2, 0, carHeight, angle, carX, carY, Rgb.Black);
        var (sin, cos) = Math.SinCos(angle);
        foreach (var wheel in (ReadOnlySpan<double>)[carWidth / 4, -carWidth / 4])
            canvas.FillCircle((int)(wheel * cos + carX), (int)(wheel * sin + carY), (int)(carHeight / 2.5), new Rgb(128, 128, 128));

        var flagX = (int)((GoalPosition - MinPosition) * scale);
        var flagBottom = (int)(Height(GoalPosition) * scale);
        var flagTop = flagBottom + 50;
        canvas.DrawLine(flagX, flagBottom, flagX, flagTop, 1, Rgb.Black);
        canvas.FillConvexPolygon([flagX, flagX, flagX + 25], [flagTop, flagTop - 10, flagTop - 5], new Rgb(204, 204, 0));
        return canvas.Frame;
    }
}

/// <summary>MountainCar's state: the car's position and velocity.</summary>
public readonly record struct MountainCarState(double Position, double Velocity);
