using System;
using System.Collections.Concurrent;
using System.Threading;

namespace Paytrim.Auth
{
    /// <summary>Log event levels, most severe first (the C ABI's <c>PAYTRIM_AUTH_LOG_*</c> values).</summary>
    public enum PaytrimAuthLogLevel
    {
        /// <summary>The library cannot do what was asked.</summary>
        Error = 1,
        /// <summary>A fetch attempt or a background refresh failed; throttling.</summary>
        Warn = 2,
        /// <summary>A token fetched, a retry scheduled, a background refresh, a fork detected.</summary>
        Info = 3,
        /// <summary>Cache misses; each attempt's start and end with its duration and client-request-id.</summary>
        Debug = 4,
        /// <summary>Everything.</summary>
        Trace = 5,
    }

    /// <summary>
    /// Carries log events from the native library (any thread, often a library fetch thread) to the
    /// user's logger on one background thread, so that a slow or blocking logger never delays a fetch.
    /// </summary>
    internal static class PaytrimAuthLog
    {
        internal const int Capacity = 4096;

        // Both delegates live in static fields for the life of the process: the native side may
        // call the callback at any time from any thread, so it must never be collected.
        private static readonly NativeMethods.LogCallback Callback = OnNativeLog;
        private static readonly BlockingCollection<Tuple<PaytrimAuthLogLevel, string>> Queue =
            new BlockingCollection<Tuple<PaytrimAuthLogLevel, string>>(Capacity);
        private static readonly object Gate = new object();
        private static volatile Action<PaytrimAuthLogLevel, string> _logger;
        private static long _dropped;
        private static Thread _thread;

        internal static void Set(Action<PaytrimAuthLogLevel, string> logger, PaytrimAuthLogLevel level)
        {
            PaytrimAuthLibrary.EnsureLoaded();
            lock (Gate)
            {
                if (logger != null && (level < PaytrimAuthLogLevel.Error || level > PaytrimAuthLogLevel.Trace))
                    throw new ArgumentOutOfRangeException("level", level, "not a PaytrimAuthLogLevel");
                _logger = logger;
                if (logger != null && _thread == null)
                {
                    _thread = new Thread(Run) { IsBackground = true, Name = "paytrim-auth-log" };
                    _thread.Start();
                }
                PaytrimAuthException.ThrowIfError(logger == null
                    ? NativeMethods.paytrim_auth_set_log_callback(0, null, IntPtr.Zero)
                    : NativeMethods.paytrim_auth_set_log_callback((uint)level, Callback, IntPtr.Zero));
            }
        }

        // Runs on the thread where the event happened; message is borrowed. Never throws.
        private static void OnNativeLog(IntPtr userData, uint level, IntPtr message)
        {
            try
            {
                var e = Tuple.Create((PaytrimAuthLogLevel)level, NativeMethods.PtrToStringUtf8(message));
                if (!Queue.TryAdd(e)) Interlocked.Increment(ref _dropped);
            }
            catch (Exception)
            {
                // Out of memory: drop the event.
            }
        }

        private static void Run()
        {
            foreach (var e in Queue.GetConsumingEnumerable())
            {
                var logger = _logger;
                if (logger == null) continue;
                long dropped = Interlocked.Exchange(ref _dropped, 0);
                if (dropped > 0)
                    Deliver(logger, PaytrimAuthLogLevel.Warn,
                        "paytrim-auth: " + dropped + " log event(s) dropped: the logger did not keep up");
                Deliver(logger, e.Item1, e.Item2);
            }
        }

        private static void Deliver(Action<PaytrimAuthLogLevel, string> logger, PaytrimAuthLogLevel level, string message)
        {
            try
            {
                logger(level, message);
            }
            catch (Exception)
            {
                // The user's logger failed: nothing sensible to do; the next event still goes to it.
            }
        }
    }
}
