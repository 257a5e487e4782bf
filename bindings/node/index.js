'use strict';

const util = require('node:util');
const { koffi, N, ABI_VERSION, LIBRARY_PATH, takeString } = require('./lib/native');
const { notifier, setLogger: setNotifierLogger, stats: notifierStats, LEVEL_NAMES } = require('./lib/notifier');
const { ERROR_CODES, CODE_NAMES, CLIENT_CLOSED, PaytrimAuthError } = require('./lib/errors');
const { CREDENTIAL_OPTIONS, parseCredential, newNativeClient, releaseCredential } = require('./lib/credentials');

const DEFAULT_SCOPE = 'https://graph.microsoft.com/.default';

// JS option name -> configuration key of the core, and its JS type.
const CONFIG_OPTIONS = Object.freeze({
  tenant: ['tenant', 'string'],
  scope: ['scope', 'scopes'],
  authorityHost: ['authority_host', 'string'],
  tokenUrl: ['token_url', 'string'],
  clientAuth: ['client_auth', 'string'],
  caFile: ['ca_file', 'string'],
  connectTimeoutMs: ['connect_timeout_ms', 'integer'],
  timeoutMs: ['timeout_ms', 'integer'],
  totalTimeoutMs: ['total_timeout_ms', 'integer'],
  maxAttempts: ['max_attempts', 'integer'],
  refreshMarginS: ['refresh_margin_s', 'integer'],
  proxy: ['proxy', 'string'],
  imdsEndpoint: ['imds_endpoint', 'string'],
  identityEndpoint: ['identity_endpoint', 'string'],
  identityHeader: ['identity_header', 'string'],
  cacheDir: ['cache_dir', 'string'],
  redisUrl: ['redis_url', 'string'],
  redisKeyPrefix: ['redis_key_prefix', 'string'],
  redisTimeoutMs: ['redis_timeout_ms', 'integer'],
  redisCaFile: ['redis_ca_file', 'string'],
});
const KNOWN_OPTIONS = new Set(['clientId', ...CREDENTIAL_OPTIONS, ...Object.keys(CONFIG_OPTIONS)]);
// Set by PaytrimAuthClient.fromEnvironment(): the credential comes from the variables.
const FROM_ENVIRONMENT = Symbol('fromEnvironment');

// ---------------------------------------------------------------- errors

function readError(p) {
  const codeNumber = N.errorCode(p);
  const lenOut = [0];
  const codesPtr = N.errorAadstsCodes(p, lenOut);
  const len = Number(lenOut[0]);
  const aadstsCodes = codesPtr && len > 0 ? Array.from(koffi.decode(codesPtr, 'uint32_t', len)) : [];
  const retryAfterMs = N.errorRetryAfterMs(p);
  const httpStatus = N.errorHttpStatus(p);
  return new PaytrimAuthError(N.errorMessage(p) || 'paytrim-auth error', {
    codeNumber,
    code: CODE_NAMES[codeNumber] || 'UNKNOWN',
    httpStatus: httpStatus === 0 ? null : httpStatus,
    oauthError: N.errorOauthError(p),
    oauthErrorDescription: N.errorOauthErrorDescription(p),
    aadstsCodes,
    traceId: N.errorTraceId(p),
    correlationId: N.errorCorrelationId(p),
    clientRequestId: N.errorClientRequestId(p),
    timestamp: N.errorTimestamp(p),
    retryAfterS: Number(retryAfterMs) < 0 ? null : Number(retryAfterMs) / 1000,
    retryable: N.errorIsRetryable(p),
  });
}

/** Reads an owned error and frees it. */
function takeError(p) {
  try {
    return readError(p);
  } finally {
    N.errorFree(p);
  }
}

function closedError() {
  return new PaytrimAuthError('paytrim-auth: this PaytrimAuthClient is closed', { code: CLIENT_CLOSED });
}

function invalidArgument(message) {
  return new PaytrimAuthError(message, { codeNumber: ERROR_CODES.INVALID_ARGUMENT });
}

// ---------------------------------------------------------------- native handle lifetime
//
// A NativeClient owns one paytrim_auth_client *. It is freed when it is closed
// and no native request is in flight (a close() during a fetch defers the free
// to the end of that request), or by the FinalizationRegistry when the JS
// object is collected without close(). Pending requests hold the NativeClient
// strongly.

