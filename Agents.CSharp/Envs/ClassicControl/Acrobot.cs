using Prunerl.Agents.Checkpoints;

namespace Prunerl.Agents.Envs.ClassicControl;

/// <summary>
/// Acrobot-v1 as Gymnasium defines it (Sutton 1996; the "book" dynamics): two links hanging from a
/// fixed pivot, torque -1, 0 or +1 on the joint between them; swing the free end above the height
/// of one link over the pivot. Observation: cos t1, sin t1, cos t2, sin t2, t1', t2' (t2 relative
/// to the first link). Reward -1 per step and 0 on the step that reaches the goal, which terminates;
/// truncated after 500 steps. Each step integrates 0.2 s with one fourth-order Runge-Kutta step.
/// </summary>
public sealed class Acrobot : Environment
{
    private const double Dt = 0.2;
    private const double LinkLength1 = 1.0;
    private const double LinkLength2 = 1.0;
    private const double LinkMass1 = 1.0;
    private const double LinkMass2 = 1.0;
    private const double LinkCentreOfMass1 = 0.5;
    private const double LinkCentreOfMass2 = 0.5;
    private const double LinkMomentOfInertia = 1.0;
    private const double G = 9.8;

    /// <summary>Bound on the first joint's angular velocity: 4 pi.</summary>
    public const double MaxVelocity1 = 4 * Math.PI;

    /// <summary>Bound on the second joint's angular velocity: 9 pi.</summary>
    public const double MaxVelocity2 = 9 * Math.PI;

    private AcrobotState state;

    public Acrobot() : base("acrobot", ObservationBox(), new DiscreteSpace(3), maxEpisodeSteps: 500) { }

    /// <summary>The state in double precision: both angles (t2 relative to the first link), then both angular velocities.</summary>
    public AcrobotState State => state;

    /// <summary>Puts the system in a given state (for tests and analysis); the observation follows at the next step.</summary>
    public void SetState(AcrobotState state) => this.state = state;

    /// <summary>Whether the free end is above the goal height: -cos t1 - cos(t1 + t2) > 1.</summary>
    public bool AtGoal => -Math.Cos(state.Theta1) - Math.Cos(state.Theta2 + state.Theta1) > 1.0;

    private static BoxSpace ObservationBox()
    {
        float[] high = [1f, 1f, 1f, 1f, (float)MaxVelocity1, (float)MaxVelocity2];
        return new BoxSpace(high.Select(h => -h).ToArray(), high, [4 + 2]);
    }

    protected override void SaveDynamics(StateWriter writer)
    {
        writer.Write(state.Theta1);
        writer.Write(state.Theta2);
        writer.Write(state.Theta1Dot);
        writer.Write(state.Theta2Dot);
    }

    protected override void LoadDynamics(StateReader reader) =>
        state = new AcrobotState(reader.ReadDouble(), reader.ReadDouble(), reader.ReadDouble(), reader.ReadDouble());

    protected override void ResetCore(Span<float> observation)
    {
        // Gymnasium draws the four uniformly in [-0.1, 0.1) and stores them as float32: the first
        // step starts from those rounded values (and widens them back to float64).
        state = new AcrobotState(
            (float)Random.Uniform(-0.1, 0.1), (float)Random.Uniform(-0.1, 0.1),
            (float)Random.Uniform(-0.1, 0.1), (float)Random.Uniform(-0.1, 0.1));
        Observe(observation);
    }

    protected override StepResult StepCore(int action, Span<float> observation)
    {
        double torque = action - 1; // actions 0, 1, 2: torque -1, 0, +1 (no torque noise in v1)
        var next = RungeKutta4(state, torque);
        state = new AcrobotState(
            Wrap(next.Theta1, -Math.PI, Math.PI),
            Wrap(next.Theta2, -Math.PI, Math.PI),
            Bound(next.Theta1Dot, -MaxVelocity1, MaxVelocity1),
            Bound(next.Theta2Dot, -MaxVelocity2, MaxVelocity2));
        var terminated = AtGoal;
        Observe(observation);
        return new StepResult(terminated ? 0f : -1f, terminated, false);
    }

    private void Observe(Span<float> observation)
    {
        observation[5] = (float)state.Theta2Dot;
        observation[4] = (float)state.Theta1Dot;
        var (sin2, cos2) = Math.SinCos(state.Theta2);
        var (sin1, cos1) = Math.SinCos(state.Theta1);
        observation[3] = (float)sin2;
        observation[2] = (float)cos2;
        observation[1] = (float)sin1;
        observation[0] = (float)cos1;
    }

    /// <summary>
    /// Gymnasium's <c>rk4</c> over the time points [0, dt]: a single step of size dt, the torque held
    /// constant, the combination written in its order (y + dt / 6 * (k1 + 2 k2 + 2 k3 + k4)).
    /// </summary>
    private static AcrobotState RungeKutta4(in AcrobotState y, double torque)
    {
        const double half = Dt / 2.0;
        var k1 = Derivatives(y, torque);
        var k2 = Derivatives(y.Plus(half, k1), torque);
        var k3 = Derivatives(y.Plus(half, k2), torque);
        var k4 = Derivatives(y.Plus(Dt, k3), torque);
        const double sixth = Dt / 6.0;
        return new AcrobotState(
            y.Theta1 + sixth * (k1.Theta1 + 2 * k2.Theta1 + 2 * k3.Theta1 + k4.Theta1),
            y.Theta2 + sixth * (k1.Theta2 + 2 * k2.Theta2 + 2 * k3.Theta2 + k4.Theta2),
            y.Theta1Dot + sixth * (k1.Theta1Dot + 2 * k2.Theta1Dot + 2 * k3.Theta1Dot + k4.Theta1Dot),
            y.Theta2Dot + sixth * (k1.Theta2Dot + 2 * k2.Theta2Dot + 2 * k3.Theta2Dot + k4.Theta2Dot));
    }

