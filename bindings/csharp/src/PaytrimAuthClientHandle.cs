using System;
using System.Threading;
using Microsoft.Win32.SafeHandles;

namespace Paytrim.Auth
{
    /// <summary>
    /// Owns one native <c>paytrim_auth_client *</c>. Passed directly to the imports, so the
    /// marshaller adds a reference for the duration of every call: <see cref="ReleaseHandle"/>
    /// (and thus <c>paytrim_auth_client_free</c>) runs only after the last in-flight call has
    /// returned, which is what the C ABI requires ("free must not race with other calls").
    /// </summary>
    internal sealed class PaytrimAuthClientHandle : SafeHandleZeroOrMinusOneIsInvalid
    {
        // Used by the marshaller for the `out` parameter of paytrim_auth_client_new.
        public PaytrimAuthClientHandle() : base(true)
        {
        }

        private static long _live;

        /// <summary>
        /// Native clients created and not yet freed, in this process (a test seam, like Node's
        /// <c>_liveNativeClients</c>: lets tests see that finalizers really free clients).
        /// </summary>
        internal static long Live { get { return Interlocked.Read(ref _live); } }

        /// <summary>Counts this handle as live; called once the native client exists.</summary>
        internal void Opened()
        {
            Interlocked.Increment(ref _live);
        }

        protected override bool ReleaseHandle()
        {
            NativeMethods.paytrim_auth_client_free(handle);
            Interlocked.Decrement(ref _live);
            return true;
        }
    }

    /// <summary>
    /// Owns one native <c>paytrim_auth_credential *</c>; freed (<c>paytrim_auth_credential_free</c>)
    /// after the last call using it has returned. Clients made from it keep their own reference.
    /// </summary>
    internal sealed class PaytrimCredentialHandle : SafeHandleZeroOrMinusOneIsInvalid
    {
        public PaytrimCredentialHandle() : base(true)
        {
        }

        protected override bool ReleaseHandle()
        {
            NativeMethods.paytrim_auth_credential_free(handle);
            return true;
        }
    }
}