let liveNativeClients = 0;

class NativeClient {
  constructor(ptr, release) {
    liveNativeClients++;
    this.ptr = ptr;
    this.release = release; // what else the native client held (an assertion function)
    this.pending = 0;
    this.closed = false;
    // The one native request in flight for a valid token / for a refresh.
    this.fetch = null;
    this.refresh = null;
    // null: the configured scopes (see ScopeView for the others).
    this.scopes = null;
  }
  begin() {
    this.pending++;
  }
  end() {
    this.pending--;
    if (this.closed && this.pending === 0) this.freeNow();
  }
  close() {
    if (this.closed) return;
    this.closed = true;
    if (this.pending === 0) this.freeNow();
  }
  freeNow() {
    if (this.ptr !== null && this.pending === 0) {
      const p = this.ptr;
      this.ptr = null;
      liveNativeClients--;
      N.clientFree(p);
      if (this.release) this.release();
    }
  }
}

/**
 * A scope set other than the configured one, asked for per call on the same
 * native client: the library keeps its own cache entry and single flight;
 * this keeps the JS side's one request in flight per set (so callers of one
 * set join one notifier request). Holds no native resource of its own.
 */
class ScopeView {
  constructor(owner, scopes) {
    this.owner = owner;
    this.scopes = scopes;
    this.fetch = null;
    this.refresh = null;
  }
  get ptr() {
    return this.owner.ptr;
  }
  get closed() {
    return this.owner.closed;
  }
  begin() {
    this.owner.begin();
  }
  end() {
    this.owner.end();
  }
}

const finalizer = new FinalizationRegistry((handles) => {
  for (const h of handles) h.close();
});

// ---------------------------------------------------------------- async calls
//
// One native request per NativeClient and kind, however many callers wait:
// callers of a cold key join a Flight, the library queues one result to this
// environment's notifier (lib/notifier.js), and the Flight settles every
// waiter here. Waiters are grouped in buckets of SETTLE_SLICE, each bucket a
// promise that callers chain onto (one promise and one reaction per caller,
// no closures), and the buckets are settled one per turn of the event loop,
// so that 100,000 waiters and their continuations never hold the loop (or
// the garbage collector) for long.

const SETTLE_SLICE = 2000;

class Flight {
  constructor() {
    this.buckets = [];
    this.open = null; // the bucket new callers join
  }
  /** A promise of the result, passed through `shape` (if given) for this caller. */
  join(shape = null) {
    let b = this.open;
    if (b === null || b.size === SETTLE_SLICE) {
      b = { size: 0, promise: null, resolve: null, reject: null };
      b.promise = new Promise((resolve, reject) => {
        b.resolve = resolve;
        b.reject = reject;
      });
      this.buckets.push(b);
      this.open = b;
    }
    b.size++;
    return shape === null ? b.promise : b.promise.then(shape);
  }
  settle(ok, value) {
    const buckets = this.buckets;
    this.buckets = null;
    this.open = null;
    const step = (i) => {
      if (ok) buckets[i].resolve(value);
      else buckets[i].reject(value);
      if (i + 1 < buckets.length) setImmediate(step, i + 1);
    };
    step(0);
  }
}

/**
 * A valid token for `h` (`refresh`: a newly fetched one) through the
 * notifier: joins the request already in flight for `h`, or starts one.
 * No libuv worker is blocked while the fetch runs.
 */
function asyncToken(h, refresh = false, shape = null) {
  const slot = refresh ? 'refresh' : 'fetch';
  let flight = h[slot];
  if (flight !== null) return flight.join(shape);
  flight = new Flight();
  const joined = flight.join(shape);
  let request;
  try {
    if (h.scopes === null) {
      request = notifier(takeError).request(refresh ? N.refreshTokenNotify : N.getTokenNotify, h.ptr);
    } else {
      const notify = refresh ? N.refreshTokenForScopesNotify : N.getTokenForScopesNotify;
      const scopes = h.scopes;
      request = notifier(takeError).request((ptr, n, id) => notify(ptr, scopes, n, id), h.ptr);
    }
  } catch (e) {
    flight.settle(false, e);
    return joined;
  }
  h[slot] = flight;
  h.begin();
  request.then(
    (t) => {
      h[slot] = null;
      h.end();
      flight.settle(true, t);
    },
    (e) => {
      h[slot] = null;
      h.end();
      flight.settle(false, e);
    }
  );
  return joined;
}

