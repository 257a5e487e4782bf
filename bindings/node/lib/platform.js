'use strict';

// Which native library this process needs, and where the package keeps it:
// prebuilds/<platform>-<arch>[-musl]/<file> inside the package (one npm
// package carrying every platform, like prebuildify's prebuilds/ folder; the
// libc is detected at run time). Pure functions of their inputs, so the tests
// drive them with any platform; `current()` supplies this process's values.

const fs = require('node:fs');
const path = require('node:path');

/** Every platform a release package carries, as prebuilds/<dir>/. */
const SUPPORTED = [
  'linux-x64',
  'linux-arm64',
  'linux-x64-musl',
  'linux-arm64-musl',
  'darwin-x64',
  'darwin-arm64',
  'win32-x64',
  'win32-arm64',
];

/** The library's file name for a Node `process.platform`. */
function fileName(platform) {
  if (platform === 'win32') return 'paytrim_auth.dll';
  if (platform === 'darwin') return 'libpaytrim_auth.dylib';
  return 'libpaytrim_auth.so';
}

/** The prebuilds/ folder name: `${platform}-${arch}`, plus `-musl` on a musl Linux. */
function dirName({ platform, arch, musl }) {
  return `${platform}-${arch}${platform === 'linux' && musl ? '-musl' : ''}`;
}

/**
 * musl or glibc: a glibc process reports its glibc version in the diagnostic
 * report header (what detect-libc does); the musl loader's file is the fallback.
 */
function isMusl(getReport = () => process.report.getReport(), listLib = () => fs.readdirSync('/lib')) {
  try {
    const report = getReport();
    if (report.header && report.header.glibcVersionRuntime) return false;
    if ((report.sharedObjects || []).some((f) => /ld-musl-|libc\.musl-/.test(f))) return true;
  } catch {
    // no report: look at the file system
  }
  try {
    return listLib().some((f) => f.startsWith('ld-musl-'));
  } catch {
    return false;
  }
}

function current() {
  return { platform: process.platform, arch: process.arch, musl: process.platform === 'linux' && isMusl() };
}

/** The supported platforms the package has a library for. */
function present(prebuildsDir, exists = fs.existsSync) {
  return SUPPORTED.filter((d) => exists(path.join(prebuildsDir, d, fileName(d.split('-')[0]))));
}

/**
 * The library path for `platform` (default: this process), or an Error naming
 * the platform and the platforms present, with `code`
 * PAYTRIM_AUTH_PLATFORM_UNSUPPORTED or PAYTRIM_AUTH_LIBRARY_NOT_FOUND.
 */
function resolve({ prebuildsDir, platform = current(), exists = fs.existsSync }) {
  const dir = dirName(platform);
  const file = path.join(prebuildsDir, dir, fileName(platform.platform));
  if (SUPPORTED.includes(dir) && exists(file)) return file;
  const have = present(prebuildsDir, exists);
  const holds = have.length ? have.join(', ') : 'none (it was packed without a native library)';
  let err;
  if (!SUPPORTED.includes(dir)) {
    err = new Error(
      `paytrim-auth: this platform, ${dir}, is not supported (supported: ${SUPPORTED.join(', ')}); ` +
        `this package holds native libraries for: ${holds}. ` +
        'Build libpaytrim_auth for it yourself and set PAYTRIM_AUTH_LIB to its absolute path.'
    );
    err.code = 'PAYTRIM_AUTH_PLATFORM_UNSUPPORTED';
  } else {
    err = new Error(
      `paytrim-auth: no native library for this platform, ${dir} (expected ${file}); ` +
        `this package holds native libraries for: ${holds}. ` +
        'Install the release package (it carries every platform), or build the library ' +
        '(cargo build --release in the paytrim-auth repository) and pack again (npm pack copies it), ' +
        `or set PAYTRIM_AUTH_LIB to the absolute path of ${fileName(platform.platform)}.`
    );
    err.code = 'PAYTRIM_AUTH_LIBRARY_NOT_FOUND';
  }
  err.platform = dir;
  err.present = have;
  throw err;
}

module.exports = { SUPPORTED, fileName, dirName, isMusl, current, present, resolve };
