// The documented C# example (an HttpClient POST to the token endpoint), with Paytrim.Auth:
// the native core builds the same request, caches the token and shares it.
//
// Environment (unset or empty = library default):
//   PAYTRIM_CLIENT_ID, PAYTRIM_CLIENT_SECRET, PAYTRIM_TENANT_ID, PAYTRIM_SCOPE,
//   PAYTRIM_AUTHORITY_HOST, PAYTRIM_TOKEN_URL, PAYTRIM_CA_FILE
// Prints {"token_type":"Bearer","expires_in":...,"access_token":"..."}.
using System;
using System.Threading.Tasks;
using Paytrim.Auth;

class Program
{
    static string Env(string name)
    {
        string v = Environment.GetEnvironmentVariable(name);
        return string.IsNullOrEmpty(v) ? null : v;
    }

    static int Main(string[] args)
    {
        return MainAsync().GetAwaiter().GetResult();
    }

    static async Task<int> MainAsync()
    {
        var options = new PaytrimAuthOptions
        {
            Tenant = Env("PAYTRIM_TENANT_ID"),
            Scope = Env("PAYTRIM_SCOPE"),
            AuthorityHost = Env("PAYTRIM_AUTHORITY_HOST"),
            TokenUrl = Env("PAYTRIM_TOKEN_URL"),
            CaFile = Env("PAYTRIM_CA_FILE"),
        };
        try
        {
            using (var client = new PaytrimAuthClient(
                Env("PAYTRIM_CLIENT_ID") ?? "11111111-1111-1111-1111-111111111111",
                Env("PAYTRIM_CLIENT_SECRET") ?? "your-client-secret",
                options))
            {
                await client.GetTokenAsync();              // fetches (or hits the cache) without blocking
                Console.WriteLine(client.GetTokenJson());  // the documented response, from the cache
                return 0;
            }
        }
        catch (PaytrimAuthException e)
        {
            Console.Error.WriteLine("paytrim-auth error " + e.ErrorCodeName + ": " + e.Message);
            return 1;
        }
    }
}
