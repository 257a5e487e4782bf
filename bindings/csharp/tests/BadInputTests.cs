using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Paytrim.Auth.Tests
{
    /// <summary>
    /// The shared bad-input table (tests/bad_inputs.tsv), C#'s rows: each case fails with its
    /// error code (PaytrimAuthException InvalidArgument, or an ArgumentException raised by the
    /// wrapper before the native call) and the message names the offending key or argument; use
    /// after close is an ObjectDisposedException; nothing crashes the process.
    /// </summary>
    [TestFixture]
    public class BadInputTests
    {
        private static Emulator Emu { get { return Emulator.Current; } }

        private sealed class Row
        {
            public string Id, Op, Arg, Value, Code, Names, Langs;
        }

        private static List<Row> Rows()
        {
            string root = Environment.GetEnvironmentVariable("PAYTRIM_REPO_ROOT") ?? "../../..";
            var rows = new List<Row>();
            bool header = true;
            foreach (var line in File.ReadAllLines(Path.Combine(root, "tests", "bad_inputs.tsv"), Encoding.UTF8))
            {
                if (line.Length == 0 || line.StartsWith("#")) continue;
                var c = line.Split('\t');
                Assert.AreEqual(7, c.Length, "malformed row: " + line);
                if (header)
                {
                    Assert.AreEqual("id op arg value code names langs", string.Join(" ", c));
                    header = false;
                    continue;
                }
                var r = new Row { Id = c[0], Op = c[1], Arg = c[2], Value = c[3], Code = c[4], Names = c[5], Langs = c[6] };
                var langs = r.Langs.Split(' ');
                if (langs.Contains("all") || langs.Contains("wrappers") || langs.Contains("csharp")) rows.Add(r);
            }
            return rows;
        }

        private static string Decode(string v)
        {
            if (v == "<null>") return null;
            if (v == "<empty>") return "";
            if (v.StartsWith("<repeat:"))
            {
                string body = v.Substring(8, v.Length - 9);
                int colon = body.LastIndexOf(':');
                var b = new StringBuilder();
                string text = body.Substring(0, colon);
                int n = int.Parse(body.Substring(colon + 1));
                for (int i = 0; i < n; i++) b.Append(text);
                return b.ToString();
            }
            if (v.StartsWith("<lone_surrogate:")) return v.Substring(16, v.Length - 17) + "\uD800";
            if (v.StartsWith("<hex:")) throw new ArgumentException("raw bytes are C-only: " + v);
            return v.Replace("\\n", "\n");
        }

        private static string Camel(string snake)
        {
            var b = new StringBuilder();
            bool up = false;
            foreach (char ch in snake)
            {
                if (ch == '_') { up = true; continue; }
                b.Append(up ? char.ToUpperInvariant(ch) : ch);
                up = false;
            }
            return b.ToString();
        }

        /// <summary>Null when the call was refused as the row says, else what went wrong.</summary>
        private static string Refused(Row r, Action call)
        {
            Exception e = null;
            try { call(); }
            catch (Exception ex) { e = ex; }
            if (e == null) return r.Id + ": no error";
            var pe = e as PaytrimAuthException;
            if (pe != null && pe.ErrorCode != PaytrimAuthErrorCode.InvalidArgument)
                return r.Id + ": " + pe.ErrorCode + ": " + pe.Message;
            if (pe == null && !(e is ArgumentException)) return r.Id + ": " + e;
            string m = e.Message.ToLowerInvariant();
            if (!m.Contains(r.Names.ToLowerInvariant()) && !m.Contains(Camel(r.Names).ToLowerInvariant()))
                return r.Id + ": the message does not name " + r.Names + ": " + e.Message;
            if (m.Length >= 4096) return r.Id + ": a " + m.Length + "-character message";
            return null;
        }

        private static string Run(Row r)
        {
            var creds = Emu.NewClient();
            var opts = Emu.Options();
            opts.Proxy = "none";
            switch (r.Op)
            {
                case "config_set":
                    opts.Set(r.Arg, Decode(r.Value));
                    return Refused(r, () => new PaytrimAuthClient(creds.Id, creds.Secret, opts).Dispose());
                case "client_new":
                    string v = Decode(r.Value);
                    bool isId = r.Arg == "client_id";
                    return Refused(r, () => new PaytrimAuthClient(isId ? v : creds.Id, isId ? creds.Secret : v, opts).Dispose());
                case "lifecycle":
                    return Lifecycle(r, new PaytrimAuthClient(creds.Id, creds.Secret, opts));
                default:
                    return r.Id + ": no C# runner for " + r.Op;
            }
        }

        private static string Lifecycle(Row r, PaytrimAuthClient client)
        {
            switch (r.Arg)
            {
                case "use_after_close":
                {
                    client.Dispose();
                    try { client.GetToken(); return r.Id + ": GetToken after Dispose did not throw"; }
                    catch (ObjectDisposedException e)
                    {
                        // C#'s spelling of "closed".
                        if (!e.Message.ToLowerInvariant().Contains("disposed")) return r.Id + ": " + e.Message;
                    }
                    try { client.GetTokenAsync().Wait(); return r.Id + ": GetTokenAsync after Dispose did not throw"; }
                    catch (ObjectDisposedException) { }
                    catch (AggregateException e) when (e.InnerException is ObjectDisposedException) { }
                    return null;
                }
                case "double_close":
                    client.Dispose();
                    client.Dispose();
                    if (!client.IsDisposed) return r.Id + ": not disposed";
                    try { client.GetToken(); return r.Id + ": GetToken after two Dispose calls did not throw"; }
                    catch (ObjectDisposedException) { return null; }
                case "close_during_fetch":
                {
                    Emu.Fault("{\"kind\":\"stall\",\"ms\":700}");
                    Task<AccessToken> pending = client.GetTokenAsync();
                    client.Dispose();
                    // The call in flight completes (with its token, or as disposed); nothing crashes.
                    try
                    {
                        if (!pending.Wait(TimeSpan.FromSeconds(60))) return r.Id + ": the pending call never completed";
                        return string.IsNullOrEmpty(pending.Result.Token) ? r.Id + ": empty token" : null;
                    }
                    catch (AggregateException e)
                    {
                        return e.InnerException is ObjectDisposedException ? null : r.Id + ": " + e.InnerException;
                    }
                }
                default:
                    return r.Id + ": no C# runner for lifecycle " + r.Arg;
            }
        }

        [TearDown]
        public void RestoreKnobs()
        {
            Emu.Post("/_emulator/reset", "{}");
        }

        [Test]
        public void EveryCSharpRowOfTheTableIsRefusedAsItSays()
        {
            var rows = Rows();
            Assert.GreaterOrEqual(rows.Count, 25);
            foreach (var op in new[] { "config_set", "client_new", "lifecycle" })
                Assert.IsTrue(rows.Any(r => r.Op == op), op);
            var failures = new List<string>();
            foreach (var r in rows)
            {
                string f;
                try { f = Run(r); }
                catch (Exception e) { f = r.Id + ": the runner threw " + e; }
                if (f != null) failures.Add(f);
            }
            Console.WriteLine("csharp-bad-inputs: {0} cases, {1} failed", rows.Count, failures.Count);
            Assert.IsEmpty(failures, string.Join("\n", failures));
        }
    }
}
