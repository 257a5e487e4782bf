'use strict';

// The documented Node example (node-fetch POST to the token endpoint),
// rewritten on paytrim-auth. Configuration comes from the environment; an
// unset or empty variable means the library default:
//   PAYTRIM_CLIENT_ID, PAYTRIM_CLIENT_SECRET (required), PAYTRIM_TENANT_ID,
//   PAYTRIM_SCOPE, PAYTRIM_AUTHORITY_HOST, PAYTRIM_TOKEN_URL, PAYTRIM_CA_FILE
// Prints {"token_type":"Bearer","expires_in":...,"access_token":"..."}.

const { PaytrimAuthClient } = require('paytrim-auth');

const env = (name) => process.env[name] || undefined;

const client = new PaytrimAuthClient({
  clientId: env('PAYTRIM_CLIENT_ID') ?? '',
  clientSecret: env('PAYTRIM_CLIENT_SECRET') ?? '',
  tenant: env('PAYTRIM_TENANT_ID'),
  scope: env('PAYTRIM_SCOPE'),
  authorityHost: env('PAYTRIM_AUTHORITY_HOST'),
  tokenUrl: env('PAYTRIM_TOKEN_URL'),
  caFile: env('PAYTRIM_CA_FILE'),
});

client
  .getTokenJson()
  .then((data) => console.log(JSON.stringify(data)))
  .catch((error) => {
    console.error('Error:', error.message, error.code ? `(${error.code})` : '');
    process.exitCode = 1;
  })
  .finally(() => client.close());