// Scratch out-parameter slots for synchronous calls (the JS thread is single,
// and each call reads its slots before the next call).
const outToken = new BigUint64Array(1);
const outExpires = new BigInt64Array(1);

/** Cache-only lookup; never blocks. Returns null on a miss. */
function cachedToken(h) {
  outToken[0] = 0n;
  const err =
    h.scopes === null
      ? N.getCachedToken(h.ptr, outToken, outExpires)
      : N.getCachedTokenForScopes(h.ptr, h.scopes, outToken, outExpires);
  if (err) throw takeError(err);
  const p = outToken[0];
  if (p === 0n) return null;
  return { token: takeString(p), expiresOnUnixMs: Number(outExpires[0]) };
}

/**
 * A valid token, passed through `shape`: from the cache, or from the shared
 * fetch (joined without a cache lookup while one is in flight).
 */
function validToken(h, shape = null) {
  if (h.fetch !== null) return h.fetch.join(shape);
  const hit = cachedToken(h);
  if (hit === null) return asyncToken(h, false, shape);
  return Promise.resolve(shape === null ? hit : shape(hit));
}

function toTokenShape(t) {
  return { tokenType: 'Bearer', accessToken: t.token, expiresOn: new Date(t.expiresOnUnixMs) };
}

// ---------------------------------------------------------------- option checks

function checkText(name, value, { required = false } = {}) {
  if (value === undefined || value === null) {
    if (required) throw invalidArgument(`option ${name} is required`);
    return undefined;
  }
  if (typeof value !== 'string') {
    throw new TypeError(`paytrim-auth: option ${name} must be a string, not ${describeType(value)}`);
  }
  if (value.includes('\0')) throw invalidArgument(`option ${name} must not contain NUL characters`);
  if (required && value.length === 0) throw invalidArgument(`option ${name} must not be empty`);
  return value;
}

function describeType(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v;
}

function normalizeScopes(value, name) {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    for (const s of value) {
      if (typeof s !== 'string') {
        throw new TypeError(`paytrim-auth: ${name} must be a string or an array of strings`);
      }
    }
    return value.join(' ');
  }
  throw new TypeError(`paytrim-auth: ${name} must be a string or an array of strings, not ${describeType(value)}`);
}

function scopeKey(scope) {
  return [...new Set(scope.split(/\s+/).filter(Boolean))].sort().join(' ');
}

/** `{ scopes }`: a per-call scopes request (not an array, not a string). */
function isScopesRequest(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && 'scopes' in v;
}

/** Validates options; returns [clientId, credential spec, [[key, value]...]]. */
function parseOptions(options) {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError('paytrim-auth: new PaytrimAuthClient(options) needs an options object');
  }
  for (const k of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(k)) {
      throw invalidArgument(
        `unknown option ${JSON.stringify(k)}; known options: ${[...KNOWN_OPTIONS].join(', ')}`
      );
    }
  }
  let clientId;
  let credential;
  if (options[FROM_ENVIRONMENT]) {
    for (const k of ['clientId', ...CREDENTIAL_OPTIONS]) {
      if (options[k] !== undefined) {
        throw invalidArgument(`option ${k} is not taken by fromEnvironment(): the environment names the client and credential`);
      }
    }
    credential = { kind: 'environment' };
    clientId = process.env.PAYTRIM_CLIENT_ID || process.env.AZURE_CLIENT_ID || null;
  } else {
    credential = parseCredential(options, { checkText, invalidArgument });
    if (credential.kind === 'managedIdentity') {
      if (options.clientId !== undefined) {
        throw invalidArgument('option clientId is not taken with managedIdentity (give the identity there)');
      }
      clientId = null;
    } else {
      clientId = checkText('clientId', options.clientId, { required: true });
    }
  }
  const settings = [];
  for (const [name, [key, kind]] of Object.entries(CONFIG_OPTIONS)) {
    const v = options[name];
    if (v === undefined || v === null) continue;
    let text;
    if (kind === 'string') {
      text = checkText(name, v);
    } else if (kind === 'scopes') {
      text = normalizeScopes(v, 'option scope');
      if (text.includes('\0')) throw invalidArgument('option scope must not contain NUL characters');
    } else {
      if (typeof v !== 'number') {
        throw new TypeError(`paytrim-auth: option ${name} must be a number, not ${describeType(v)}`);
      }
      if (!Number.isSafeInteger(v) || v < 0) {
        throw new RangeError(`paytrim-auth: option ${name} must be a non-negative integer`);
      }
      text = String(v);
    }
    settings.push([key, text]);
  }
  return [clientId, credential, settings];
}

