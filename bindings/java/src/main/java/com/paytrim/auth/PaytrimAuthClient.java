package com.paytrim.auth;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;

/**
 * Obtains OAuth 2.0 client-credentials tokens from Microsoft Entra ID (or any
 * OAuth 2.0 server) through the native paytrim-auth core: cached process-wide,
 * one HTTP request however many threads ask at once, retried on transient
 * failures, refreshed in the background before expiry.
 *
 * <pre>{@code
 * try (PaytrimAuthClient client = PaytrimAuthClient.builder(clientId, clientSecret)
 *         .tenant("contoso.onmicrosoft.com")
 *         .build()) {
 *     AccessToken token = client.getToken();
 *     connection.setRequestProperty("Authorization", token.toAuthorizationHeader());
 * }
 * }</pre>
 *
 * <p>Thread-safe: share one client across threads. Clients with the same
 * endpoint, client id, secret and scopes share one cached token within the
 * process. {@link #close()} is idempotent and thread-safe; any call after it
 * throws {@link IllegalStateException}. A client that is never closed is freed
 * after it becomes unreachable (a phantom-reference backstop).
 */
public final class PaytrimAuthClient implements AutoCloseable {
    /** The C ABI version this wrapper was written for ({@code PAYTRIM_AUTH_ABI_VERSION}). */
    public static final int ABI_VERSION = NativeBridge.ABI_VERSION;

    private final NativeHandle handle;
    private final NativeCleaner.Ref cleanerRef;
    private final Executor asyncExecutor;
    private final String clientId;
    /** The token last handed out: a hit on the same native string reuses it. */
    private volatile AccessToken last;

    private PaytrimAuthClient(Builder b) {
        NativeBridge.ensureLoaded();
        String[] keys = b.options.keySet().toArray(new String[0]);
        String[] values = b.options.values().toArray(new String[0]);
        long h = b.create(keys, values);
        if (h == 0) {
            throw new IllegalStateException("paytrim-auth: the native client could not be created");
        }
        this.handle = new NativeHandle(h);
        this.cleanerRef = NativeCleaner.register(this, handle);
        this.asyncExecutor = b.asyncExecutorSet ? b.asyncExecutor : ForkJoinPool.commonPool();
        this.clientId = b.describe();
    }

    /** Native calls of this client running now (test seam: lets a test wait until a call is inside the library). */
    int callsInFlight() {
        return handle.callsInFlight();
    }

    /** A builder for a client with {@code clientId} and {@code clientSecret}. */
    public static Builder builder(String clientId, String clientSecret) {
        return new Builder(clientId).clientSecret(clientSecret);
    }

    /** A client with the defaults: tenant {@code common}, scope {@code https://graph.microsoft.com/.default}. */
    public static PaytrimAuthClient create(String clientId, String clientSecret) {
        return builder(clientId, clientSecret).build();
    }

    /**
     * A builder for a client with {@code clientId} and the credential set on
     * it: exactly one of {@link Builder#clientSecret}, {@link Builder#certificate},
     * {@link Builder#certificatePem}, {@link Builder#assertion},
     * {@link Builder#assertionAsync} or {@link Builder#federatedTokenFile}.
     *
     * <pre>{@code
     * PaytrimAuthClient client = PaytrimAuthClient.builder(clientId)
     *         .certificate(Paths.get("/etc/paytrim/client.pfx"), password)
     *         .tenant("contoso.onmicrosoft.com")
     *         .build();
     * }</pre>
     */
    public static Builder builder(String clientId) {
        return new Builder(clientId);
    }

    /**
     * A builder for a client that gets its tokens from an Azure managed
     * identity (IMDS on VMs, the App Service endpoint on App Service, Functions
     * and Container Apps): no client id or secret. The resource is the one
     * {@link Builder#scope} ({@code https://management.azure.com/.default} asks
     * for {@code https://management.azure.com}). The endpoint comes from
     * {@link Builder#identityEndpoint}, {@link Builder#imdsEndpoint}, else the
     * variables Azure sets ({@code IDENTITY_ENDPOINT} + {@code IDENTITY_HEADER},
     * {@code IMDS_ENDPOINT}), else IMDS.
     */
    public static Builder builder(ManagedIdentity identity) {
        if (identity == null) {
            throw new IllegalArgumentException("identity is null");
        }
        return new Builder(identity);
    }

