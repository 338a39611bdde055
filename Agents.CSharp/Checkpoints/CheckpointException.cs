namespace Prunerl.Agents.Checkpoints;

/// <summary>
/// A checkpoint or dataset that cannot be used: corrupt, truncated, of another format version, written by a
/// different run configuration, or (a dataset) recorded on another environment. The message is one line naming the file and the problem; nothing of the
/// checkpoint has been applied to a run, and no file of the run has been touched.
/// </summary>
public sealed class CheckpointException(string message) : Exception(message);
