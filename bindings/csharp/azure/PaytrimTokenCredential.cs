// An Azure.Core TokenCredential backed by a PaytrimAuthClient: hand it to any Azure SDK
// client (BlobServiceClient, SecretClient, ArmClient, ...) or to Azure.Core's
// BearerTokenAuthenticationPolicy. Each TokenRequestContext's scopes are asked for per
// call, each scope set with its own cache entry and single flight in the library.
//
// Not compiled into Paytrim.Auth.dll, which stays free of dependencies. The Paytrim.Auth
// package ships this file as a content file (contentFiles/cs/any/PaytrimAuth/Azure/): a project
// that references Azure.Core turns it on with
//   <DefineConstants>$(DefineConstants);PAYTRIM_AUTH_AZURE</DefineConstants>
// and every other project compiles it to nothing. Or copy it into your project as it is (with
// the symbol defined). It needs nothing but Azure.Core and Paytrim.Auth.
#if PAYTRIM_AUTH_AZURE
using System;
using System.Threading;
using System.Threading.Tasks;
using Azure.Core;

namespace Paytrim.Auth.Azure
{
    /// <summary>
    /// <see cref="TokenCredential"/> over a <see cref="PaytrimAuthClient"/>. The client is not
    /// owned: dispose it yourself after the last Azure SDK call.
    /// </summary>
    public sealed class PaytrimTokenCredential : TokenCredential
    {
        private readonly PaytrimAuthClient _client;

        public PaytrimTokenCredential(PaytrimAuthClient client)
        {
            if (client == null) throw new ArgumentNullException("client");
            _client = client;
        }

        /// <summary>A token for <c>requestContext.Scopes</c>; blocks during a fetch.</summary>
        public override global::Azure.Core.AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return Convert(_client.GetToken(requestContext.Scopes));
        }

        /// <summary>A token for <c>requestContext.Scopes</c> without blocking a thread.</summary>
        public override async ValueTask<global::Azure.Core.AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            Paytrim.Auth.AccessToken t = await _client.GetTokenAsync(requestContext.Scopes, cancellationToken).ConfigureAwait(false);
            return Convert(t);
        }

        private static global::Azure.Core.AccessToken Convert(Paytrim.Auth.AccessToken t)
        {
            return new global::Azure.Core.AccessToken(t.Token, t.ExpiresOn);
        }
    }
}
#endif
