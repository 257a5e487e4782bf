'use strict';

// Drift check: the wrapper's error codes and ABI version must match
// include/paytrim_auth.h exactly.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { REPO } = require('./helpers/emulator');
const abi = require('../lib/abi');

const header = fs.readFileSync(path.join(REPO, 'include', 'paytrim_auth.h'), 'utf8');

function headerErrorCodes() {
  const codes = {};
  for (const m of header.matchAll(/^#define\s+PAYTRIM_AUTH_ERROR_([A-Z0-9_]+)\s+(\d+)\s*$/gm)) {
    codes[m[1]] = Number(m[2]);
  }
  return codes;
}

test('error codes match PAYTRIM_AUTH_ERROR_* in the header', () => {
  const fromHeader = headerErrorCodes();
  assert.ok(Object.keys(fromHeader).length >= 10, 'header lists the error codes');
  assert.deepEqual({ ...abi.ERROR_CODES }, fromHeader);
});

test('ABI version matches PAYTRIM_AUTH_ABI_VERSION in the header', () => {
  const m = header.match(/^#define\s+PAYTRIM_AUTH_ABI_VERSION\s+(\d+)\s*$/m);
  assert.ok(m, 'header defines PAYTRIM_AUTH_ABI_VERSION');
  assert.equal(abi.ABI_VERSION, Number(m[1]));
});

test('the loaded library agrees: ABI version and snake_case code names', () => {
  const m = require('..');
  assert.equal(m.ABI_VERSION, abi.ABI_VERSION);
  assert.deepEqual(m.ERROR_CODES, abi.ERROR_CODES);
  for (const [name, n] of Object.entries(m.ERROR_CODES)) {
    assert.equal(m.errorCodeName(n), name.toLowerCase());
  }
  assert.equal(m.errorCodeName(9999), 'unknown');
  assert.match(m.nativeVersion(), /^\d+\.\d+\.\d+/);
});

test('loading refuses a library with another ABI version, and a missing library, clearly', (t) => {
  const { execFileSync, spawnSync } = require('node:child_process');
  const os = require('node:os');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paytrim-auth-abi-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const src = path.join(dir, 'fake.c');
  const so = path.join(dir, 'libfake.so');
  fs.writeFileSync(src, 'unsigned int paytrim_auth_abi_version(void) { return 99; }\n');
  execFileSync('cc', ['-shared', '-fPIC', '-o', so, src]);

  const load = (lib) =>
    spawnSync(process.execPath, ['-e', `require(${JSON.stringify(path.resolve(__dirname, '..'))})`], {
      env: { ...process.env, PAYTRIM_AUTH_LIB: lib },
      encoding: 'utf8',
    });
  const wrong = load(so);
  assert.notEqual(wrong.status, 0);
  assert.match(wrong.stderr, /implements ABI version 99, but this wrapper was written for ABI version 1/);

  const missing = load(path.join(dir, 'nope.so'));
  assert.notEqual(missing.status, 0);
  assert.match(missing.stderr, /cannot load the native library .*nope\.so.*PAYTRIM_AUTH_LIB/s);
});

test('every function the wrapper declares is in the header, with the same parameter names', () => {
  const src = fs.readFileSync(path.join(__dirname, '..', 'lib', 'native.js'), 'utf8');
  const decls = [...src.matchAll(/lib\.func\(\s*'([^']+)'/g)].map((m) => m[1]);
  assert.ok(decls.length >= 20, 'native.js declares the C functions');
  const paramNames = (params) =>
    params === 'void' || params === '' ? [] : params.split(',').map((p) => p.trim().match(/(\w+)\s*$/)[1]);
  for (const d of decls) {
    const m = d.match(/(paytrim_auth_\w+)\((.*)\)$/);
    assert.ok(m, `a declaration of the wrapper: ${d}`);
    const [, name, params] = m;
    const h = header.match(new RegExp(`\\b${name}\\(([^)]*)\\)`));
    assert.ok(h, `${name} is declared by the wrapper but missing from include/paytrim_auth.h`);
    assert.deepEqual(paramNames(params), paramNames(h[1].replace(/\s+/g, ' ').trim()), `${name}: parameters`);
  }
});
