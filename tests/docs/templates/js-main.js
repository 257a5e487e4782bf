// A Node snippet inside an async function, with the variables the READMEs' fragments assume.
const { PaytrimAuthClient, PaytrimAuthError } = require('paytrim-auth');

async function main() {
  const clientId = process.env.PAYTRIM_CLIENT_ID;
  const clientSecret = process.env.PAYTRIM_CLIENT_SECRET;
  const tenant = process.env.PAYTRIM_TENANT_ID;
  const certificatePassword = 'changeit';
  const signer = { sign: async (id, audience) => `eyJ.${id}.${audience}` };
  const certificatePem = '-----BEGIN CERTIFICATE-----...';
  const privateKeyPem = '-----BEGIN PRIVATE KEY-----...';
  const miClientId = '1b2c3d4e-0000-0000-0000-000000000000';
  const headers = {};
  @snippet
}

main().catch((e) => { console.error(e); process.exitCode = 1; });
