'use strict';

// `npm pack` produces a tarball that carries the native library (and koffi,
// bundled); installed OFFLINE into an empty folder with an empty npm cache, it
// fetches a token from the emulator in a child process that does not set
// PAYTRIM_AUTH_LIB, from another working directory.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFile } = require('node:child_process');
const { promisify } = require('node:util');
const { Emulator } = require('./helpers/emulator');

const run = promisify(execFile);
const PKG = path.resolve(__dirname, '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

let emu;
let tmp;
test.before(async () => {
  emu = await Emulator.start();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'paytrim-auth-node-pack-'));
});
test.after(async () => {
  if (emu) await emu.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

test('the packed tarball installs offline into an empty folder and fetches a token', { timeout: 120000 }, async () => {
  const prebuilt = path.join(PKG, 'prebuilds', 'linux-x64', 'libpaytrim_auth.so');
  assert.ok(fs.existsSync(prebuilt), `${prebuilt} must exist (test.sh copies PAYTRIM_AUTH_LIB there)`);

  const packDir = path.join(tmp, 'pack');
  fs.mkdirSync(packDir);
  const { stdout: packOut } = await run(npm, ['pack', '--json', '--pack-destination', packDir], { cwd: PKG });
  const [info] = JSON.parse(packOut);
  const files = info.files.map((f) => f.path);
  for (const f of ['index.js', 'index.mjs', 'index.d.ts', 'package.json', 'prebuilds/linux-x64/libpaytrim_auth.so']) {
    assert.ok(files.includes(f), `tarball carries ${f}`);
  }
  assert.ok(!files.some((f) => f.startsWith('test/') || f.startsWith('bench/')), 'no tests in the tarball');
  const tarball = path.join(packDir, info.filename);

  const project = path.join(tmp, 'project');
  fs.mkdirSync(project);
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'empty-project', version: '1.0.0', private: true }));
  const emptyCache = path.join(tmp, 'npm-cache');
  await run(npm, ['install', '--offline', '--no-audit', '--no-fund', '--cache', emptyCache, tarball], {
    cwd: project,
  });
  const installed = path.join(project, 'node_modules', 'paytrim-auth');
  assert.ok(fs.existsSync(path.join(installed, 'prebuilds', 'linux-x64', 'libpaytrim_auth.so')));

  const creds = await emu.newClient();
  const script = `
    const { PaytrimAuthClient, LIBRARY_PATH } = require(${JSON.stringify(installed)});
    (async () => {
      const client = new PaytrimAuthClient({
        clientId: process.env.T_ID, clientSecret: process.env.T_SECRET,
        tenant: 'contoso.onmicrosoft.com', scope: 'api://paytrim/.default',
        authorityHost: process.env.T_AUTHORITY, caFile: process.env.T_CA,
      });
      const json = await client.getTokenJson();
      client.close();
      console.log(JSON.stringify({ libraryPath: LIBRARY_PATH, json }));
    })().catch((e) => { console.error(e); process.exit(1); });`;
  const env = { ...process.env, T_ID: creds.clientId, T_SECRET: creds.clientSecret, T_AUTHORITY: emu.https, T_CA: emu.caFile };
  delete env.PAYTRIM_AUTH_LIB;
  delete env.NODE_PATH;
  const { stdout } = await run(process.execPath, ['-e', script], { cwd: os.tmpdir(), env });
  const out = JSON.parse(stdout);
  assert.equal(out.libraryPath, path.join(installed, 'prebuilds', 'linux-x64', 'libpaytrim_auth.so'));
  assert.equal(out.json.token_type, 'Bearer');
  assert.ok(out.json.expires_in > 3500);
  const reqs = await emu.requestsFor(creds.clientId);
  assert.equal(reqs.length, 1);
  assert.equal(reqs[0].status, 200);
});
