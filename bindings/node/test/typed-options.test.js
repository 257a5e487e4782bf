'use strict';

// The typed options (connectTimeoutMs, totalTimeoutMs, refreshMarginS, proxy)
// reach the library with the right key and unit: each is set and its effect
// measured, so a wrong key or unit fails. Also the statuses the README lists
// as retried (408, 504) and a 429 without Retry-After. Own emulator: these
// tests change its knobs; they run one at a time.

const test = require('node:test');
const assert = require('node:assert/strict');
const { Emulator } = require('./helpers/emulator');
const { silentServer, recordingProxy } = require('./helpers/loopback-servers');
const { runFromEnvironment } = require('./helpers/child-from-environment');
const { PaytrimAuthClient, PaytrimAuthError } = require('..');

let emu;
test.before(async () => {
  emu = await Emulator.start();
});
test.after(async () => {
  if (emu) await emu.stop();
});
test.afterEach(async () => {
  await emu.reset();
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function newClient(extra = {}) {
  const creds = await emu.newClient();
  return { creds, client: new PaytrimAuthClient(emu.options(creds, extra)) };
}

async function rejection(promise) {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof PaytrimAuthError, `expected a PaytrimAuthError, got ${e}`);
    return e;
  }
  assert.fail('expected the call to fail');
}

test('connectTimeoutMs bounds a stalled TLS handshake', async () => {
  const silent = await silentServer();
  const client = new PaytrimAuthClient({
    clientId: 'connect-id',
    clientSecret: 'connect-secret',
    tokenUrl: `https://127.0.0.1:${silent.port}/oauth2/v2.0/token`,
    proxy: 'none',
    connectTimeoutMs: 700,
    timeoutMs: 20000,
    totalTimeoutMs: 30000,
    maxAttempts: 1,
  });
  try {
    const t0 = process.hrtime.bigint();
    const e = await rejection(client.getToken());
    const took = Number(process.hrtime.bigint() - t0) / 1e6;
    assert.equal(e.code, 'NETWORK', e.message);
    assert.match(e.message, /connect/);
    assert.match(e.message, /700 ms/);
    assert.equal(silent.held.length, 1, 'one attempt reached TCP');
    // 700 ms, not 0.7 ms and not 700 s (the attempt timeout, 20 s, would end that one).
    assert.ok(took >= 600, `ended before the connect timeout: ${took} ms`);
    assert.ok(took < 700 + 8000, `took ${took} ms`);
  } finally {
    client.close();
    await silent.close();
  }
});

test('totalTimeoutMs bounds a fetch whose attempts stall', async () => {
  const { client } = await newClient({ timeoutMs: 20000, totalTimeoutMs: 1200, maxAttempts: 4 });
  await emu.fault({ kind: 'stall', ms: 25000, count: 10 });
  try {
    const t0 = process.hrtime.bigint();
    const e = await rejection(client.getToken());
    const took = Number(process.hrtime.bigint() - t0) / 1e6;
    assert.equal(e.code, 'NETWORK', e.message);
    assert.ok(took >= 1000, `ended before the budget: ${took} ms`);
    // Not 1200 s: one attempt alone would then run its whole 20 s.
    assert.ok(took < 1200 + 8000, `took ${took} ms`);
  } finally {
    client.close();
  }
});

async function sleepUntil(unixMs) {
  const ms = unixMs - Date.now();
  assert.ok(ms > 0, `the test fell behind its own schedule by ${-ms} ms`);
  await sleep(ms);
}

async function awaitRequests(clientId, n) {
  const deadline = Date.now() + 15000;
  while ((await emu.requestsFor(clientId)).length < n && Date.now() < deadline) await sleep(25);
  return emu.requestsFor(clientId);
}

test('refreshMarginS starts the background refresh that long before expiry', async () => {
  // Tokens live 8 s, so the margin is capped at 4 s. With refreshMarginS: 2 a
  // call 3 s before expiry is served from the cache without a request, and a
  // call 1.2 s before expiry starts a background refresh. A margin sent as
  // milliseconds (capped to 4 s) refreshes at the first call; 0 never early.
  await emu.configure({ expires_in: 8 });
  const { creds, client } = await newClient({ refreshMarginS: 2 });
  try {
    const first = await client.getToken();
    const expires = first.expiresOn.getTime();
    await sleepUntil(expires - 3000);
    assert.equal((await client.getToken()).accessToken, first.accessToken, 'served from the cache');
    await sleepUntil(expires - 1200);
    assert.equal((await emu.requestsFor(creds.clientId)).length, 1, 'no refresh 3 s before expiry with a 2 s margin');
    assert.equal((await client.getToken()).accessToken, first.accessToken, 'the refresh runs in the background');
    const reqs = await awaitRequests(creds.clientId, 2);
    assert.equal(reqs.length, 2);
    assert.equal(reqs[1].status, 200);
  } finally {
    client.close();
  }
});

test('proxy tunnels through the given proxy', async () => {
  const proxy = await recordingProxy();
  const { creds, client } = await newClient({ proxy: proxy.url });
  try {
    assert.ok((await client.getToken()).accessToken);
    const hostPort = emu.https.slice('https://'.length);
    assert.equal(proxy.requestLines.length, 1, proxy.requestLines.join(' | '));
    assert.ok(proxy.requestLines[0].startsWith(`CONNECT ${hostPort} `), proxy.requestLines[0]);
    assert.equal((await emu.requestsFor(creds.clientId)).length, 1);
  } finally {
    client.close();
    await proxy.close();
  }
});

