using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;

namespace Paytrim.Auth
{
    /// <summary>
    /// Which native library this process needs and where the package keeps it: the runtime id
    /// (<c>linux-x64</c>, <c>linux-musl-arm64</c>, <c>osx-arm64</c>, <c>win-x64</c>, ...), the
    /// file name of its OS, and <c>runtimes/&lt;rid&gt;/native/</c> of the NuGet package. .NET
    /// (Core) finds that folder by itself; on Mono and .NET Framework, where nothing does,
    /// <see cref="Preload"/> loads it by full path before the first P/Invoke, so the
    /// <c>DllImport("paytrim_auth")</c> then finds the library already loaded. The pure functions
    /// take the platform as arguments, so tests can drive them with any platform.
    /// </summary>
    internal static class NativePlatform
    {
        /// <summary>Every platform a release package carries.</summary>
        internal static readonly string[] Supported =
        {
            "linux-x64", "linux-arm64", "linux-musl-x64", "linux-musl-arm64",
            "osx-x64", "osx-arm64", "win-x64", "win-arm64",
        };

        /// <summary>
        /// The runtime id for an OS (<c>linux</c>, <c>osx</c>, <c>win</c>, or any other name), a
        /// <see cref="Architecture"/> and the C library; unsupported combinations keep a readable
        /// name (<c>linux-x86</c>, <c>freebsd-x64</c>) that is not in <see cref="Supported"/>.
        /// </summary>
        internal static string Rid(string os, Architecture arch, bool musl)
        {
            string a;
            switch (arch)
            {
                case Architecture.X64: a = "x64"; break;
                case Architecture.Arm64: a = "arm64"; break;
                case Architecture.X86: a = "x86"; break;
                case Architecture.Arm: a = "arm"; break;
                default: a = arch.ToString().ToLowerInvariant(); break;
            }
            return (os == "linux" && musl ? "linux-musl" : os) + "-" + a;
        }

        /// <summary>The library's file name on that platform.</summary>
        internal static string FileName(string rid)
        {
            if (rid.StartsWith("win-", StringComparison.Ordinal)) return "paytrim_auth.dll";
            if (rid.StartsWith("osx-", StringComparison.Ordinal)) return "libpaytrim_auth.dylib";
            return "libpaytrim_auth.so";
        }

        internal static bool IsSupported(string rid)
        {
            return Array.IndexOf(Supported, rid) >= 0;
        }

