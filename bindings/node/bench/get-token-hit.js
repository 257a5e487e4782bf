'use strict';

// Cost of `await client.getToken()` on a cache hit (warmed loop).
// Starts the emulator once to get a token into the cache, then measures.
//   PAYTRIM_AUTH_LIB=... PAYTRIM_EMULATOR=... node bench/get-token-hit.js [iterations]

const { Emulator } = require('../test/helpers/emulator');
const { PaytrimAuthClient, nativeVersion } = require('..');

async function main() {
  const iterations = Number(process.argv[2] || 200000);
  const emu = await Emulator.start();
  try {
    const creds = await emu.newClient();
    const client = new PaytrimAuthClient(emu.options(creds));
    await client.getToken(); // fill the cache

    const measure = async (label, fn) => {
      for (let i = 0; i < 20000; i++) await fn(); // warm up (JIT)
      const best = [];
      for (let round = 0; round < 5; round++) {
        const t0 = process.hrtime.bigint();
        for (let i = 0; i < iterations; i++) await fn();
        const ns = Number(process.hrtime.bigint() - t0) / iterations;
        best.push(ns);
      }
      best.sort((a, b) => a - b);
      const median = best[2];
      console.log(
        `${label.padEnd(42)} median ${(median / 1000).toFixed(2)} us/op  (best ${(best[0] / 1000).toFixed(2)} us)  ` +
          `${Math.round(1e9 / median).toLocaleString('en-US')} ops/s`
      );
    };

    await measure('await client.getToken()', () => client.getToken());
    await measure("await client.getToken('<configured scope>')", () => client.getToken(emu.options(creds).scope));
    await measure('await client.getTokenJson()', () => client.getTokenJson());
    await measure('await Promise.resolve() (baseline)', () => Promise.resolve());

    const stats = await emu.stats();
    console.log(`native ${nativeVersion()}, node ${process.version}, ${iterations} iterations x 5 rounds; ` +
      `token requests at the emulator: ${stats.token_requests}`);
    client.close();
  } finally {
    await emu.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
