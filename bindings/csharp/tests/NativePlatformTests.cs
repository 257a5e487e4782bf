using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using NUnit.Framework;

namespace Paytrim.Auth.Tests
{
    /// <summary>The loader's platform resolution (NativePlatform), driven with simulated platforms.</summary>
    [TestFixture]
    public class NativePlatformTests
    {
        [Test]
        public void EverySupportedPlatformHasItsRidAndFileName()
        {
            Assert.AreEqual("linux-x64", NativePlatform.Rid("linux", Architecture.X64, false));
            Assert.AreEqual("linux-arm64", NativePlatform.Rid("linux", Architecture.Arm64, false));
            Assert.AreEqual("linux-musl-x64", NativePlatform.Rid("linux", Architecture.X64, true));
            Assert.AreEqual("linux-musl-arm64", NativePlatform.Rid("linux", Architecture.Arm64, true));
            Assert.AreEqual("osx-x64", NativePlatform.Rid("osx", Architecture.X64, false));
            Assert.AreEqual("osx-arm64", NativePlatform.Rid("osx", Architecture.Arm64, true));
            Assert.AreEqual("win-x64", NativePlatform.Rid("win", Architecture.X64, false));
            Assert.AreEqual("win-arm64", NativePlatform.Rid("win", Architecture.Arm64, false));
            foreach (var rid in NativePlatform.Supported) Assert.IsTrue(NativePlatform.IsSupported(rid), rid);
            Assert.AreEqual("libpaytrim_auth.so", NativePlatform.FileName("linux-musl-arm64"));
            Assert.AreEqual("libpaytrim_auth.dylib", NativePlatform.FileName("osx-arm64"));
            Assert.AreEqual("paytrim_auth.dll", NativePlatform.FileName("win-arm64"));
            Assert.AreEqual("libpaytrim_auth.so", NativePlatform.FileName("linux-x64"));
        }

        [Test]
        public void UnsupportedPlatformsAreNamed()
        {
            Assert.AreEqual("linux-x86", NativePlatform.Rid("linux", Architecture.X86, false));
            Assert.AreEqual("freebsd-x64", NativePlatform.Rid("freebsd", Architecture.X64, false));
            Assert.IsFalse(NativePlatform.IsSupported("linux-x86"));
            string m = NativePlatform.MissingMessage("freebsd-x64", "/app", new List<string> { "linux-x64" }, "not found");
            StringAssert.Contains("for this platform, freebsd-x64, which paytrim-auth does not support", m);
            StringAssert.Contains("holds native libraries for: linux-x64.", m);
        }

        [Test]
        public void MuslIsReadFromTheProcessMaps()
        {
            Assert.IsTrue(NativePlatform.IsMusl(new[] { "7f00-7f01 r-xp 0 0:0 1 /lib/ld-musl-aarch64.so.1" }));
            Assert.IsFalse(NativePlatform.IsMusl(new[] { "7f00-7f01 r-xp 0 0:0 1 /lib/x86_64-linux-gnu/libc.so.6" }));
            // This machine (Debian, glibc, x64): the path the other suites load end to end.
            Assert.AreEqual("linux-x64", NativePlatform.Current());
        }

        [Test]
        public void ThePackageFolderIsFoundBesideTheAssemblyOrTwoLevelsUp()
        {
            var files = new HashSet<string>
            {
                Path.GetFullPath("/nuget/paytrim.auth/0.1.0/runtimes/osx-arm64/native/libpaytrim_auth.dylib"),
                Path.GetFullPath("/nuget/paytrim.auth/0.1.0/runtimes/win-x64/native/paytrim_auth.dll"),
                Path.GetFullPath("/nuget/paytrim.auth/0.1.0/runtimes/linux-arm64/native/paytrim_auth.dll"), // wrong name: not counted
                Path.GetFullPath("/app/runtimes/linux-musl-x64/native/libpaytrim_auth.so"),
            };
            Func<string, bool> exists = f => files.Contains(Path.GetFullPath(f));
            string lib = "/nuget/paytrim.auth/0.1.0/lib/netstandard2.0";
            Assert.AreEqual(Path.GetFullPath("/nuget/paytrim.auth/0.1.0/runtimes/osx-arm64/native/libpaytrim_auth.dylib"),
                Path.GetFullPath(NativePlatform.Find(lib, "osx-arm64", exists)));
            Assert.IsNull(NativePlatform.Find(lib, "linux-arm64", exists));
            CollectionAssert.AreEqual(new[] { "osx-arm64", "win-x64" }, NativePlatform.Present(lib, exists));
            CollectionAssert.AreEqual(new[] { "linux-musl-x64" }, NativePlatform.Present("/app", exists));
            string m = NativePlatform.MissingMessage("linux-arm64", lib, NativePlatform.Present(lib, exists), "not found");
            StringAssert.Contains("for this platform, linux-arm64.", m);
            StringAssert.Contains("holds native libraries for: osx-arm64, win-x64.", m);
            StringAssert.Contains("runtimes/linux-arm64/native/libpaytrim_auth.so", m);
            StringAssert.DoesNotContain("does not support", m);
        }
    }

