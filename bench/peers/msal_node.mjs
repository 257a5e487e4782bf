// @azure/msal-node against the emulator: cache-hit cost of
// acquireTokenByClientCredential, cold fetch (new app + first token), and
// requests sent by 32 concurrent first callers. One JSON line.
//
// Run from target/bench-peers/node (where scripts/bench.sh installs
// @azure/msal-node), with NODE_EXTRA_CA_CERTS=$EMU_CA and EMU_* set.
// The app fetches the emulator's OpenID discovery document like a real run;
// `knownAuthorities` skips instance discovery (which would go to
// login.microsoftonline.com). With --metadata the document is passed through
// the documented `authorityMetadata` option instead; --check-discovery only
// reports whether a token is obtained.
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import path from "node:path";

const require = createRequire(pathToFileURL(path.join(process.cwd(), "package.json")));
const msal = require("@azure/msal-node");

const HTTPS = process.env.EMU_HTTPS, HTTP = process.env.EMU_HTTP;
const CLIENT_ID = process.env.EMU_ID, SECRET = process.env.EMU_SECRET;
const TENANT = "contoso.onmicrosoft.com";
const QUICK = process.env.PAYTRIM_BENCH_QUICK === "1";
const useMetadata = process.argv.includes("--metadata");
const checkOnly = process.argv.includes("--check-discovery");
const authority = `${HTTPS}/${TENANT}`;
const metadata = JSON.stringify({
  token_endpoint: `${authority}/oauth2/v2.0/token`,
  authorization_endpoint: `${authority}/oauth2/v2.0/authorize`,
  issuer: `${authority}/v2.0`,
  jwks_uri: `${authority}/discovery/v2.0/keys`,
});

function makeApp() {
  const auth = { clientId: CLIENT_ID, clientSecret: SECRET, authority, knownAuthorities: [new URL(HTTPS).host] };
  if (useMetadata) auth.authorityMetadata = metadata;
  return new msal.ConfidentialClientApplication({ auth });
}

async function tokenRequests() {
  const r = await fetch(`${HTTP}/_emulator/stats`);
  return (await r.json()).token_requests;
}

const median = (v) => { const s = [...v].sort((a, b) => a - b); const n = s.length; return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2; };

async function get(app, scope) {
  const r = await app.acquireTokenByClientCredential({ scopes: [scope] });
  if (!r || !r.accessToken) throw new Error("no token");
  return r.accessToken;
}

async function main() {
  if (checkOnly) {
    try { await get(makeApp(), "api://nometa/.default"); console.log(JSON.stringify({ name: "msal-node", without_metadata: "ok" })); }
    catch (e) { console.log(JSON.stringify({ name: "msal-node", without_metadata: String(e).slice(0, 400) })); }
    return;
  }
  // Cache hit.
  const app = makeApp();
  const scope = "api://msalnode-hit/.default";
  await get(app, scope);
  const n = QUICK ? 2000 : 10000;
  for (let i = 0; i < n / 5; i++) await get(app, scope);
  const rounds = [];
  for (let r = 0; r < 5; r++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await get(app, scope);
    rounds.push(Number(process.hrtime.bigint() - t) / n);
  }
  // Cold fetch: new app + first token.
  const cold = [];
  for (let i = 0; i < (QUICK ? 5 : 15); i++) {
    const t = process.hrtime.bigint();
    await get(makeApp(), `api://msalnode-cold${i}/.default`);
    cold.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  // 32 concurrent first callers on one app.
  const st = makeApp();
  const before = await tokenRequests();
  const t = process.hrtime.bigint();
  await Promise.all(Array.from({ length: 32 }, () => get(st, "api://msalnode-stampede/.default")));
  const stMs = Number(process.hrtime.bigint() - t) / 1e6;
  const requests = (await tokenRequests()) - before;
  console.log(JSON.stringify({
    name: "@azure/msal-node", lang: "node", version: require("@azure/msal-node/package.json").version,
    hit_ns: +median(rounds).toFixed(1), cold_fetch_ms: +median(cold).toFixed(3),
    stampede32_requests: requests, stampede32_ms: +stMs.toFixed(2),
  }));
}

main().catch((e) => { console.error(e); process.exit(1); });