        /// <summary>This process's OS name, as runtime ids spell it.</summary>
        internal static string CurrentOs()
        {
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows)) return "win";
            if (RuntimeInformation.IsOSPlatform(OSPlatform.OSX)) return "osx";
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Linux)) return "linux";
            return RuntimeInformation.OSDescription.Split(' ')[0].ToLowerInvariant();
        }

        internal static string Current()
        {
            string os = CurrentOs();
            return Rid(os, RuntimeInformation.ProcessArchitecture, os == "linux" && IsMusl(ReadMaps()));
        }

        private static IEnumerable<string> ReadMaps()
        {
            try
            {
                return File.ReadAllLines("/proc/self/maps");
            }
            catch (Exception)
            {
                try
                {
                    return Directory.GetFiles("/lib", "ld-musl-*");
                }
                catch (Exception)
                {
                    return new string[0];
                }
            }
        }

        /// <summary>musl when the process maps musl's loader (<c>ld-musl-*</c>, <c>libc.musl-*</c>).</summary>
        internal static bool IsMusl(IEnumerable<string> mapsLines)
        {
            return mapsLines.Any(l => l.Contains("ld-musl-") || l.Contains("libc.musl-"));
        }

        /// <summary>
        /// Where a package's runtimes/ folder can be, seen from the folder of Paytrim.Auth.dll:
        /// beside it (an application's output) and two levels up (the package itself,
        /// <c>lib/netstandard2.0/</c>).
        /// </summary>
        internal static string[] RuntimesDirs(string assemblyDir)
        {
            return new[]
            {
                Path.Combine(assemblyDir, "runtimes"),
                Path.GetFullPath(Path.Combine(Path.Combine(Path.Combine(assemblyDir, ".."), ".."), "runtimes")),
            };
        }

        /// <summary>The package's library for <paramref name="rid"/>, or null.</summary>
        internal static string Find(string assemblyDir, string rid, Func<string, bool> exists)
        {
            foreach (string dir in RuntimesDirs(assemblyDir))
            {
                string f = Path.Combine(Path.Combine(Path.Combine(dir, rid), "native"), FileName(rid));
                if (exists(f)) return f;
            }
            return null;
        }

        /// <summary>The supported platforms the package (seen from <paramref name="assemblyDir"/>) has.</summary>
        internal static List<string> Present(string assemblyDir, Func<string, bool> exists)
        {
            return Supported.Where(rid => Find(assemblyDir, rid, exists) != null).ToList();
        }

        /// <summary>The load failure's message: names the platform, the platforms present and the way out.</summary>
        internal static string MissingMessage(string rid, string assemblyDir, IList<string> present, string loaderError)
        {
            string lib = FileName(rid);
            string msg = "paytrim-auth: cannot load the native library 'paytrim_auth' for this platform, " + rid + "";
            if (!IsSupported(rid))
                msg += ", which paytrim-auth does not support (supported: " + string.Join(", ", Supported) + ")";
            msg += ". Next to Paytrim.Auth.dll (" + assemblyDir + ") there is no " + lib + ", and the package's runtimes/ folder holds native libraries for: " +
                (present.Count == 0 ? "none" : string.Join(", ", present)) + ". ";
            if (IsSupported(rid))
                msg += "Install the release package (it carries every platform) and, on .NET Framework or Mono, copy runtimes/" + rid + "/native/" + lib +
                       " next to Paytrim.Auth.dll (the package's build targets do it for msbuild projects); or put " + lib + " on the loader path" +
                       " (LD_LIBRARY_PATH on Linux, DYLD_LIBRARY_PATH on macOS, PATH on Windows); or build it (cargo build --release in the paytrim-auth repository). ";
            else
                msg += "Build libpaytrim_auth for this platform yourself and put it next to Paytrim.Auth.dll or on the loader path. ";
            return msg + "(" + loaderError + ")";
        }

        // ---- preload (Mono, .NET Framework) ----

        private const int RtldNow = 2;
        private const int RtldGlobal = 0x100; // glibc and musl; macOS's is 8, see below

        [DllImport("libdl.so.2", EntryPoint = "dlopen")]
        private static extern IntPtr DlopenGlibc(string path, int flags);

        [DllImport("libc", EntryPoint = "dlopen")]
        private static extern IntPtr DlopenLibc(string path, int flags);

        [DllImport("libSystem.dylib", EntryPoint = "dlopen")]
        private static extern IntPtr DlopenMac(string path, int flags);

        [DllImport("kernel32", SetLastError = true, CharSet = CharSet.Unicode)]
        private static extern IntPtr LoadLibraryW(string path);

        // Mono's embedding API: a process-wide dllmap entry (what a .dll.config entry does per
        // assembly). Paytrim.Auth.dll.config has none, so this one applies.
        [DllImport("__Internal", EntryPoint = "mono_dllmap_insert")]
        private static extern void MonoDllmapInsert(IntPtr assembly, string dll, string func, string tdll, string tfunc);

        private static bool IsMono()
        {
            return Type.GetType("Mono.Runtime") != null;
        }

        private static readonly object PreloadGate = new object();
        private static bool _preloaded;

        /// <summary>The library file preloaded from the package's runtimes/ folder, or null.</summary>
        internal static string PreloadedFrom { get; private set; }

        /// <summary><see cref="Preload"/> for this process, once (PaytrimAuthLibrary.EnsureLoaded and NativeMethods' type initializer).</summary>
        internal static void PreloadOnce()
        {
            lock (PreloadGate)
            {
                if (_preloaded) return;
                _preloaded = true;
                PreloadedFrom = Preload(AssemblyDir(), Current());
            }
        }

        /// <summary>The folder of Paytrim.Auth.dll (empty when it has none, e.g. loaded from bytes).</summary>
        internal static string AssemblyDir()
        {
            try
            {
                string loc = typeof(NativePlatform).Assembly.Location;
                return string.IsNullOrEmpty(loc) ? "" : Path.GetDirectoryName(loc);
            }
            catch (Exception)
            {
                return "";
            }
        }

        /// <summary>
        /// When the library is not next to Paytrim.Auth.dll but the package's runtimes/ folder has
        /// this platform's: on Mono, maps <c>paytrim_auth</c> to that file's full path (a global
        /// dllmap entry); elsewhere (.NET Framework) loads it by full path, so the DllImport that
        /// follows finds the module already loaded by its name. A load by path alone would not do
        /// on Mono for Linux: the library's soname (libpaytrim_auth.so.0) is not the name Mono
        /// asks for. Returns the file, or null when there was nothing to do or it failed.
        /// </summary>
        internal static string Preload(string assemblyDir, string rid)
        {
            if (string.IsNullOrEmpty(assemblyDir) || !IsSupported(rid)) return null;
            if (File.Exists(Path.Combine(assemblyDir, FileName(rid)))) return null;
            string f = Find(assemblyDir, rid, File.Exists);
            if (f == null) return null;
            try
            {
                if (IsMono())
                {
                    MonoDllmapInsert(IntPtr.Zero, NativeMethods.Lib, null, f, null);
                    return f;
                }
                IntPtr h;
                if (rid.StartsWith("win-", StringComparison.Ordinal))
                    h = LoadLibraryW(f);
                else if (rid.StartsWith("osx-", StringComparison.Ordinal))
                    h = DlopenMac(f, RtldNow | 8);
                else
                {
                    try
                    {
                        h = DlopenGlibc(f, RtldNow | RtldGlobal);
                    }
                    catch (DllNotFoundException)
                    {
                        h = DlopenLibc(f, RtldNow | RtldGlobal); // musl: dlopen lives in libc
                    }
                }
                return h == IntPtr.Zero ? null : f;
            }
            catch (Exception)
            {
                return null;
            }
        }
    }
}
