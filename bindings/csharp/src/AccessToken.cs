using System;

namespace Paytrim.Auth
{
    /// <summary>An access token. <see cref="ToString"/> never shows the token itself.</summary>
    public sealed class AccessToken
    {
        internal AccessToken(string token, long expiresOnUnixMs)
        {
            Token = token;
            ExpiresOn = DateTimeOffset.FromUnixTimeMilliseconds(expiresOnUnixMs);
        }

        /// <summary>The token to send as <c>Authorization: Bearer {Token}</c>. A secret: do not log it.</summary>
        public string Token { get; private set; }

        /// <summary>Always <c>Bearer</c> (the library refuses other token types).</summary>
        public string TokenType { get { return "Bearer"; } }

        /// <summary>When the token expires (UTC).</summary>
        public DateTimeOffset ExpiresOn { get; private set; }

        /// <summary>The value of the Authorization header: <c>Bearer {Token}</c>.</summary>
        public string AuthorizationHeaderValue { get { return TokenType + " " + Token; } }

        /// <summary>Type and expiry only; the token is redacted.</summary>
        public override string ToString()
        {
            return "AccessToken { TokenType = " + TokenType + ", ExpiresOn = " + ExpiresOn.ToString("o") + ", Token = <redacted> }";
        }
    }
}
