package com.paytrim.auth.azure;

import com.azure.core.credential.AccessToken;
import com.azure.core.credential.TokenCredential;
import com.azure.core.credential.TokenRequestContext;
import com.paytrim.auth.PaytrimAuthClient;
import reactor.core.publisher.Mono;

import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Objects;

/**
 * An Azure SDK {@link TokenCredential} backed by a {@link PaytrimAuthClient}: hand it to any
 * Azure SDK client builder ({@code .credential(...)}) or to azure-core's
 * {@code BearerTokenAuthenticationPolicy}. The scopes of each {@link TokenRequestContext} are
 * asked for per call ({@link PaytrimAuthClient#getTokenForScopes(String...)}), each scope set
 * with its own cache entry and single flight in the library.
 *
 * <pre>{@code
 * try (PaytrimAuthClient client = PaytrimAuthClient.builder(clientId, secret).tenant(tenant).build()) {
 *     TokenCredential credential = new PaytrimTokenCredential(client);
 *     SecretClient secrets = new SecretClientBuilder().vaultUrl(url).credential(credential).buildClient();
 * }
 * }</pre>
 *
 * <p>The client is not owned: close it after the last Azure SDK call.
 */
public final class PaytrimTokenCredential implements TokenCredential {
    private final PaytrimAuthClient client;

    public PaytrimTokenCredential(PaytrimAuthClient client) {
        this.client = Objects.requireNonNull(client, "client");
    }

    /** Never blocks a thread on the network: completes when the library's shared fetch lands. */
    @Override
    public Mono<AccessToken> getToken(TokenRequestContext request) {
        return Mono.defer(() -> Mono.fromFuture(client.getTokenForScopesAsync(scopes(request))))
                .map(PaytrimTokenCredential::toAzure);
    }

    /** Blocks during a fetch (a cache hit is one native call). */
    @Override
    public AccessToken getTokenSync(TokenRequestContext request) {
        return toAzure(client.getTokenForScopes(scopes(request)));
    }

    private static List<String> scopes(TokenRequestContext request) {
        return Objects.requireNonNull(request, "request").getScopes();
    }

    private static AccessToken toAzure(com.paytrim.auth.AccessToken t) {
        return new AccessToken(t.getToken(), OffsetDateTime.ofInstant(t.getExpiresOn(), ZoneOffset.UTC));
    }
}
