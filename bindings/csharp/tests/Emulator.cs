using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Text;
using NUnit.Framework;

namespace Paytrim.Auth.Tests
{
    /// <summary>The project's Entra emulator, started once for the whole test assembly.</summary>
    internal sealed class Emulator : IDisposable
    {
        private readonly Process _process;

        public string Https { get; private set; }
        public string Http { get; private set; }
        public string CaFile { get; private set; }
        public string DefaultClientId { get; private set; }
        public string DefaultClientSecret { get; private set; }

        public static Emulator Current { get; set; }

        public Emulator(string path) : this(path, "")
        {
        }

        /// <summary>An emulator of its own; <paramref name="extraArgs"/> are more command-line options (e.g. --dns-name NAME).</summary>
        public Emulator(string path, string extraArgs)
        {
            var psi = new ProcessStartInfo(path, ("--exit-on-stdin-eof " + extraArgs).Trim())
            {
                UseShellExecute = false,
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = false,
            };
            _process = Process.Start(psi);
            string line = _process.StandardOutput.ReadLine();
            if (line == null) throw new InvalidOperationException("the emulator exited before printing its ready line");
            var ready = (Dictionary<string, object>)Json.Parse(line);
            Https = (string)ready["https"];
            Http = (string)ready["http"];
            CaFile = (string)ready["ca_file"];
            DefaultClientId = (string)ready["client_id"];
            DefaultClientSecret = (string)ready["client_secret"];
        }

        public void Dispose()
        {
            try
            {
                _process.StandardInput.Close(); // --exit-on-stdin-eof
                if (!_process.WaitForExit(5000)) _process.Kill();
            }
            catch (InvalidOperationException)
            {
            }
            _process.Dispose();
        }

        // ---- control API ----

        public string Get(string path)
        {
            using (var wc = new WebClient())
            {
                wc.Encoding = Encoding.UTF8;
                wc.Proxy = null; // loopback: never through a proxy from the environment
                return wc.DownloadString(Http + path);
            }
        }

        public string Post(string path, string json)
        {
            using (var wc = new WebClient())
            {
                wc.Encoding = Encoding.UTF8;
                wc.Proxy = null; // loopback: never through a proxy from the environment
                wc.Headers[HttpRequestHeader.ContentType] = "application/json";
                return wc.UploadString(Http + path, "POST", json);
            }
        }

        /// <summary>Registers a fresh client (unique id, so no other test shares its cached token).</summary>
        public Creds NewClient()
        {
            var c = new Creds { Id = Guid.NewGuid().ToString(), Secret = "s3cret-" + Guid.NewGuid().ToString("N") };
            Post("/_emulator/clients", "{\"client_id\":" + Json.Quote(c.Id) + ",\"client_secret\":" + Json.Quote(c.Secret) + "}");
            return c;
        }

        public void Config(string json)
        {
            Post("/_emulator/config", json);
        }

        public void Fault(string json)
        {
            Post("/_emulator/faults", json);
        }

        public List<Dictionary<string, object>> Requests()
        {
            return ((List<object>)Json.Parse(Get("/_emulator/requests"))).Cast<Dictionary<string, object>>().ToList();
        }

        /// <summary>The recorded token requests made for one client id (form field or Basic auth).</summary>
        public List<Dictionary<string, object>> RequestsFor(string clientId)
        {
            return Requests().Where(r => ClientIdOf(r) == clientId).ToList();
        }

        public int CountFor(string clientId)
        {
            return RequestsFor(clientId).Count;
        }

        public static string ClientIdOf(Dictionary<string, object> r)
        {
            object basic;
            if (r.TryGetValue("basic_client_id", out basic) && basic != null) return (string)basic;
            object form;
            if (r.TryGetValue("form", out form) && form != null)
            {
                var f = (Dictionary<string, object>)form;
                object id;
                if (f.TryGetValue("client_id", out id)) return (string)id;
            }
            return null;
        }

        public long Stat(string name)
        {
            var d = (Dictionary<string, object>)Json.Parse(Get("/_emulator/stats"));
            return (long)(double)d[name];
        }

        /// <summary>Options pointing at this emulator (Entra flavour), with a GUID tenant and no retries.</summary>
        public PaytrimAuthOptions Options()
        {
            return new PaytrimAuthOptions
            {
                AuthorityHost = Https,
                CaFile = CaFile,
                Tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47",
                Scope = "https://graph.microsoft.com/.default",
                MaxAttempts = 1,
                TotalTimeout = TimeSpan.FromSeconds(20),
                // The emulator is on loopback: whatever the environment's proxy variables say
                // (test.sh points them at a dead port), no proxy.
                Proxy = "none",
            };
        }
    }

    internal sealed class Creds
    {
        public string Id;
        public string Secret;
    }

    /// <summary>Starts the emulator before any test of the assembly and stops it after the last.</summary>
    [SetUpFixture]
    public class EmulatorSetup
    {
        [SetUp]
        public void Start()
        {
            string path = Environment.GetEnvironmentVariable("PAYTRIM_EMULATOR");
            if (string.IsNullOrEmpty(path) || !File.Exists(path))
                throw new InvalidOperationException("PAYTRIM_EMULATOR must name the emulator binary (test.sh sets it)");
            Emulator.Current = new Emulator(path);
        }

        [TearDown]
        public void Stop()
        {
            if (Emulator.Current != null) Emulator.Current.Dispose();
            Emulator.Current = null;
        }
    }
}