    /** A managed-identity client with the default options (see {@link #builder(ManagedIdentity)}). */
    public static PaytrimAuthClient managedIdentity(ManagedIdentity identity) {
        return builder(identity).build();
    }

    /**
     * A builder for a client configured from the environment when
     * {@link Builder#build()} runs: {@code PAYTRIM_*} variables first, then the
     * Azure conventions ({@code AZURE_CLIENT_ID}, {@code AZURE_TENANT_ID},
     * {@code AZURE_CLIENT_SECRET}, {@code AZURE_CLIENT_CERTIFICATE_PATH},
     * {@code AZURE_CLIENT_CERTIFICATE_PASSWORD},
     * {@code AZURE_CLIENT_SEND_CERTIFICATE_CHAIN},
     * {@code AZURE_FEDERATED_TOKEN_FILE}, {@code AZURE_AUTHORITY_HOST}). The
     * credential is chosen from what is set, never by trying; the variables'
     * tenant and authority replace the builder's. The builder's other options
     * (timeouts, proxy, scope...) apply.
     */
    public static Builder environmentBuilder() {
        return new Builder();
    }

    /**
     * A client configured from the environment (see {@link #environmentBuilder()}).
     *
     * @throws PaytrimAuthException (code INVALID_ARGUMENT) naming the variables
     *         that are missing or conflict
     */
    public static PaytrimAuthClient fromEnvironment() {
        return environmentBuilder().build();
    }

    /** The native library's version, e.g. {@code 0.1.0}. */
    public static String nativeVersion() {
        NativeBridge.ensureLoaded();
        return NativeBridge.version();
    }

    /**
     * Sends the library's diagnostic events at {@code level} and more severe
     * ones to {@code logger}, process-wide (for this class loader's copy of the
     * native library); {@code null} turns logging off. Replaces any previous
     * logger. See {@link PaytrimAuthLogger} for the events and the threading.
     *
     * @throws IllegalArgumentException if {@code logger} is not null and {@code level} is null
     * @throws UnsatisfiedLinkError when the native library cannot be loaded
     */
    public static void setLogger(PaytrimAuthLogger logger, PaytrimAuthLogger.Level level) {
        if (logger != null && level == null) {
            throw new IllegalArgumentException("level is null");
        }
        LogDispatch.set(logger, level);
    }

    /**
     * Whether log messages may include tenant ids, client ids and full error
     * messages (which name the token endpoint, and with it the tenant). Off by
     * default. Secrets and tokens are never logged either way.
     */
    public static void setLogPii(boolean enabled) {
        NativeBridge.ensureLoaded();
        NativeBridge.setLogPii(enabled);
    }

    /**
     * Where this class loader's copy of the native library came from, e.g.
     * {@code /opt/paytrim/libpaytrim_auth.so}, {@code jar resource
     * /native/linux-x86_64/libpaytrim_auth.so (a copy for this class loader)}, or
     * a path followed by {@code (a private copy for this class loader: ...)} when
     * another class loader of this JVM loaded that file first (then the two do
     * not share their token cache; see the README, "Runtime models").
     *
     * @throws UnsatisfiedLinkError when the native library cannot be loaded
     */
    public static String nativeLibrarySource() {
        NativeBridge.ensureLoaded();
        return NativeBridge.loadedFrom();
    }

    /**
     * A valid token: from the cache (no I/O, no lock, no copy: well under a
     * microsecond), or fetched now, sharing one request with every concurrent
     * caller of the same key. Blocks during a fetch, at most about
     * {@code totalTimeout} plus a few seconds. On a virtual thread (JDK 21+)
     * a fetch is awaited by parking, which unmounts the virtual thread and
     * leaves its carrier free; a cache hit stays one native call.
     *
     * @throws PaytrimAuthException when no token could be obtained
     * @throws IllegalStateException after {@link #close()}
     */
    public AccessToken getToken() {
        if (VirtualThreads.current()) {
            return awaitUnmounted(false);
        }
        long h = handle.acquire();
        try {
            long[] expires = new long[1];
            return wrap(NativeBridge.getToken(h, expires), expires[0]);
        } finally {
            handle.release();
        }
    }

    /**
     * {@link #getToken()} or {@link #refreshToken()} for a virtual thread: a
     * cached token without waiting; otherwise the asynchronous path, whose
     * future completes on the library's thread (completing it only unparks
     * this virtual thread). A native call that blocked would pin the carrier.
     */
    private AccessToken awaitUnmounted(boolean refresh) {
        return awaitUnmounted(refresh, false, null);
    }

