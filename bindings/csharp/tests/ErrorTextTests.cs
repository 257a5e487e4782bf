using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Paytrim.Auth.Tests
{
    /// <summary>
    /// One error text in every language (tests/error_texts.tsv): each failure of the shared table
    /// gives, as <c>Message</c>, the text C, Java and Node give for it (authority URL and UUIDs
    /// normalized): the category first, every id once.
    /// </summary>
    [TestFixture]
    public class ErrorTextTests
    {
        private const string Refused = "https://127.0.0.1:1";
        private static readonly Regex Uuid = new Regex("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
        private static Emulator Emu { get { return Emulator.Current; } }

        public static IEnumerable<TestCaseData> Rows()
        {
            string root = Environment.GetEnvironmentVariable("PAYTRIM_REPO_ROOT") ?? "../../..";
            var rows = new List<TestCaseData>();
            bool header = true;
            foreach (var line in File.ReadAllLines(Path.Combine(root, "tests", "error_texts.tsv"), Encoding.UTF8))
            {
                if (line.Length == 0 || line.StartsWith("#")) continue;
                var c = line.Split('\t');
                if (c.Length != 6) throw new InvalidDataException("malformed row: " + line);
                if (header)
                {
                    if (string.Join(",", c) != "id,tenant,secret,authority,ca_file,text") throw new InvalidDataException("header: " + line);
                    header = false;
                    continue;
                }
                rows.Add(new TestCaseData(c[1], c[2], c[3], c[4], c[5]).SetName("ErrorText_" + c[0]));
            }
            if (rows.Count == 0) throw new InvalidDataException("no rows");
            return rows;
        }

        [TestCaseSource("Rows")]
        public void EachFailureReadsTheSameAsInEveryLanguage(string tenant, string secret, string authority, string caFile, string text)
        {
            string host = authority == "refused" ? Refused : Emu.Https;
            var options = new PaytrimAuthOptions { Tenant = tenant, AuthorityHost = host, MaxAttempts = 1 };
            if (caFile == "yes") options.CaFile = Emu.CaFile;
            using (var client = new PaytrimAuthClient("11111111-1111-1111-1111-111111111111", secret, options))
            {
                var e = Assert.Throws<PaytrimAuthException>(() => client.GetToken());
                Assert.AreEqual(text, Uuid.Replace(e.Message.Replace(host, "{authority}"), "{uuid}"));
            }
        }
    }
}
