using System;
using System.Reflection;
using Paytrim.Auth;

// Run by PackageInstallTests in a child process, built against lib/netstandard2.0/ of the
// extracted .nupkg and run with MONO_PATH pointing there: the library must come from the
// package's runtimes/<rid>/native/. Environment: PAYTRIM_CLIENT_ID, PAYTRIM_CLIENT_SECRET,
// PAYTRIM_AUTHORITY_HOST, PAYTRIM_CA_FILE. Exit 0 with the preloaded path and token length.
public static class PackageProbe
{
    public static int Main()
    {
        try
        {
            var options = new PaytrimAuthOptions
            {
                Tenant = "contoso.onmicrosoft.com",
                Scope = "api://paytrim/.default",
                AuthorityHost = Environment.GetEnvironmentVariable("PAYTRIM_AUTHORITY_HOST"),
                CaFile = Environment.GetEnvironmentVariable("PAYTRIM_CA_FILE"),
            };
            using (var client = new PaytrimAuthClient(Environment.GetEnvironmentVariable("PAYTRIM_CLIENT_ID"),
                       Environment.GetEnvironmentVariable("PAYTRIM_CLIENT_SECRET"), options))
            {
                int n = client.GetToken().Token.Length;
                var p = typeof(PaytrimAuthClient).Assembly.GetType("Paytrim.Auth.NativePlatform")
                    .GetProperty("PreloadedFrom", BindingFlags.NonPublic | BindingFlags.Static);
                Console.WriteLine("preloaded=" + p.GetValue(null, null));
                Console.WriteLine("token-length=" + n);
                return 0;
            }
        }
        catch (Exception e)
        {
            Console.WriteLine(e.GetType() + ": " + e.Message);
            return 2;
        }
    }
}
