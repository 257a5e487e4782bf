'use strict';

// PaytrimAuthClient against the project's Entra emulator (started here).
// Every test registers its own client id at the emulator, so it has its own
// cache key and its own request count; tests in this file run one at a time
// (faults and knobs are global to the emulator).

const test = require('node:test');
const assert = require('node:assert/strict');
const util = require('node:util');
const { Emulator } = require('./helpers/emulator');
const { PaytrimAuthClient, PaytrimAuthError, ERROR_CODES, CLIENT_CLOSED } = require('..');

let emu;
test.before(async () => {
  emu = await Emulator.start();
});
test.after(async () => {
  if (emu) await emu.stop();
});

const SCOPE = 'api://paytrim/.default';

async function newClient(extra = {}) {
  const creds = await emu.newClient();
  const client = new PaytrimAuthClient(emu.options(creds, extra));
  return { creds, client };
}

// ------------------------------------------------------------------ happy path

test('getToken sends the documented request and returns { tokenType, accessToken, expiresOn }', async () => {
  const { creds, client } = await newClient();
  try {
    const before = Date.now();
    const t = await client.getToken();
    assert.equal(t.tokenType, 'Bearer');
    assert.equal(typeof t.accessToken, 'string');
    assert.match(t.accessToken, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    assert.ok(t.expiresOn instanceof Date);
    const left = t.expiresOn.getTime() - before;
    assert.ok(left > 3500 * 1000 && left <= 3600 * 1000, `expiresOn about an hour ahead, got ${left} ms`);

    const reqs = await emu.requestsFor(creds.clientId);
    assert.equal(reqs.length, 1);
    const r = reqs[0];
    assert.equal(r.method, 'POST');
    assert.equal(r.path, '/contoso.onmicrosoft.com/oauth2/v2.0/token');
    assert.equal(r.scheme, 'https');
    assert.match(r.headers['content-type'], /^application\/x-www-form-urlencoded/);
    assert.equal(r.client_auth, 'client_secret_post');
    assert.deepEqual(
      { ...r.form },
      { grant_type: 'client_credentials', client_id: creds.clientId, client_secret: creds.clientSecret, scope: SCOPE }
    );
    assert.equal(r.status, 200);
  } finally {
    client.close();
  }
});

test('clientAuth client_secret_basic sends the secret in an Authorization: Basic header', async () => {
  const { creds, client } = await newClient({ clientAuth: 'client_secret_basic' });
  try {
    await client.getToken();
    const [r] = await emu.requestsFor(creds.clientId);
    assert.equal(r.client_auth, 'client_secret_basic');
    assert.equal(r.basic_client_id, creds.clientId);
    assert.equal(r.basic_client_secret, creds.clientSecret);
    assert.equal(r.form.client_secret, undefined);
    assert.equal(r.status, 200);
  } finally {
    client.close();
  }
});

test('tokenUrl overrides the whole endpoint (plain OAuth 2.0 flavour)', async () => {
  const { creds, client } = await newClient({ tokenUrl: `${emu.https}/oauth2/token` });
  try {
    const t = await client.getToken();
    assert.ok(t.accessToken.length > 0);
    const [r] = await emu.requestsFor(creds.clientId);
    assert.equal(r.path, '/oauth2/token');
    assert.equal(r.status, 200);
  } finally {
    client.close();
  }
});

test('getTokenJson returns the documented response object', async () => {
  const { creds, client } = await newClient();
  try {
    const j = await client.getTokenJson(); // miss: fetched off the event loop
    assert.deepEqual(Object.keys(j), ['token_type', 'expires_in', 'access_token']);
    assert.equal(j.token_type, 'Bearer');
    assert.ok(Number.isInteger(j.expires_in) && j.expires_in > 3500 && j.expires_in <= 3599, `expires_in ${j.expires_in}`);
    const t = await client.getToken();
    assert.equal(j.access_token, t.accessToken);
    const j2 = await client.getTokenJson(); // hit
    assert.equal(j2.access_token, t.accessToken);
    assert.equal((await emu.requestsFor(creds.clientId)).length, 1);
  } finally {
    client.close();
  }
});

// ------------------------------------------------------------------ caching

test('tokens are cached per client and shared by clients with the same key', async () => {
  const { creds, client } = await newClient();
  const twin = new PaytrimAuthClient(emu.options(creds));
  try {
    const a = await client.getToken();
    const b = await client.getToken();
    const c = await twin.getToken();
    assert.equal(b.accessToken, a.accessToken);
    assert.equal(c.accessToken, a.accessToken);
    assert.equal(b.expiresOn.getTime(), a.expiresOn.getTime());
    assert.equal((await emu.requestsFor(creds.clientId)).length, 1);
  } finally {
    client.close();
    twin.close();
  }
});

test('refreshToken forces a new fetch and the cache then serves the new token', async () => {
  const { creds, client } = await newClient();
  try {
    const a = await client.getToken();
    const r = await client.refreshToken();
    assert.notEqual(r.accessToken, a.accessToken);
    assert.equal(r.tokenType, 'Bearer');
    assert.ok(r.expiresOn instanceof Date);
    const c = await client.getToken();
    assert.equal(c.accessToken, r.accessToken);
    assert.equal((await emu.requestsFor(creds.clientId)).length, 2);
  } finally {
    client.close();
  }
});

test('single flight: 40 concurrent getToken() calls share one request', async () => {
  const { creds, client } = await newClient();
  await emu.configure({ latency_ms: 300 });
  try {
    const all = await Promise.all(Array.from({ length: 40 }, () => client.getToken()));
    const tokens = new Set(all.map((t) => t.accessToken));
    assert.equal(tokens.size, 1);
    assert.equal((await emu.requestsFor(creds.clientId)).length, 1);
  } finally {
    await emu.configure({ latency_ms: 0 });
    client.close();
  }
});

/** The longest gap between 20 ms ticks over `ms` of an idle event loop: this machine's noise now. */
async function idleTickGap(ms) {
  let last = Date.now();
  let maxGap = 0;
  const timer = setInterval(() => {
    const now = Date.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
  }, 20);
  await new Promise((r) => setTimeout(r, ms));
  clearInterval(timer);
  return maxGap;
}

test('a slow fetch does not block the event loop (a timer keeps ticking)', async () => {
  const { client } = await newClient();
  // A blocked loop would show one gap of about the whole 1500 ms fetch; the bound
  // follows this run's own idle noise, capped well below that.
  const bound = Math.min(1200, Math.max(750, 3 * (await idleTickGap(500))));
  await emu.configure({ latency_ms: 1500 });
  let ticks = 0;
  let last = Date.now();
  let maxGap = 0;
  const timer = setInterval(() => {
    const now = Date.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
    ticks++;
  }, 20);
  try {
    const started = Date.now();
    const t = await client.getToken();
    const elapsed = Date.now() - started;
    assert.ok(t.accessToken.length > 0);
    assert.ok(elapsed >= 1400, `the fetch took the emulator's latency (${elapsed} ms)`);
    assert.ok(ticks >= 20, `timer ticked ${ticks} times during ${elapsed} ms`);
    assert.ok(maxGap < bound, `longest gap between ticks ${maxGap} ms (bound ${bound} ms)`);
  } finally {
    clearInterval(timer);
    await emu.configure({ latency_ms: 0 });
    client.close();
  }
});

test('refreshToken during a slow fetch also leaves the event loop free', async () => {
  const { client } = await newClient();
  await emu.configure({ latency_ms: 800 });
  let ticks = 0;
  const timer = setInterval(() => ticks++, 20);
  try {
    await client.refreshToken();
    assert.ok(ticks >= 10, `timer ticked ${ticks} times`);
  } finally {
    clearInterval(timer);
    await emu.configure({ latency_ms: 0 });
    client.close();
  }
});

// ------------------------------------------------------------------ TokenCredential shape

test('getToken(scopes) follows the @azure/core-auth TokenCredential shape', async () => {
  const { creds, client } = await newClient();
  try {
    const before = Date.now();
    const at = await client.getToken(SCOPE);
    assert.equal(typeof at.token, 'string');
    assert.equal(typeof at.expiresOnTimestamp, 'number');
    assert.ok(at.expiresOnTimestamp > before + 3500 * 1000);
    const same = await client.getToken([SCOPE], { abortSignal: new AbortController().signal });
    assert.equal(same.token, at.token);
    assert.equal((await client.getToken()).accessToken, at.token);
    assert.equal((await emu.requestsFor(creds.clientId)).length, 1);

    // Another scope set: its own cache entry in the library, on the same native client.
    const other = await client.getToken(['api://other/.default']);
    assert.notEqual(other.token, at.token);
    const other2 = await client.getToken('api://other/.default');
    assert.equal(other2.token, other.token);
    const reqs = await emu.requestsFor(creds.clientId);
    assert.equal(reqs.length, 2);
    assert.equal(reqs[1].form.scope, 'api://other/.default');

    const ac = new AbortController();
    ac.abort();
    await assert.rejects(client.getToken(SCOPE, { abortSignal: ac.signal }), { name: 'AbortError' });
    await assert.rejects(client.getToken(42), TypeError);
  } finally {
    client.close();
  }
});

test('getToken(scopes) for ever-new scope sets: one native client serves them all', async () => {
  const { _liveNativeClients, _MAX_SCOPE_VIEWS } = require('..');
  const live = _liveNativeClients();
  const { creds, client } = await newClient();
  try {
    const n = _MAX_SCOPE_VIEWS + 8;
    const first = await client.getToken('api://scope-0/.default');
    for (let i = 1; i < n; i++) {
      const t = await client.getToken(`api://scope-${i}/.default`);
      assert.equal(typeof t.token, 'string');
    }
    assert.equal(_liveNativeClients() - live, 1, 'no native client per scope set any more');
    assert.equal((await emu.requestsFor(creds.clientId)).length, n);
    // A scope set whose view was dropped is served again from the library's cache: no request.
    const again = await client.getToken('api://scope-0/.default');
    assert.equal(again.token, first.token);
    assert.equal((await emu.requestsFor(creds.clientId)).length, n);
  } finally {
    client.close();
  }
  assert.equal(_liveNativeClients(), live, 'close() frees the one native client');
});

// ------------------------------------------------------------------ errors

function assertNoSecret(err, secret) {
  for (const s of [err.message, String(err), util.inspect(err), JSON.stringify(err)]) {
    assert.ok(!s.includes(secret), 'the secret must not appear in the error');
  }
}

async function expectError(promise, checks) {
  let err;
  try {
    await promise;
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof PaytrimAuthError, `expected a PaytrimAuthError, got ${err}`);
  assert.ok(err instanceof Error);
  assert.equal(err.name, 'PaytrimAuthError');
  for (const [k, v] of Object.entries(checks)) {
    if (v instanceof RegExp) assert.match(String(err[k]), v, k);
    else assert.deepEqual(err[k], v, k);
  }
  if (checks.code && ERROR_CODES[checks.code]) assert.equal(err.codeNumber, ERROR_CODES[checks.code]);
  return err;
}

test('CREDENTIAL_REJECTED: wrong secret, with Entra details', async () => {
  const creds = await emu.newClient();
  const wrong = 'wrong-' + creds.clientSecret;
  const client = new PaytrimAuthClient(emu.options({ clientId: creds.clientId, clientSecret: wrong }));
  try {
    const err = await expectError(client.getToken(), {
      code: 'CREDENTIAL_REJECTED',
      httpStatus: 401,
      oauthError: 'invalid_client',
      aadstsCodes: [7000215],
      retryable: false,
      retryAfterS: null,
    });
    assert.match(err.traceId, /^[0-9a-f-]{36}$/);
    assert.match(err.correlationId, /^[0-9a-f-]{36}$/);
    assert.match(err.clientRequestId, /^[0-9a-f-]{36}$/);
    assert.match(err.oauthErrorDescription, /AADSTS7000215/);
    assert.ok(err.timestamp);
    assertNoSecret(err, wrong);
    const [r] = await emu.requestsFor(creds.clientId);
    assert.equal(r.status, 401);
  } finally {
    client.close();
  }
});

test('CREDENTIAL_REJECTED: unknown client id (AADSTS700016) and expired secret (AADSTS7000222)', async () => {
  const unknown = new PaytrimAuthClient(emu.options({ clientId: crypto.randomUUID(), clientSecret: 's' }));
  const expiredCreds = await emu.newClient({ expired: true });
  const expired = new PaytrimAuthClient(emu.options(expiredCreds));
  try {
    await expectError(unknown.getToken(), {
      code: 'CREDENTIAL_REJECTED',
      httpStatus: 400,
      oauthError: 'unauthorized_client',
      aadstsCodes: [700016],
    });
    await expectError(expired.getToken(), { code: 'CREDENTIAL_REJECTED', httpStatus: 401, aadstsCodes: [7000222] });
  } finally {
    unknown.close();
    expired.close();
  }
});

test('TENANT_NOT_FOUND: unknown tenant (AADSTS90002)', async () => {
  const { client } = await newClient({ tenant: 'unknown-tenant' });
  try {
    await expectError(client.getToken(), {
      code: 'TENANT_NOT_FOUND',
      httpStatus: 400,
      oauthError: 'invalid_request',
      aadstsCodes: [90002],
      retryable: false,
    });
  } finally {
    client.close();
  }
});

test('REQUEST_REJECTED: a scope without /.default (invalid_scope)', async () => {
  const { client } = await newClient({ scope: 'api://paytrim/read' });
  try {
    await expectError(client.getToken(), {
      code: 'REQUEST_REJECTED',
      httpStatus: 400,
      oauthError: 'invalid_scope',
      aadstsCodes: [1002012],
      retryable: false,
    });
  } finally {
    client.close();
  }
});

test('THROTTLED: 429 with Retry-After, retryAfterS set', async () => {
  const { client } = await newClient({ maxAttempts: 1 });
  await emu.fault({ kind: 'status', status: 429, retry_after: '7' });
  try {
    const err = await expectError(client.getToken(), { code: 'THROTTLED', httpStatus: 429, retryable: true });
    assert.ok(err.retryAfterS > 0 && err.retryAfterS <= 7, `retryAfterS ${err.retryAfterS}`);
  } finally {
    client.close();
  }
});

test('SERVER: HTTP 500 after the retry budget', async () => {
  const { creds, client } = await newClient({ maxAttempts: 2 });
  await emu.fault({ kind: 'status', status: 500, count: 2 });
  try {
    await expectError(client.getToken(), { code: 'SERVER', httpStatus: 500, oauthError: 'server_error', retryable: true });
    assert.equal((await emu.requestsFor(creds.clientId)).length, 2, 'retried once (maxAttempts 2)');
  } finally {
    client.close();
  }
});

test('SERVER recovers: a transient 503 is retried and the token arrives', async () => {
  const { creds, client } = await newClient({ maxAttempts: 3 });
  await emu.fault({ kind: 'status', status: 503 });
  try {
    const t = await client.getToken();
    assert.ok(t.accessToken.length > 0);
    assert.equal((await emu.requestsFor(creds.clientId)).length, 2);
  } finally {
    client.close();
  }
});

test('PROTOCOL: malformed JSON; SERVER: an HTML 502 proxy page', async () => {
  const { client } = await newClient({ maxAttempts: 1 });
  const { client: client2 } = await newClient({ maxAttempts: 1 });
  try {
    await emu.fault({ kind: 'malformed_json' });
    await expectError(client.getToken(), { code: 'PROTOCOL', httpStatus: 200 });
    await emu.fault({ kind: 'html', status: 502 });
    // A 5xx HTML page from a proxy is the server failing, not a protocol error.
    await expectError(client2.getToken(), { code: 'SERVER', httpStatus: 502, retryable: true });
  } finally {
    client.close();
    client2.close();
  }
});

test('NETWORK: connection reset, and connection refused', async () => {
  const { client } = await newClient({ maxAttempts: 1 });
  const refused = new PaytrimAuthClient(
    emu.options({ clientId: 'x', clientSecret: 'y' }, { authorityHost: 'https://127.0.0.1:1', maxAttempts: 1 })
  );
  try {
    await emu.fault({ kind: 'reset' });
    await expectError(client.getToken(), { code: 'NETWORK', httpStatus: null, retryable: true });
    await expectError(refused.getToken(), { code: 'NETWORK', retryable: true });
  } finally {
    client.close();
    refused.close();
  }
});

test('NETWORK: a stalled answer hits timeoutMs', async () => {
  const { client } = await newClient({ maxAttempts: 1, timeoutMs: 500 });
  await emu.fault({ kind: 'stall', ms: 15000 });
  try {
    const started = Date.now();
    await expectError(client.getToken(), { code: 'NETWORK', retryable: true, message: /time/i });
    // Generous: 500 ms plus room for a loaded machine, well short of the 15 s stall.
    const took = Date.now() - started;
    assert.ok(took >= 400 && took < 10000, `timed out after ${took} ms, before the stall ended`);
  } finally {
    client.close();
  }
});

test('TLS: wrong host name, and an untrusted CA', async () => {
  const port = new URL(emu.https).port;
  const creds = await emu.newClient();
  const wrongHost = new PaytrimAuthClient(emu.options(creds, { authorityHost: `https://localhost:${port}`, maxAttempts: 1 }));
  const untrusted = new PaytrimAuthClient(emu.options(creds, { caFile: undefined, maxAttempts: 1 }));
  try {
    await expectError(wrongHost.getToken(), { code: 'TLS', httpStatus: null });
    await expectError(untrusted.getToken(), { code: 'TLS', httpStatus: null });
    assert.equal((await emu.requestsFor(creds.clientId)).length, 0);
  } finally {
    wrongHost.close();
    untrusted.close();
  }
});

test('INVALID_ARGUMENT from the core names the configuration key', async () => {
  const creds = await emu.newClient();
  for (const [extra, key] of [
    [{ maxAttempts: 0 }, 'max_attempts'],
    [{ clientAuth: 'private_key_jwt' }, 'client_auth'],
    [{ authorityHost: 'not a url' }, 'authority_host'],
  ]) {
    let err;
    try {
      new PaytrimAuthClient(emu.options(creds, extra));
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof PaytrimAuthError, `${key}: ${err}`);
    assert.equal(err.code, 'INVALID_ARGUMENT');
    assert.equal(err.codeNumber, ERROR_CODES.INVALID_ARGUMENT);
    assert.match(err.message, new RegExp(key));
    assertNoSecret(err, creds.clientSecret);
  }
});

// ------------------------------------------------------------------ bad input

test('bad input: missing or empty id/secret, wrong option types, unknown option', () => {
  const base = { clientId: 'id', clientSecret: 'secret' };
  const invalid = (opts, re) =>
    assert.throws(
      () => new PaytrimAuthClient(opts),
      (e) => e instanceof PaytrimAuthError && e.code === 'INVALID_ARGUMENT' && re.test(e.message)
    );
  invalid({ clientSecret: 'secret' }, /clientId/);
  invalid({ clientId: 'id' }, /clientSecret/);
  invalid({ clientId: '', clientSecret: 'secret' }, /clientId/);
  invalid({ clientId: 'id', clientSecret: '' }, /clientSecret/);
  invalid({ ...base, clientSecert: 'typo' }, /unknown option "clientSecert"/);
  invalid({ ...base, tenant: 'a\0b' }, /NUL/);

  assert.throws(() => new PaytrimAuthClient(), TypeError);
  assert.throws(() => new PaytrimAuthClient('id'), TypeError);
  assert.throws(() => new PaytrimAuthClient({ clientId: 42, clientSecret: 'secret' }), TypeError);
  assert.throws(() => new PaytrimAuthClient({ clientId: 'id', clientSecret: Buffer.from('x') }), TypeError);
  assert.throws(() => new PaytrimAuthClient({ ...base, timeoutMs: '1000' }), TypeError);
  assert.throws(() => new PaytrimAuthClient({ ...base, maxAttempts: true }), TypeError);
  assert.throws(() => new PaytrimAuthClient({ ...base, tenant: 7 }), TypeError);
  assert.throws(() => new PaytrimAuthClient({ ...base, scope: [1] }), TypeError);
  assert.throws(() => new PaytrimAuthClient({ ...base, timeoutMs: 1.5 }), RangeError);
  assert.throws(() => new PaytrimAuthClient({ ...base, timeoutMs: -1 }), RangeError);
  // Arrays of scopes are accepted.
  new PaytrimAuthClient({ ...base, scope: ['api://a/.default', 'api://b/.default'] }).close();
});

test('the secret never shows in inspect, toString or JSON', async () => {
  const { creds, client } = await newClient();
  try {
    for (const s of [util.inspect(client, { showHidden: true, depth: 5 }), String(client), JSON.stringify(client)]) {
      assert.ok(s.includes(creds.clientId));
      assert.ok(!s.includes(creds.clientSecret));
    }
  } finally {
    client.close();
  }
});

// ------------------------------------------------------------------ lifetime

test('close() is idempotent and later calls reject with CLIENT_CLOSED', async () => {
  const { client } = await newClient();
  await client.getToken();
  client.close();
  client.close();
  assert.equal(client.closed, true);
  for (const call of [() => client.getToken(), () => client.getTokenJson(), () => client.refreshToken(), () => client.getToken(SCOPE)]) {
    await assert.rejects(call(), (e) => e instanceof PaytrimAuthError && e.code === CLIENT_CLOSED && /closed/.test(e.message));
  }
});

test('close() while fetches are in flight lets them finish, then frees the client', async () => {
  const { creds, client } = await newClient();
  const { _liveNativeClients } = require('..');
  await emu.configure({ latency_ms: 400 });
  try {
    const live = _liveNativeClients();
    const pending = [client.getToken(), client.getToken(), client.getTokenJson(), client.refreshToken()];
    client.close();
    // No await since the calls started: none of them can have been delivered yet
    // (completions arrive on the event loop), so all four are in flight here.
    assert.equal(_liveNativeClients(), live, 'not freed under the in-flight calls');
    await assert.rejects(client.getToken(), { code: CLIENT_CLOSED });
    const [a, b, j, r] = await Promise.all(pending);
    assert.ok(a.accessToken && b.accessToken && j.access_token && r.accessToken);
    assert.equal(_liveNativeClients(), live - 1, 'freed once the calls ended');
    // The two getToken, the getTokenJson and the refreshToken (which joins a
    // fetch in progress) share one request: a second would mean a call re-fetched.
    assert.equal((await emu.requestsFor(creds.clientId)).length, 1);
    assert.equal(a.accessToken, r.accessToken, 'the refresh joined the fetch in flight');
  } finally {
    await emu.configure({ latency_ms: 0 });
  }
});

test('unclosed clients are freed by the FinalizationRegistry backstop', async () => {
  const { execFileSync } = require('node:child_process');
  const script = `
    const m = require(${JSON.stringify(require.resolve('..'))});
    (async () => {
      const kept = new m.PaytrimAuthClient({ clientId: 'kept', clientSecret: 's' });
      for (let i = 0; i < 200; i++) new m.PaytrimAuthClient({ clientId: 'id' + i, clientSecret: 's' });
      const before = m._liveNativeClients();
      for (let i = 0; i < 10 && m._liveNativeClients() > 1; i++) {
        global.gc();
        await new Promise((r) => setTimeout(r, 20));
      }
      console.log(JSON.stringify({ before, after: m._liveNativeClients(), kept: String(kept) }));
    })();`;
  const out = JSON.parse(execFileSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8' }));
  assert.equal(out.before, 201);
  assert.equal(out.after, 1, 'only the client still referenced is alive');
});

test('ESM import gives the same classes', async () => {
  const esm = await import('../index.mjs');
  assert.equal(esm.PaytrimAuthClient, PaytrimAuthClient);
  assert.equal(esm.PaytrimAuthError, PaytrimAuthError);
  assert.equal(esm.default.PaytrimAuthClient, PaytrimAuthClient);
});
