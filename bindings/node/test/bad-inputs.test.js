'use strict';

// The shared bad-input table (tests/bad_inputs.tsv at the repository root),
// Node's rows: each case must fail with its error code (or a TypeError /
// RangeError raised by the wrapper before the native call) whose message
// names the offending option, and never crash the process.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { Emulator, REPO } = require('./helpers/emulator');
const { PaytrimAuthClient, PaytrimAuthError, CLIENT_CLOSED } = require('..');

const TABLE = path.join(REPO, 'tests', 'bad_inputs.tsv');
const NUMERIC = new Set(['max_attempts', 'timeout_ms', 'connect_timeout_ms', 'total_timeout_ms', 'refresh_margin_s']);

function readTable() {
  const rows = fs
    .readFileSync(TABLE, 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split('\t'));
  const [header, ...data] = rows;
  assert.deepEqual(header, ['id', 'op', 'arg', 'value', 'code', 'names', 'langs']);
  return data.map((r) => {
    assert.equal(r.length, 7, `malformed row ${r[0]}`);
    return Object.fromEntries(header.map((h, i) => [h, r[i]]));
  });
}

function runsHere(langs) {
  return langs === 'all' || langs === 'wrappers' || langs.split(' ').includes('node');
}

function decode(v) {
  if (v === '<null>') return null;
  if (v === '<empty>') return '';
  let m = /^<repeat:(.*):(\d+)>$/.exec(v);
  if (m) return m[1].repeat(Number(m[2]));
  m = /^<lone_surrogate:(.*)>$/.exec(v);
  if (m) return m[1] + '\uD800';
  if (v.startsWith('<hex:')) throw new Error(`raw bytes are C-only: ${v}`);
  return v.replace(/\\n/g, '\n');
}

const camel = (s) => s.replace(/_([a-z])/g, (_, c) => c.toUpperCase());

/** The option name and value as Node spells them. */
function option(key, raw) {
  const value = decode(raw);
  if (NUMERIC.has(key) && value !== null && /^-?\d+$/.test(value)) return [camel(key), Number(value)];
  return [camel(key), value];
}

function assertRefused(fn, row) {
  let err;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  assert.ok(err, `${row.id}: no error`);
  if (err instanceof PaytrimAuthError) {
    assert.equal(err.code, 'INVALID_ARGUMENT', `${row.id}: ${err.code}: ${err.message}`);
  } else {
    assert.ok(err instanceof TypeError || err instanceof RangeError, `${row.id}: ${err}`);
  }
  const m = err.message.toLowerCase();
  assert.ok(
    m.includes(row.names.toLowerCase()) || m.includes(camel(row.names).toLowerCase()),
    `${row.id}: the message does not name ${row.names}: ${err.message}`
  );
  assert.ok(err.message.length < 4096, `${row.id}: a ${err.message.length}-character message`);
}

let emu;
test.before(async () => {
  emu = await Emulator.start();
});
test.after(async () => {
  if (emu) await emu.stop();
});

const rows = readTable().filter((r) => runsHere(r.langs));

test('the table has Node rows for every kind of bad input', () => {
  const ops = new Set(rows.map((r) => r.op));
  for (const op of ['config_set', 'client_new', 'lifecycle']) assert.ok(ops.has(op), op);
  assert.ok(rows.length >= 25, `${rows.length} rows`);
});

for (const row of rows) {
  test(`bad input ${row.id}: ${row.op} ${row.arg} -> ${row.code}`, async () => {
    const creds = await emu.newClient();
    const base = emu.options(creds, { proxy: 'none' });
    if (row.op === 'config_set') {
      const [name, value] = option(row.arg, row.value);
      assertRefused(() => new PaytrimAuthClient({ ...base, [name]: value }), row);
    } else if (row.op === 'client_new') {
      const name = camel(row.arg);
      assertRefused(() => new PaytrimAuthClient({ ...base, [name]: decode(row.value) }), row);
    } else if (row.op === 'lifecycle') {
      const client = new PaytrimAuthClient(base);
      if (row.arg === 'use_after_close') {
        client.close();
        await assert.rejects(client.getToken(), (e) => {
          assert.equal(e.code, CLIENT_CLOSED);
          assert.match(e.message, new RegExp(row.names, 'i'));
          return true;
        });
      } else if (row.arg === 'double_close') {
        client.close();
        client.close();
        await assert.rejects(client.getToken(), (e) => e.code === CLIENT_CLOSED);
      } else if (row.arg === 'close_during_fetch') {
        await emu.fault({ kind: 'stall', ms: 700 });
        const pending = client.getToken();
        client.close();
        // The call in flight settles (with its token, or as closed), and
        // nothing crashes when the native free happens after it.
        const outcome = await pending.then(
          (t) => t,
          (e) => e
        );
        if (outcome instanceof Error) assert.equal(outcome.code, CLIENT_CLOSED, String(outcome));
        else assert.match(outcome.accessToken, /^[\w-]+\.[\w-]+\.[\w-]+$/);
      } else {
        assert.fail(`no Node runner for lifecycle ${row.arg}`);
      }
    } else {
      assert.fail(`no Node runner for ${row.op}`);
    }
  });
}
