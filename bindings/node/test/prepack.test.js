'use strict';

// `npm pack` from a clean clone: with no library built, prepack fails and says
// what to build; with the library built (in CARGO_TARGET_DIR), the tarball
// carries it as prebuilds/<this platform>/.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFile } = require('node:child_process');
const { promisify } = require('node:util');

const run = promisify(execFile);
const PKG = path.resolve(__dirname, '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** bindings/node as a fresh clone has it: sources, koffi and its native part installed (npm ci), no prebuilds/. */
function cleanCopy(tmp) {
  const dir = path.join(tmp, 'bindings', 'node');
  fs.mkdirSync(dir, { recursive: true });
  for (const f of ['package.json', 'package-lock.json', 'index.js', 'index.mjs', 'index.d.ts', 'README.md', 'lib', 'scripts']) {
    fs.cpSync(path.join(PKG, f), path.join(dir, f), { recursive: true });
  }
  fs.mkdirSync(path.join(dir, 'node_modules'));
  for (const m of ['koffi', '@koromix']) {
    fs.cpSync(path.join(PKG, 'node_modules', m), path.join(dir, 'node_modules', m), { recursive: true });
  }
  return dir;
}

test('npm pack without a built library fails and says what to build', { timeout: 120000 }, async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'paytrim-prepack-'));
  try {
    const dir = cleanCopy(tmp);
    const env = { ...process.env, CARGO_TARGET_DIR: path.join(tmp, 'no-target') };
    const err = await run(npm, ['pack', '--pack-destination', tmp], { cwd: dir, env }).then(
      () => null,
      (e) => e
    );
    assert.ok(err, 'npm pack must fail');
    assert.match(err.stderr, /no native library to pack/);
    assert.match(err.stderr, /cargo build --release/);
    assert.deepEqual(fs.readdirSync(tmp).filter((f) => f.endsWith('.tgz')), []);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('npm pack after cargo build packs the library from CARGO_TARGET_DIR', { timeout: 120000 }, async () => {
  const lib = process.env.PAYTRIM_AUTH_LIB;
  assert.ok(lib && fs.existsSync(lib), 'PAYTRIM_AUTH_LIB names the built library (test.sh sets it)');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'paytrim-prepack-'));
  try {
    const dir = cleanCopy(tmp);
    const target = path.join(tmp, 'cargo-target');
    fs.mkdirSync(path.join(target, 'release'), { recursive: true });
    fs.copyFileSync(lib, path.join(target, 'release', 'libpaytrim_auth.so'));
    const env = { ...process.env, CARGO_TARGET_DIR: target };
    const { stdout } = await run(npm, ['pack', '--json', '--pack-destination', tmp], { cwd: dir, env });
    const files = JSON.parse(stdout)[0].files.map((f) => f.path);
    assert.ok(files.includes('prebuilds/linux-x64/libpaytrim_auth.so'), files.join('\n'));
    assert.ok(files.includes('node_modules/koffi/package.json'), 'koffi bundled');
    assert.ok(files.includes('node_modules/@koromix/koffi-linux-x64/package.json'), "koffi's native part bundled");
    assert.ok(!files.some((f) => f.startsWith('scripts/')), 'the prepack script stays out of the tarball');
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
