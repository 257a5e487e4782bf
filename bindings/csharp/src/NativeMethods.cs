using System;
using System.Runtime.InteropServices;
using System.Text;

namespace Paytrim.Auth
{
    /// <summary>
    /// Every import of the paytrim-auth C ABI (include/paytrim_auth.h), in one place.
    /// Conventions: every <c>char *</c> the library returns comes back as an
    /// <see cref="IntPtr"/>, is copied with <see cref="PtrToStringUtf8"/> and freed with
    /// <see cref="paytrim_auth_string_free"/> (never by the runtime); every
    /// <c>paytrim_auth_error *</c> comes back as an <see cref="IntPtr"/> and is freed with
    /// <see cref="paytrim_auth_error_free"/>; input strings are passed as NUL-terminated
    /// UTF-8 byte arrays (<see cref="ToUtf8"/>), so the marshalling is the same on Mono,
    /// .NET Framework and .NET on every OS.
    /// </summary>
    internal static class NativeMethods
    {
        internal const string Lib = "paytrim_auth";

        /// <summary>
        /// Before the first import is bound: on Mono and .NET Framework, loads the package's
        /// runtimes/&lt;rid&gt;/native/ library when none is next to Paytrim.Auth.dll
        /// (<see cref="NativePlatform.Preload"/>). An explicit static constructor, so it runs
        /// before the first call into this class, not at an earlier moment of the runtime's choosing.
        /// </summary>
        static NativeMethods()
        {
            NativePlatform.PreloadOnce();
        }

        /// <summary>The ABI version this wrapper was written for (PAYTRIM_AUTH_ABI_VERSION).</summary>
        internal const uint AbiVersion = 1;

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate void TokenCallback(IntPtr userData, IntPtr token, long expiresOnUnixMs, IntPtr error);

        // ---- client ----
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr paytrim_auth_client_new(byte[] clientId, byte[] clientSecret, IntPtr config, out PaytrimAuthClientHandle outClient);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern void paytrim_auth_client_free(IntPtr client);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr paytrim_auth_client_get_token(PaytrimAuthClientHandle client, out IntPtr outToken, out long outExpiresOnUnixMs);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr paytrim_auth_client_get_token_json(PaytrimAuthClientHandle client, out IntPtr outJson);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr paytrim_auth_client_get_cached_token(PaytrimAuthClientHandle client, out IntPtr outToken, out long outExpiresOnUnixMs);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr paytrim_auth_client_refresh_token(PaytrimAuthClientHandle client, out IntPtr outToken, out long outExpiresOnUnixMs);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr paytrim_auth_client_get_token_async(PaytrimAuthClientHandle client, TokenCallback callback, IntPtr userData);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr paytrim_auth_client_refresh_token_async(PaytrimAuthClientHandle client, TokenCallback callback, IntPtr userData);

        // ---- per-call scopes (scopes: space-separated UTF-8) ----
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr paytrim_auth_client_get_token_for_scopes(PaytrimAuthClientHandle client, byte[] scopes, out IntPtr outToken, out long outExpiresOnUnixMs);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr paytrim_auth_client_get_cached_token_for_scopes(PaytrimAuthClientHandle client, byte[] scopes, out IntPtr outToken, out long outExpiresOnUnixMs);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr paytrim_auth_client_refresh_token_for_scopes(PaytrimAuthClientHandle client, byte[] scopes, out IntPtr outToken, out long outExpiresOnUnixMs);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr paytrim_auth_client_get_token_for_scopes_async(PaytrimAuthClientHandle client, byte[] scopes, TokenCallback callback, IntPtr userData);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr paytrim_auth_client_refresh_token_for_scopes_async(PaytrimAuthClientHandle client, byte[] scopes, TokenCallback callback, IntPtr userData);

        // ---- logging ----
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate void LogCallback(IntPtr userData, uint level, IntPtr message);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr paytrim_auth_set_log_callback(uint level, LogCallback callback, IntPtr userData);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern void paytrim_auth_set_log_pii([MarshalAs(UnmanagedType.I1)] bool enabled);

