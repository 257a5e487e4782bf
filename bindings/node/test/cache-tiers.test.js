'use strict';

// The on-host cache tier from Node: separate processes (each with its own
// in-process cache) share one token through `cacheDir`, and the option is
// refused with the core's message when the directory is unsafe.

const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Emulator } = require('./helpers/emulator');
const { PaytrimAuthClient, PaytrimAuthError } = require('..');

let emu;
test.before(async () => {
  emu = await Emulator.start();
});
test.after(async () => {
  if (emu) await emu.stop();
});

const CHILD = `
const { PaytrimAuthClient } = require(${JSON.stringify(path.join(__dirname, '..'))});
(async () => {
  const client = new PaytrimAuthClient(JSON.parse(process.env.TIER_OPTIONS));
  try {
    const t = await client.getToken();
    process.stdout.write(t.accessToken.length > 0 ? 'ok' : 'empty');
  } finally {
    client.close();
  }
})().catch((e) => { process.stdout.write('error ' + e.message); process.exitCode = 1; });
`;

function tempDir(tag) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `paytrim-node-${tag}-`));
}

test('cacheDir: a second process gets its token from the on-host tier, no request', async () => {
  const creds = await emu.newClient();
  const dir = path.join(tempDir('tier'), 'cache');
  const options = emu.options(creds, { cacheDir: dir });
  const run = () =>
    execFileSync(process.execPath, ['-e', CHILD], { env: { ...process.env, TIER_OPTIONS: JSON.stringify(options) } }).toString();
  assert.equal(run(), 'ok');
  assert.equal(run(), 'ok');
  assert.equal((await emu.requestsFor(creds.clientId)).length, 1, 'two processes, one request');
  assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
  // Without the tier, a third process asks again.
  const plain = emu.options(creds);
  execFileSync(process.execPath, ['-e', CHILD], { env: { ...process.env, TIER_OPTIONS: JSON.stringify(plain) } });
  assert.equal((await emu.requestsFor(creds.clientId)).length, 2);
});

test('cacheDir writable by others is refused at construction; redis options are checked', async () => {
  const creds = await emu.newClient();
  const dir = tempDir('unsafe');
  fs.chmodSync(dir, 0o777);
  assert.throws(
    () => new PaytrimAuthClient(emu.options(creds, { cacheDir: dir })),
    (e) => e instanceof PaytrimAuthError && e.code === 'INVALID_ARGUMENT' && /writable by group or others/.test(e.message),
  );
  assert.throws(
    () => new PaytrimAuthClient(emu.options(creds, { redisUrl: 'http://127.0.0.1:6379' })),
    (e) => e instanceof PaytrimAuthError && /redis_url/.test(e.message),
  );
  const client = new PaytrimAuthClient(
    emu.options(creds, { redisUrl: 'redis://127.0.0.1:1', redisKeyPrefix: 'node:', redisTimeoutMs: 50 }),
  );
  try {
    // Nothing listens on port 1: the Redis tier is a miss, the token still comes.
    assert.ok((await client.getToken()).accessToken);
  } finally {
    client.close();
  }
});