function createNative(clientId, credential, settings) {
  const cfg = N.configNew();
  try {
    for (const [key, value] of settings) {
      const err = N.configSet(cfg, key, value);
      if (err) throw takeError(err);
    }
    return new NativeClient(newNativeClient(clientId, credential, cfg, takeError), () => releaseCredential(credential));
  } finally {
    N.configFree(cfg);
  }
}

// ---------------------------------------------------------------- the client

// Scope sets other than the configured one, asked for per call (TokenCredential
// callers): one native client serves them all (the library keeps a cache entry
// per set, up to 64 per client). The views are plain JS objects, least recently
// used dropped first beyond this many; a dropped set's token stays cached in
// the library, so asking again is a hit through a new view.
const MAX_SCOPE_VIEWS = 64;

function scopeView(st, key, scopes) {
  let v = st.byScope.get(key);
  if (v) {
    st.byScope.delete(key);
    st.byScope.set(key, v);
    return v;
  }
  v = new ScopeView(st.handle, scopes);
  st.byScope.set(key, v);
  if (st.byScope.size > MAX_SCOPE_VIEWS) st.byScope.delete(st.byScope.keys().next().value);
  return v;
}

/** The scopes as one space-separated string; each array element one scope (checked here). */
function scopeList(value, name) {
  if (Array.isArray(value)) {
    value.forEach((s, i) => {
      if (typeof s !== 'string') {
        throw new TypeError(`paytrim-auth: ${name} must be a string or an array of strings (element ${i} is ${describeType(s)})`);
      }
      if (s.length === 0) throw invalidArgument(`${name}: scope ${i} is empty`);
      if (/[\s\0-\x1f\x7f]/.test(s)) {
        throw invalidArgument(`${name}: scope ${i} (${JSON.stringify(s)}) contains whitespace or a control character; pass each scope separately`);
      }
    });
  }
  return normalizeScopes(value, name);
}

// Per-instance private state, out of reach of util.inspect / JSON / toString
// (it holds the credential needed to create clients for other scope sets).
const privates = new WeakMap();

/**
 * A client-credentials token client backed by the native paytrim-auth core.
 * Clients with the same endpoint, client id, secret and scopes share one
 * cached token in the process.
 */
class PaytrimAuthClient {
  /**
   * `options`: `clientId` plus exactly one credential — `clientSecret`;
   * `certificatePath` (PEM or PKCS#12, with `certificatePassword`);
   * `certificatePem` (+ `privateKeyPem`, `certificatePassword`); the
   * certificate options `signingAlgorithm` ('PS256' default, 'RS256') and
   * `sendCertificateChain`; `assertion` (a function returning a signed JWT
   * or a promise of one); `federatedTokenFile` — or, without `clientId`,
   * `managedIdentity` (true, 'client_id:…', { clientId | objectId | resourceId }).
   */
  constructor(options) {
    const [clientId, credential, settings] = parseOptions(options);
    const handle = createNative(clientId, credential, settings);
    const scopeSetting = settings.find(([k]) => k === 'scope');
    const scope = scopeSetting ? scopeSetting[1] : DEFAULT_SCOPE;
    const handles = [handle];
    privates.set(this, {
      handle,
      handles,
      clientId,
      credential,
      settings,
      scopeKey: scopeKey(scope),
      byScope: new Map(), // scope key -> ScopeView, for per-call scopes
    });
    finalizer.register(this, handles, this);
    Object.defineProperty(this, 'clientId', { value: clientId, enumerable: true });
    Object.defineProperty(this, 'scope', { value: scope, enumerable: true });
  }

  /** True once close() was called. */
  get closed() {
    return privates.get(this).handle.closed;
  }

