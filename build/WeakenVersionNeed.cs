// Inline MSBuild task (RoslynCodeTaskFactory, Code Type="Class"), used by build/TorchNative.targets.
//
// Why: TorchSharp's libLibTorchSharp.so was linked with GCC 13+ headers, which emit a `.globl`
// reference to `_ZSt21ios_base_library_initv@GLIBCXX_3.4.32`. Nothing calls that symbol (no
// relocation refers to it), but the version need alone makes ld.so refuse the library on hosts
// whose libstdc++ stops before GLIBCXX_3.4.32 (e.g. Debian 12). Setting VER_FLG_WEAK on that one
// Vernaux entry turns the hard failure into nothing at all. We only do it in a copy under obj/,
// and only when it is provably harmless: every symbol bound to the version is undefined, on an
// allow-list, and not referenced by any relocation.
//
// RoslynCodeTaskFactory compiles this against netstandard 2.0 reference assemblies, so only
// netstandard 2.0 APIs are used (no Span, no BinaryPrimitives, no File.Move overwrite overload).

using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace Prunerl.Build
{
    public sealed class WeakenVersionNeed : Microsoft.Build.Utilities.Task
    {
        private const string WarningCode = "PRUNERL001";

        // ELF constants (see elf.h).
        private const uint ShtRela = 4;
        private const uint ShtDynsym = 11;
        private const uint ShtRel = 9;
        private const uint ShtNobits = 8;
        private const uint ShtGnuVerdef = 0x6ffffffd;
        private const uint ShtGnuVerneed = 0x6ffffffe;
        private const uint ShtGnuVersym = 0x6fffffff;
        private const ushort VerFlgWeak = 0x2;
        private const ushort ShnUndef = 0;

        // Where a Linux system keeps its shared libraries; used when HostLibrary is not given.
        private static readonly string[] HostLibraryDirectories =
        {
            "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/usr/lib", "/lib",
        };

        /// <summary>The library to patch (e.g. in the NuGet cache). Never modified.</summary>
        [Required]
        public string SourceFile { get; set; }

        /// <summary>Where the patched copy goes (under obj/). Written atomically.</summary>
        [Required]
        public string DestinationFile { get; set; }

        /// <summary>The version whose need is made weak, e.g. GLIBCXX_3.4.32.</summary>
        [Required]
        public string VersionName { get; set; }

        /// <summary>The only symbols that may be bound to VersionName, e.g. _ZSt21ios_base_library_initv.</summary>
        public string[] AllowedSymbols { get; set; }

        /// <summary>The host library that would provide VersionName; empty = look in the usual directories
        /// for the file the need names (e.g. libstdc++.so.6).</summary>
        public string HostLibrary { get; set; }

        /// <summary>True when DestinationFile holds a usable copy that should replace SourceFile.</summary>
        [Output]
        public bool Patched { get; set; }

        /// <summary>host-provides, patched, already-weak, not-needed, refused, not-linux or host-unknown.</summary>
        [Output]
        public string Outcome { get; set; }

        public override bool Execute()
        {
            Patched = false;
            try
            {
                Run();
            }
            catch (Exception ex)
            {
                // Safety net: a broken or unexpected file must never break the build.
                Refuse("unexpected error: " + ex.GetType().Name + ": " + ex.Message);
            }
            return !Log.HasLoggedErrors;
        }

        private void Run()
        {
            if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux))
            {
                Finish("not-linux", false, "not running on Linux; nothing to do.");
                return;
            }

            if (string.Equals(Path.GetFullPath(SourceFile), Path.GetFullPath(DestinationFile), StringComparison.Ordinal))
            {
                Refuse("DestinationFile is the source file itself; the source is never modified");
                return;
            }

            byte[] image;
            try
            {
                image = File.ReadAllBytes(SourceFile);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                Refuse("cannot read it: " + ex.Message);
                return;
            }

            ElfFile elf;
            string problem;
            if (!ElfFile.TryParse(image, out elf, out problem))
            {
                Refuse(problem);
                return;
            }

            try
            {
                Decide(elf);
            }
            catch (BadElfException ex)
            {
                Refuse(ex.Message);
            }
        }

        private void Decide(ElfFile elf)
        {
            List<VersionNeed> needs = FindVersionNeeds(elf, VersionName);
            if (needs.Count == 0)
            {
                Finish("not-needed", false, "does not need " + VersionName + ".");
                return;
            }
            if (needs.Count > 1)
            {
                Refuse(VersionName + " is needed from more than one library");
                return;
            }
            VersionNeed need = needs[0];

            // Ask the host first: if it provides the version there is nothing to fix, whatever the file holds.
            string hostPath = ResolveHostLibrary(need.FileName, elf.Machine);
            if (hostPath == null)
            {
                Finish("host-unknown", false,
                    "cannot find the host " + need.FileName + " to check for " + VersionName + "; leaving the file unchanged.");
                return;
            }
            if (HostDefinesVersion(hostPath, VersionName))
            {
                Finish("host-provides", false, hostPath + " provides " + VersionName + "; no patch needed.");
                return;
            }

            if ((need.Flags & VerFlgWeak) != 0)
            {
                // Copy it anyway so the targets always ship the same (obj/) file once a patch was ever needed.
                bool copied = WriteDestination(elf.Image);
                Finish("already-weak", true, "the " + VersionName + " need is already weak; " +
                    (copied ? "copied unchanged to " : "unchanged copy already at ") + DestinationFile + ".");
                return;
            }

            CheckBoundSymbolsAreHarmless(elf, need);

            byte[] patched = (byte[])elf.Image.Clone();
            ElfFile.WriteU16(patched, need.FlagsOffset, (ushort)(need.Flags | VerFlgWeak));
            bool written = WriteDestination(patched);
            Finish("patched", true, "weakened the " + VersionName + " need (host " + hostPath + " lacks it); " +
                (written ? "wrote " : "identical copy already at ") + DestinationFile + ".");
        }

        // ---------------------------------------------------------------- version needs (the file to patch)

        private sealed class VersionNeed
        {
            public string FileName;   // vn_file, e.g. libstdc++.so.6
            public ushort Flags;      // vna_flags
            public ushort Index;      // vna_other: the versym index symbols bound to this version carry
            public long FlagsOffset;  // file offset of vna_flags
        }

        // Walks .gnu.version_r (Verneed records, each with a chain of Vernaux records) and returns
        // every Vernaux entry named `version`.
        private static List<VersionNeed> FindVersionNeeds(ElfFile elf, string version)
        {
            var found = new List<VersionNeed>();
            foreach (Section verneed in elf.SectionsOfType(ShtGnuVerneed))
            {
                Section strtab = elf.LinkedSection(verneed);
                long end = verneed.Offset + verneed.Size;
                long record = verneed.Offset;
                for (uint i = 0; i < verneed.Info; i++)
                {
                    elf.Require(record, 16, end, "Verneed record");
                    ushort auxCount = elf.U16(record + 2);
                    string fileName = elf.String(strtab, elf.U32(record + 4));
                    long aux = record + elf.U32(record + 8);
                    for (int j = 0; j < auxCount; j++)
                    {
                        elf.Require(aux, 16, end, "Vernaux record");
                        if (elf.String(strtab, elf.U32(aux + 8)) == version)
                        {
                            found.Add(new VersionNeed
                            {
                                FileName = fileName,
                                Flags = elf.U16(aux + 4),
                                Index = elf.U16(aux + 6),
                                FlagsOffset = aux + 4,
                            });
                        }
                        uint nextAux = elf.U32(aux + 12);
                        if (nextAux == 0) break;
                        aux += nextAux;
                    }
                    uint next = elf.U32(record + 12);
                    if (next == 0) break;
                    record += next;
                }
            }
            return found;
        }

        // The weak flag is only harmless if nothing actually binds to the version: every dynamic symbol
        // carrying its index must be undefined, allow-listed, and unused by any relocation.
        private void CheckBoundSymbolsAreHarmless(ElfFile elf, VersionNeed need)
        {
            if (need.Index < 2)
                throw new BadElfException(VersionName + " has a reserved version index " + need.Index);

            Section dynsym = elf.SingleSectionOfType(ShtDynsym, ".dynsym");
            Section versym = elf.SingleSectionOfType(ShtGnuVersym, ".gnu.version");
            Section dynstr = elf.LinkedSection(dynsym);
            long symbolCount = dynsym.Size / 24;
            if (dynsym.Size % 24 != 0 || versym.Size != symbolCount * 2)
                throw new BadElfException(".dynsym and .gnu.version sizes do not match");

            var allowed = new HashSet<string>(AllowedSymbols ?? new string[0], StringComparer.Ordinal);
            var bound = new Dictionary<ulong, string>();
            for (long i = 0; i < symbolCount; i++)
            {
                if ((elf.U16(versym.Offset + i * 2) & 0x7fff) != need.Index) continue;
                long sym = dynsym.Offset + i * 24;
                string name = elf.String(dynstr, elf.U32(sym));
                if (elf.U16(sym + 6) != ShnUndef)
                    throw new BadElfException(VersionName + " is bound to a symbol it defines: " + name);
                if (!allowed.Contains(name))
                    throw new BadElfException(VersionName + " is bound to " + name + ", which is not in AllowedSymbols");
                bound[(ulong)i] = name;
            }

            CheckNoRelocationUses(elf, dynsym, bound);
        }

        // A relocation against a bound symbol means the code really uses it: weakening would only turn
        // a clean load failure into a crash later, so refuse.
        private void CheckNoRelocationUses(ElfFile elf, Section dynsym, Dictionary<ulong, string> bound)
        {
            if (bound.Count == 0) return;
            foreach (Section section in elf.Sections)
            {
                if ((section.Type != ShtRela && section.Type != ShtRel) || section.Link != dynsym.Index) continue;
                int entrySize = section.Type == ShtRela ? 24 : 16;
                if (section.Size % entrySize != 0)
                    throw new BadElfException("relocation section " + section.Index + " has a partial entry");
                for (long entry = section.Offset; entry < section.Offset + section.Size; entry += entrySize)
                {
                    ulong symbolIndex = elf.U64(entry + 8) >> 32;
                    string name;
                    if (bound.TryGetValue(symbolIndex, out name))
                        throw new BadElfException("a relocation refers to " + name + "@" + VersionName +
                                                  ", so the code really uses it");
                }
            }
        }

        // ---------------------------------------------------------------- version definitions (the host)

        private string ResolveHostLibrary(string neededFile, ushort machine)
        {
            if (!string.IsNullOrEmpty(HostLibrary))
                return File.Exists(HostLibrary) ? HostLibrary : null;
            if (string.IsNullOrEmpty(neededFile) || neededFile.IndexOf('/') >= 0)
                return null;
            foreach (string directory in HostLibraryDirectories)
            {
                string candidate = Path.Combine(directory, neededFile);
                // A library built for another architecture says nothing about what ld.so would load.
                if (File.Exists(candidate) && MachineOf(candidate) == machine)
                    return candidate;
            }
            return null;
        }

        private static int MachineOf(string path)
        {
            try
            {
                ElfFile elf;
                string problem;
                return ElfFile.TryParse(File.ReadAllBytes(path), out elf, out problem) ? elf.Machine : -1;
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                return -1;
            }
        }

        // Reads .gnu.version_d (Verdef records); the first Verdaux of each record names the version it defines.
        // An unreadable host answers "no", which leads to the (harmless) patch.
        private bool HostDefinesVersion(string hostPath, string version)
        {
            ElfFile host;
            string problem;
            byte[] image;
            try
            {
                image = File.ReadAllBytes(hostPath);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                image = new byte[0];
            }
            if (!ElfFile.TryParse(image, out host, out problem))
            {
                Log.LogMessage(MessageImportance.Low, "WeakenVersionNeed: cannot read {0} ({1}); assuming it lacks {2}.", hostPath, problem, version);
                return false;
            }
            try
            {
                foreach (Section verdef in host.SectionsOfType(ShtGnuVerdef))
                {
                    Section strtab = host.LinkedSection(verdef);
                    long end = verdef.Offset + verdef.Size;
                    long record = verdef.Offset;
                    for (uint i = 0; i < verdef.Info; i++)
                    {
                        host.Require(record, 20, end, "Verdef record");
                        long aux = record + host.U32(record + 12);
                        host.Require(aux, 8, end, "Verdaux record");
                        if (host.String(strtab, host.U32(aux)) == version)
                            return true;
                        uint next = host.U32(record + 16);
                        if (next == 0) break;
                        record += next;
                    }
                }
            }
            catch (BadElfException ex)
            {
                Log.LogMessage(MessageImportance.Low, "WeakenVersionNeed: cannot read the version definitions of {0} ({1}).", hostPath, ex.Message);
            }
            return false;
        }

        // ---------------------------------------------------------------- output

        // Temp file in the destination directory + rename, so a concurrent build never sees half a file.
        // The copy keeps the source's permission bits (File.Copy does that on Unix). If the destination
        // already holds exactly these bytes it is not rewritten, so bin/ copies of it stay up to date.
        // Returns false when nothing had to be written.
        private bool WriteDestination(byte[] content)
        {
            string destination = Path.GetFullPath(DestinationFile);
            if (File.Exists(destination) && SameBytes(destination, content))
            {
                // Keep it newer than the source: the targets reuse such a copy without running this task.
                if (File.GetLastWriteTimeUtc(destination) <= File.GetLastWriteTimeUtc(SourceFile))
                    File.SetLastWriteTimeUtc(destination, DateTime.UtcNow);
                return false;
            }

            string directory = Path.GetDirectoryName(destination);
            Directory.CreateDirectory(directory);
            string temp = Path.Combine(directory, "." + Path.GetFileName(destination) + "." + Guid.NewGuid().ToString("N") + ".tmp");
            try
            {
                File.Copy(SourceFile, temp, true);
                using (var stream = new FileStream(temp, FileMode.Open, FileAccess.Write, FileShare.None))
                {
                    if (stream.Length != content.Length)
                        throw new IOException(SourceFile + " changed while it was being patched");
                    stream.Write(content, 0, content.Length);
                }
                File.SetLastWriteTimeUtc(temp, DateTime.UtcNow);
                if (File.Exists(destination))
                    File.Replace(temp, destination, null);
                else
                    File.Move(temp, destination);
                return true;
            }
            finally
            {
                if (File.Exists(temp))
                    File.Delete(temp);
            }
        }

        private static bool SameBytes(string path, byte[] content)
        {
            var info = new FileInfo(path);
            if (info.Length != content.Length) return false;
            byte[] existing = File.ReadAllBytes(path);
            for (int i = 0; i < existing.Length; i++)
                if (existing[i] != content[i]) return false;
            return true;
        }

        private void Finish(string outcome, bool patched, string message)
        {
            Outcome = outcome;
            Patched = patched;
            Log.LogMessage(outcome == "host-unknown" || outcome == "not-linux" ? MessageImportance.Low : MessageImportance.Normal,
                "WeakenVersionNeed: {0} -> {1}: {2}", Path.GetFileName(SourceFile), outcome, message);
        }

        private void Refuse(string reason)
        {
            Outcome = "refused";
            Patched = false;
            Log.LogWarning(null, WarningCode, null, SourceFile, 0, 0, 0, 0,
                "{0}: not patched ({1} need left as is): {2}.", Path.GetFileName(SourceFile), VersionName, reason);
        }

        // ---------------------------------------------------------------- minimal ELF64 LE reader

        private sealed class BadElfException : Exception
        {
            public BadElfException(string message) : base(message) { }
        }

        private sealed class Section
        {
            public int Index;
            public uint Type;
            public long Offset;
            public long Size;
            public uint Link;
            public uint Info;
        }

        // Just enough ELF64 little-endian to find sections; every read is bounds-checked and fails with
        // BadElfException (explicit byte order, so the reader does not depend on the build machine's).
        private sealed class ElfFile
        {
            public byte[] Image;
            public ushort Machine;
            public List<Section> Sections = new List<Section>();

            public static bool TryParse(byte[] image, out ElfFile elf, out string problem)
            {
                elf = null;
                problem = null;
                try
                {
                    elf = Parse(image);
                    return true;
                }
                catch (BadElfException ex)
                {
                    problem = ex.Message;
                    return false;
                }
            }

            private static ElfFile Parse(byte[] image)
            {
                if (image.Length < 4 || image[0] != 0x7f || image[1] != (byte)'E' || image[2] != (byte)'L' || image[3] != (byte)'F')
                    throw new BadElfException("not an ELF file");
                if (image.Length < 64)
                    throw new BadElfException("truncated ELF header");
                if (image[4] != 2 || image[5] != 1)
                    throw new BadElfException("not a 64-bit little-endian ELF file");

                var elf = new ElfFile { Image = image };
                elf.Machine = elf.U16(0x12);
                ulong sectionTable = elf.U64(0x28);
                ushort entrySize = elf.U16(0x3A);
                ushort count = elf.U16(0x3C);
                if (sectionTable == 0 || count == 0)
                    throw new BadElfException("no section headers");
                if (entrySize != 64)
                    throw new BadElfException("unexpected section header size " + entrySize);
                if (sectionTable > (ulong)image.Length || (ulong)image.Length - sectionTable < (ulong)count * 64)
                    throw new BadElfException("section headers lie outside the file (truncated?)");

                for (int i = 0; i < count; i++)
                {
                    long header = (long)sectionTable + i * 64L;
                    var section = new Section
                    {
                        Index = i,
                        Type = elf.U32(header + 4),
                        Link = elf.U32(header + 0x28),
                        Info = elf.U32(header + 0x2C),
                    };
                    // SHT_NULL and SHT_NOBITS (.bss) occupy no bytes in the file; everything else must fit in it.
                    if (section.Type != 0 && section.Type != ShtNobits)
                    {
                        ulong offset = elf.U64(header + 0x18);
                        ulong size = elf.U64(header + 0x20);
                        if (offset > (ulong)image.Length || size > (ulong)image.Length - offset)
                            throw new BadElfException("section " + i + " lies outside the file (truncated?)");
                        section.Offset = (long)offset;
                        section.Size = (long)size;
                    }
                    elf.Sections.Add(section);
                }
                return elf;
            }

            public IEnumerable<Section> SectionsOfType(uint type)
            {
                foreach (Section s in Sections)
                    if (s.Type == type) yield return s;
            }

            public Section SingleSectionOfType(uint type, string what)
            {
                Section found = null;
                foreach (Section s in SectionsOfType(type))
                {
                    if (found != null) throw new BadElfException("more than one " + what + " section");
                    found = s;
                }
                if (found == null) throw new BadElfException("no " + what + " section");
                return found;
            }

            public Section LinkedSection(Section section)
            {
                if (section.Link == 0 || section.Link >= Sections.Count)
                    throw new BadElfException("section " + section.Index + " links to a missing section");
                return Sections[(int)section.Link];
            }

            public void Require(long offset, long length, long end, string what)
            {
                if (offset < 0 || offset + length > end)
                    throw new BadElfException(what + " lies outside its section");
            }

            public string String(Section strtab, uint offset)
            {
                long start = strtab.Offset + offset;
                long end = strtab.Offset + strtab.Size;
                if (offset >= strtab.Size) throw new BadElfException("string offset outside its table");
                long stop = start;
                while (stop < end && Image[stop] != 0) stop++;
                if (stop == end) throw new BadElfException("unterminated string");
                return Encoding.UTF8.GetString(Image, (int)start, (int)(stop - start));
            }

            public ushort U16(long offset)
            {
                Bounds(offset, 2);
                return (ushort)(Image[offset] | Image[offset + 1] << 8);
            }

            public uint U32(long offset)
            {
                Bounds(offset, 4);
                return (uint)U16(offset) | (uint)U16(offset + 2) << 16;
            }

            public ulong U64(long offset)
            {
                Bounds(offset, 8);
                return (ulong)U32(offset) | (ulong)U32(offset + 4) << 32;
            }

            public static void WriteU16(byte[] image, long offset, ushort value)
            {
                image[offset] = (byte)value;
                image[offset + 1] = (byte)(value >> 8);
            }

            private void Bounds(long offset, int length)
            {
                if (offset < 0 || offset > Image.Length - length)
                    throw new BadElfException("read beyond the end of the file (truncated?)");
            }
        }
    }
}
