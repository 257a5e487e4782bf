'use strict';

// Per-call scopes: one client (one native client, one credential) asks for
// tokens for several scope sets; each has its own cache entry in the library.

const test = require('node:test');
const assert = require('node:assert/strict');
const { Emulator } = require('./helpers/emulator');
const { PaytrimAuthClient, PaytrimAuthError, _liveNativeClients } = require('..');

let emu;
test.before(async () => {
  emu = await Emulator.start();
});
test.after(async () => {
  if (emu) await emu.stop();
});

const aud = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString()).aud;

async function newClient(extra = {}) {
  const creds = await emu.newClient();
  return { creds, client: new PaytrimAuthClient(emu.options(creds, { scope: 'api://default/.default', ...extra })) };
}

test('getToken({ scopes }) gives each scope set its own token; the configured scope stays the default', async () => {
  const live = _liveNativeClients();
  const { creds, client } = await newClient();
  try {
    const d = await client.getToken();
    const orders = await client.getToken({ scopes: 'api://orders/.default' });
    const billing = await client.getToken({ scopes: ['api://billing/.default'] });
    assert.equal(aud(d.accessToken), 'api://default');
    assert.equal(aud(orders.accessToken), 'api://orders');
    assert.equal(aud(billing.accessToken), 'api://billing');
    assert.ok(orders.expiresOn instanceof Date);
    assert.equal(_liveNativeClients() - live, 1, 'one native client for every scope set');
    for (let i = 0; i < 20; i++) {
      assert.equal((await client.getToken({ scopes: ['api://orders/.default'] })).accessToken, orders.accessToken);
      assert.equal((await client.getToken({ scopes: 'api://default/.default' })).accessToken, d.accessToken);
      assert.equal((await client.getToken('api://billing/.default')).token, billing.accessToken);
    }
    const fresh = await client.refreshToken({ scopes: ['api://orders/.default'] });
    assert.notEqual(fresh.accessToken, orders.accessToken);
    assert.equal((await client.getToken()).accessToken, d.accessToken, 'the default entry kept its token');
    const sent = (await emu.requestsFor(creds.clientId)).map((r) => r.form.scope);
    assert.deepEqual(sent, ['api://default/.default', 'api://orders/.default', 'api://billing/.default', 'api://orders/.default']);
  } finally {
    client.close();
  }
});

test('concurrent callers of several scope sets: one request per set', async () => {
  const { creds, client } = await newClient();
  try {
    emu.configure({ latency_ms: 200 });
    const calls = [];
    for (let i = 0; i < 30; i++) calls.push(client.getToken({ scopes: [`api://set${i % 3}/.default`] }));
    const got = await Promise.all(calls);
    for (let i = 0; i < 30; i++) {
      assert.equal(aud(got[i].accessToken), `api://set${i % 3}`);
      assert.equal(got[i].accessToken, got[i % 3].accessToken);
    }
    assert.equal((await emu.requestsFor(creds.clientId)).length, 3);
  } finally {
    await emu.configure({ latency_ms: 0 });
    client.close();
  }
});

test('bad scopes are refused with a clear error; a closed client refuses too', async () => {
  const { creds, client } = await newClient();
  const cases = [
    [[], /empty/],
    [[''], /scope 0 is empty/],
    [['api://a/.default api://b/.default'], /whitespace/],
    [['api://a/\u0001.default'], /control character/],
    ['', /empty/],
    ['   ', /empty/],
  ];
  for (const [scopes, says] of cases) {
    for (const call of [() => client.getToken({ scopes }), () => client.getToken(scopes), () => client.refreshToken({ scopes })]) {
      await assert.rejects(call(), (e) => e instanceof PaytrimAuthError && e.code === 'INVALID_ARGUMENT' && says.test(e.message));
    }
  }
  await assert.rejects(client.getToken({ scopes: 'api://a/\n.default' }), (e) => e.code === 'INVALID_ARGUMENT');
  await assert.rejects(client.getToken({ scopes: [1] }), TypeError);
  await assert.rejects(client.getToken({ scopes: null }), TypeError);
  await assert.rejects(client.refreshToken({ nope: 1 }), TypeError);
  const server = await client.getToken({ scopes: 'api://no-suffix' }).catch((e) => e);
  assert.equal(server.oauthError, 'invalid_scope', String(server));
  assert.equal((await emu.requestsFor(creds.clientId)).length, 1);
  client.close();
  await assert.rejects(client.getToken({ scopes: 'api://x/.default' }), { code: 'CLIENT_CLOSED' });
});

test('managed identity takes its resource per call', async () => {
  const r1 = `api://mi-${Date.now()}-1`;
  const r2 = `api://mi-${Date.now()}-2`;
  const client = PaytrimAuthClient.managedIdentity(true, { imdsEndpoint: emu.http, scope: `${r1}/.default` });
  try {
    assert.equal(aud((await client.getToken()).accessToken), r1);
    assert.equal(aud((await client.getToken({ scopes: `${r2}/.default` })).accessToken), r2);
    await assert.rejects(client.getToken({ scopes: [`${r1}/.default`, `${r2}/.default`] }), /exactly one resource/);
  } finally {
    client.close();
  }
});
