using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using NUnit.Framework;

namespace Paytrim.Auth.Tests
{
    /// <summary>The process-wide logger: what it receives, on which thread, and that it never holds the library up.</summary>
    [TestFixture]
    public class LoggingTests
    {
        private static Emulator Emu { get { return Emulator.Current; } }

        private sealed class Recorder
        {
            internal readonly List<Tuple<PaytrimAuthLogLevel, string, string>> Events =
                new List<Tuple<PaytrimAuthLogLevel, string, string>>();

            internal void Log(PaytrimAuthLogLevel level, string message)
            {
                lock (Events)
                {
                    Events.Add(Tuple.Create(level, message, Thread.CurrentThread.Name));
                    Monitor.PulseAll(Events);
                }
            }

            internal List<Tuple<PaytrimAuthLogLevel, string, string>> AwaitMatching(string needle)
            {
                DateTime end = DateTime.UtcNow.AddSeconds(10);
                lock (Events)
                {
                    while (!Events.Any(e => e.Item2.Contains(needle)))
                    {
                        TimeSpan left = end - DateTime.UtcNow;
                        if (left <= TimeSpan.Zero)
                            Assert.Fail("no event containing '" + needle + "' in:\n" + string.Join("\n", Events));
                        Monitor.Wait(Events, left);
                    }
                    return Events.ToList();
                }
            }
        }

        [TearDown]
        public void Off()
        {
            PaytrimAuthLibrary.SetLogger(null);
            PaytrimAuthLibrary.SetLogPii(false);
            Emu.Post("/_emulator/reset", "{}");
        }

        // A logger set up in a method whose frame is gone, then a full GC: the wrapper must keep
        // both its native callback and the user's delegate alive.
        private static Recorder Install(PaytrimAuthLogLevel level)
        {
            var r = new Recorder();
            PaytrimAuthLibrary.SetLogger((l, m) => r.Log(l, m), level);
            return r;
        }

        [Test]
        public void EventsOfAFetchReachTheLoggerWithoutSecretsOrTokensAfterAGc()
        {
            var c = Emu.NewClient();
            var r = Install(PaytrimAuthLogLevel.Debug);
            for (int i = 0; i < 3; i++)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
            string token;
            using (var client = new PaytrimAuthClient(c.Id, c.Secret, Emu.Options()))
            {
                token = client.GetToken().Token;
                client.GetToken(); // a hit logs nothing
            }
            var events = r.AwaitMatching("token fetched");
            string all = string.Join("\n", events);
            Assert.IsTrue(events.Any(e => e.Item1 == PaytrimAuthLogLevel.Debug && e.Item2.StartsWith("cache miss")), all);
            Assert.IsTrue(events.Any(e => e.Item2.StartsWith("fetch start")), all);
            Assert.IsTrue(events.Any(e => e.Item2.StartsWith("fetch end") && e.Item2.Contains(" ms")), all);
            Assert.IsTrue(events.Any(e => e.Item1 == PaytrimAuthLogLevel.Info && e.Item2.StartsWith("token fetched")), all);
            foreach (var e in events)
            {
                Assert.AreEqual("paytrim-auth-log", e.Item3, "delivered on the logger thread: " + e);
                StringAssert.DoesNotContain(c.Secret, e.Item2);
                StringAssert.DoesNotContain(token, e.Item2);
                StringAssert.DoesNotContain(c.Id, e.Item2, "no client id without PII on");
            }
        }

        [Test]
        public void LevelFiltersAndPiiSwitch()
        {
            var c = Emu.NewClient();
            var r = Install(PaytrimAuthLogLevel.Info);
            PaytrimAuthLibrary.SetLogPii(true);
            using (var client = new PaytrimAuthClient(c.Id, c.Secret, Emu.Options()))
                client.GetToken();
            var events = r.AwaitMatching("token fetched");
            foreach (var e in events)
                Assert.That(e.Item1, Is.LessThanOrEqualTo(PaytrimAuthLogLevel.Info), e.ToString());
            Assert.IsTrue(events.Any(e => e.Item2.Contains(c.Id)), "client id with PII on:\n" + string.Join("\n", events));
        }

        [Test]
        public void ALoggerThatThrowsOrBlocksNeverHoldsUpTheLibrary()
        {
            var release = new ManualResetEventSlim(false);
            var seen = new List<string>();
            PaytrimAuthLibrary.SetLogger((level, message) =>
            {
                lock (seen) seen.Add(message);
                release.Wait(); // blocks on the first event until the test lets go
                throw new InvalidOperationException("a broken logger");
            }, PaytrimAuthLogLevel.Trace);
            for (int i = 0; i < 3; i++)
            {
                var c = Emu.NewClient();
                using (var client = new PaytrimAuthClient(c.Id, c.Secret, Emu.Options()))
                {
                    var sw = System.Diagnostics.Stopwatch.StartNew();
                    Assert.IsNotEmpty(client.GetToken().Token);
                    Assert.IsTrue(client.GetTokenAsync().Wait(10000));
                    Assert.That(sw.ElapsedMilliseconds, Is.LessThan(5000), "a fetch with the logger blocked");
                }
            }
            // Events reach the logger on the library's dispatch thread, maybe after the fetches
            // ended: wait (bounded) for the first, then it must be the only one so far.
            var first = DateTime.UtcNow.AddSeconds(10);
            while (DateTime.UtcNow < first)
            {
                lock (seen) if (seen.Count >= 1) break;
                Thread.Sleep(10);
            }
            lock (seen) Assert.AreEqual(1, seen.Count, "the logger is still blocked in its first event");
            release.Set();
            var end = DateTime.UtcNow.AddSeconds(10);
            while (DateTime.UtcNow < end)
            {
                lock (seen) if (seen.Count >= 6) break;
                Thread.Sleep(10);
            }
            lock (seen) Assert.That(seen.Count, Is.GreaterThanOrEqualTo(6), "queued events delivered after the logger threw");
        }

        [Test]
        public void OffMeansOffAndBadLevelsAreRefused()
        {
            var r = Install(PaytrimAuthLogLevel.Trace);
            PaytrimAuthLibrary.SetLogger(null);
            Thread.Sleep(100); // let anything queued before "off" drain
            lock (r.Events) r.Events.Clear();
            var c = Emu.NewClient();
            using (var client = new PaytrimAuthClient(c.Id, c.Secret, Emu.Options()))
                client.GetToken();
            Thread.Sleep(200);
            lock (r.Events) Assert.IsEmpty(r.Events);
            Assert.Throws<ArgumentOutOfRangeException>(() => PaytrimAuthLibrary.SetLogger((l, m) => { }, (PaytrimAuthLogLevel)9));
        }
    }
}
