// A C# snippet inside an async method, with the variables the READMEs' fragments assume.
// mcs has no async Main: Main waits for Run().
using System;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Threading;
using System.Threading.Tasks;
using Paytrim.Auth;

class Program
{
    class KeyVault
    {
        public Task<string> SignJwtAsync(string clientId, string audience, CancellationToken ct) => Task.FromResult("eyJ...");
    }

    class Logger
    {
        public void Log(int level, string message) => Console.Error.WriteLine(level + " " + message);
    }

    static int Map(PaytrimAuthLogLevel level) => (int)level;

    static void Main()
    {
        Run().GetAwaiter().GetResult();
    }

    static async Task Run()
    {
        string clientId = Environment.GetEnvironmentVariable("PAYTRIM_CLIENT_ID");
        string clientSecret = Environment.GetEnvironmentVariable("PAYTRIM_CLIENT_SECRET");
        string password = "changeit";
        var keyVault = new KeyVault();
        var logger = new Logger();
        var request = new HttpRequestMessage(HttpMethod.Get, "https://api.paytrim.com/");
        @snippet
    }
}