    /** As above; when {@code scoped}, for {@code scopes} (checked natively, null included). */
    private AccessToken awaitUnmounted(boolean refresh, boolean scoped, String[] scopes) {
        AsyncCall call = new AsyncCall(null);
        long h = handle.acquire();
        try {
            if (!scoped && !refresh) {
                long[] expires = new long[1];
                String token = NativeBridge.getCachedToken(h, expires);
                if (token != null) {
                    return wrap(token, expires[0]);
                }
                NativeBridge.getTokenAsync(h, call);
            } else if (!scoped) {
                NativeBridge.refreshTokenAsync(h, call);
            } else if (!refresh) {
                long[] expires = new long[1];
                String token = NativeBridge.getCachedTokenForScopes(h, scopes, expires);
                if (token != null) {
                    return new AccessToken(token, expires[0]);
                }
                NativeBridge.getTokenForScopesAsync(h, scopes, call);
            } else {
                NativeBridge.refreshTokenForScopesAsync(h, scopes, call);
            }
        } finally {
            handle.release();
        }
        try {
            return call.future.join();
        } catch (CompletionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof PaytrimAuthException) {
                // Made for this call on the library's thread: give it the caller's stack, as the
                // blocking path would.
                cause.fillInStackTrace();
                throw (PaytrimAuthException) cause;
            }
            throw e;
        }
    }

    /** The native side returns the same String instance for the same token. */
    private AccessToken wrap(String token, long expiresOnUnixMs) {
        AccessToken l = last;
        if (l != null && l.getToken() == token && l.getExpiresOnEpochMilli() == expiresOnUnixMs) {
            return l;
        }
        l = new AccessToken(token, expiresOnUnixMs);
        last = l;
        return l;
    }

    /**
     * {@link #getToken()} as the documented token response:
     * {@code {"token_type":"Bearer","expires_in":<seconds left>,"access_token":"..."}}.
     */
    public String getTokenJson() {
        if (VirtualThreads.current()) {
            String json = cachedTokenJson();
            if (json != null) {
                return json;
            }
            AccessToken t = awaitUnmounted(false);
            json = cachedTokenJson(); // the token just fetched, as the native side writes it
            return json != null ? json : tokenJson(t); // (unless it was already replaced or expired)
        }
        long h = handle.acquire();
        try {
            return NativeBridge.getTokenJson(h);
        } finally {
            handle.release();
        }
    }

    private String cachedTokenJson() {
        long h = handle.acquire();
        try {
            return NativeBridge.getCachedTokenJson(h);
        } finally {
            handle.release();
        }
    }

    /** The documented JSON for {@code t} (the native side's format; tokens hold no control characters). */
    static String tokenJson(AccessToken t) {
        String token = t.getToken();
        StringBuilder b = new StringBuilder(token.length() + 64);
        b.append("{\"token_type\":\"Bearer\",\"expires_in\":").append(Math.max(0, t.getExpiresIn().getSeconds()))
                .append(",\"access_token\":\"");
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append("\"}").toString();
    }

    /**
     * A valid cached token, or null when none is cached; never blocks and
     * sends nothing (except a background refresh within the refresh margin).
     */
    public AccessToken getCachedToken() {
        long h = handle.acquire();
        try {
            long[] expires = new long[1];
            String token = NativeBridge.getCachedToken(h, expires);
            return token == null ? null : wrap(token, expires[0]);
        } finally {
            handle.release();
        }
    }

    /**
     * Never blocks a thread on the network. A cache hit returns a completed
     * future; a miss joins or starts the shared fetch, which runs on a
     * library-owned thread, and the future completes through the async
     * executor (by default {@link ForkJoinPool#commonPool()}, see
     * {@link Builder#asyncExecutor(Executor)}). Fails with a
     * {@link PaytrimAuthException}.
     *
     * @throws IllegalStateException after {@link #close()}
     */
    public CompletableFuture<AccessToken> getTokenAsync() {
        long h = handle.acquire();
        try {
            long[] expires = new long[1];
            String token = NativeBridge.getCachedToken(h, expires);
            if (token != null) {
                return CompletableFuture.completedFuture(wrap(token, expires[0]));
            }
            AsyncCall call = new AsyncCall(asyncExecutor);
            NativeBridge.getTokenAsync(h, call);
            return call.future;
        } finally {
            handle.release();
        }
    }

    /**
     * Drops the cached token of this client's key and fetches a new one
     * (joining a fetch already in progress). Call it after the API answered
     * 401 to a token. On a virtual thread the fetch is awaited by parking,
     * as in {@link #getToken()}.
     */
    public AccessToken refreshToken() {
        if (VirtualThreads.current()) {
            return awaitUnmounted(true);
        }
        long h = handle.acquire();
        try {
            long[] expires = new long[1];
            return wrap(NativeBridge.refreshToken(h, expires), expires[0]);
        } finally {
            handle.release();
        }
    }

    /**
     * The non-blocking {@link #refreshToken()}: drops the cached token of this
     * client's key and fetches a new one (joining a fetch in progress). No Java
     * thread waits during the fetch; the future completes like
     * {@link #getTokenAsync()}'s.
     *
     * @throws IllegalStateException after {@link #close()}
     */
    public CompletableFuture<AccessToken> refreshTokenAsync() {
        long h = handle.acquire();
        try {
            AsyncCall call = new AsyncCall(asyncExecutor);
            NativeBridge.refreshTokenAsync(h, call);
            return call.future;
        } finally {
            handle.release();
        }
    }

    // ---------------------------------------------------------------- per-call scopes

    /**
     * A valid token for {@code scopes} instead of the configured scope (same
     * credential and options): for example
     * {@code client.getTokenForScopes("api://orders/.default")}. Each scope set has its
     * own cache entry, single flight, background refresh and throttle memory;
     * the configured scopes give this client's own entry. The first call for a
     * scope set prepares its request (no I/O); up to 64 scope sets are kept per
     * client, least recently used dropped first. A cache hit costs one short
     * native lock more than {@link #getToken()}. On a virtual thread a fetch is
     * awaited by parking, as in {@link #getToken()}. (A name of its own, not a
     * {@code getToken} overload: an overload would make existing method
     * references such as {@code executor.submit(client::getToken)} ambiguous.)
     *
     * @param scopes one or more scopes, each without whitespace (a managed
     *     identity takes exactly one, naming its resource)
     * @throws PaytrimAuthException with {@link PaytrimAuthErrorCode#INVALID_ARGUMENT}
     *     for a null or empty array, a null or empty scope, or one with whitespace or
     *     control characters; otherwise when no token could be obtained
     * @throws IllegalStateException after {@link #close()}
     */
    public AccessToken getTokenForScopes(String... scopes) {
        return scopedToken(scopes, false);
    }

    /** {@link #getTokenForScopes(String...)} for a collection of scopes (as {@code TokenRequestContext.getScopes()} gives). */
    public AccessToken getTokenForScopes(Collection<String> scopes) {
        return getTokenForScopes(scopeArray(scopes));
    }

    /**
     * A valid cached token for {@code scopes}, or null when that scope set has
     * none; never blocks (see {@link #getTokenForScopes(String...)}).
     */
    public AccessToken getCachedTokenForScopes(String... scopes) {
        long h = handle.acquire();
        try {
            long[] expires = new long[1];
            String token = NativeBridge.getCachedTokenForScopes(h, scopes, expires);
            return token == null ? null : new AccessToken(token, expires[0]);
        } finally {
            handle.release();
        }
    }

    /**
     * {@link #getTokenAsync()} for {@code scopes} (see {@link #getTokenForScopes(String...)}):
     * never blocks a thread on the network. Bad scopes fail the returned future
     * with a {@link PaytrimAuthException} ({@code INVALID_ARGUMENT}).
     *
     * @throws IllegalStateException after {@link #close()}
     */
    public CompletableFuture<AccessToken> getTokenForScopesAsync(String... scopes) {
        return scopedTokenAsync(scopes, false);
    }

    /** {@link #getTokenForScopesAsync(String...)} for a collection of scopes. */
    public CompletableFuture<AccessToken> getTokenForScopesAsync(Collection<String> scopes) {
        return getTokenForScopesAsync(scopeArray(scopes));
    }

    /**
     * {@link #refreshToken()} for {@code scopes}: drops that scope set's cached
     * token only and fetches a new one (see {@link #getTokenForScopes(String...)}).
     */
    public AccessToken refreshTokenForScopes(String... scopes) {
        return scopedToken(scopes, true);
    }

    /** The non-blocking {@link #refreshTokenForScopes(String...)}; bad scopes fail the future. */
    public CompletableFuture<AccessToken> refreshTokenForScopesAsync(String... scopes) {
        return scopedTokenAsync(scopes, true);
    }

    /** The body of {@link #getTokenForScopes(String...)} ({@code refresh} false) and {@link #refreshTokenForScopes(String...)}. */
    private AccessToken scopedToken(String[] scopes, boolean refresh) {
        if (VirtualThreads.current()) {
            return awaitUnmounted(refresh, true, scopes);
        }
        long h = handle.acquire();
        try {
            long[] expires = new long[1];
            String token = refresh
                    ? NativeBridge.refreshTokenForScopes(h, scopes, expires)
                    : NativeBridge.getTokenForScopes(h, scopes, expires);
            return new AccessToken(token, expires[0]);
        } finally {
            handle.release();
        }
    }

    /**
     * The body of {@link #getTokenForScopesAsync(String...)} ({@code refresh} false: a cached token
     * first) and {@link #refreshTokenForScopesAsync(String...)}; bad scopes fail the future.
     */
    private CompletableFuture<AccessToken> scopedTokenAsync(String[] scopes, boolean refresh) {
        long h = handle.acquire();
        try {
            if (!refresh) {
                long[] expires = new long[1];
                String token = NativeBridge.getCachedTokenForScopes(h, scopes, expires);
                if (token != null) {
                    return CompletableFuture.completedFuture(new AccessToken(token, expires[0]));
                }
            }
            AsyncCall call = new AsyncCall(asyncExecutor);
            if (refresh) {
                NativeBridge.refreshTokenForScopesAsync(h, scopes, call);
            } else {
                NativeBridge.getTokenForScopesAsync(h, scopes, call);
            }
            return call.future;
        } catch (PaytrimAuthException e) {
            CompletableFuture<AccessToken> failed = new CompletableFuture<AccessToken>();
            failed.completeExceptionally(e);
            return failed;
        } finally {
            handle.release();
        }
    }

    private static String[] scopeArray(Collection<String> scopes) {
        return scopes == null ? null : scopes.toArray(new String[0]);
    }

    /** Whether {@link #close()} has been called. */
    public boolean isClosed() {
        return handle.isClosed();
    }

    /**
     * Frees the native client. Idempotent and thread-safe; never blocks on a
     * fetch (calls still running finish normally, and the last one frees).
     * The process-wide token cache is not cleared.
     */
    @Override
    public void close() {
        if (handle.close()) {
            cleanerRef.clean();
        }
    }

    /** Shows the client id, never the secret. */
    @Override
    public String toString() {
        return "PaytrimAuthClient{clientId=" + clientId + (isClosed() ? ", closed" : "") + "}";
    }

    /** Options for a {@link PaytrimAuthClient}. Every setter maps to one key of the native configuration. */
    public static final class Builder {
        /** Null for the environment and managed identity. */
        private final String clientId;
        private final ManagedIdentity managedIdentity;
        private final boolean fromEnvironment;
        /** The credential: one of these, set once (client-id builders only). */
        private String clientSecret;
        private Path certificatePath;
        private String certificatePem;
        private String keyPem;
        private char[] password;
        private AssertionBridge assertion;
        private Path federatedTokenFile;
        private String credentialKind;
        private final Map<String, String> credentialOptions = new LinkedHashMap<String, String>();
        private final Map<String, String> options = new LinkedHashMap<String, String>();
        private Executor asyncExecutor;
        private boolean asyncExecutorSet;

        private Builder(String clientId) {
            if (clientId == null || clientId.trim().isEmpty()) {
                throw new IllegalArgumentException("clientId is null or empty");
            }
            this.clientId = clientId;
            this.managedIdentity = null;
            this.fromEnvironment = false;
        }

        private Builder(ManagedIdentity identity) {
            this.clientId = null;
            this.managedIdentity = identity;
            this.fromEnvironment = false;
        }

        private Builder() {
            this.clientId = null;
            this.managedIdentity = null;
            this.fromEnvironment = true;
        }

        private void credential(String kind) {
            if (clientId == null) {
                throw new IllegalStateException("a " + (fromEnvironment ? "from-environment" : "managed-identity")
                        + " client takes no " + kind + " credential");
            }
            if (credentialKind != null) {
                throw new IllegalStateException("the credential is already set (" + credentialKind
                        + "); set exactly one of clientSecret, certificate, certificatePem, assertion,"
                        + " assertionAsync, federatedTokenFile");
            }
            credentialKind = kind;
        }

        /** Authenticates with a client secret. */
        public Builder clientSecret(String secret) {
            if (secret == null || secret.isEmpty()) {
                throw new IllegalArgumentException("clientSecret is null or empty");
            }
            credential("client secret");
            this.clientSecret = secret;
            return this;
        }

        /**
         * Authenticates with a certificate (a signed client assertion per
         * request): a PEM file holding the certificate chain (leaf first) and
         * its RSA private key (PKCS#8, PKCS#1 or encrypted PKCS#8), or a
         * PKCS#12 ({@code .pfx}/{@code .p12}) file. {@code password} (null for
         * none) decrypts the key or the PKCS#12 file; this builder keeps a copy
         * until {@link #build()}, which wipes it. The file is read and checked
         * by {@link #build()}: an expired certificate, a key that does not match
         * it, a non-RSA key or a wrong password is a {@link PaytrimAuthException}
         * naming the file.
         */
        public Builder certificate(Path path, char[] password) {
            if (path == null) {
                throw new IllegalArgumentException("certificate path is null");
            }
            credential("certificate");
            this.certificatePath = path.toAbsolutePath();
            this.password = password == null ? null : password.clone();
            return this;
        }

        /** {@link #certificate(Path, char[])} for a file without a password. */
        public Builder certificate(Path path) {
            return certificate(path, null);
        }

        /**
         * Authenticates with a certificate given as PEM text: {@code certPem}
         * the chain (leaf first), {@code keyPem} the RSA private key (they may
         * be the same text); {@code password} (null for none) decrypts an
         * encrypted PKCS#8 key.
         */
        public Builder certificatePem(String certPem, String keyPem, char[] password) {
            if (certPem == null || keyPem == null) {
                throw new IllegalArgumentException("certPem or keyPem is null");
            }
            credential("certificate");
            this.certificatePem = certPem;
            this.keyPem = keyPem;
            this.password = password == null ? null : password.clone();
            return this;
        }

        /** Certificates: {@link SigningAlgorithm#PS256} (default) or {@link SigningAlgorithm#RS256}. */
        public Builder signingAlgorithm(SigningAlgorithm algorithm) {
            if (algorithm == null) {
                throw new IllegalArgumentException("signingAlgorithm is null");
            }
            credentialOptions.put("signing_algorithm", algorithm.name());
            return this;
        }

        /** Certificates: send the chain as {@code x5c} (for subject name + issuer registration). Default false. */
        public Builder sendCertificateChain(boolean send) {
            credentialOptions.put("send_certificate_chain", Boolean.toString(send));
            return this;
        }

        /**
         * Authenticates with client assertions from {@code provider} (keys in an
         * HSM or key vault); see {@link AssertionProvider} for threading and
         * errors.
         */
        public Builder assertion(AssertionProvider provider) {
            return assertionBridge(provider, new AssertionBridge(provider, null));
        }

        /** {@link #assertion} for a provider that answers with a {@link java.util.concurrent.CompletionStage}. */
        public Builder assertionAsync(AsyncAssertionProvider provider) {
            return assertionBridge(provider, new AssertionBridge(null, provider));
        }

        /** The body of {@link #assertion} and {@link #assertionAsync}: {@code bridge} asks {@code provider}. */
        private Builder assertionBridge(Object provider, AssertionBridge bridge) {
            if (provider == null) {
                throw new IllegalArgumentException("assertion provider is null");
            }
            credential("assertion");
            this.assertion = bridge;
            return this;
        }

        /**
         * Workload identity federation: the client assertion is the federated
         * token in {@code path} (as Kubernetes projects it, named by
         * {@code AZURE_FEDERATED_TOKEN_FILE}), re-read when it changes and at
         * least every 5 minutes. An unreadable or empty file is an error naming it.
         */
        public Builder federatedTokenFile(Path path) {
            if (path == null) {
                throw new IllegalArgumentException("federatedTokenFile is null");
            }
            credential("federated token file");
            this.federatedTokenFile = path.toAbsolutePath();
            return this;
        }

        /** Managed identity: the App Service endpoint URL and its secret header value (default: the variables). */
        public Builder identityEndpoint(String url, String header) {
            option("identity_endpoint", url);
            return option("identity_header", header);
        }

        /** Managed identity: the IMDS base URL (default: {@code IMDS_ENDPOINT}, else {@code http://169.254.169.254}). */
        public Builder imdsEndpoint(String url) {
            return option("imds_endpoint", url);
        }

        /** Makes the native client; called by the client's constructor. */
        long create(String[] keys, String[] values) {
            if (fromEnvironment) {
                return CredentialBridge.newClientFromEnvironment(keys, values);
            }
            if (managedIdentity != null) {
                return CredentialBridge.newManagedIdentityClient(managedIdentity.spec(), keys, values);
            }
            if (credentialKind == null) {
                throw new IllegalStateException("no credential: set one of clientSecret, certificate, certificatePem,"
                        + " assertion, assertionAsync, federatedTokenFile (or use builder(clientId, clientSecret))");
            }
            if (clientSecret != null && credentialOptions.isEmpty()) {
                return NativeBridge.newClient(clientId, clientSecret, keys, values);
            }
            long credential = 0;
            try {
                if (clientSecret != null) {
                    credential = CredentialBridge.secret(clientSecret);
                } else if (certificatePath != null) {
                    credential = CredentialBridge.certificateFile(certificatePath.toString(), password);
                } else if (certificatePem != null) {
                    credential = CredentialBridge.certificatePem(certificatePem, keyPem, password);
                } else if (assertion != null) {
                    credential = CredentialBridge.assertionCallback(assertion);
                } else {
                    credential = CredentialBridge.federatedTokenFile(federatedTokenFile.toString());
                }
                for (Map.Entry<String, String> o : credentialOptions.entrySet()) {
                    CredentialBridge.set(credential, o.getKey(), o.getValue());
                }
                return CredentialBridge.newClient(clientId, credential, keys, values);
            } finally {
                CredentialBridge.free(credential);
                if (password != null) {
                    java.util.Arrays.fill(password, '\0');
                    password = null;
                }
            }
        }

        /** What {@link PaytrimAuthClient#toString()} shows: ids, never a credential. */
        String describe() {
            if (fromEnvironment) {
                return "(from environment)";
            }
            if (managedIdentity != null) {
                return "(managed identity " + managedIdentity.spec() + ")";
            }
            return clientId;
        }

        /** Tenant id (GUID) or domain, e.g. {@code contoso.onmicrosoft.com} (default {@code common}). */
        public Builder tenant(String tenant) {
            return option("tenant", tenant);
        }

        /** The scopes (default {@code https://graph.microsoft.com/.default}). */
        public Builder scope(String... scopes) {
            if (scopes == null || scopes.length == 0) {
                throw new IllegalArgumentException("scope: at least one scope is needed");
            }
            StringBuilder b = new StringBuilder();
            for (String s : scopes) {
                if (s == null) {
                    throw new IllegalArgumentException("scope: null scope");
                }
                if (b.length() > 0) {
                    b.append(' ');
                }
                b.append(s);
            }
            return option("scope", b.toString());
        }

        /** The scopes (default {@code https://graph.microsoft.com/.default}). */
        public Builder scopes(Collection<String> scopes) {
            if (scopes == null) {
                throw new IllegalArgumentException("scopes is null");
            }
            return scope(scopes.toArray(new String[0]));
        }

        /** Authority host URL (default {@code https://login.microsoftonline.com}). */
        public Builder authorityHost(String url) {
            return option("authority_host", url);
        }

        /** Full token endpoint URL; overrides the authority host and tenant. */
        public Builder tokenUrl(String url) {
            return option("token_url", url);
        }

        /** How to send the credentials (default {@link ClientAuthMethod#CLIENT_SECRET_POST}). */
        public Builder clientAuth(ClientAuthMethod method) {
            if (method == null) {
                throw new IllegalArgumentException("clientAuth is null");
            }
            return option("client_auth", method.value());
        }

        /** A PEM file of extra trusted CA certificates (added to the system's roots). */
        public Builder caFile(String path) {
            return option("ca_file", path);
        }

        /** A PEM file of extra trusted CA certificates (added to the system's roots). */
        public Builder caFile(Path path) {
            if (path == null) {
                throw new IllegalArgumentException("caFile is null");
            }
            return option("ca_file", path.toAbsolutePath().toString());
        }

        /** Connect timeout (default 5 s). */
        public Builder connectTimeout(Duration d) {
            return option("connect_timeout_ms", millis("connectTimeout", d));
        }

        /** Timeout of one HTTP attempt, connect included (default 10 s). */
        public Builder timeout(Duration d) {
            return option("timeout_ms", millis("timeout", d));
        }

        /** Time budget of one whole fetch, retries and waits included (default 30 s). */
        public Builder totalTimeout(Duration d) {
            return option("total_timeout_ms", millis("totalTimeout", d));
        }

        /** Attempts per fetch, 1 (no retry) to 10 (default 4). */
        public Builder maxAttempts(int attempts) {
            return option("max_attempts", Integer.toString(attempts));
        }

        /** Refresh this long before expiry (whole seconds; default 300 s; at most half the token's life). */
        public Builder refreshMargin(Duration d) {
            if (d == null || d.isNegative()) {
                throw new IllegalArgumentException("refreshMargin is null or negative");
            }
            return option("refresh_margin_s", Long.toString(d.getSeconds()));
        }

        /** Always use this HTTP proxy, {@code http://[user:pass@]host:port}; default: HTTPS_PROXY/NO_PROXY from the environment. */
        public Builder proxy(String url) {
            return option("proxy", url);
        }

        /**
         * On-host cache tier ({@code cache_dir}): processes of this user on this
         * host share tokens, and one fetch, through sealed files in {@code dir}
         * (an absolute path; created with mode 0700; refused at {@link #build()}
         * when another user owns it or others can write it). Default: the
         * {@code PAYTRIM_CACHE_DIR} variable, else off. See the README's
         * "Sharing tokens between processes and hosts".
         */
        public Builder cacheDir(Path dir) {
            if (dir == null) {
                throw new IllegalArgumentException("cacheDir is null");
            }
            return option("cache_dir", dir.toAbsolutePath().toString());
        }

        /**
         * Fleet cache tier ({@code redis_url}): {@code redis://[user:password@]host:port[/db]}
         * or {@code rediss://...}. Hosts share tokens, and one fetch, through
         * sealed values in Redis. Default: {@code PAYTRIM_REDIS_URL}, else off.
         */
        public Builder redisUrl(String url) {
            return option("redis_url", url);
        }

        /** Prefix of the Redis keys ({@code redis_key_prefix}, default {@code paytrim-auth:}). */
        public Builder redisKeyPrefix(String prefix) {
            return option("redis_key_prefix", prefix);
        }

        /** Most time Redis may add to one fetch ({@code redis_timeout_ms}, default 500 ms). */
        public Builder redisTimeout(Duration d) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException("redisTimeout is null, zero or negative");
            }
            return option("redis_timeout_ms", Long.toString(d.toMillis()));
        }

        /** PEM file of CA certificates trusted for {@code rediss://} ({@code redis_ca_file}). */
        public Builder redisCaFile(Path path) {
            if (path == null) {
                throw new IllegalArgumentException("redisCaFile is null");
            }
            return option("redis_ca_file", path.toAbsolutePath().toString());
        }

        /** Never use a proxy, whatever the environment says. */
        public Builder noProxy() {
            return option("proxy", "none");
        }

        /**
         * Sets a native configuration key directly (for keys newer than this
         * wrapper). An unknown key or bad value is refused by {@link #build()}
         * with a {@link PaytrimAuthException} of code
         * {@link PaytrimAuthErrorCode#INVALID_ARGUMENT} naming the key.
         */
        public Builder option(String key, String value) {
            if (key == null || key.isEmpty()) {
                throw new IllegalArgumentException("option key is null or empty");
            }
            if (value == null) {
                throw new IllegalArgumentException("option '" + key + "': value is null");
            }
            options.put(key, value);
            return this;
        }

        /**
         * Where {@link PaytrimAuthClient#getTokenAsync()} futures complete after
         * a fetch (default {@link ForkJoinPool#commonPool()}). {@code null}
         * completes them directly on the library's fetch thread, attached to
         * the JVM: then dependent stages must not block.
         */
        public Builder asyncExecutor(Executor executor) {
            this.asyncExecutor = executor;
            this.asyncExecutorSet = true;
            return this;
        }

        /**
         * Creates the client. Sends nothing.
         *
         * @throws PaytrimAuthException (code INVALID_ARGUMENT) for an unknown key or bad value
         * @throws UnsatisfiedLinkError when the native library cannot be loaded or has the wrong ABI version
         */
        public PaytrimAuthClient build() {
            return new PaytrimAuthClient(this);
        }

        private static String millis(String what, Duration d) {
            if (d == null || d.isNegative()) {
                throw new IllegalArgumentException(what + " is null or negative");
            }
            return Long.toString(d.toMillis());
        }

        /** Shows the client id and options, never the secret. */
        @Override
        public String toString() {
            return "PaytrimAuthClient.Builder{clientId=" + describe() + ", credential=" + credentialKind
                    + ", options=" + options.keySet() + "}";
        }
    }
}
