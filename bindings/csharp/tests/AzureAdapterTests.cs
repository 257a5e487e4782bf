using System;
using System.Diagnostics;
using System.IO;
using NUnit.Framework;

namespace Paytrim.Auth.Tests
{
    /// <summary>
    /// The Azure.Core adapter source (azure/PaytrimTokenCredential.cs), built by test.sh against a
    /// stand-in of Azure.Core's types (a syntax check: Azure.Core cannot be fetched here), run
    /// against the emulator: each TokenRequestContext's scopes reach the library per call.
    /// </summary>
    [TestFixture]
    public class AzureAdapterTests
    {
        private static Emulator Emu { get { return Emulator.Current; } }

        [Test]
        public void TokenRequestContextScopesAreAskedForPerCall()
        {
            string probe = Environment.GetEnvironmentVariable("PAYTRIM_CS_AZURE_PROBE");
            if (string.IsNullOrEmpty(probe)) Assert.Ignore("PAYTRIM_CS_AZURE_PROBE not set (test.sh builds it)");
            var c = Emu.NewClient();
            var psi = new ProcessStartInfo("mono", string.Format("\"{0}\" {1} {2} {3} \"{4}\"", probe, c.Id, c.Secret, Emu.Https, Emu.CaFile))
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                WorkingDirectory = Path.GetDirectoryName(probe),
            };
            using (var p = Process.Start(psi))
            {
                string output = p.StandardOutput.ReadToEnd().Trim();
                Assert.IsTrue(p.WaitForExit(60000));
                Assert.AreEqual(0, p.ExitCode, output);
                Assert.AreEqual("api://vault api://storage True", output);
            }
            Assert.AreEqual(2, Emu.CountFor(c.Id));
        }
    }
}