    /// <summary>
    /// The .nupkg extracted as NuGet lays it out, used by a program outside the repository on
    /// Mono: the library comes from runtimes/linux-x64/native/ (preloaded), a token from the
    /// emulator; without that folder, the error names the platform and the platforms present.
    /// </summary>
    [TestFixture]
    public class PackageInstallTests
    {
        private static Emulator Emu { get { return Emulator.Current; } }

        private static string Run(string probe, string lib, Creds c, out int exit)
        {
            var psi = new System.Diagnostics.ProcessStartInfo("mono", "\"" + probe + "\"")
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                WorkingDirectory = Path.GetTempPath(),
            };
            // Nothing from this suite's setup: the package alone must provide the library.
            psi.EnvironmentVariables.Remove("LD_LIBRARY_PATH");
            psi.EnvironmentVariables["MONO_PATH"] = lib;
            psi.EnvironmentVariables["PAYTRIM_CLIENT_ID"] = c.Id;
            psi.EnvironmentVariables["PAYTRIM_CLIENT_SECRET"] = c.Secret;
            psi.EnvironmentVariables["PAYTRIM_AUTHORITY_HOST"] = Emu.Https;
            psi.EnvironmentVariables["PAYTRIM_CA_FILE"] = Emu.CaFile;
            using (var p = System.Diagnostics.Process.Start(psi))
            {
                string output = p.StandardOutput.ReadToEnd();
                Assert.IsTrue(p.WaitForExit(60000));
                exit = p.ExitCode;
                return output;
            }
        }

        [Test]
        public void TheExtractedPackageLoadsItsRuntimesLibraryOnMono()
        {
            string probe = Environment.GetEnvironmentVariable("PAYTRIM_CS_PACKAGE_PROBE");
            string pkg = Environment.GetEnvironmentVariable("PAYTRIM_CS_PACKAGE_DIR");
            if (string.IsNullOrEmpty(probe)) Assert.Ignore("PAYTRIM_CS_PACKAGE_PROBE not set (test.sh builds it)");
            string lib = Path.Combine(pkg, "lib/netstandard2.0");
            Assert.IsFalse(File.Exists(Path.Combine(lib, "libpaytrim_auth.so")), "nothing beside the assembly");
            var c = Emu.NewClient();
            int exit;
            string output = Run(probe, lib, c, out exit);
            Assert.AreEqual(0, exit, output);
            StringAssert.Contains("preloaded=" + Path.Combine(pkg, "runtimes/linux-x64/native/libpaytrim_auth.so"), output);
            StringAssert.Contains("token-length=", output);
            Assert.AreEqual(1, Emu.CountFor(c.Id));
        }

        [Test]
        public void APackageWithoutThisPlatformSaysSo()
        {
            string probe = Environment.GetEnvironmentVariable("PAYTRIM_CS_PACKAGE_PROBE");
            string pkg = Environment.GetEnvironmentVariable("PAYTRIM_CS_PACKAGE_DIR");
            if (string.IsNullOrEmpty(probe)) Assert.Ignore("PAYTRIM_CS_PACKAGE_PROBE not set (test.sh builds it)");
            // The same package with osx-arm64 only.
            string other = Path.Combine(Path.GetTempPath(), "paytrim-nupkg-" + Guid.NewGuid().ToString("N"));
            try
            {
                Directory.CreateDirectory(Path.Combine(other, "lib/netstandard2.0"));
                foreach (var f in Directory.GetFiles(Path.Combine(pkg, "lib/netstandard2.0")))
                    File.Copy(f, Path.Combine(other, "lib/netstandard2.0", Path.GetFileName(f)));
                Directory.CreateDirectory(Path.Combine(other, "runtimes/osx-arm64/native"));
                File.WriteAllText(Path.Combine(other, "runtimes/osx-arm64/native/libpaytrim_auth.dylib"), "");
                int exit;
                string output = Run(probe, Path.Combine(other, "lib/netstandard2.0"), Emu.NewClient(), out exit);
                Assert.AreEqual(2, exit, output);
                StringAssert.Contains("System.DllNotFoundException: paytrim-auth: cannot load the native library 'paytrim_auth' for this platform, linux-x64.", output);
                StringAssert.Contains("holds native libraries for: osx-arm64.", output);
            }
            finally
            {
                Directory.Delete(other, true);
            }
        }
    }
}
