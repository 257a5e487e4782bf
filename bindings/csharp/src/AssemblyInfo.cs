using System.Reflection;
using System.Runtime.CompilerServices;

[assembly: AssemblyTitle("Paytrim.Auth")]
[assembly: AssemblyDescription("OAuth 2.0 client-credentials tokens from Microsoft Entra ID for Paytrim's API, backed by the native paytrim-auth core")]
[assembly: AssemblyVersion("0.1.0.0")]
[assembly: AssemblyFileVersion("0.1.0.0")]
[assembly: AssemblyInformationalVersion("0.1.0")]
[assembly: InternalsVisibleTo("Paytrim.Auth.Tests")]
