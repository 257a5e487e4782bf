'use strict';
// A child process with exactly `vars` on top of a clean environment (no
// PAYTRIM_* but PAYTRIM_AUTH_LIB, no AZURE_*, IDENTITY_*, IMDS_* or proxy
// variables): PaytrimAuthClient.fromEnvironment(), then getToken(). Resolves
// to { status, output }: exit 0 and `token-length=N`, or exit 2 and
// `CODE: message`. Asynchronous, so a recording proxy or emulator running on
// the test's own event loop keeps answering while the child runs.
const path = require('node:path');
const { spawn } = require('node:child_process');

function runFromEnvironment(vars) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(PAYTRIM_(?!AUTH_LIB$)|AZURE_|IDENTITY_|IMDS_)/.test(k) && !/_proxy$/i.test(k)) env[k] = v;
  }
  Object.assign(env, vars);
  const script = `
    const { PaytrimAuthClient } = require(${JSON.stringify(path.resolve(__dirname, '..', '..'))});
    (async () => {
      let c;
      try {
        c = PaytrimAuthClient.fromEnvironment();
        console.log('token-length=' + (await c.getToken()).accessToken.length);
      } catch (e) {
        console.log(e.code + ': ' + e.message);
        process.exitCode = 2;
      } finally {
        if (c) c.close();
      }
    })();`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60000);
    child.once('error', reject);
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, output });
    });
  });
}

module.exports = { runFromEnvironment };
