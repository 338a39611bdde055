using Prunerl.Agents.Checkpoints;

namespace Prunerl.Agents.Envs.ClassicControl;

/// <summary>
/// CartPole-v1 as Gymnasium defines it (Barto, Sutton and Anderson 1983): push a cart left or right
/// (force 10) to keep a pole upright. Observation: cart position, cart velocity, pole angle, pole
/// angular velocity. Reward +1 every step, the last one included; the episode terminates when the
/// pole leans more than 12 degrees or the cart leaves [-2.4, 2.4], and is truncated after 500 steps.
/// The state is kept in double precision (as numpy's float64) and observed as float32.
/// </summary>
public sealed class CartPole : Environment
{
    private const double Gravity = 9.8;
    private const double MassCart = 1.0;
    private const double MassPole = 0.1;
    private const double TotalMass = MassPole + MassCart;
    private const double Length = 0.5; // half the pole's length
    private const double PoleMassLength = MassPole * Length;
    private const double ForceMagnitude = 10.0;
    private const double Tau = 0.02; // seconds between state updates

    /// <summary>Pole angle (radians) beyond which the episode terminates: 12 degrees.</summary>
    public const double ThetaThreshold = 12 * 2 * Math.PI / 360;

    /// <summary>Cart position beyond which the episode terminates.</summary>
    public const double XThreshold = 2.4;

    private double x, xDot, theta, thetaDot;

    public CartPole() : base("cartpole", ObservationBox(), new DiscreteSpace(2), maxEpisodeSteps: 500) { }

    /// <summary>The state in double precision: cart position and velocity, pole angle and angular velocity.</summary>
    public CartPoleState State => new(x, xDot, theta, thetaDot);

    /// <summary>Puts the system in a given state (for tests and analysis); the observation follows at the next step.</summary>
    public void SetState(CartPoleState state) => (x, xDot, theta, thetaDot) = (state.X, state.XDot, state.Theta, state.ThetaDot);

    // Gymnasium: bounds of twice the termination thresholds so that a failing observation is still
    // inside the box, and no bounds on the velocities.
    private static BoxSpace ObservationBox()
    {
        float[] high = [(float)(XThreshold * 2), float.PositiveInfinity, (float)(ThetaThreshold * 2), float.PositiveInfinity];
        return new BoxSpace(high.Select(h => -h).ToArray(), high, [4]);
    }

    protected override void SaveDynamics(StateWriter writer)
    {
        writer.Write(x);
        writer.Write(xDot);
        writer.Write(theta);
        writer.Write(thetaDot);
    }

    protected override void LoadDynamics(StateReader reader) =>
        (x, xDot, theta, thetaDot) = (reader.ReadDouble(), reader.ReadDouble(), reader.ReadDouble(), reader.ReadDouble());

    protected override void ResetCore(Span<float> observation)
    {
        // One uniform draw in [-0.05, 0.05) for each of the four, in state order.
        x = Random.Uniform(-0.05, 0.05);
        xDot = Random.Uniform(-0.05, 0.05);
        theta = Random.Uniform(-0.05, 0.05);
        thetaDot = Random.Uniform(-0.05, 0.05);
        Observe(observation);
    }

    protected override StepResult StepCore(int action, Span<float> observation)
    {
        var force = action == 1 ? ForceMagnitude : -ForceMagnitude;
        var (sinTheta, cosTheta) = Math.SinCos(theta);

        var temp = (force + PoleMassLength * (thetaDot * thetaDot) * sinTheta) / TotalMass;
        var thetaAcc = (Gravity * sinTheta - cosTheta * temp) /
            (Length * (4.0 / 3.0 - MassPole * (cosTheta * cosTheta) / TotalMass));
        var xAcc = temp - PoleMassLength * thetaAcc * cosTheta / TotalMass;

        // Explicit Euler (Gymnasium's default "euler"): positions advance with the old velocities.
        x = x + Tau * xDot;
        xDot = xDot + Tau * xAcc;
        theta = theta + Tau * thetaDot;
        thetaDot = thetaDot + Tau * thetaAcc;

        var terminated = x < -XThreshold || x > XThreshold || theta < -ThetaThreshold || theta > ThetaThreshold;
        Observe(observation);
        return new StepResult(1f, terminated, false);
    }

    private void Observe(Span<float> observation)
    {
        observation[3] = (float)thetaDot;
        observation[2] = (float)theta;
        observation[1] = (float)xDot;
        observation[0] = (float)x;
    }

    /// <summary>Gymnasium's picture (600x400): the track, the black cart, the brown pole and its blue axle.</summary>
    public override Frame Render()
    {
        const int width = 600, height = 400;
        const double scale = width / (XThreshold * 2);
        const double poleWidth = 10.0, poleLength = scale * (2 * Length);
        const double cartWidth = 50.0, cartHeight = 30.0, axleOffset = cartHeight / 4.0;
        const int cartY = 100; // height of the cart's centre line, and of the track

        var canvas = new ClassicCanvas(new Frame(width, height, Rgb.White));
        var cartX = x * scale + width / 2.0;
        canvas.FillRotatedRectangle(-cartWidth / 2, cartWidth / 2, -cartHeight / 2, cartHeight / 2, 0, cartX, cartY, Rgb.Black);
        canvas.FillRotatedRectangle(-poleWidth / 2, poleWidth / 2, -poleWidth / 2, poleLength - poleWidth / 2, -theta,
            cartX, cartY + axleOffset, new Rgb(202, 152, 101));
        canvas.FillCircle((int)cartX, (int)(cartY + axleOffset), (int)(poleWidth / 2), new Rgb(129, 132, 203));
        canvas.DrawLine(0, cartY, width, cartY, 1, Rgb.Black);
        return canvas.Frame;
    }
}

/// <summary>CartPole's state: cart position (m) and velocity, pole angle (radians, 0 upright) and angular velocity.</summary>
public readonly record struct CartPoleState(double X, double XDot, double Theta, double ThetaDot);
