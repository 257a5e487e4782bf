// SYNTAX CHECK harness (see AzureCoreStub.cs): runs the adapter against the emulator through the
// stand-in types, so the scopes of a TokenRequestContext reach the library per call.
// Usage: AzureAdapterProbe.exe CLIENT_ID SECRET AUTHORITY_HOST CA_FILE -> prints the audiences.
using System;
using System.Text;
using System.Threading;
using Azure.Core;
using Paytrim.Auth;
using Paytrim.Auth.Azure;

public static class AzureAdapterProbe
{
    public static int Main(string[] args)
    {
        var options = new PaytrimAuthOptions { Tenant = "contoso.onmicrosoft.com", AuthorityHost = args[2], CaFile = args[3] };
        using (var client = new PaytrimAuthClient(args[0], args[1], options))
        {
            TokenCredential credential = new PaytrimTokenCredential(client);
            var a = credential.GetToken(new TokenRequestContext(new[] { "api://vault/.default" }), CancellationToken.None);
            var b = credential.GetTokenAsync(new TokenRequestContext(new[] { "api://storage/.default" }), CancellationToken.None).AsTask().Result;
            Console.WriteLine(Aud(a.Token) + " " + Aud(b.Token) + " " + (a.ExpiresOn > DateTimeOffset.UtcNow));
        }
        return 0;
    }

    private static string Aud(string jwt)
    {
        string s = jwt.Split('.')[1].Replace('-', '+').Replace('_', '/');
        s = s.PadRight(s.Length + (4 - s.Length % 4) % 4, '=');
        string json = Encoding.UTF8.GetString(Convert.FromBase64String(s));
        int i = json.IndexOf("\"aud\":\"") + 7;
        return json.Substring(i, json.IndexOf('"', i) - i);
    }
}
