'use strict';

// Every credential kind from Node, end to end against the emulator: a
// certificate (made at run time with the openssl CLI), an assertion function
// that signs with node:crypto, a federated token file, the environment
// factory (in a child process) and managed identity (IMDS and App Service).

const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { Emulator } = require('./helpers/emulator');
const { runFromEnvironment } = require('./helpers/child-from-environment');
const { PaytrimAuthClient, PaytrimAuthError } = require('..');

const PASSWORD = 'pfx pässword';
let emu;
let dir;
let certPem;
let keyPem;
let pfx;
let identityHeader;

test.before(async () => {
  emu = await Emulator.start();
  identityHeader = (await emu.control('GET', '/_emulator/managed_identity')).identity_header;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paytrim-node-certs-'));
  const openssl = (...args) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'key.pem', '-out', 'cert.pem', '-days', '2', '-subj', '/CN=paytrim-node-test');
  openssl('pkcs12', '-export', '-in', 'cert.pem', '-inkey', 'key.pem', '-out', 'client.pfx', '-passout', `pass:${PASSWORD}`);
  certPem = fs.readFileSync(path.join(dir, 'cert.pem'), 'utf8');
  keyPem = fs.readFileSync(path.join(dir, 'key.pem'), 'utf8');
  pfx = path.join(dir, 'client.pfx');
});
test.after(async () => {
  if (emu) await emu.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const SCOPE = 'api://paytrim/.default';
const b64url = (b) => Buffer.from(b).toString('base64url');
const decode = (jwt, i) => JSON.parse(Buffer.from(jwt.split('.')[i], 'base64url').toString('utf8'));

/** The error `fn` throws (fails the test if it throws none). */
function thrown(fn, type = Error) {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof type, `expected a ${type.name}, got ${e}`);
    return e;
  }
  assert.fail('expected an error');
}

async function newCertificateClient() {
  const id = crypto.randomUUID();
  await emu.control('POST', '/_emulator/clients', { client_id: id, certificate_pem: certPem });
  return id;
}

function base(clientId, extra = {}) {
  return { clientId, tenant: 'contoso.onmicrosoft.com', scope: SCOPE, authorityHost: emu.https, caFile: emu.caFile, ...extra };
}

async function assertionsFor(id) {
  return (await emu.requestsFor(id)).map((r) => r.form.client_assertion).filter(Boolean);
}

/** A PS256 client assertion signed with node:crypto, as an HSM-backed signer would make it. */
function sign({ clientId, audience }) {
  const der = new crypto.X509Certificate(certPem).raw;
  const now = Math.floor(Date.now() / 1000);
  const header = { alg: 'PS256', typ: 'JWT', 'x5t#S256': b64url(crypto.createHash('sha256').update(der).digest()) };
  const claims = { aud: audience, iss: clientId, sub: clientId, jti: crypto.randomUUID(), iat: now, nbf: now, exp: now + 600 };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const sig = crypto.sign('sha256', Buffer.from(input), {
    key: keyPem,
    padding: crypto.constants.RSA_PKCS1_PSS_PADDING,
    saltLength: 32,
  });
  return `${input}.${b64url(sig)}`;
}

