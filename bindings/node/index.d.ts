// Type definitions for paytrim-auth (Node wrapper over libpaytrim_auth).

/** Options of `new PaytrimAuthClient()`; every configuration key of the core. */
export interface PaytrimAuthClientOptions {
  /** Application (client) id. Required, non-empty (not given with `managedIdentity`). */
  clientId?: string;
  /** Credential (exactly one of clientSecret, certificatePath, certificatePem, assertion, federatedTokenFile, managedIdentity): a client secret. Never logged or shown. */
  clientSecret?: string;
  /** Credential: a PEM (certificate chain + RSA key) or PKCS#12 (.pfx) file. */
  certificatePath?: string;
  /** Password of the certificate file or encrypted key. */
  certificatePassword?: string;
  /** Credential: the certificate chain as PEM text (with `privateKeyPem`, or holding the key too). */
  certificatePem?: string;
  /** The RSA private key as PEM text, for `certificatePem`. */
  privateKeyPem?: string;
  /** Credential: a PKCS#12 (.pfx) archive in memory (with `certificatePassword`). */
  certificatePfx?: Uint8Array;
  /** Certificates: `PS256` (default) or `RS256`. */
  signingAlgorithm?: 'PS256' | 'RS256';
  /** Certificates: send the chain as `x5c`. */
  sendCertificateChain?: boolean;
  /** Credential: returns a signed client assertion (JWT with aud = audience, iss = sub = clientId), or a promise of one. */
  assertion?: (request: AssertionRequest) => string | Promise<string>;
  /** Credential: workload identity federated token file, re-read as it rotates. */
  federatedTokenFile?: string;
  /** Credential: an Azure managed identity (no clientId): true/'system', 'client_id:…', or one id. */
  managedIdentity?: ManagedIdentity;
  /** Managed identity: IMDS base URL (default IMDS_ENDPOINT, else http://169.254.169.254). */
  imdsEndpoint?: string;
  /** Managed identity: App Service endpoint URL (default IDENTITY_ENDPOINT). */
  identityEndpoint?: string;
  /** Managed identity: App Service secret header value (default IDENTITY_HEADER). */
  identityHeader?: string;
  /** Tenant id or domain (default `common`). */
  tenant?: string;
  /** Scope(s); an array is joined with spaces (default `https://graph.microsoft.com/.default`). */
  scope?: string | string[];
  /** Authority host, e.g. `https://login.microsoftonline.com` (the default). */
  authorityHost?: string;
  /** Full token endpoint URL; overrides authorityHost + tenant. */
  tokenUrl?: string;
  /** `client_secret_post` (default) or `client_secret_basic`. */
  clientAuth?: 'client_secret_post' | 'client_secret_basic';
  /** PEM file of extra trusted CA certificates. */
  caFile?: string;
  /** TCP connect timeout, in milliseconds. */
  connectTimeoutMs?: number;
  /** Timeout of one HTTP attempt, in milliseconds. */
  timeoutMs?: number;
  /** Budget of a whole fetch including retries, in milliseconds. */
  totalTimeoutMs?: number;
  /** Attempts per fetch, 1..10. */
  maxAttempts?: number;
  /** Refresh this many seconds before expiry (in the background). */
  refreshMarginS?: number;
  /** Proxy URL, or `none`. */
  proxy?: string;
  /**
   * On-host cache tier: an absolute directory shared by this user's processes
   * (created 0700; refused if others can write it). Default: `PAYTRIM_CACHE_DIR`, else off.
   */
  cacheDir?: string;
  /** Fleet cache tier: `redis://[user:password@]host:port[/db]` or `rediss://...`. Default: `PAYTRIM_REDIS_URL`, else off. */
  redisUrl?: string;
  /** Prefix of the Redis keys (default `paytrim-auth:`). */
  redisKeyPrefix?: string;
  /** Most time Redis may add to a fetch, in milliseconds (default 500). */
  redisTimeoutMs?: number;
  /** PEM file of CA certificates trusted for `rediss://` (default: the system's roots). */
  redisCaFile?: string;
}

/** What an `assertion` function is asked to sign. */
export interface AssertionRequest {
  /** The assertion's `iss` and `sub`. */
  clientId: string;
  /** The token endpoint: the assertion's `aud`. */
  audience: string;
}

export type ManagedIdentity =
  | true
  | string
  | { clientId: string }
  | { objectId: string }
  | { resourceId: string };

/** Options of `PaytrimAuthClient.fromEnvironment()`: everything but the client and credential. */
export type EnvironmentOptions = Omit<
  PaytrimAuthClientOptions,
  | 'clientId'
  | 'clientSecret'
  | 'certificatePath'
  | 'certificatePassword'
  | 'certificatePem'
  | 'privateKeyPem'
  | 'certificatePfx'
  | 'signingAlgorithm'
  | 'sendCertificateChain'
  | 'assertion'
  | 'federatedTokenFile'
  | 'managedIdentity'
>;

/** Per-call scopes: `getToken({ scopes })`, `refreshToken({ scopes })`. */
export interface ScopesRequest {
  scopes: string | string[];
}

/** `getToken()` result. */
export interface PaytrimToken {
  tokenType: 'Bearer';
  accessToken: string;
  expiresOn: Date;
}

