'use strict';

// setLogger(): the library's log events, delivered on the JS thread of the
// environment that asked for them (never on a library thread), never with a
// secret or a token, personal data only with pii: true. (Workers ending
// mid-fetch with a logger set: test/workers.test.js.)

const test = require('node:test');
const assert = require('node:assert/strict');
const { Worker } = require('node:worker_threads');
const path = require('node:path');
const { Emulator } = require('./helpers/emulator');
const { PaytrimAuthClient, PaytrimAuthError, ERROR_CODES, setLogger } = require('..');

let emu;
test.before(async () => {
  emu = await Emulator.start();
});
test.after(async () => {
  setLogger(null);
  if (emu) await emu.stop();
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Collects events until `done` returns true (or 10 s pass). */
async function until(events, done) {
  const deadline = Date.now() + 10000;
  while (!done(events) && Date.now() < deadline) await sleep(10);
}

function assertClean(events, creds, token) {
  for (const [level, message] of events) {
    assert.ok(['error', 'warn', 'info', 'debug', 'trace'].includes(level), `level ${level}`);
    assert.equal(typeof message, 'string');
    assert.ok(!message.includes(creds.clientSecret), `a log line holds the secret: ${message}`);
    if (token) assert.ok(!message.includes(token), `a log line holds the token: ${message}`);
  }
}

test('a cold fetch logs miss, fetch start and end with request id, and the token fetched; no secret, no token, no ids', async () => {
  const creds = await emu.newClient();
  const client = new PaytrimAuthClient(emu.options(creds));
  const events = [];
  const stack = [];
  setLogger(
    (level, message) => {
      events.push([level, message]);
      stack.push(new Error().stack);
    },
    { level: 'debug' }
  );
  try {
    const t = await client.getToken();
    await until(events, (e) => e.some(([, m]) => m.startsWith('token fetched')));
    const text = events.map(([l, m]) => `${l}: ${m}`).join('\n');
    assert.match(text, /^debug: cache miss/m);
    assert.match(text, /^debug: fetch start: attempt 1, request to 127\.0\.0\.1, client-request-id [0-9a-f-]{36}/m);
    assert.match(text, /^debug: fetch end: attempt 1 succeeded in \d+ ms/m);
    assert.match(text, /^info: token fetched from 127\.0\.0\.1 in \d+ ms after 1 attempt\(s\)/m);
    assertClean(events, creds, t.accessToken);
    assert.ok(!text.includes(creds.clientId), 'no client id without pii');
    // Delivered from the event loop (a drain of the notifier), not from inside a native call.
    for (const s of stack) assert.match(s, /drainLogs/);
  } finally {
    setLogger(null);
    client.close();
  }
});

test('pii: true adds tenant and client ids; level filters; setLogger(null) stops events', async () => {
  const creds = await emu.newClient();
  const events = [];
  const log = (level, message) => events.push([level, message]);
  try {
    setLogger(log, { level: 'debug', pii: true });
    const c1 = new PaytrimAuthClient(emu.options(creds));
    const t = await c1.getToken();
    await until(events, (e) => e.some(([, m]) => m.startsWith('token fetched') && m.includes(creds.clientId)));
    assert.ok(events.some(([, m]) => m.includes(creds.clientId) && m.includes('contoso.onmicrosoft.com')));
    assertClean(events, creds, t.accessToken);
    c1.close();

    // warn: a successful fetch says nothing; a failing one warns.
    events.length = 0;
    setLogger(log, { level: 'warn', pii: false });
    const ok = await emu.newClient();
    const c2 = new PaytrimAuthClient(emu.options(ok));
    await c2.getToken();
    await emu.fault({ kind: 'status', status: 503 });
    const bad = await emu.newClient();
    const c3 = new PaytrimAuthClient(emu.options(bad, { maxAttempts: 1 }));
    await assert.rejects(c3.getToken(), PaytrimAuthError);
    await until(events, (e) => e.some(([, m]) => m.includes('failed')));
    await emu.reset();
    assert.ok(events.length >= 1, 'the failed fetch warned');
    assert.ok(events.every(([l]) => l === 'warn' || l === 'error'), JSON.stringify(events));
    assert.ok(!events.some(([, m]) => m.includes(bad.clientId)), 'pii off again');
    assertClean(events, bad, null);

    events.length = 0;
    setLogger(null);
    const quiet = await emu.newClient();
    const c4 = new PaytrimAuthClient(emu.options(quiet, { maxAttempts: 1 }));
    await emu.fault({ kind: 'status', status: 503 });
    await assert.rejects(c4.getToken(), PaytrimAuthError);
    await emu.reset();
    await sleep(50);
    assert.deepEqual(events, [], 'no events after setLogger(null)');
    c2.close();
    c3.close();
    c4.close();
  } finally {
    setLogger(null);
    await emu.reset();
  }
});

test('setLogger rejects bad input clearly', () => {
  assert.throws(() => setLogger('console.log'), { name: 'TypeError', message: /setLogger\(logger\) needs a function or null, not string/ });
  assert.throws(() => setLogger(() => {}, { level: 'loud' }), (e) =>
    e instanceof PaytrimAuthError && e.codeNumber === ERROR_CODES.INVALID_ARGUMENT && /level must be one of error, warn, info, debug, trace/.test(e.message));
  assert.throws(() => setLogger(() => {}, { colour: true }), /unknown setLogger option "colour"/);
  assert.throws(() => setLogger(() => {}, { pii: 'yes' }), { name: 'TypeError', message: /pii must be a boolean/ });
  assert.throws(() => setLogger(() => {}, 'debug'), { name: 'TypeError' });
});

test('a worker gets its own events on its own thread', async () => {
  const creds = await emu.newClient();
  const script = `
    const { parentPort, workerData, threadId } = require('node:worker_threads');
    const { PaytrimAuthClient, setLogger } = require(${JSON.stringify(path.resolve(__dirname, '..'))});
    const lines = [];
    setLogger((level, message) => lines.push({ level, message, threadId: require('node:worker_threads').threadId }), { level: 'debug' });
    const c = new PaytrimAuthClient(workerData);
    c.getToken().then(async () => {
      const deadline = Date.now() + 10000;
      while (!lines.some((l) => l.message.startsWith('token fetched')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      parentPort.postMessage({ lines, threadId });
      c.close();
    });
  `;
  const mainEvents = [];
  setLogger((level, message) => mainEvents.push(message), { level: 'debug' });
  try {
    const w = new Worker(script, { eval: true, workerData: emu.options(creds) });
    const [msg] = await Promise.all([new Promise((r) => w.once('message', r)), new Promise((r) => w.once('exit', r))]);
    assert.ok(msg.lines.some((l) => l.message.startsWith('fetch start')));
    assert.ok(msg.lines.every((l) => l.threadId === msg.threadId), 'logger ran on the worker thread');
    // The main thread subscribed too: both environments get the events.
    await until(mainEvents, (e) => e.some((m) => m.startsWith('token fetched')));
    assert.ok(mainEvents.some((m) => m.startsWith('token fetched')));
  } finally {
    setLogger(null);
  }
});