test('certificatePath (PKCS#12 + password) signs a fresh PS256 assertion per request', async () => {
  const id = await newCertificateClient();
  const client = new PaytrimAuthClient(base(id, { certificatePath: pfx, certificatePassword: PASSWORD }));
  try {
    const t1 = (await client.getToken()).accessToken;
    assert.equal((await client.getToken()).accessToken, t1, 'a cache hit signs and sends nothing');
    assert.notEqual((await client.refreshToken()).accessToken, t1);
  } finally {
    client.close();
  }
  const sent = await assertionsFor(id);
  assert.equal(sent.length, 2);
  const form = (await emu.requestsFor(id))[0].form;
  assert.equal(form.client_assertion_type, 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
  assert.equal(form.client_secret, undefined);
  assert.equal(decode(sent[0], 0).alg, 'PS256');
  assert.equal(decode(sent[0], 1).iss, id);
  assert.equal(decode(sent[0], 1).aud, `${emu.https}/contoso.onmicrosoft.com/oauth2/v2.0/token`);
  assert.notEqual(decode(sent[0], 1).jti, decode(sent[1], 1).jti);
});

test('certificatePfx: a PKCS#12 archive from memory', async () => {
  const id = await newCertificateClient();
  const client = new PaytrimAuthClient(base(id, { certificatePfx: fs.readFileSync(pfx), certificatePassword: PASSWORD }));
  try {
    assert.ok((await client.getToken()).accessToken.length > 0);
  } finally {
    client.close();
  }
  assert.equal(decode((await assertionsFor(id))[0], 0).alg, 'PS256');
  const e = thrown(() => new PaytrimAuthClient(base(id, { certificatePfx: fs.readFileSync(pfx), certificatePassword: 'wrong-pw' })), PaytrimAuthError);
  assert.equal(e.code, 'INVALID_ARGUMENT');
  assert.ok(!e.message.includes('wrong-pw'), e.message);
  assert.throws(() => new PaytrimAuthClient(base(id, { certificatePfx: 'not bytes' })), TypeError);
});

test('certificatePem with RS256 and the chain; a second scope reuses the credential', async () => {
  const id = await newCertificateClient();
  const client = new PaytrimAuthClient(
    base(id, { certificatePem: certPem, privateKeyPem: keyPem, signingAlgorithm: 'RS256', sendCertificateChain: true })
  );
  try {
    await client.getToken();
    const other = await client.getToken(['api://other/.default']);
    assert.ok(other.token.length > 0);
  } finally {
    client.close();
  }
  const sent = await assertionsFor(id);
  assert.equal(sent.length, 2);
  for (const a of sent) {
    const h = decode(a, 0);
    assert.equal(h.alg, 'RS256');
    assert.ok(h.x5t && h['x5t#S256']);
    assert.equal(h.x5c.length, 1);
  }
});

test('bad certificate options are clear errors', async () => {
  const id = crypto.randomUUID();
  let e = thrown(() => new PaytrimAuthClient(base(id, { certificatePath: pfx, certificatePassword: 'wrong-pw' })), PaytrimAuthError);
  assert.equal(e.code, 'INVALID_ARGUMENT');
  assert.ok(e.message.includes(pfx), e.message);
  assert.ok(!e.message.includes('wrong-pw'), e.message);
  e = thrown(() => new PaytrimAuthClient(base(id, { certificatePath: pfx, clientSecret: 's' })), PaytrimAuthError);
  assert.match(e.message, /clientSecret and certificatePath conflict/);
  e = thrown(() => new PaytrimAuthClient(base(id, {})), PaytrimAuthError);
  assert.match(e.message, /no credential/);
  e = thrown(() => new PaytrimAuthClient(base(id, { clientSecret: 's', signingAlgorithm: 'RS256' })), PaytrimAuthError);
  assert.match(e.message, /signingAlgorithm applies to a certificate/);
  e = thrown(() => new PaytrimAuthClient(base(id, { certificatePath: pfx, certificatePassword: PASSWORD, signingAlgorithm: 'HS256' })));
  assert.match(e.message, /HS256/);
  // A certificate the server does not know: Entra's answer.
  const client = new PaytrimAuthClient(base(id, { certificatePath: pfx, certificatePassword: PASSWORD }));
  try {
    e = await client.getToken().then(() => null, (x) => x);
    assert.ok(e instanceof PaytrimAuthError);
    assert.equal(e.code, 'CREDENTIAL_REJECTED', e.message);
  } finally {
    client.close();
  }
});

test('assertion: an async function signing with node:crypto, asked once per request from the library thread', async () => {
  const id = await newCertificateClient();
  const asked = [];
  const client = new PaytrimAuthClient(
    base(id, {
      assertion: async (request) => {
        asked.push(request);
        await new Promise((r) => setTimeout(r, 20));
        return sign(request);
      },
    })
  );
  try {
    const t = (await client.getToken()).accessToken;
    assert.equal((await client.getToken()).accessToken, t);
    assert.equal(asked.length, 1, 'a cache hit does not ask');
    await client.refreshToken();
    assert.equal(asked.length, 2, 'each request gets a fresh assertion');
  } finally {
    client.close();
  }
  assert.deepEqual(asked[0], { clientId: id, audience: `${emu.https}/contoso.onmicrosoft.com/oauth2/v2.0/token` });
  assert.equal(decode((await assertionsFor(id))[0], 0).alg, 'PS256');
});

test('assertion: many waiters share one slow signer, and the event loop stays free', async () => {
  const id = await newCertificateClient();
  let calls = 0;
  let release;
  const gate = new Promise((r) => (release = r));
  const client = new PaytrimAuthClient(
    base(id, {
      assertion: async (request) => {
        calls++;
        await gate;
        return sign(request);
      },
    })
  );
  try {
    const waiters = Array.from({ length: 8 }, () => client.getToken());
    // While the signer waits, timers still run (nothing blocks the JS thread).
    await new Promise((r) => setTimeout(r, 50));
    release();
    const tokens = await Promise.all(waiters);
    assert.equal(new Set(tokens.map((t) => t.accessToken)).size, 1);
  } finally {
    client.close();
  }
  assert.equal(calls, 1);
});

test('assertion: throwing, rejecting, non-string, garbage and silent functions are clear errors', async () => {
  const id = await newCertificateClient();
  const cases = [
    [() => { throw new Error('HSM offline'); }, /the assertion function threw Error: HSM offline/],
    [async () => { throw new TypeError('vault said no'); }, /TypeError: vault said no/],
    [() => 42, /returned number, not a string/],
    [() => 'not-a-jwt', /not a compact JWT/],
  ];
  for (const [assertion, expected] of cases) {
    const client = new PaytrimAuthClient(base(id, { assertion }));
    try {
      const e = await client.getToken().then(() => null, (x) => x);
      assert.ok(e instanceof PaytrimAuthError, String(e));
      assert.equal(e.code, 'INVALID_ARGUMENT');
      assert.match(e.message, expected);
      assert.ok(!e.message.includes('not-a-jwt'));
    } finally {
      client.close();
    }
  }
  const started = Date.now();
  const client = new PaytrimAuthClient(base(id, { assertion: () => new Promise(() => {}), totalTimeoutMs: 800 }));
  try {
    const e = await client.getToken().then(() => null, (x) => x);
    assert.match(e.message, /no answer within/);
  } finally {
    client.close();
  }
  assert.ok(Date.now() - started < 20000);
});

test('federatedTokenFile is sent as the assertion; an empty file is an error naming it', async () => {
  const iss = `https://oidc.example/${crypto.randomUUID()}`;
  const sub = 'system:serviceaccount:payments:api';
  const id = crypto.randomUUID();
  await emu.control('POST', '/_emulator/clients', { client_id: id, federated_issuer: iss, federated_subject: sub });
  const now = Math.floor(Date.now() / 1000);
  const jwt = `${b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }))}.${b64url(
    JSON.stringify({ iss, sub, aud: 'api://AzureADTokenExchange', iat: now, nbf: now, exp: now + 3600 })
  )}.${b64url('sig')}`;
  const file = path.join(dir, 'federated.jwt');
  fs.writeFileSync(file, jwt);
  const client = new PaytrimAuthClient(base(id, { federatedTokenFile: file }));
  try {
    assert.ok((await client.getToken()).accessToken.length > 0);
  } finally {
    client.close();
  }
  assert.equal((await assertionsFor(id))[0], jwt);
  fs.writeFileSync(file, '');
  const e = thrown(() => new PaytrimAuthClient(base(id, { federatedTokenFile: file })), PaytrimAuthError);
  assert.ok(e.message.includes(file), e.message);
});

async function managedIdentityRequests(part, resource) {
  return (await emu.requests()).filter((r) => r.path.toLowerCase().includes(part) && r.query && r.query.resource === resource);
}

test('managed identity through IMDS and App Service', async () => {
  const resource = `api://paytrim-${crypto.randomUUID()}`;
  const client = PaytrimAuthClient.managedIdentity(true, { imdsEndpoint: emu.http, scope: `${resource}/.default` });
  try {
    const t = (await client.getToken()).accessToken;
    assert.equal((await client.getToken()).accessToken, t);
    assert.equal(decode(t, 1).aud, resource);
  } finally {
    client.close();
  }
  const imds = await managedIdentityRequests('/metadata/identity/oauth2/token', resource);
  assert.equal(imds.length, 1, 'one request, then the cache');
  assert.equal(imds[0].headers.metadata, 'true');

  const ua = crypto.randomUUID();
  await emu.control('POST', '/_emulator/managed_identity', { user_assigned: { client_id: ua } });
  const resource2 = `api://paytrim-${crypto.randomUUID()}`;
  const app = new PaytrimAuthClient({
    managedIdentity: { clientId: ua },
    identityEndpoint: `${emu.http}/msi/token`,
    identityHeader,
    scope: `${resource2}/.default`,
  });
  try {
    assert.equal(decode((await app.getToken()).accessToken, 1).appid, ua);
  } finally {
    app.close();
  }
  const reqs = await managedIdentityRequests('/msi/token', resource2);
  assert.equal(reqs.length, 1);
  assert.equal(reqs[0].query.client_id, ua);

  const unknown = PaytrimAuthClient.managedIdentity({ objectId: crypto.randomUUID() }, {
    imdsEndpoint: emu.http,
    scope: `${resource}/.default`,
    maxAttempts: 1,
  });
  try {
    const e = await unknown.getToken().then(() => null, (x) => x);
    assert.ok(e instanceof PaytrimAuthError);
    assert.match(e.message.toLowerCase(), /identity/);
  } finally {
    unknown.close();
  }
  assert.throws(() => new PaytrimAuthClient({ clientId: 'x', managedIdentity: true }), /clientId is not taken/);
});

test('fromEnvironment picks the credential from the variables (child process)', async () => {
  const id = await newCertificateClient();
  let r = await runFromEnvironment({
    PAYTRIM_CLIENT_ID: id,
    PAYTRIM_TENANT_ID: 'contoso.onmicrosoft.com',
    PAYTRIM_AUTHORITY_HOST: emu.https,
    PAYTRIM_CA_FILE: emu.caFile,
    AZURE_CLIENT_CERTIFICATE_PATH: pfx,
    AZURE_CLIENT_CERTIFICATE_PASSWORD: PASSWORD,
  });
  assert.equal(r.status, 0, r.output);
  assert.match(r.output, /token-length=\d+/);
  assert.equal((await assertionsFor(id)).length, 1, 'the certificate from AZURE_* was used');

  r = await runFromEnvironment({ AZURE_CLIENT_SECRET: 's' });
  assert.equal(r.status, 2, r.output);
  assert.match(r.output, /INVALID_ARGUMENT/);
  assert.match(r.output, /AZURE_CLIENT_ID/);
  assert.match(r.output, /AZURE_TENANT_ID/);

  r = await runFromEnvironment({ AZURE_CLIENT_ID: id, AZURE_TENANT_ID: 't', AZURE_CLIENT_SECRET: 's', AZURE_FEDERATED_TOKEN_FILE: '/x' });
  assert.equal(r.status, 2, r.output);
  assert.match(r.output, /AZURE_CLIENT_SECRET and AZURE_FEDERATED_TOKEN_FILE/);

  assert.throws(() => PaytrimAuthClient.fromEnvironment({ clientSecret: 's' }), /not taken by fromEnvironment/);
});