test('an unresolvable host is a network error naming it', async () => {
  // `.invalid` never resolves (RFC 6761). proxy: 'none': test.sh points every
  // proxy variable at a dead proxy, which would otherwise be the error.
  const before = (await emu.stats()).token_requests;
  const client = new PaytrimAuthClient({
    clientId: 'dns-id',
    clientSecret: 'dns-secret',
    authorityHost: 'https://nonexistent.invalid',
    tenant: 'contoso.onmicrosoft.com',
    proxy: 'none',
    connectTimeoutMs: 3000,
    maxAttempts: 1,
  });
  try {
    const e = await rejection(client.getToken());
    assert.equal(e.code, 'NETWORK', e.message);
    assert.ok(e.message.startsWith('network: '), e.message);
    assert.ok(e.message.includes('nonexistent.invalid'), e.message);
    assert.equal(e.retryable, true, e.message);
    assert.equal((await emu.stats()).token_requests, before, 'the emulator saw a request');
  } finally {
    client.close();
  }
});

// ALL_PROXY alone (no HTTPS_PROXY/https_proxy) carries the token request, in a
// child process whose only proxy variable is ALL_PROXY, so the suite's own
// environment (a dead proxy in every variable) does not matter. Clients never
// send a loopback host through an environment proxy, so the child asks for an
// emulator under a name that does not resolve (its certificate names it:
// --dns-name) and the proxy tunnels that name to 127.0.0.1.
test('ALL_PROXY alone carries the token request (child process)', async () => {
  const name = 'login.all-proxy.invalid';
  const named = await Emulator.start(['--dns-name', name]);
  const proxy = await recordingProxy({ upstreamHost: '127.0.0.1' });
  try {
    const creds = await named.newClient();
    const port = named.https.slice(named.https.lastIndexOf(':') + 1);
    const r = await runFromEnvironment({
      PAYTRIM_CLIENT_ID: creds.clientId,
      PAYTRIM_CLIENT_SECRET: creds.clientSecret,
      PAYTRIM_TENANT_ID: 'contoso.onmicrosoft.com',
      PAYTRIM_AUTHORITY_HOST: `https://${name}:${port}`,
      PAYTRIM_CA_FILE: named.caFile,
      ALL_PROXY: proxy.url,
    });
    assert.equal(r.status, 0, r.output);
    assert.match(r.output, /token-length=\d+/);
    assert.equal(proxy.requestLines.length, 1, proxy.requestLines.join(' | '));
    assert.ok(proxy.requestLines[0].startsWith(`CONNECT ${name}:${port} `), proxy.requestLines[0]);
    assert.equal((await named.requestsFor(creds.clientId)).length, 1);
  } finally {
    await proxy.close();
    await named.stop();
  }
});

for (const status of [408, 504, 429]) {
  test(`HTTP ${status}${status === 429 ? ' without Retry-After' : ''} is retried`, async () => {
    const { creds, client } = await newClient({ maxAttempts: 2 });
    await emu.fault({ kind: 'status', status });
    try {
      assert.ok((await client.getToken()).accessToken);
      const reqs = await emu.requestsFor(creds.clientId);
      assert.deepEqual(reqs.map((r) => r.status), [status, 200]);
    } finally {
      client.close();
    }
  });
}

test('a 429 without Retry-After ending a fetch throttles the key for the 5 s default', async () => {
  const { creds, client } = await newClient({ maxAttempts: 1 });
  await emu.fault({ kind: 'status', status: 429 });
  try {
    const e = await rejection(client.getToken());
    assert.equal(e.code, 'THROTTLED');
    assert.equal(e.httpStatus, 429);
    assert.equal(e.retryable, true);
    assert.equal(e.retryAfterS, 5, 'the default throttle');
    const again = await rejection(client.getToken());
    assert.equal(again.code, 'THROTTLED');
    assert.equal(again.httpStatus, null, 'no request: this error is the remembered throttle');
    assert.ok(again.retryAfterS > 0 && again.retryAfterS <= 5, String(again.retryAfterS));
    assert.equal((await emu.requestsFor(creds.clientId)).length, 1);
  } finally {
    client.close();
  }
});

test('each failing call reports its own details', async () => {
  // A wrapper that kept the previous call's error fields would show the 429's
  // status, Retry-After or ids on the later, different failures.
  const a = await emu.newClient();
  const b = await emu.newClient();
  const throttled = new PaytrimAuthClient(emu.options(a, { maxAttempts: 1 }));
  const rejected = new PaytrimAuthClient(emu.options({ clientId: b.clientId, clientSecret: 'wrong-secret' }, { maxAttempts: 1 }));
  await emu.fault({ kind: 'status', status: 429, retry_after: '7' });
  try {
    const first = await rejection(throttled.getToken());
    assert.equal(first.code, 'THROTTLED');
    assert.equal(first.httpStatus, 429);
    assert.equal(first.retryAfterS, 7);
    assert.ok(first.traceId);

    const second = await rejection(rejected.getToken());
    assert.equal(second.code, 'CREDENTIAL_REJECTED', second.message);
    assert.equal(second.httpStatus, 401);
    assert.equal(second.retryAfterS, null);
    assert.equal(second.retryable, false);
    assert.deepEqual(second.aadstsCodes, [7000215]);
    assert.notEqual(second.traceId, first.traceId);

    const third = await rejection(throttled.getToken());
    assert.equal(third.code, 'THROTTLED', 'the remembered throttle');
    assert.equal(third.httpStatus, null, 'no answer behind this one');
    assert.deepEqual(third.aadstsCodes, []);
    assert.equal(third.traceId, null);
    assert.equal(third.oauthError, null);
    assert.equal((await emu.requestsFor(a.clientId)).length, 1);
    assert.equal((await emu.requestsFor(b.clientId)).length, 1);
  } finally {
    throttled.close();
    rejected.close();
  }
});
