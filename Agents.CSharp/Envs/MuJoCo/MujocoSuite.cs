namespace Prunerl.Agents.Envs.MuJoCo;

/// <summary>The MuJoCo locomotion tasks in the registry (Gymnasium's v4 definitions); they need MuJoCo 2.2.2.</summary>
public static class MujocoSuite
{
    public static readonly IReadOnlyList<EnvironmentEntry> Entries =
    [
        new(LocomotionTask.HalfCheetah.Id, "HalfCheetah-v4: run a planar cheetah forward; 6 torques in [-1, 1], 1000 steps (MuJoCo)",
            _ => new LocomotionEnvironment(LocomotionTask.HalfCheetah), MujocoRuntime.Unavailable),
        new(LocomotionTask.Hopper.Id, "Hopper-v4: hop forward on one leg without falling; 3 torques in [-1, 1], 1000 steps (MuJoCo)",
            _ => new LocomotionEnvironment(LocomotionTask.Hopper), MujocoRuntime.Unavailable),
        new(LocomotionTask.Walker2d.Id, "Walker2d-v4: walk forward on two legs without falling; 6 torques in [-1, 1], 1000 steps (MuJoCo)",
            _ => new LocomotionEnvironment(LocomotionTask.Walker2d), MujocoRuntime.Unavailable),
    ];
}
