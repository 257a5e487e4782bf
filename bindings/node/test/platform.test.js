'use strict';

// The loader's platform resolution (lib/platform.js), driven with simulated
// platforms: folder and file name per OS, musl detected at run time, and the
// error naming the platform and the platforms present.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const platform = require('../lib/platform');

const P = '/pkg/prebuilds';
const only = (...files) => (f) => files.includes(f);

test('every supported platform resolves to its folder and file name', () => {
  const cases = [
    [{ platform: 'linux', arch: 'x64', musl: false }, 'linux-x64/libpaytrim_auth.so'],
    [{ platform: 'linux', arch: 'arm64', musl: false }, 'linux-arm64/libpaytrim_auth.so'],
    [{ platform: 'linux', arch: 'x64', musl: true }, 'linux-x64-musl/libpaytrim_auth.so'],
    [{ platform: 'linux', arch: 'arm64', musl: true }, 'linux-arm64-musl/libpaytrim_auth.so'],
    [{ platform: 'darwin', arch: 'x64', musl: false }, 'darwin-x64/libpaytrim_auth.dylib'],
    [{ platform: 'darwin', arch: 'arm64', musl: false }, 'darwin-arm64/libpaytrim_auth.dylib'],
    [{ platform: 'win32', arch: 'x64', musl: false }, 'win32-x64/paytrim_auth.dll'],
    [{ platform: 'win32', arch: 'arm64', musl: false }, 'win32-arm64/paytrim_auth.dll'],
  ];
  const all = cases.map(([, rel]) => path.join(P, rel));
  for (const [p, rel] of cases) {
    assert.equal(platform.resolve({ prebuildsDir: P, platform: p, exists: only(...all) }), path.join(P, rel));
  }
  assert.equal(cases.length, platform.SUPPORTED.length);
  // musl only matters on Linux.
  assert.equal(platform.dirName({ platform: 'darwin', arch: 'arm64', musl: true }), 'darwin-arm64');
});

test('a package without this platform names it and the platforms it holds', () => {
  const exists = only(path.join(P, 'linux-x64/libpaytrim_auth.so'), path.join(P, 'darwin-arm64/libpaytrim_auth.dylib'));
  assert.throws(
    () => platform.resolve({ prebuildsDir: P, platform: { platform: 'linux', arch: 'arm64', musl: true }, exists }),
    (e) => {
      assert.equal(e.code, 'PAYTRIM_AUTH_LIBRARY_NOT_FOUND');
      assert.equal(e.platform, 'linux-arm64-musl');
      assert.deepEqual(e.present, ['linux-x64', 'darwin-arm64']);
      assert.match(e.message, /no native library for this platform, linux-arm64-musl/);
      assert.match(e.message, /holds native libraries for: linux-x64, darwin-arm64\./);
      assert.match(e.message, /PAYTRIM_AUTH_LIB/);
      return true;
    }
  );
  // glibc Linux on the same machine with only the musl build: still refused, named.
  assert.throws(
    () =>
      platform.resolve({
        prebuildsDir: P,
        platform: { platform: 'linux', arch: 'x64', musl: false },
        exists: only(path.join(P, 'linux-x64-musl/libpaytrim_auth.so')),
      }),
    /linux-x64 .*holds native libraries for: linux-x64-musl/
  );
  // A file with another OS's name in the folder does not count.
  assert.throws(
    () =>
      platform.resolve({
        prebuildsDir: P,
        platform: { platform: 'win32', arch: 'x64', musl: false },
        exists: only(path.join(P, 'win32-x64/libpaytrim_auth.so')),
      }),
    /holds native libraries for: none/
  );
});

test('an unsupported platform is named, with the supported ones', () => {
  for (const p of [
    { platform: 'freebsd', arch: 'x64', musl: false },
    { platform: 'linux', arch: 'ia32', musl: false },
    { platform: 'linux', arch: 'ppc64', musl: false },
  ]) {
    assert.throws(
      () => platform.resolve({ prebuildsDir: P, platform: p, exists: only(path.join(P, 'linux-x64/libpaytrim_auth.so')) }),
      (e) => {
        assert.equal(e.code, 'PAYTRIM_AUTH_PLATFORM_UNSUPPORTED');
        assert.ok(e.message.includes(`this platform, ${platform.dirName(p)}, is not supported`), e.message);
        assert.ok(e.message.includes('supported: linux-x64, linux-arm64, linux-x64-musl'), e.message);
        assert.ok(e.message.includes('holds native libraries for: linux-x64.'), e.message);
        return true;
      }
    );
  }
});

test('musl is detected from the process report, glibc too', () => {
  const glibc = () => ({ header: { glibcVersionRuntime: '2.36' }, sharedObjects: ['/lib/x86_64-linux-gnu/libc.so.6'] });
  const musl = () => ({ header: {}, sharedObjects: ['/lib/ld-musl-x86_64.so.1'] });
  assert.equal(platform.isMusl(glibc, () => ['ld-musl-x86_64.so.1']), false);
  assert.equal(platform.isMusl(musl, () => []), true);
  // No report: the musl loader in /lib decides.
  const broken = () => {
    throw new Error('no report');
  };
  assert.equal(platform.isMusl(broken, () => ['ld-musl-aarch64.so.1']), true);
  assert.equal(platform.isMusl(broken, () => ['ld-linux-x86-64.so.2']), false);
  // This machine: Debian (glibc), linux-x64, the path the end-to-end suites load.
  assert.equal(platform.isMusl(), false);
  assert.deepEqual(platform.current(), { platform: 'linux', arch: 'x64', musl: false });
});

test('the packages present are read from the folder', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paytrim-prebuilds-'));
  try {
    for (const [d, f] of [['darwin-arm64', 'libpaytrim_auth.dylib'], ['linux-x64-musl', 'libpaytrim_auth.so'], ['win32-arm64', 'libpaytrim_auth.so']]) {
      fs.mkdirSync(path.join(dir, d));
      fs.writeFileSync(path.join(dir, d, f), '');
    }
    assert.deepEqual(platform.present(dir), ['linux-x64-musl', 'darwin-arm64']);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
