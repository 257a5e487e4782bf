'use strict';

// Wake-ups: many callers waiting on one cold key cost one native request and
// one delivery into JavaScript, which then settles every caller. (The
// 100,000-waiter figures are in bench/wakeups.js.)

const test = require('node:test');
const assert = require('node:assert/strict');
const { Emulator } = require('./helpers/emulator');
const { PaytrimAuthClient, PaytrimAuthError, _notifierStats } = require('..');

let emu;
test.before(async () => {
  emu = await Emulator.start();
});
test.after(async () => {
  if (emu) await emu.stop();
});

const WAITERS = 5000;

test(`${WAITERS} waiters on one cold key: one token request, one native delivery, every caller settled`, async () => {
  const creds = await emu.newClient();
  const client = new PaytrimAuthClient(emu.options(creds));
  await emu.configure({ latency_ms: 300 });
  try {
    const before = _notifierStats();
    const calls = [];
    for (let i = 0; i < WAITERS; i++) {
      // The three call shapes join the same request.
      if (i % 3 === 0) calls.push(client.getToken().then((t) => t.accessToken));
      else if (i % 3 === 1) calls.push(client.getToken(client.scope).then((t) => t.token));
      else calls.push(client.getTokenJson().then((t) => t.access_token));
    }
    const tokens = await Promise.all(calls);
    const after = _notifierStats();
    assert.equal(new Set(tokens).size, 1, 'every caller got the same token');
    assert.equal((await emu.requestsFor(creds.clientId)).length, 1, 'one token request');
    assert.equal(after.deliveries - before.deliveries, 1, 'one native result delivered into JavaScript');
    assert.equal(after.wakeUps - before.wakeUps, 1, 'one event-loop wake-up');
    // Each caller owns its result object.
    const [a, b] = await Promise.all([client.getToken(), client.getToken()]);
    assert.notEqual(a, b);
  } finally {
    await emu.configure({ latency_ms: 0 });
    client.close();
  }
});

test('a failed fetch rejects every waiter with the error, from one native delivery', async () => {
  const creds = await emu.newClient();
  const client = new PaytrimAuthClient(emu.options(creds, { maxAttempts: 1 }));
  await emu.fault({ kind: 'status', status: 400 });
  try {
    const before = _notifierStats();
    const calls = [];
    for (let i = 0; i < 3000; i++) calls.push(client.getToken());
    const results = await Promise.allSettled(calls);
    const after = _notifierStats();
    assert.ok(results.every((r) => r.status === 'rejected' && r.reason instanceof PaytrimAuthError));
    assert.equal(new Set(results.map((r) => r.reason)).size, 1, 'one error object, shared');
    assert.equal(after.deliveries - before.deliveries, 1);
    // The next call starts a new request (the failed flight is over).
    await emu.reset();
    const t = await client.getToken();
    assert.ok(t.accessToken);
  } finally {
    await emu.reset();
    client.close();
  }
});

test('separate clients and a refresh each make their own native request', async () => {
  const creds = await emu.newClient();
  const c1 = new PaytrimAuthClient(emu.options(creds));
  const c2 = new PaytrimAuthClient(emu.options(creds));
  await emu.configure({ latency_ms: 200 });
  try {
    const before = _notifierStats();
    const all = [];
    for (let i = 0; i < 100; i++) all.push(c1.getToken(), c2.getToken());
    const [x] = await Promise.all(all);
    const after = _notifierStats();
    // Two native requests (one per client), joined by the core's single flight.
    assert.equal(after.deliveries - before.deliveries, 2);
    assert.equal((await emu.requestsFor(creds.clientId)).length, 1);
    const r = await c1.refreshToken();
    assert.notEqual(r.accessToken, x.accessToken);
    assert.equal((await emu.requestsFor(creds.clientId)).length, 2);
  } finally {
    await emu.configure({ latency_ms: 0 });
    c1.close();
    c2.close();
  }
});
