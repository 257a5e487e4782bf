// A Node snippet that uses `client`: a client built from the environment, as the README's
// "Testing against the emulator" section shows; afterwards the token must be there.
const { PaytrimAuthClient, PaytrimAuthError } = require('paytrim-auth');

async function main() {
  const client = PaytrimAuthClient.fromEnvironment();
  const headers = {};
  try {
    @snippet
    const value = headers.Authorization || `Bearer ${(await client.getToken()).accessToken}`;
    console.log(`Authorization: Bearer <${value.length - 7} characters>`);
  } finally {
    client.close();
  }
}

main().catch((e) => { console.error(e); process.exitCode = 1; });
