namespace Prunerl.Agents.Envs.ClassicControl;

/// <summary>The classic-control environments in the registry (Gymnasium's definitions).</summary>
public static class ClassicControlSuite
{
    public static readonly IReadOnlyList<EnvironmentEntry> Entries =
    [
        new("cartpole", "CartPole-v1: balance a pole on a cart; 2 actions, +1 per step, 500 steps", _ => new CartPole()),
        new("acrobot", "Acrobot-v1: swing a two-link arm's end above a line; 3 torques, -1 per step, 500 steps", _ => new Acrobot()),
        new("mountaincar", "MountainCar-v0: drive an underpowered car up a hill; 3 actions, -1 per step, 200 steps", _ => new MountainCar()),
        new("pendulum", "Pendulum-v1: swing up and hold a pendulum; torque in [-2, 2], 200 steps", _ => new Pendulum()),
    ];
}
