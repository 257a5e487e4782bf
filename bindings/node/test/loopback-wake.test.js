'use strict';

// The notifier's loopback wake-up channel (Windows; PAYTRIM_AUTH_NOTIFIER=loopback
// elsewhere): only the connection that starts with the cookie is accepted, every
// other one is closed, the listener closes once the library is in, and tokens
// arrive through it end to end. (bindings/node/test.sh also runs the notifier and
// worker suites a second time with PAYTRIM_AUTH_NOTIFIER=loopback.)

process.env.PAYTRIM_AUTH_NOTIFIER = 'loopback';

const test = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const { once } = require('node:events');
const { LoopbackWake, wakeChannelKind, COOKIE_BYTES } = require('../lib/loopback-wake');

/** A LoopbackWake whose listener is up. */
async function listening() {
  const w = new LoopbackWake();
  await new Promise((resolve) => w.onListening(resolve));
  return w;
}

function connect(port) {
  const s = net.connect({ host: '127.0.0.1', port });
  s.on('error', () => {});
  return s;
}

/** Resolves with true when `s` is closed by the other side within `ms`. */
function closedWithin(s, ms) {
  return new Promise((resolve) => {
    if (s.closed) {
      resolve(true);
      return;
    }
    const t = setTimeout(() => resolve(false), ms);
    s.on('close', () => {
      clearTimeout(t);
      resolve(true);
    });
    s.resume();
  });
}

test('the channel: socket pair on Unixes, loopback on Windows, overridable, nonsense refused', () => {
  assert.equal(wakeChannelKind({}, 'linux'), 'socketpair');
  assert.equal(wakeChannelKind({}, 'darwin'), 'socketpair');
  assert.equal(wakeChannelKind({}, 'win32'), 'loopback');
  assert.equal(wakeChannelKind({ PAYTRIM_AUTH_NOTIFIER: 'loopback' }, 'linux'), 'loopback');
  assert.equal(wakeChannelKind({ PAYTRIM_AUTH_NOTIFIER: 'socketpair' }, 'linux'), 'socketpair');
  assert.throws(() => wakeChannelKind({ PAYTRIM_AUTH_NOTIFIER: 'pipe' }, 'linux'), /PAYTRIM_AUTH_NOTIFIER/);
});

test('a wrong cookie is closed; the right one is accepted, then the listener closes', async () => {
  const w = await listening();
  try {
    assert.equal(w.cookie.length, COOKIE_BYTES);
    const silent = connect(w.port); // never sends a cookie: must not block the right one
    const wrong = connect(w.port);
    await once(wrong, 'connect');
    wrong.write(Buffer.alloc(COOKIE_BYTES, 7));
    wrong.write('!');
    const injected = [];
    w.on('data', (d) => injected.push(d));
    assert.ok(await closedWithin(wrong, 5000), 'the wrong cookie was closed');
    assert.equal(injected.length, 0, 'nothing from the wrong connection reached the notifier');

    const right = connect(w.port);
    await once(right, 'connect');
    right.write(Buffer.concat([w.cookie.subarray(0, 5)]));
    right.write(Buffer.concat([w.cookie.subarray(5), Buffer.from('!')])); // cookie split, a wake-up glued on
    const [first] = await once(w, 'data');
    assert.equal(first.toString(), '!', 'bytes after the cookie are wake-ups');
    right.write('!');
    const [second] = await once(w, 'data');
    assert.equal(second.toString(), '!');
    assert.equal(w.server.listening, false, 'the listener closed once the library was in');
    assert.ok(await closedWithin(silent, 5000), 'the connection still owing a cookie was closed');

    const late = connect(w.port);
    const [err] = await once(late, 'error');
    assert.equal(err.code, 'ECONNREFUSED', 'nobody else can connect afterwards');
    right.destroy();
    await once(w, 'close');
  } finally {
    w.destroy();
  }
});

test('a second connection with the cookie is closed once the first is in', async () => {
  const w = await listening();
  try {
    // Two connections with the cookie (a stolen cookie would look like this): only the first counts.
    const a = connect(w.port);
    const b = connect(w.port);
    await Promise.all([once(a, 'connect'), once(b, 'connect')]);
    a.write(w.cookie);
    await new Promise((r) => setTimeout(r, 100));
    b.write(w.cookie);
    b.write('!');
    assert.ok(await closedWithin(b, 5000), 'the second connection was closed');
    assert.equal(w.socket.remotePort, a.localPort, 'the first one is the channel');
    a.destroy();
  } finally {
    w.destroy();
  }
});

test('tokens arrive through the loopback channel end to end', async () => {
  const { Emulator } = require('./helpers/emulator');
  const { PaytrimAuthClient, _notifierStats } = require('..');
  const emu = await Emulator.start();
  try {
    const client = new PaytrimAuthClient(emu.options(await emu.newClient()));
    try {
      const before = _notifierStats();
      const [a, b] = await Promise.all([client.getToken(), client.getToken()]);
      const after = _notifierStats();
      assert.equal(after.channel, 'loopback');
      assert.ok(a.accessToken && a.accessToken === b.accessToken);
      assert.equal(after.deliveries - before.deliveries, 1, 'one native delivery for both callers');
    } finally {
      client.close();
    }
  } finally {
    await emu.stop();
  }
});
