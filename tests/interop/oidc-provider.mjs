// A real third-party OAuth 2.0 server for the certificate credential's
// interop test: panva's oidc-provider on 127.0.0.1 (random port), with one
// client registered for private_key_jwt and the client_credentials grant,
// whose public key is the given certificate's. Prints one JSON line
// {"issuer","token_url"} when ready; exits when stdin closes.
//
//   node tests/interop/oidc-provider.mjs CERT.pem CLIENT_ID SCOPE
import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

const [certPath, clientId, scope] = process.argv.slice(2);
if (!certPath || !clientId || !scope) {
  console.error('usage: oidc-provider.mjs CERT.pem CLIENT_ID SCOPE');
  process.exit(2);
}
const jwk = createPublicKey(readFileSync(certPath)).export({ format: 'jwk' });

const server = await new Promise((resolve) => {
  const s = createServer();
  s.listen(0, '127.0.0.1', () => resolve(s));
});
const issuer = `http://127.0.0.1:${server.address().port}`;
const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'private_key_jwt',
    jwks: { keys: [jwk] },
    scope,
  }],
  scopes: [scope],
  features: { clientCredentials: { enabled: true }, devInteractions: { enabled: false } },
  enabledJWA: { clientAuthSigningAlgValues: ['PS256', 'RS256'] },
});
provider.on('grant.error', (ctx, err) => console.error(`oidc-provider: ${err.name}: ${err.error_description ?? err.message}`));
provider.on('server_error', (ctx, err) => console.error('oidc-provider server_error', err));
server.on('request', provider.callback());
console.log(JSON.stringify({ issuer, token_url: `${issuer}/token` }));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
