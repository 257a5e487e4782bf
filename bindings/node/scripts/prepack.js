'use strict';

// `npm pack` / `npm publish` in bindings/node: the tarball must carry a native
// library and koffi (bundled), or it installs and then fails at require().
// - no library in prebuilds/ for this machine: copied from Cargo's output
//   ($CARGO_TARGET_DIR or the repository's target/, release profile) if built;
// - nothing to pack at all, or koffi not installed: fail, saying what to do.

const fs = require('node:fs');
const path = require('node:path');
const platform = require('../lib/platform');

const pkg = path.resolve(__dirname, '..');
const prebuilds = path.join(pkg, 'prebuilds');

function fail(msg) {
  console.error(`paytrim-auth prepack: ${msg}`);
  process.exit(1);
}

if (!fs.existsSync(path.join(pkg, 'node_modules', 'koffi', 'package.json'))) {
  fail('node_modules/koffi is missing, and the tarball bundles it. Run `npm ci` in bindings/node first.');
}

const here = platform.current();
// koffi's native part for this machine (an optional dependency of koffi, bundled too).
const koffiNative = `@koromix/koffi-${here.platform}-${here.arch}`;
if (!fs.existsSync(path.join(pkg, 'node_modules', koffiNative, 'package.json'))) {
  fail(`node_modules/${koffiNative} is missing, and the tarball bundles it. Run \`npm ci\` in bindings/node first.`);
}
const dir = platform.dirName(here);
const file = platform.fileName(here.platform);
if (platform.SUPPORTED.includes(dir) && !fs.existsSync(path.join(prebuilds, dir, file))) {
  const targetDir = process.env.CARGO_TARGET_DIR
    ? path.resolve(pkg, '..', '..', process.env.CARGO_TARGET_DIR)
    : path.join(pkg, '..', '..', 'target');
  const built = path.join(targetDir, 'release', file);
  if (fs.existsSync(built)) {
    fs.mkdirSync(path.join(prebuilds, dir), { recursive: true });
    fs.copyFileSync(built, path.join(prebuilds, dir, file));
    console.error(`paytrim-auth prepack: packing ${built} as prebuilds/${dir}/${file}`);
  }
}

const have = platform.present(prebuilds);
if (have.length === 0) {
  fail(
    `no native library to pack: prebuilds/<platform>-<arch>[-musl]/ is empty and ${file} is not built. ` +
      'Build it first: `cargo build --release` at the repository root (CARGO_TARGET_DIR is honoured), ' +
      'then run npm pack again; for every platform, use scripts/package.sh with the release libraries.'
  );
}
console.error(`paytrim-auth prepack: native libraries for ${have.join(', ')}`);
