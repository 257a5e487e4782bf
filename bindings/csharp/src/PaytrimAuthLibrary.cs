using System;
using System.IO;
using System.Threading;

namespace Paytrim.Auth
{
    /// <summary>Information about the loaded native library; checks its ABI version once.</summary>
    public static class PaytrimAuthLibrary
    {
        /// <summary>The C ABI version this wrapper was written for (<c>PAYTRIM_AUTH_ABI_VERSION</c>).</summary>
        public const int AbiVersion = (int)NativeMethods.AbiVersion;

        private static readonly object Gate = new object();
        private static volatile bool _checked;
        private static string _version;

        /// <summary>The native library's version (e.g. <c>0.1.0</c>). Loads and checks the library.</summary>
        public static string Version
        {
            get
            {
                EnsureLoaded();
                return _version;
            }
        }

        /// <summary>
        /// Sends the library's diagnostic events at <paramref name="level"/> and more severe ones to
        /// <paramref name="logger"/>, process-wide; null turns logging off. Replaces any previous
        /// logger. Events: cache misses, each fetch attempt's start and end (duration,
        /// client-request-id), retries with reason and delay, throttling, background refreshes, fork
        /// detection. Messages never contain a secret or a token; tenant and client ids only after
        /// <see cref="SetLogPii"/>(true).
        /// <para>The library never waits for the logger: events are queued (up to 4,096) and
        /// delivered in order on one background thread, <c>paytrim-auth-log</c>. If the logger falls
        /// behind, further events are dropped and the next delivered event is preceded by a
        /// <see cref="PaytrimAuthLogLevel.Warn"/> saying how many. Exceptions it throws are caught
        /// and ignored. The wrapper keeps the delegate alive.</para>
        /// </summary>
        public static void SetLogger(Action<PaytrimAuthLogLevel, string> logger, PaytrimAuthLogLevel level = PaytrimAuthLogLevel.Info)
        {
            PaytrimAuthLog.Set(logger, level);
        }

        /// <summary>
        /// Whether log messages may include tenant ids, client ids and full error messages (which
        /// name the token endpoint, and with it the tenant). Off by default. Secrets and tokens are
        /// never logged either way.
        /// </summary>
        public static void SetLogPii(bool enabled)
        {
            EnsureLoaded();
            NativeMethods.paytrim_auth_set_log_pii(enabled);
        }

        /// <summary>
        /// Loads libpaytrim_auth and checks that it implements <see cref="AbiVersion"/>;
        /// throws <see cref="InvalidOperationException"/> with a clear message otherwise
        /// (again on every call, so the failure is not cached as a type-initializer error).
        /// </summary>
        /// <summary>
        /// Methods of their own: Mono binds a P/Invoke when it compiles the calling method, and
        /// <see cref="EnsureLoaded"/> must have run <see cref="NativePlatform.Preload"/> by then.
        /// </summary>
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        private static uint AbiVersionOfLoadedLibrary()
        {
            return NativeMethods.paytrim_auth_abi_version();
        }

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        private static string VersionOfLoadedLibrary()
        {
            return NativeMethods.PtrToStringUtf8(NativeMethods.paytrim_auth_version());
        }

        internal static void EnsureLoaded()
        {
            if (_checked) return;
            lock (Gate)
            {
                if (_checked) return;
                uint abi;
                string rid = NativePlatform.Current();
                string assemblyDir = NativePlatform.AssemblyDir();
                // Mono / .NET Framework: the package's runtimes/<rid>/native/ copy, when none is beside us.
                NativePlatform.PreloadOnce();
                try
                {
                    abi = AbiVersionOfLoadedLibrary();
                }
                catch (DllNotFoundException e)
                {
                    throw new DllNotFoundException(NativePlatform.MissingMessage(
                        rid, assemblyDir, NativePlatform.Present(assemblyDir, File.Exists), e.Message), e);
                }
                catch (EntryPointNotFoundException e)
                {
                    throw new InvalidOperationException(
                        "paytrim-auth: the loaded 'paytrim_auth' library has no paytrim_auth_abi_version(); it is not paytrim-auth or is too old.", e);
                }
                if (abi != NativeMethods.AbiVersion)
                {
                    throw new InvalidOperationException(
                        "paytrim-auth: ABI mismatch: the loaded native library implements ABI version " + abi +
                        ", but this Paytrim.Auth wrapper was written for ABI version " + NativeMethods.AbiVersion +
                        ". Use a libpaytrim_auth built from the same release as Paytrim.Auth.dll.");
                }
                _version = VersionOfLoadedLibrary();
                _checked = true;
            }
        }
    }
}