  /**
   * `getToken()` → `{ tokenType, accessToken, expiresOn }` for the configured scope.
   * `getToken({ scopes })` → the same shape for `scopes` (a string or an
   * array of scopes) instead: same credential and options, a cache entry of
   * its own per scope set in the library (one request however many callers
   * ask), the configured scopes giving the client's own entry.
   * `getToken(scopes, options?)` (the @azure/core-auth TokenCredential shape)
   * → `{ token, expiresOnTimestamp, tokenType }`; `options.abortSignal` is honoured.
   */
  getToken(scopes, options) {
    const st = privates.get(this);
    if (scopes === undefined && options === undefined) {
      const h = st.handle;
      if (h.closed) return Promise.reject(closedError());
      try {
        return validToken(h, toTokenShape);
      } catch (e) {
        return Promise.reject(e);
      }
    }
    if (isScopesRequest(scopes) && options === undefined) {
      try {
        return validToken(this.#scoped(st, scopes.scopes), toTokenShape);
      } catch (e) {
        return Promise.reject(e);
      }
    }
    return this.#getAccessToken(st, scopes, options);
  }

  /** The handle (or scope view) serving `scopes`; throws on bad scopes or a closed client. */
  #scoped(st, scopes) {
    if (st.handle.closed) throw closedError();
    const scope = scopeList(scopes, 'scopes');
    const key = scopeKey(scope);
    if (key.length === 0) throw invalidArgument('scopes: the list is empty; name at least one scope');
    return key === st.scopeKey ? st.handle : scopeView(st, key, scope);
  }

  async #getAccessToken(st, scopes, options) {
    if (options !== undefined && options !== null && typeof options !== 'object') {
      throw new TypeError('paytrim-auth: getToken options must be an object');
    }
    const signal = options && options.abortSignal;
    if (signal && signal.aborted) throw abortError(signal);
    const h = this.#scoped(st, scopes === undefined ? this.scope : scopes);
    const p = validToken(h);
    const t = signal ? await raceAbort(p, signal) : await p;
    return { token: t.token, expiresOnTimestamp: t.expiresOnUnixMs, tokenType: 'Bearer' };
  }

  /** The documented response object `{ token_type, expires_in, access_token }`. */
  async getTokenJson() {
    const h = privates.get(this).handle;
    if (h.closed) throw closedError();
    const t = await validToken(h);
    return {
      token_type: 'Bearer',
      expires_in: Math.max(0, Math.floor((t.expiresOnUnixMs - Date.now()) / 1000)),
      access_token: t.token,
    };
  }

  /**
   * Drops the cached token and fetches a new one (joining a fetch in
   * progress). Call it after the API answered 401 to a token.
   */
  async refreshToken(request) {
    const st = privates.get(this);
    if (st.handle.closed) throw closedError();
    if (request === undefined) return toTokenShape(await asyncToken(st.handle, true));
    if (!isScopesRequest(request)) throw new TypeError('paytrim-auth: refreshToken takes nothing or { scopes }');
    return toTokenShape(await asyncToken(this.#scoped(st, request.scopes), true));
  }

  /**
   * Frees the native client (after any call in flight ends). Idempotent;
   * later calls reject with a PaytrimAuthError whose code is 'CLIENT_CLOSED'.
   */
  close() {
    const st = privates.get(this);
    if (st.handle.closed) return;
    finalizer.unregister(this);
    for (const h of st.handles) h.close();
    st.byScope.clear();
    st.credential = null;
  }

  /**
   * A client configured from the environment: `PAYTRIM_*` variables first,
   * then the Azure conventions (`AZURE_CLIENT_ID`, `AZURE_TENANT_ID`,
   * `AZURE_CLIENT_SECRET`, `AZURE_CLIENT_CERTIFICATE_PATH`,
   * `AZURE_CLIENT_CERTIFICATE_PASSWORD`, `AZURE_CLIENT_SEND_CERTIFICATE_CHAIN`,
   * `AZURE_FEDERATED_TOKEN_FILE`, `AZURE_AUTHORITY_HOST`; `PAYTRIM_MANAGED_IDENTITY`),
   * on top of `options` (timeouts, proxy, scope...; the variables' tenant and
   * authority replace its own). The credential is chosen from what is set,
   * never by trying; a PaytrimAuthError (INVALID_ARGUMENT) names the
   * variables that are missing or conflict.
   */
  static fromEnvironment(options = {}) {
    if (options === null || typeof options !== 'object' || Array.isArray(options)) {
      throw new TypeError('paytrim-auth: fromEnvironment(options) needs an options object');
    }
    return new PaytrimAuthClient({ ...options, [FROM_ENVIRONMENT]: true });
  }

  /**
   * A client for an Azure managed identity (IMDS, or the App Service
   * endpoint): `identity` true/'system' (default), 'client_id:…',
   * { clientId } | { objectId } | { resourceId }. The resource is the one
   * `scope` (`https://management.azure.com/.default` asks for
   * `https://management.azure.com`).
   */
  static managedIdentity(identity = true, options = {}) {
    return new PaytrimAuthClient({ ...options, managedIdentity: identity });
  }

  toJSON() {
    return { clientId: this.clientId, scope: this.scope, closed: this.closed };
  }

  toString() {
    return `PaytrimAuthClient(clientId=${this.clientId}, scope=${this.scope}${this.closed ? ', closed' : ''})`;
  }

  [util.inspect.custom]() {
    return this.toString();
  }
}

if (typeof Symbol.dispose === 'symbol') {
  PaytrimAuthClient.prototype[Symbol.dispose] = PaytrimAuthClient.prototype.close;
}

function abortError(signal) {
  const e = new Error('paytrim-auth: the token request was aborted', { cause: signal.reason });
  e.name = 'AbortError';
  e.code = 'ABORT_ERR';
  return e;
}

function raceAbort(promise, signal) {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      }
    );
  });
}

