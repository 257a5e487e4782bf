using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;

namespace Paytrim.Auth
{
    /// <summary>
    /// A failure reported by paytrim-auth: a stable <see cref="ErrorCode"/>, a message that is
    /// safe to log (never a secret or token), and the identity provider's details.
    /// </summary>
    public class PaytrimAuthException : Exception
    {
        private static readonly int[] NoCodes = new int[0];

        /// <summary>Creates an exception (for tests and mocks; the library builds its own).</summary>
        /// <remarks><see cref="Exception.Message"/> is the category's name, <c>": "</c> and
        /// <paramref name="message"/>: the same text C, Java and Node show for the same failure.</remarks>
        public PaytrimAuthException(PaytrimAuthErrorCode errorCode, string message)
            : base(CodeName(errorCode) + ": " + message)
        {
            ErrorCode = errorCode;
            ErrorCodeName = CodeName(errorCode);
            AadstsCodes = NoCodes;
        }

        /// <summary>The native snake_case name of a code (<c>CredentialRejected</c> → <c>credential_rejected</c>).</summary>
        internal static string CodeName(PaytrimAuthErrorCode code)
        {
            var name = code.ToString();
            var b = new System.Text.StringBuilder(name.Length + 4);
            for (int i = 0; i < name.Length; i++)
            {
                if (char.IsUpper(name[i]) && i > 0) b.Append('_');
                b.Append(char.ToLowerInvariant(name[i]));
            }
            return b.ToString();
        }

        /// <summary>The category.</summary>
        public PaytrimAuthErrorCode ErrorCode { get; private set; }

        /// <summary>The stable snake_case name of <see cref="ErrorCode"/> (e.g. <c>credential_rejected</c>).</summary>
        public string ErrorCodeName { get; private set; }

        /// <summary>Whether the same call may succeed later (throttled, network, server, protocol).</summary>
        public bool IsRetryable { get; private set; }

        /// <summary>The HTTP status of the answer that caused the error; null when there was none.</summary>
        public int? HttpStatus { get; private set; }

        /// <summary>The OAuth <c>error</c> field (e.g. <c>invalid_client</c>), or null.</summary>
        public string OAuthError { get; private set; }

        /// <summary>The OAuth <c>error_description</c> field, verbatim, or null.</summary>
        public string OAuthErrorDescription { get; private set; }

        /// <summary>Entra's AADSTS codes (<c>error_codes</c>); empty when none.</summary>
        public IReadOnlyList<int> AadstsCodes { get; private set; }

        /// <summary>Entra's <c>trace_id</c>, or null.</summary>
        public string TraceId { get; private set; }

        /// <summary>Entra's <c>correlation_id</c>, or null.</summary>
        public string CorrelationId { get; private set; }

        /// <summary>The <c>client-request-id</c> sent with the failing request, or null when none was sent.</summary>
        public string ClientRequestId { get; private set; }

        /// <summary>Entra's <c>timestamp</c> field, or null.</summary>
        public string Timestamp { get; private set; }

        /// <summary>How long to wait before trying again, when known.</summary>
        public TimeSpan? RetryAfter { get; private set; }

        /// <summary>Copies everything out of a (borrowed) native error. Does not free it.</summary>
        internal static PaytrimAuthException FromNative(IntPtr err)
        {
            uint code = NativeMethods.paytrim_auth_error_code(err);
            string message = NativeMethods.PtrToStringUtf8(NativeMethods.paytrim_auth_error_message(err));
            var e = new PaytrimAuthException((PaytrimAuthErrorCode)code, message ?? "paytrim-auth error " + code);
            e.ErrorCodeName = NativeMethods.PtrToStringUtf8(NativeMethods.paytrim_auth_error_code_name(code));
            e.IsRetryable = NativeMethods.paytrim_auth_error_is_retryable(err);
            ushort status = NativeMethods.paytrim_auth_error_http_status(err);
            e.HttpStatus = status == 0 ? (int?)null : status;
            e.OAuthError = NativeMethods.PtrToStringUtf8(NativeMethods.paytrim_auth_error_oauth_error(err));
            e.OAuthErrorDescription = NativeMethods.PtrToStringUtf8(NativeMethods.paytrim_auth_error_oauth_error_description(err));
            UIntPtr len;
            IntPtr codes = NativeMethods.paytrim_auth_error_aadsts_codes(err, out len);
            int n = (int)len.ToUInt64();
            if (codes != IntPtr.Zero && n > 0)
            {
                var arr = new int[n];
                Marshal.Copy(codes, arr, 0, n); // uint32 values; AADSTS codes fit in int
                e.AadstsCodes = Array.AsReadOnly(arr);
            }
            e.TraceId = NativeMethods.PtrToStringUtf8(NativeMethods.paytrim_auth_error_trace_id(err));
            e.CorrelationId = NativeMethods.PtrToStringUtf8(NativeMethods.paytrim_auth_error_correlation_id(err));
            e.ClientRequestId = NativeMethods.PtrToStringUtf8(NativeMethods.paytrim_auth_error_client_request_id(err));
            e.Timestamp = NativeMethods.PtrToStringUtf8(NativeMethods.paytrim_auth_error_timestamp(err));
            long ms = NativeMethods.paytrim_auth_error_retry_after_ms(err);
            e.RetryAfter = ms < 0 ? (TimeSpan?)null : TimeSpan.FromMilliseconds(ms);
            return e;
        }

        /// <summary>Turns an owned native error into an exception and frees it; IntPtr.Zero gives null.</summary>
        internal static PaytrimAuthException Take(IntPtr err)
        {
            if (err == IntPtr.Zero) return null;
            try
            {
                return FromNative(err);
            }
            finally
            {
                NativeMethods.paytrim_auth_error_free(err);
            }
        }

        /// <summary>Throws (and frees) an owned native error, if any.</summary>
        internal static void ThrowIfError(IntPtr err)
        {
            if (err != IntPtr.Zero) throw Take(err);
        }
    }
}
