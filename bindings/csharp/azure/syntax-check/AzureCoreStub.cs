// SYNTAX CHECK ONLY. Azure.Core cannot be fetched here (no NuGet feed), so the test command
// compiles PaytrimTokenCredential.cs against this stand-in of the three Azure.Core types it
// uses, with their real signatures (Azure.Core 1.x). It proves the adapter compiles and that
// the wrapper's per-call scope calls fit; it does not prove it against the real Azure.Core.
// Never shipped, never referenced by anything but bindings/csharp/test.sh.
using System;
using System.Threading;
using System.Threading.Tasks;

namespace Azure.Core
{
    public readonly struct AccessToken
    {
        public AccessToken(string accessToken, DateTimeOffset expiresOn)
        {
            Token = accessToken;
            ExpiresOn = expiresOn;
        }

        public string Token { get; }
        public DateTimeOffset ExpiresOn { get; }
    }

    public readonly struct TokenRequestContext
    {
        public TokenRequestContext(string[] scopes, string parentRequestId = null, string claims = null, string tenantId = null, bool isCaeEnabled = false)
        {
            Scopes = scopes;
            ParentRequestId = parentRequestId;
            Claims = claims;
            TenantId = tenantId;
            IsCaeEnabled = isCaeEnabled;
        }

        public string[] Scopes { get; }
        public string ParentRequestId { get; }
        public string Claims { get; }
        public string TenantId { get; }
        public bool IsCaeEnabled { get; }
    }

    public abstract class TokenCredential
    {
        public abstract ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken);

        public abstract AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken);
    }
}
