using Prunerl.Agents.Checkpoints;

namespace Prunerl.Agents.Envs.ClassicControl;

/// <summary>
/// Pendulum-v1 as Gymnasium defines it: swing a pendulum up and hold it upright with a torque in
/// [-2, 2] (one continuous action). Observation: cos th, sin th, th' (th = 0 is upright). Reward
/// -(angle_normalize(th)^2 + 0.1 th'^2 + 0.001 u^2), of the state before the step; it never
/// terminates and is truncated after 200 steps.
/// </summary>
public sealed class Pendulum : Environment
{
    public const double MaxSpeed = 8;
    public const double MaxTorque = 2.0;
    private const double Dt = 0.05;
    private const double G = 10.0;
    private const double Mass = 1.0;
    private const double Length = 1.0;

    private double theta, thetaDot;
    private double? lastTorque;

    public Pendulum() : base("pendulum", ObservationBox(), new BoxSpace([(float)-MaxTorque], [(float)MaxTorque], [1]), maxEpisodeSteps: 200) { }

    /// <summary>The state in double precision: angle (0 upright; not wrapped) and angular velocity.</summary>
    public PendulumState State => new(theta, thetaDot);

    /// <summary>Puts the pendulum in a given state (for tests and analysis); the observation follows at the next step.</summary>
    public void SetState(PendulumState state) => (theta, thetaDot) = (state.Theta, state.ThetaDot);

    private static BoxSpace ObservationBox()
    {
        float[] high = [1f, 1f, (float)MaxSpeed];
        return new BoxSpace(high.Select(h => -h).ToArray(), high, [3]);
    }

    /// <summary>x - 2 pi k in [-pi, pi): numpy's ((x + pi) mod 2 pi) - pi, the modulo taking the divisor's sign.</summary>
    public static double AngleNormalize(double x) => FlooredModulo(x + Math.PI, 2 * Math.PI) - Math.PI;

    /// <summary>numpy's float remainder (npy_divmod): fmod, moved into the divisor's sign; a zero takes the divisor's sign.</summary>
    private static double FlooredModulo(double a, double b)
    {
        var remainder = a % b;
        if (remainder == 0) return Math.CopySign(0.0, b);
        return (b < 0) != (remainder < 0) ? remainder + b : remainder;
    }

    protected override void SaveDynamics(StateWriter writer)
    {
        writer.Write(theta);
        writer.Write(thetaDot);
        writer.Write(lastTorque.HasValue);
        writer.Write(lastTorque.GetValueOrDefault());
    }

    protected override void LoadDynamics(StateReader reader)
    {
        (theta, thetaDot) = (reader.ReadDouble(), reader.ReadDouble());
        var hasTorque = reader.ReadBoolean();
        var torque = reader.ReadDouble();
        lastTorque = hasTorque ? torque : null;
    }

    protected override void ResetCore(Span<float> observation)
    {
        // One uniform draw over [-pi, pi) x [-1, 1): the angle, then the angular velocity.
        theta = Random.Uniform(-Math.PI, Math.PI);
        thetaDot = Random.Uniform(-1.0, 1.0);
        lastTorque = null;
        Observe(observation);
    }

    protected override StepResult StepCore(ReadOnlySpan<float> action, Span<float> observation)
    {
        // The base class has already rejected torques outside [-2, 2]; Gymnasium clips them.
        var u = Math.Clamp(action[0], (float)-MaxTorque, (float)MaxTorque);
        lastTorque = u;

        // The torque arrives as float32 (the action space's dtype); under numpy's promotion rules
        // (NEP 50, numpy 2) u^2, 0.001 u^2 and 3 u stay float32, everything else is float64.
        var torqueCost = 0.001f * (u * u);
        var normalized = AngleNormalize(theta);
        var cost = normalized * normalized + 0.1 * (thetaDot * thetaDot) + torqueCost;

        var torqueAcceleration = (float)(3.0 / (Mass * Length * Length)) * u;
        var newThetaDot = thetaDot + (3 * G / (2 * Length) * Math.Sin(theta) + torqueAcceleration) * Dt;
        // Gymnasium's current order: the speed is clipped before it moves the angle.
        newThetaDot = Math.Clamp(newThetaDot, -MaxSpeed, MaxSpeed);
        theta = theta + newThetaDot * Dt;
        thetaDot = newThetaDot;

        Observe(observation);
        return new StepResult((float)-cost, false, false);
    }

    private void Observe(Span<float> observation)
    {
        var (sin, cos) = Math.SinCos(theta);
        observation[2] = (float)thetaDot;
        observation[1] = (float)sin;
        observation[0] = (float)cos;
    }

    /// <summary>Gymnasium's picture (500x500 there, 400x400 here): the red rod with round ends, the black axle.
    /// Gymnasium's arrow image showing the last torque is not drawn.</summary>
    public override Frame Render()
    {
        const int size = 400;
        const double scale = size / (2.2 * 2);
        const int offset = size / 2;
        const double rodLength = 1 * scale, rodWidth = 0.2 * scale;
        var red = new Rgb(204, 77, 77);
        var canvas = new ClassicCanvas(new Frame(size, size, Rgb.White));
        // Gymnasium turns the rod by th + pi/2 from the x axis: th = 0 points up.
        var angle = theta + Math.PI / 2;
        canvas.FillRotatedRectangle(0, rodLength, -rodWidth / 2, rodWidth / 2, angle, offset, offset, red);
        canvas.FillCircle(offset, offset, (int)(rodWidth / 2), red);
        var (sin, cos) = Math.SinCos(angle);
        canvas.FillCircle((int)(rodLength * cos + offset), (int)(rodLength * sin + offset), (int)(rodWidth / 2), red);
        canvas.FillCircle(offset, offset, (int)(0.05 * scale), Rgb.Black);
        return canvas.Frame;
    }

    /// <summary>The torque of the last step (null right after a reset), as Gymnasium's <c>last_u</c>.</summary>
    public double? LastTorque => lastTorque;
}

/// <summary>Pendulum's state: the angle (radians, 0 upright, not wrapped) and angular velocity.</summary>
public readonly record struct PendulumState(double Theta, double ThetaDot);