/**
 * Sends the library's diagnostic events (cache misses, fetch start and end
 * with duration and client-request-id, retries, throttling, background
 * refreshes) to `logger(level, message)`, `level` being 'error', 'warn',
 * 'info', 'debug' or 'trace'. Events at `options.level` (default 'info') and
 * more severe ones are delivered. `logger` always runs on this environment's
 * JS thread (the main thread or this worker), from the event loop, never on a
 * library thread. Messages never contain a secret or a token; tenant and
 * client ids appear only with `options.pii: true` (process-wide setting).
 * `setLogger(null)` stops the events for this environment.
 *
 * Process-wide: while any environment has a logger, the library's C log
 * callback (`paytrim_auth_set_log_callback`) is the wrapper's.
 */
function setLogger(logger, options = {}) {
  if (logger === null || logger === undefined) {
    setNotifierLogger(takeError, null, 0);
    return;
  }
  if (typeof logger !== 'function') {
    throw new TypeError(`paytrim-auth: setLogger(logger) needs a function or null, not ${describeType(logger)}`);
  }
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError('paytrim-auth: setLogger options must be an object');
  }
  for (const k of Object.keys(options)) {
    if (k !== 'level' && k !== 'pii') {
      throw invalidArgument(`unknown setLogger option ${JSON.stringify(k)}; known options: level, pii`);
    }
  }
  const levelName = options.level === undefined ? 'info' : options.level;
  const level = LEVEL_NAMES.indexOf(levelName);
  if (typeof levelName !== 'string' || level < 1) {
    throw invalidArgument(
      `setLogger option level must be one of ${LEVEL_NAMES.slice(1).join(', ')}, not ${JSON.stringify(levelName)}`
    );
  }
  if (options.pii !== undefined && typeof options.pii !== 'boolean') {
    throw new TypeError(`paytrim-auth: setLogger option pii must be a boolean, not ${describeType(options.pii)}`);
  }
  setNotifierLogger(takeError, logger, level);
  if (options.pii !== undefined) N.setLogPii(options.pii);
}

/** Version of the loaded native library, e.g. '0.1.0'. */
function nativeVersion() {
  return N.version();
}

module.exports = {
  PaytrimAuthClient,
  PaytrimAuthError,
  ERROR_CODES,
  CLIENT_CLOSED,
  ABI_VERSION,
  LIBRARY_PATH,
  nativeVersion,
  setLogger,
  errorCodeName: (code) => N.errorCodeName(code),
  /** @internal Number of native clients not yet freed (for tests). */
  _liveNativeClients: () => liveNativeClients,
  _MAX_SCOPE_VIEWS: MAX_SCOPE_VIEWS,
  /** @internal Notifier wake-ups and native results taken, since load (for tests and benchmarks). */
  _notifierStats: () => ({ ...notifierStats }),
};
