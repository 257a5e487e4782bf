'use strict';
// One error text in every language (tests/error_texts.tsv): each failure of the shared table
// rejects with a PaytrimAuthError whose message is the text C, Java and C# give for it
// (authority URL and UUIDs normalized): the category first, every id once. A bad option
// thrown by the constructor reads the same way, and the README's usage catches it.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { Emulator, REPO } = require('./helpers/emulator');
const { PaytrimAuthClient, PaytrimAuthError } = require('..');

const REFUSED = 'https://127.0.0.1:1';
const UUID = /[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/g;

function rows() {
  const lines = fs.readFileSync(path.join(REPO, 'tests', 'error_texts.tsv'), 'utf8')
    .split('\n').filter((l) => l && !l.startsWith('#'));
  const header = lines.shift().split('\t');
  assert.deepEqual(header, ['id', 'tenant', 'secret', 'authority', 'ca_file', 'text']);
  const out = lines.map((l) => {
    const c = l.split('\t');
    assert.equal(c.length, 6, `malformed row: ${l}`);
    return { id: c[0], tenant: c[1], secret: c[2], authority: c[3], caFile: c[4], text: c[5] };
  });
  assert.ok(out.length > 0);
  return out;
}

let emu;
test.before(async () => {
  emu = await Emulator.start();
});
test.after(async () => {
  if (emu) await emu.stop();
});

for (const r of rows()) {
  test(`error text: ${r.id}`, async () => {
    const host = r.authority === 'refused' ? REFUSED : emu.https;
    const client = new PaytrimAuthClient({
      clientId: '11111111-1111-1111-1111-111111111111',
      clientSecret: r.secret,
      tenant: r.tenant,
      authorityHost: host,
      caFile: r.caFile === 'yes' ? emu.caFile : undefined,
      maxAttempts: 1,
    });
    try {
      const e = await client.getToken().then(() => null, (err) => err);
      assert.ok(e instanceof PaytrimAuthError, `expected a PaytrimAuthError, got ${e}`);
      assert.equal(e.message.split(host).join('{authority}').replace(UUID, '{uuid}'), r.text);
      assert.equal(String(e).split(host).join('{authority}').replace(UUID, '{uuid}'), `PaytrimAuthError: ${r.text}`);
    } finally {
      client.close();
    }
  });
}

test('a bad option thrown by the constructor reads like every other error, and the README usage catches it', async () => {
  const options = { clientId: 'id', clientSecret: 'secret', tenant: 'contoso.onmicrosoft.com', maxAttempts: 11 };
  const thrown = (() => {
    try {
      new PaytrimAuthClient(options); // eslint-disable-line no-new
      return null;
    } catch (e) {
      return e;
    }
  })();
  assert.ok(thrown instanceof PaytrimAuthError);
  assert.equal(thrown.code, 'INVALID_ARGUMENT');
  assert.match(thrown.message, /^invalid_argument: .*max_attempts/);
  // The README's quickstart shape: the client is made inside the async function whose
  // rejection is handled, so the constructor's error lands in the same .catch.
  async function main() {
    const client = new PaytrimAuthClient(options);
    try {
      await client.getToken();
    } finally {
      client.close();
    }
  }
  const caught = await main().then(() => null, (e) => e);
  assert.equal(caught && caught.message, thrown.message);
});
