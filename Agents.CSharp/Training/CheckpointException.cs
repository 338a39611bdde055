namespace Prunerl.Agents.Training;

/// <summary>
/// A checkpoint that cannot be used: corrupt, truncated, of another format version, or written by a
/// different run configuration. The message is one line naming the file and the problem; nothing of the
/// checkpoint has been applied to a run, and no file of the run has been touched.
/// </summary>
public sealed class CheckpointException(string message) : Exception(message);