        // ---- credentials (PaytrimCredential) ----
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate void AssertionCallback(IntPtr userData, IntPtr clientId, IntPtr audience, IntPtr completion);

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate void FreeCallback(IntPtr userData);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr paytrim_auth_credential_from_secret(byte[] clientSecret, out PaytrimCredentialHandle outCredential);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr paytrim_auth_credential_from_certificate_file(byte[] path, byte[] password, out PaytrimCredentialHandle outCredential);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr paytrim_auth_credential_from_certificate_pem(byte[] certPem, byte[] keyPem, byte[] password, out PaytrimCredentialHandle outCredential);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr paytrim_auth_credential_from_pkcs12(byte[] data, UIntPtr len, byte[] password, out PaytrimCredentialHandle outCredential);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr paytrim_auth_credential_from_assertion_callback(AssertionCallback callback, IntPtr userData, FreeCallback freeUserData, out PaytrimCredentialHandle outCredential);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr paytrim_auth_assertion_complete(IntPtr completion, byte[] assertion);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr paytrim_auth_assertion_fail(IntPtr completion, byte[] message);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr paytrim_auth_credential_from_federated_token_file(byte[] path, out PaytrimCredentialHandle outCredential);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr paytrim_auth_credential_set(PaytrimCredentialHandle credential, byte[] key, byte[] value);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern void paytrim_auth_credential_free(IntPtr credential);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr paytrim_auth_client_new_with_credential(byte[] clientId, PaytrimCredentialHandle credential, IntPtr config, out PaytrimAuthClientHandle outClient);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr paytrim_auth_client_new_from_environment(IntPtr config, out PaytrimAuthClientHandle outClient);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr paytrim_auth_client_new_managed_identity(byte[] identity, IntPtr config, out PaytrimAuthClientHandle outClient);

        // ---- config ----
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr paytrim_auth_config_new();

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr paytrim_auth_config_set(IntPtr config, byte[] key, byte[] value);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern void paytrim_auth_config_free(IntPtr config);

        // ---- errors (all getters borrow from the error) ----
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint paytrim_auth_error_code(IntPtr error);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr paytrim_auth_error_message(IntPtr error);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        [return: MarshalAs(UnmanagedType.I1)]
        internal static extern bool paytrim_auth_error_is_retryable(IntPtr error);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern ushort paytrim_auth_error_http_status(IntPtr error);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr paytrim_auth_error_oauth_error(IntPtr error);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr paytrim_auth_error_oauth_error_description(IntPtr error);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr paytrim_auth_error_aadsts_codes(IntPtr error, out UIntPtr outLen);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr paytrim_auth_error_trace_id(IntPtr error);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr paytrim_auth_error_correlation_id(IntPtr error);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr paytrim_auth_error_client_request_id(IntPtr error);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr paytrim_auth_error_timestamp(IntPtr error);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern long paytrim_auth_error_retry_after_ms(IntPtr error);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr paytrim_auth_error_code_name(uint code);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern void paytrim_auth_error_free(IntPtr error);

        // ---- strings, versions ----
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern void paytrim_auth_string_free(IntPtr s);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint paytrim_auth_abi_version();

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr paytrim_auth_version();

        // ---- helpers ----

        /// <summary>A NUL-terminated UTF-8 copy of <paramref name="s"/>; null stays null (the library reports it).</summary>
        internal static byte[] ToUtf8(string s)
        {
            if (s == null) return null;
            int n = Encoding.UTF8.GetByteCount(s);
            byte[] b = new byte[n + 1];
            Encoding.UTF8.GetBytes(s, 0, s.Length, b, 0);
            return b;
        }

        /// <summary>Copies a NUL-terminated UTF-8 string (borrowed; not freed). IntPtr.Zero gives null.</summary>
        internal static unsafe string PtrToStringUtf8(IntPtr p)
        {
            if (p == IntPtr.Zero) return null;
            byte* b = (byte*)p;
            int n = 0;
            while (b[n] != 0) n++;
            return n == 0 ? string.Empty : Encoding.UTF8.GetString(b, n);
        }

        /// <summary>Copies then frees a string the library handed over.</summary>
        internal static string TakeString(IntPtr p)
        {
            if (p == IntPtr.Zero) return null;
            try
            {
                return PtrToStringUtf8(p);
            }
            finally
            {
                paytrim_auth_string_free(p);
            }
        }
    }
}
