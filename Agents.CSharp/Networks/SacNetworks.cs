using Prunerl.Agents.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Prunerl.Agents.Networks;

/// <summary>
/// SAC's actor (Haarnoja et al. 2018): an MLP torso (the spec's hidden units scaled by its width) and two
/// linear heads, the mean and the log standard deviation of a diagonal Gaussian over pre-squash actions
/// u; actions are a = tanh(u) in [-1, 1]^|A|. The log standard deviation is clamped to [-20, 2], as the
/// reference implementation and Stable-Baselines3 do.
/// </summary>
public sealed class SquashedGaussianActor : nn.Module<Tensor, Tensor>
{
    /// <summary>The clamp of the log standard deviation.</summary>
    public const double LogStdMin = -20, LogStdMax = 2;

    private readonly MlpTorso torso;
    private readonly Linear mean;
    private readonly Linear log_std;
    /// <summary>The constants of the clamp and the log-densities (<see cref="OwnedScalars"/>).</summary>
    private readonly OwnedScalars scalars = new();
    private readonly Scalar one, two, logStdMin, logStdMax, minusHalf, halfLogTwoPi, logTwo, minusTwo, twice, softplusBeta, softplusThreshold;

    /// <param name="spec">An MLP spec: its hidden units (default 256, 256 here) and width.</param>
    /// <param name="observations">Values per observation.</param>
    /// <param name="actions">Values per action.</param>
    /// <param name="seed">Seed of the initial weights.</param>
    public SquashedGaussianActor(NetworkSpec spec, int observations, int actions, long seed) : base(nameof(SquashedGaussianActor))
    {
        SacNetworks.Check(spec, actions);
        using var generator = new Generator(unchecked((ulong)seed));
        torso = new MlpTorso(observations, SacNetworks.Hidden(spec), spec.Width, generator: generator);
        mean = Initialise.NewLinear(torso.Features, actions, generator);
        log_std = Initialise.NewLinear(torso.Features, actions, generator);
        (one, two) = (scalars.Of(1), scalars.Of(2));
        (logStdMin, logStdMax) = (scalars.Of(LogStdMin), scalars.Of(LogStdMax));
        (minusHalf, halfLogTwoPi) = (scalars.Of(-0.5), scalars.Of(0.5 * Math.Log(2 * Math.PI)));
        (logTwo, minusTwo, twice) = (scalars.Of(Math.Log(2.0)), scalars.Of(-2.0), scalars.Of(2.0));
        // nn.functional.softplus's defaults.
        (softplusBeta, softplusThreshold) = (scalars.Of(1.0), scalars.Of(20.0));
        RegisterComponents();
        if (spec.Initialization.IsXavier_Uniform) Initialise.Xavier_Uniform(this, generator);
    }

    /// <summary>The Gaussian's mean and clamped log standard deviation, [B, |A|] each.</summary>
    public (Tensor Mean, Tensor LogStd) Distribution(Tensor observations)
    {
        var features = torso.forward(observations);
        return (mean.forward(features), log_std.forward(features).clamp(logStdMin, logStdMax));
    }

    /// <summary>The deterministic action tanh(mean), [B, |A|].</summary>
    public override Tensor forward(Tensor observations) => Distribution(observations).Mean.tanh();

    /// <summary>
    /// Reparameterised actions a = tanh(mean + std * noise) for standard normal <paramref name="noise"/>
    /// [B, |A|], and their log-densities [B] with the change of variables of the squash:
    /// log pi(a|s) = sum_i [log N(u_i; mean_i, std_i) - log(1 - tanh(u_i)^2)], where
    /// log(1 - tanh(u)^2) = 2 (log 2 - u - softplus(-2u)) is computed in that stable form.
    /// </summary>
    public (Tensor Actions, Tensor LogProbabilities) Sample(Tensor observations, Tensor noise)
    {
        var (mu, logStd) = Distribution(observations);
        var u = mu.add(logStd.exp() * noise, one);
        var gaussian = (noise.pow(two).mul(minusHalf) - logStd).sub(halfLogTwoPi).sum(1);
        var squash = (u.negative().add(logTwo, one) - SoftplusWithScalars.Of(u.mul(minusTwo), softplusBeta, softplusThreshold)).mul(twice).sum(1);
        return (u.tanh(), gaussian - squash);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) scalars.Dispose();
        base.Dispose(disposing);
    }
}

/// <summary>Two independent Q critics (Fujimoto et al. 2018's clipped double Q, as SAC uses it), each an
/// MLP over the observation and action concatenated with one linear output; one module so that one flat
/// buffer, one optimizer and one pruner cover both.</summary>
public sealed class TwinCritic : nn.Module<Tensor, Tensor, (Tensor, Tensor)>
{
    private readonly MlpTorso q1_torso, q2_torso;
    private readonly Linear q1_head, q2_head;

    /// <param name="spec">An MLP spec: its hidden units (default 256, 256 here) and width.</param>
    /// <param name="observations">Values per observation.</param>
    /// <param name="actions">Values per action.</param>
    /// <param name="seed">Seed of the initial weights.</param>
    public TwinCritic(NetworkSpec spec, int observations, int actions, long seed) : base(nameof(TwinCritic))
    {
        SacNetworks.Check(spec, actions);
        using var generator = new Generator(unchecked((ulong)seed));
        var hidden = SacNetworks.Hidden(spec);
        q1_torso = new MlpTorso(observations + actions, hidden, spec.Width, generator: generator);
        q1_head = Initialise.NewLinear(q1_torso.Features, 1, generator);
        q2_torso = new MlpTorso(observations + actions, hidden, spec.Width, generator: generator);
        q2_head = Initialise.NewLinear(q2_torso.Features, 1, generator);
        RegisterComponents();
        if (spec.Initialization.IsXavier_Uniform) Initialise.Xavier_Uniform(this, generator);
    }

    /// <summary>Both critics' values Q1(s, a), Q2(s, a), [B] each.</summary>
    public override (Tensor, Tensor) forward(Tensor observations, Tensor actions)
    {
        var input = cat([observations.flatten(1), actions], 1);
        return (q1_head.forward(q1_torso.forward(input)).squeeze(1), q2_head.forward(q2_torso.forward(input)).squeeze(1));
    }
}

/// <summary>The entropy temperature as a module: one parameter, log alpha, so a flat optimizer can train it.</summary>
public sealed class Temperature : nn.Module
{
    private readonly Parameter log_alpha;

    public Temperature(double alpha) : base(nameof(Temperature))
    {
        if (!(alpha > 0)) throw new ArgumentOutOfRangeException(nameof(alpha), $"alpha must be > 0, got {alpha}");
        log_alpha = new Parameter(tensor(new[] { (float)Math.Log(alpha) }));
        RegisterComponents();
    }

    /// <summary>log alpha, a one-element parameter.</summary>
    public Tensor LogAlpha => log_alpha;
}

internal static class SacNetworks
{
    /// <summary>SAC's hidden layers: the spec's, or 256, 256 (Haarnoja et al. 2018).</summary>
    public static int[] Hidden(NetworkSpec spec) => spec.MlpHidden ?? [256, 256];

    public static void Check(NetworkSpec spec, int actions)
    {
        if (!spec.Torso.IsMlp) throw new ArgumentException($"SAC's networks are MLPs, not {spec.Torso}", nameof(spec));
        if (!(spec.Width > 0)) throw new ArgumentOutOfRangeException(nameof(spec), $"width must be > 0, got {spec.Width}");
        if (actions < 1) throw new ArgumentOutOfRangeException(nameof(actions), $"actions must have >= 1 value, got {actions}");
    }
}
