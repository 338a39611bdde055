namespace Prunerl.Agents.Envs.MuJoCo;

/// <summary>
/// One of Gymnasium's v4 locomotion tasks as data: its model, how many timesteps an action lasts, its
/// reward weights, start noise and healthy region. Every task rewards forward velocity with weight 1:
/// reward = (x after - x before) / (frame skip x timestep) + healthy reward - ctrl cost weight x sum(a^2),
/// and is truncated after 1000 steps.
/// </summary>
/// <param name="Id">The registry id.</param>
/// <param name="ModelFile">The model shipped with the project (Envs/MuJoCo/Models).</param>
/// <param name="FrameSkip">MuJoCo timesteps per action.</param>
/// <param name="CtrlCostWeight">Weight of the sum of squared actions in the cost.</param>
/// <param name="HealthyReward">Reward every step. Gymnasium pays float(is_healthy or
/// terminate_when_unhealthy) x healthy_reward, and terminate_when_unhealthy is on by default, so it is
/// paid at every step, the terminating one included.</param>
/// <param name="ResetNoiseScale">Start noise: positions qpos0 + uniform(-scale, scale); velocities likewise,
/// or scale x a standard normal draw when <paramref name="NormalVelocityNoise"/>.</param>
/// <param name="NormalVelocityNoise">Whether start velocities are normal (HalfCheetah) rather than uniform.</param>
/// <param name="ObservedVelocityLimit">Velocities in observations are clipped to +- this (Hopper and
/// Walker2d: 10); null for none.</param>
/// <param name="Health">The healthy region, leaving which ends the episode; null for a task that never terminates.</param>
public sealed record LocomotionTask(
    string Id, string ModelFile, int FrameSkip, double CtrlCostWeight, double HealthyReward,
    double ResetNoiseScale, bool NormalVelocityNoise, double? ObservedVelocityLimit, HealthyRegion? Health)
{
    /// <summary>Steps after which every locomotion episode is truncated (Gymnasium's registration).</summary>
    public const int TimeLimit = 1000;

    /// <summary>HalfCheetah-v4: 17 observations, 6 actions, 5 x 0.01 s per step, no termination.</summary>
    public static readonly LocomotionTask HalfCheetah =
        new("mujoco/halfcheetah", "half_cheetah.xml", FrameSkip: 5, CtrlCostWeight: 0.1, HealthyReward: 0,
            ResetNoiseScale: 0.1, NormalVelocityNoise: true, ObservedVelocityLimit: null, Health: null);

    /// <summary>Hopper-v4: 11 observations, 3 actions, 4 x 0.002 s per step; unhealthy when the height is
    /// at most 0.7, the torso angle leaves (-0.2, 0.2) or any of qpos[2:], qvel leaves (-100, 100).</summary>
    public static readonly LocomotionTask Hopper =
        new("mujoco/hopper", "hopper.xml", FrameSkip: 4, CtrlCostWeight: 1e-3, HealthyReward: 1,
            ResetNoiseScale: 5e-3, NormalVelocityNoise: false, ObservedVelocityLimit: 10,
            Health: new HealthyRegion(0.7, double.PositiveInfinity, -0.2, 0.2, StateBound: 100));

    /// <summary>Walker2d-v4: 17 observations, 6 actions, 4 x 0.002 s per step; unhealthy when the height
    /// leaves (0.8, 2) or the torso angle leaves (-1, 1).</summary>
    public static readonly LocomotionTask Walker2d =
        new("mujoco/walker2d", "walker2d.xml", FrameSkip: 4, CtrlCostWeight: 1e-3, HealthyReward: 1,
            ResetNoiseScale: 5e-3, NormalVelocityNoise: false, ObservedVelocityLimit: 10,
            Health: new HealthyRegion(0.8, 2.0, -1.0, 1.0, StateBound: null));

    /// <summary>The three tasks, in the order they are listed.</summary>
    public static IReadOnlyList<LocomotionTask> All { get; } = [HalfCheetah, Hopper, Walker2d];
}

/// <summary>
/// Where a planar walker counts as healthy, with Gymnasium's strict comparisons (a value on a bound is
/// unhealthy, and so is NaN): the torso height qpos[1] in (MinZ, MaxZ), the torso angle qpos[2] in
/// (MinAngle, MaxAngle), and, when <paramref name="StateBound"/> is set, every entry of the state
/// vector after its first two (qpos[2:] and all of qvel, unclipped) in (-StateBound, StateBound).
/// </summary>
public sealed record HealthyRegion(double MinZ, double MaxZ, double MinAngle, double MaxAngle, double? StateBound)
{
    public bool Contains(ReadOnlySpan<double> qpos, ReadOnlySpan<double> qvel)
    {
        if (!(MinZ < qpos[1] && qpos[1] < MaxZ)) return false;
        if (!(MinAngle < qpos[2] && qpos[2] < MaxAngle)) return false;
        if (StateBound is not { } bound) return true;
        foreach (var value in qpos[2..]) if (!(-bound < value && value < bound)) return false;
        foreach (var value in qvel) if (!(-bound < value && value < bound)) return false;
        return true;
    }
}
