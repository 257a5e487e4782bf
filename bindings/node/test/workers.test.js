'use strict';

// worker_threads: an environment that ends with fetches in flight never harms
// the process. Each scenario runs test/fixtures/worker-rounds.js in a child
// process (a crash shows as its signal) against an emulator that answers
// after LATENCY_MS, so every doomed worker ends while its fetch is in flight;
// the main thread and a surviving worker must get the token of every round.
//   PAYTRIM_NODE_WORKER_ROUNDS  rounds per scenario (default 50)

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { Emulator } = require('./helpers/emulator');

const ROUNDS = Number(process.env.PAYTRIM_NODE_WORKER_ROUNDS || 50);
const LATENCY_MS = 400;
const SCRIPT = path.join(__dirname, 'fixtures', 'worker-rounds.js');

let emu;
test.before(async () => {
  emu = await Emulator.start(['--latency-ms', String(LATENCY_MS)]);
});
test.after(async () => {
  if (emu) await emu.stop();
});

function runRounds(workers, rounds, mode = 'main') {
  return runChild(SCRIPT, [String(workers), String(rounds), mode]);
}

function runChild(script, args) {
  const info = JSON.stringify({ https: emu.https, http: emu.http, ca_file: emu.caFile });
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, info, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_PROXY: '*', no_proxy: '*' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

function assertSurvived(r, workers, rounds, mainUses) {
  assert.equal(r.signal, null, `the process died of ${r.signal}; stderr: ${r.stderr.slice(-2000)}`);
  assert.equal(r.code, 0, `exit code ${r.code}; stderr: ${r.stderr.slice(-2000)}`);
  const summary = JSON.parse(r.stdout.trim().split('\n').pop());
  const { inFlightRounds, ...counts } = summary;
  assert.deepEqual(counts, { rounds, workers, survivorTokens: rounds, mainTokens: mainUses ? rounds : 0 });
  // The scenario is only meaningful if the workers ended mid-fetch.
  assert.ok(inFlightRounds >= Math.ceil(rounds * 0.8), `fetch in flight when the workers ended in only ${inFlightRounds}/${rounds} rounds`);
  return summary;
}

for (const workers of [1, 3, 10]) {
  test(`${workers} worker(s) terminated or exiting mid-fetch, ${ROUNDS} rounds: the process lives, the others get tokens`, async (t) => {
    const r = await runRounds(workers, ROUNDS);
    const s = assertSurvived(r, workers, ROUNDS, true);
    t.diagnostic(`${s.rounds} rounds survived, fetch in flight at the end of ${s.inFlightRounds}`);
  });
}

test('workers ending mid-fetch when the main thread never loaded the package', async () => {
  const rounds = Math.min(ROUNDS, 10);
  const r = await runRounds(3, rounds, 'no-main');
  assertSurvived(r, 3, rounds, false);
});

test('a worker with an assertion function ends while the library retries: the process lives, the main thread gets tokens', async () => {
  // The library asks for a fresh assertion per attempt; each retry after the
  // worker ended must fail in the library, never call into the ended
  // environment (with a koffi callback, that crashed the process).
  const rounds = 3;
  const r = await runChild(path.join(__dirname, 'fixtures', 'worker-assertion.js'), [String(rounds)]);
  assert.equal(r.signal, null, `the process died of ${r.signal}; stderr: ${r.stderr.slice(-2000)}`);
  assert.equal(r.code, 0, `exit code ${r.code}; stderr: ${r.stderr.slice(-2000)}`);
  const s = JSON.parse(r.stdout.trim().split('\n').pop());
  assert.equal(s.asked, rounds, 'each worker was asked for an assertion before it ended');
  assert.equal(s.mainTokens, rounds);
  assert.ok(s.dropped >= rounds, `the token endpoint saw ${s.dropped} attempts`);
});
