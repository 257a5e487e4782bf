using System;
using Paytrim.Auth;

// Run in a child process by CredentialTests.EnvironmentFactory: PaytrimAuthClient.FromEnvironment()
// with the environment it was given. Exit 0 with the token length, 2 with the error.
public static class EnvProbe
{
    public static int Main()
    {
        try
        {
            using (var client = PaytrimAuthClient.FromEnvironment())
            {
                Console.WriteLine("token-length=" + client.GetToken().Token.Length);
                return 0;
            }
        }
        catch (PaytrimAuthException e)
        {
            Console.WriteLine(e.ErrorCode + ": " + e.Message);
            return 2;
        }
    }
}
