'use strict';

// Wake-ups at scale: N getToken() promises waiting on one cold key, against an
// emulator that answers after LATENCY ms. Reports when the last promise
// settled, how long settling took after the first one, the event loop's
// worst lag from the moment every call was made until the last settled, the
// native deliveries into JavaScript and the token requests at the server.
//   PAYTRIM_AUTH_LIB=... PAYTRIM_EMULATOR=... node bench/wakeups.js [waiters=100000] [latency_ms=1000]

const { monitorEventLoopDelay } = require('node:perf_hooks');
const { Emulator } = require('../test/helpers/emulator');
const { PaytrimAuthClient, _notifierStats } = require('..');

async function main() {
  const waiters = Number(process.argv[2] || 100000);
  const latencyMs = Number(process.argv[3] || 1000);
  const emu = await Emulator.start(['--latency-ms', String(latencyMs)]);
  try {
    const creds = await emu.newClient();
    const client = new PaytrimAuthClient(emu.options(creds));
    const before = _notifierStats();

    // Lag probe: a 5 ms timer chain; lag = how late each tick ran, split into
    // the wait for the fetch and the settling (from the first settled waiter).
    let maxWaitLag = 0;
    let maxSettleLag = 0;
    let probing = true;
    let expected = 0;
    const tick = () => {
      const now = performance.now();
      if (settled === 0) maxWaitLag = Math.max(maxWaitLag, now - expected);
      else maxSettleLag = Math.max(maxSettleLag, now - expected);
      if (probing) {
        expected = performance.now() + 5;
        setTimeout(tick, 5);
      }
    };
    // The machine's own noise: the same probe on an idle loop for 500 ms.
    const idleLag = await new Promise((resolve) => {
      let max = 0;
      let exp = performance.now() + 5;
      const end = exp + 500;
      const t = () => {
        const now = performance.now();
        max = Math.max(max, now - exp);
        if (now > end) return resolve(max);
        exp = performance.now() + 5;
        setTimeout(t, 5);
      };
      setTimeout(t, 5);
    });
    const histogram = monitorEventLoopDelay({ resolution: 5 });

    let settled = 0;
    let firstSettled = 0;
    let lastSettled = 0;
    let allSettled;
    const allDone = new Promise((resolve) => (allSettled = resolve));
    const onSettled = (t) => {
      const now = performance.now();
      if (settled === 0) firstSettled = now;
      if (!t.accessToken) throw new Error('no token');
      settled++;
      lastSettled = now;
      if (settled === waiters) allSettled();
    };
    const onError = (e) => {
      console.error(e);
      process.exit(1);
    };
    const t0 = performance.now();
    for (let i = 0; i < waiters; i++) client.getToken().then(onSettled, onError);
    const issued = performance.now();
    expected = issued + 5;
    setTimeout(tick, 5);
    histogram.enable();
    await allDone;
    const done = performance.now();
    probing = false;
    histogram.disable();

    const after = _notifierStats();
    const requests = (await emu.requestsFor(creds.clientId)).length;
    const r = {
      waiters,
      latencyMs,
      issueMs: +(issued - t0).toFixed(1),
      firstSettledMs: +(firstSettled - t0).toFixed(1),
      lastSettledMs: +(lastSettled - t0).toFixed(1),
      settleSpreadMs: +(lastSettled - firstSettled).toFixed(1),
      totalMs: +(done - t0).toFixed(1),
      maxLagMs: +Math.max(maxWaitLag, maxSettleLag).toFixed(1),
      maxWaitLagMs: +maxWaitLag.toFixed(1),
      maxSettleLagMs: +maxSettleLag.toFixed(1),
      idleLoopLagMs: +idleLag.toFixed(1),
      maxLoopDelayMs: +(histogram.max / 1e6).toFixed(1),
      nativeDeliveries: after.deliveries - before.deliveries,
      wakeUps: after.wakeUps - before.wakeUps,
      tokenRequests: requests,
    };
    console.log(
      `${waiters.toLocaleString('en-US')} waiters on one cold key, ${latencyMs} ms fetch: ` +
        `all settled at ${r.lastSettledMs} ms (first at ${r.firstSettledMs} ms, spread ${r.settleSpreadMs} ms; ` +
        `calls made in ${r.issueMs} ms); max event-loop lag after the calls ${r.maxLagMs} ms ` +
        `(waiting ${r.maxWaitLagMs} ms, settling ${r.maxSettleLagMs} ms; idle loop ${r.idleLoopLagMs} ms) ` +
        `(monitorEventLoopDelay max ${r.maxLoopDelayMs} ms); native deliveries ${r.nativeDeliveries}, ` +
        `wake-ups ${r.wakeUps}, token requests ${r.tokenRequests}`
    );
    console.log(JSON.stringify(r));
    client.close();
  } finally {
    await emu.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
