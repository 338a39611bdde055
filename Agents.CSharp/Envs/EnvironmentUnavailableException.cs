namespace Prunerl.Agents.Envs;

/// <summary>An environment that cannot run on this machine (for example its physics engine is not
/// installed); the message is one line saying what is missing and how to install it.</summary>
public sealed class EnvironmentUnavailableException(string message) : Exception(message);
