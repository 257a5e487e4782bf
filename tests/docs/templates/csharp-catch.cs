// A C# catch clause after a try that asks for a token, inside csharp-main's async method.
// @inside csharp-main
var client = PaytrimAuthClient.FromEnvironment();
try
{
    AccessToken token = await client.GetTokenAsync();
}
@snippet
