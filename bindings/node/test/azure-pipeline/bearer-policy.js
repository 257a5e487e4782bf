'use strict';

// @azure/core-rest-pipeline's own bearerTokenAuthenticationPolicy, with a PaytrimAuthClient
// as its TokenCredential, calls a local HTTPS server that records the Authorization header;
// the tokens come from the emulator through the library, for the policy's scopes (asked for
// per call on one native client). Run by bindings/node/test.sh (its own npm ci first).

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const https = require('node:https');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const {
  createEmptyPipeline,
  createDefaultHttpClient,
  createPipelineRequest,
  bearerTokenAuthenticationPolicy,
} = require('@azure/core-rest-pipeline');
const { Emulator } = require('../helpers/emulator');
const { PaytrimAuthClient } = require('../..');

let emu;
let server;
let ca;
const seen = [];

test.before(async () => {
  emu = await Emulator.start();
  // The API server's certificate for localhost, made now.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paytrim-azure-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });
  ca = fs.readFileSync(path.join(dir, 'cert.pem'));
  server = https.createServer({ key: fs.readFileSync(path.join(dir, 'key.pem')), cert: ca }, (req, res) => {
    seen.push(req.headers.authorization || '(none)');
    res.setHeader('content-type', 'application/json');
    res.end('{"ok":true}');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
});

test.after(async () => {
  if (server) await new Promise((resolve) => server.close(resolve));
  if (emu) await emu.stop();
});

const aud = (bearer) => JSON.parse(Buffer.from(bearer.split(' ')[1].split('.')[1], 'base64url').toString()).aud;

function pipelineFor(credential, scopes) {
  const pipeline = createEmptyPipeline();
  pipeline.addPolicy(bearerTokenAuthenticationPolicy({ credential, scopes }));
  return pipeline;
}

async function call(pipeline, p) {
  const request = createPipelineRequest({ url: `https://localhost:${server.address().port}${p}` });
  request.agent = new https.Agent({ ca });
  const res = await pipeline.sendRequest(createDefaultHttpClient(), request);
  return res.status;
}

test("bearerTokenAuthenticationPolicy sends the library's token for the policy's scopes", async () => {
  const creds = await emu.newClient();
  const client = new PaytrimAuthClient(emu.options(creds));
  try {
    const vault = pipelineFor(client, 'api://vault/.default');
    const storage = pipelineFor(client, ['api://storage/.default']);
    assert.equal(await call(vault, '/secrets/a'), 200);
    assert.equal(await call(vault, '/secrets/b'), 200);
    assert.equal(await call(storage, '/blobs/c'), 200);
    assert.equal(seen.length, 3, String(seen.length));
    assert.equal(aud(seen[0]), 'api://vault');
    assert.equal(seen[1], seen[0], "the policy's second call: same token");
    assert.equal(aud(seen[2]), 'api://storage');
    // They are the library's cached tokens for those scope sets.
    assert.equal(seen[0], `Bearer ${(await client.getToken({ scopes: 'api://vault/.default' })).accessToken}`);
    assert.equal(seen[2], `Bearer ${(await client.getToken({ scopes: ['api://storage/.default'] })).accessToken}`);
    const sent = (await emu.requestsFor(creds.clientId)).map((r) => r.form.scope);
    assert.deepEqual(sent, ['api://vault/.default', 'api://storage/.default']);
  } finally {
    client.close();
  }
});
