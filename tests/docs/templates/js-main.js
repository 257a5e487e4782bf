// A Node snippet inside an async function, with the variables the READMEs' fragments assume.
const { PaytrimAuthClient, PaytrimAuthError } = require('paytrim-auth');

async function main() {
  const clientId = process.env.PAYTRIM_CLIENT_ID;
  const clientSecret = process.env.PAYTRIM_CLIENT_SECRET;
  const tenant = process.env.PAYTRIM_TENANT_ID;
  const certificatePassword = 'changeit';
  const signer = { sign: async () => 'eyJ...' };
  const headers = {};
  @snippet
}

main().catch((e) => { console.error(e); process.exitCode = 1; });