/** The documented token response, as returned by `getTokenJson()`. */
export interface PaytrimTokenJson {
  token_type: 'Bearer';
  /** Seconds left. */
  expires_in: number;
  access_token: string;
}

/** `@azure/core-auth` AccessToken shape. */
export interface AccessToken {
  token: string;
  /** Expiry, milliseconds since the Unix epoch. */
  expiresOnTimestamp: number;
  tokenType?: 'Bearer';
}

/** The subset of `@azure/core-auth` GetTokenOptions that is honoured. */
export interface GetTokenOptions {
  abortSignal?: AbortSignal;
  [key: string]: unknown;
}

export declare class PaytrimAuthClient {
  constructor(options: PaytrimAuthClientOptions);
  /** A client from PAYTRIM_* then AZURE_* variables (see the README's table). */
  static fromEnvironment(options?: EnvironmentOptions): PaytrimAuthClient;
  /** A client for an Azure managed identity (default: system-assigned). */
  static managedIdentity(identity?: ManagedIdentity, options?: EnvironmentOptions): PaytrimAuthClient;
  /** The client id (null for managed identity, or from the environment when it names none). */
  readonly clientId: string;
  /** The configured scope (space-separated). */
  readonly scope: string;
  readonly closed: boolean;
  /** A valid token: from the cache (no thread hop) or fetched off the event loop. */
  getToken(): Promise<PaytrimToken>;
  /**
   * A valid token for `scopes` (a space-separated string, or one scope per
   * element) instead of the configured scope: same credential and options, a
   * cache entry of its own per scope set in the library (one request however
   * many callers ask); the configured scopes give the client's own entry.
   * Bad scopes reject with a PaytrimAuthError (INVALID_ARGUMENT).
   */
  getToken(request: ScopesRequest): Promise<PaytrimToken>;
  /**
   * `@azure/core-auth` TokenCredential shape: per-call scopes as above, the
   * answer as `AccessToken`; `options.abortSignal` is honoured.
   */
  getToken(scopes: string | string[], options?: GetTokenOptions | null): Promise<AccessToken>;
  /** `{ token_type, expires_in, access_token }`, as the documented endpoint answers. */
  getTokenJson(): Promise<PaytrimTokenJson>;
  /** Drops the cached token and fetches a new one (use after a 401). */
  refreshToken(): Promise<PaytrimToken>;
  /** The same for one scope set named per call (drops that set's token only). */
  refreshToken(request: ScopesRequest): Promise<PaytrimToken>;
  /** Frees the native client once calls in flight end. Idempotent. */
  close(): void;
  toJSON(): { clientId: string; scope: string; closed: boolean };
}

export type PaytrimAuthErrorCode =
  | 'INVALID_ARGUMENT'
  | 'CREDENTIAL_REJECTED'
  | 'TENANT_NOT_FOUND'
  | 'THROTTLED'
  | 'NETWORK'
  | 'TLS'
  | 'SERVER'
  | 'PROTOCOL'
  | 'REQUEST_REJECTED'
  | 'INTERNAL'
  | 'CLIENT_CLOSED'
  | 'UNKNOWN';

export declare class PaytrimAuthError extends Error {
  readonly name: 'PaytrimAuthError';
  /** Category; 'CLIENT_CLOSED' for a call on a closed client. */
  readonly code: PaytrimAuthErrorCode;
  /** PAYTRIM_AUTH_ERROR_* value; 0 for wrapper-only errors. */
  readonly codeNumber: number;
  readonly httpStatus: number | null;
  readonly oauthError: string | null;
  readonly oauthErrorDescription: string | null;
  /** Entra AADSTS codes, e.g. [7000215]. */
  readonly aadstsCodes: number[];
  readonly traceId: string | null;
  readonly correlationId: string | null;
  /** The client-request-id sent with the failing request. */
  readonly clientRequestId: string | null;
  readonly timestamp: string | null;
  /** Seconds to wait before trying again, or null. */
  readonly retryAfterS: number | null;
  readonly retryable: boolean;
}

export declare const ERROR_CODES: Readonly<{
  INVALID_ARGUMENT: 1;
  CREDENTIAL_REJECTED: 2;
  TENANT_NOT_FOUND: 3;
  THROTTLED: 4;
  NETWORK: 5;
  TLS: 6;
  SERVER: 7;
  PROTOCOL: 8;
  REQUEST_REJECTED: 9;
  INTERNAL: 10;
}>;
export declare const CLIENT_CLOSED: 'CLIENT_CLOSED';
/** PAYTRIM_AUTH_ABI_VERSION this wrapper was written for. */
export declare const ABI_VERSION: number;
/** Absolute path of the native library loaded. */
export declare const LIBRARY_PATH: string;
/** Version of the loaded native library. */
export declare function nativeVersion(): string;
export type LogLevel = 'error' | 'warn' | 'info' | 'debug' | 'trace';
/**
 * Sends the library's diagnostic events at `options.level` (default 'info')
 * and more severe ones to `logger`, on this environment's JS thread. Never a
 * secret or a token; tenant and client ids only with `pii: true`
 * (process-wide). `null` stops them for this environment.
 */
export declare function setLogger(
  logger: ((level: LogLevel, message: string) => void) | null,
  options?: { level?: LogLevel; pii?: boolean }
): void;
/** snake_case name of a numeric error code, e.g. 'credential_rejected'. */
export declare function errorCodeName(code: number): string;
