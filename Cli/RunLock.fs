/// One writer per run folder: `train` holds the folder's lock for the life of a run, so that a second
/// `train --out` of the same folder (two started together, or a `--resume` while the run still goes, as
/// a rerun sweep would start) is refused with one line naming the holder, exit code 2.
///
/// The lock is the operating system's: the file `<run>/.lock` opened with FileShare.None, which .NET
/// takes on Linux as an exclusive flock(2). The kernel releases it when the holder's process ends in any
/// way (kill -9 included), so a stale lock of a dead process never blocks: the next run takes it over and
/// writes its own pid and host into the file. (flock holds across processes of one host, and over NFS,
/// where Linux maps it to a POSIX lock the server keeps.) The file's text, the holder's process id and
/// host, is for the message only; the lock file stays in the folder (removing it would let a waiting
/// process lock the removed file while another locks its replacement).
module Prunerl.Cli.RunLock

open System
open System.IO
open System.Runtime.InteropServices
open Microsoft.Win32.SafeHandles
open Prunerl.Experiments
open Prunerl.Cli.UserError

/// The lock file of a run folder.
let path (run: string) = Path.Combine(run, RunFormat.LockFile)

[<DllImport("libc", EntryPoint = "open", SetLastError = true)>]
extern int private openFile(string path, int flags)

/// O_RDONLY | O_CLOEXEC.
let private readOnly = 0x80000

/// The holder's text in a lock file, read past the lock: .NET's own open would ask for a shared flock,
/// which the holder's exclusive one refuses, so the file is opened with open(2) directly.
let private holderText (file: string) : string =
    let fd = if OperatingSystem.IsLinux() then openFile (file, readOnly) else -1
    if fd < 0 then "another process"
    else
        use stream = new FileStream(new SafeFileHandle(nativeint fd, true), FileAccess.Read)
        use reader = new StreamReader(stream)
        match reader.ReadToEnd().Trim() with
        | "" -> "another process"
        | text -> text

/// Whether an IOException is the sharing violation .NET raises for a lock another open file holds.
let private isHeld (e: IOException) = e.HResult = 0x80070020 || e.HResult = 32 || e.Message.Contains "being used by another process"

/// The one line a second writer gets.
let private refusal (run: string) (file: string) =
    UserError(sprintf "out: %s is in use by %s (its lock %s); wait for that run to end or stop it, then try again" run (holderText file) file)

/// The run folder's lock, held until disposed.
[<Sealed>]
type Held internal (stream: FileStream | null) =
    interface IDisposable with
        member _.Dispose() =
            match stream with
            | null -> ()
            | s -> s.Dispose()

/// No lock: a run without a folder.
let none () = new Held(null)

/// This process as a lock file names it: its pid, host and the time it took the lock (UTC).
let private describeSelf () =
    sprintf "process %d on host %s since %s" Environment.ProcessId (Prunerl.Agents.Training.MetricsLog.HostName())
        (DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", Globalization.CultureInfo.InvariantCulture))

/// Takes the run folder's lock (creating the folder when needed) and writes this process into it; the
/// one-line refusal naming the holder when another process holds it, or naming why the folder cannot be made.
let take (run: string) : Held =
    try Directory.CreateDirectory run |> ignore
    with :? IOException | :? UnauthorizedAccessException as e ->
        raise (UserError(sprintf "out: cannot create %s: %s" run (e.Message.Split('\n').[0])))
    let file = path run
    let stream =
        try new FileStream(file, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None)
        with
        | :? IOException as e when isHeld e -> raise (refusal run file)
        | :? IOException | :? UnauthorizedAccessException as e -> raise (UserError(sprintf "out: cannot lock %s: %s" run (e.Message.Split('\n').[0])))
    try
        stream.SetLength 0L
        let text = Text.Encoding.UTF8.GetBytes(describeSelf () + "\n")
        stream.Write(text, 0, text.Length)
        stream.Flush()
    with :? IOException as e ->
        stream.Dispose()
        raise (UserError(sprintf "out: cannot write %s: %s" file (e.Message.Split('\n').[0])))
    new Held(stream)

/// Who holds the run folder's lock now, if anyone (None also when the folder or its lock file does not
/// exist); changes nothing.
let holder (run: string) : string option =
    let file = path run
    if not (File.Exists file) then None
    else
        try
            (new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.None)).Dispose()
            None
        with
        | :? IOException as e when isHeld e -> Some(holderText file)
        | :? IOException | :? UnauthorizedAccessException -> None

/// Refuses, with the one line naming the holder, a run folder whose lock another process holds.
let checkFree (run: string) =
    match holder run with
    | Some _ -> raise (refusal run (path run))
    | None -> ()