    /// <summary>The time derivative of the state under <paramref name="torque"/> (the book's equations), term by term as Gymnasium writes them.</summary>
    private static AcrobotState Derivatives(in AcrobotState s, double torque)
    {
        const double m1 = LinkMass1, m2 = LinkMass2, l1 = LinkLength1;
        const double lc1 = LinkCentreOfMass1, lc2 = LinkCentreOfMass2;
        const double i1 = LinkMomentOfInertia, i2 = LinkMomentOfInertia;
        var (theta1, theta2, dtheta1, dtheta2) = (s.Theta1, s.Theta2, s.Theta1Dot, s.Theta2Dot);
        var (sinTheta2, cosTheta2) = Math.SinCos(theta2);

        var d1 = m1 * (lc1 * lc1) + m2 * (l1 * l1 + lc2 * lc2 + 2 * l1 * lc2 * cosTheta2) + i1 + i2;
        var d2 = m2 * (lc2 * lc2 + l1 * lc2 * cosTheta2) + i2;
        var phi2 = m2 * lc2 * G * Math.Cos(theta1 + theta2 - Math.PI / 2.0);
        var phi1 = -m2 * l1 * lc2 * (dtheta2 * dtheta2) * sinTheta2
            - 2 * m2 * l1 * lc2 * dtheta2 * dtheta1 * sinTheta2
            + (m1 * lc1 + m2 * l1) * G * Math.Cos(theta1 - Math.PI / 2)
            + phi2;
        var ddtheta2 = (torque + d2 / d1 * phi1 - m2 * l1 * lc2 * (dtheta1 * dtheta1) * sinTheta2 - phi2) /
            (m2 * (lc2 * lc2) + i2 - d2 * d2 / d1);
        var ddtheta1 = -(d2 * ddtheta2 + phi1) / d1;
        return new AcrobotState(dtheta1, dtheta2, ddtheta1, ddtheta2);
    }

    /// <summary>Brings x into [low, high] by whole turns (Gymnasium's <c>wrap</c>).</summary>
    private static double Wrap(double x, double low, double high)
    {
        var turn = high - low;
        while (x > high) x -= turn;
        while (x < low) x += turn;
        return x;
    }

    /// <summary>Clips x to [low, high] (Gymnasium's <c>bound</c>: min(max(x, low), high)).</summary>
    private static double Bound(double x, double low, double high) => Math.Min(Math.Max(x, low), high);

    /// <summary>Gymnasium's picture (500x500 there, 400x400 here): the goal line, two cyan links, yellow joints.</summary>
    public override Frame Render()
    {
        const int size = 400;
        const double reach = LinkLength1 + LinkLength2 + 0.2;
        const double scale = size / (reach * 2);
        const double offset = size / 2.0;
        var canvas = new ClassicCanvas(new Frame(size, size, Rgb.White));
        canvas.DrawLine(-reach * scale + offset, 1 * scale + offset, reach * scale + offset, 1 * scale + offset, 1, Rgb.Black);

        // Gymnasium lays the links out with the picture's x along sin t and its y along -cos t.
        var (theta1, theta2) = (state.Theta1, state.Theta2);
        var elbowX = LinkLength1 * Math.Sin(theta1) * scale;
        var elbowY = -LinkLength1 * Math.Cos(theta1) * scale;
        DrawLink(canvas, offset, offset, theta1 - Math.PI / 2, LinkLength1 * scale, scale);
        DrawLink(canvas, elbowX + offset, elbowY + offset, theta1 + theta2 - Math.PI / 2, LinkLength2 * scale, scale);
        return canvas.Frame;
    }

    private static void DrawLink(ClassicCanvas canvas, double x, double y, double angle, double length, double scale)
    {
        canvas.FillRotatedRectangle(0, length, -0.1 * scale, 0.1 * scale, angle, x, y, new Rgb(0, 204, 204));
        canvas.FillCircle((int)x, (int)y, (int)(0.1 * scale), new Rgb(204, 204, 0));
    }

}

/// <summary>Acrobot's state: both joint angles (radians; t1 = 0 hangs down, t2 relative to the first link),
/// then both angular velocities. Inside the integrator the same four numbers also hold time derivatives.</summary>
public readonly record struct AcrobotState(double Theta1, double Theta2, double Theta1Dot, double Theta2Dot)
{
    /// <summary>this + h * rate, entry by entry (numpy's <c>y0 + dt2 * k1</c>).</summary>
    internal AcrobotState Plus(double h, in AcrobotState rate) => new(
        Theta1 + h * rate.Theta1, Theta2 + h * rate.Theta2, Theta1Dot + h * rate.Theta1Dot, Theta2Dot + h * rate.Theta2Dot);
}
