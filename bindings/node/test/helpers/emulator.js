'use strict';

// Starts the project's Entra emulator (PAYTRIM_EMULATOR, else
// target/release/paytrim-entra-emulator) for one test file and drives its
// control API. The emulator exits when its stdin closes or when this process
// dies, so it never outlives the tests.

const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const path = require('node:path');
const readline = require('node:readline');

const REPO = path.resolve(__dirname, '..', '..', '..', '..');

function emulatorPath() {
  return process.env.PAYTRIM_EMULATOR || path.join(REPO, 'target', 'release', 'paytrim-entra-emulator');
}

class Emulator {
  static async start(args = []) {
    const child = spawn(emulatorPath(), ['--exit-on-stdin-eof', ...args], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const line = await new Promise((resolve, reject) => {
      const rl = readline.createInterface({ input: child.stdout });
      const timer = setTimeout(() => reject(new Error('emulator did not become ready in 20 s')), 20000);
      rl.once('line', (l) => {
        clearTimeout(timer);
        rl.close();
        resolve(l);
      });
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`emulator exited early (${code})`));
      });
    });
    const info = JSON.parse(line);
    return new Emulator(child, exited, info);
  }

  constructor(child, exited, info) {
    this.child = child;
    this.exited = exited;
    this.https = info.https;
    this.http = info.http;
    this.caFile = info.ca_file;
    this.clientId = info.client_id;
    this.clientSecret = info.client_secret;
  }

  async control(method, p, body) {
    const res = await fetch(this.http + p, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`emulator ${method} ${p}: ${res.status} ${text}`);
    return JSON.parse(text);
  }

  stats() {
    return this.control('GET', '/_emulator/stats');
  }
  requests() {
    return this.control('GET', '/_emulator/requests');
  }
  /** Recorded token requests made with `clientId` (form field or Basic header). */
  async requestsFor(clientId) {
    const all = await this.requests();
    return all.filter((r) => (r.form && r.form.client_id === clientId) || r.basic_client_id === clientId);
  }
  configure(knobs) {
    return this.control('POST', '/_emulator/config', knobs);
  }
  fault(f) {
    return this.control('POST', '/_emulator/faults', f);
  }
  reset() {
    return this.control('POST', '/_emulator/reset', {});
  }

  /** Registers a fresh client (own cache key, own request count). */
  async newClient({ expired = false } = {}) {
    const id = crypto.randomUUID();
    const secret = 'sec-' + crypto.randomBytes(12).toString('hex');
    await this.control('POST', '/_emulator/clients', { client_id: id, client_secret: secret, expired });
    return { clientId: id, clientSecret: secret };
  }

  /** Options for PaytrimAuthClient pointing at this emulator. */
  options(creds, extra = {}) {
    return {
      clientId: creds.clientId,
      clientSecret: creds.clientSecret,
      tenant: 'contoso.onmicrosoft.com',
      scope: 'api://paytrim/.default',
      authorityHost: this.https,
      caFile: this.caFile,
      // Loopback: whatever the environment's proxy variables say (test.sh points
      // them at a dead port), no proxy.
      proxy: 'none',
      ...extra,
    };
  }

  async stop() {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(timer);
  }
}

module.exports = { Emulator, REPO };
